"""The headline of a scorecard: what improved, what slipped, the largest perception gap.

Changes are compared across indicators on a common footing: the change divided by
the indicator's span (100 points for percents, 200 for NPS, 6 for the 1-7 effort
score, the previous value for counts and days). Figures hidden by the privacy rule
never appear, nor changes from a previous figure that was hidden.
"""

from __future__ import annotations

from dataclasses import dataclass

from cpi.scorecards import display
from cpi.scoring import IndicatorResult, Scorecard

SPAN = {"percent": 100.0, "points": 200.0, "score": 6.0}
UNIT_WORD = {"percent": " pts", "points": " pts", "score": "", "contacts": "", "days": " d"}
MAX_ITEMS = 2


@dataclass(frozen=True)
class Headline:
    improved: tuple[str, ...]
    slipped: tuple[str, ...]
    largest_gap: str | None

    @property
    def empty(self) -> bool:
        return not (self.improved or self.slipped or self.largest_gap)


def _span(result: IndicatorResult) -> float:
    if result.unit in SPAN:
        return SPAN[result.unit]
    return max(abs(result.previous or 0.0), 1.0)


def _change_text(result: IndicatorResult) -> str:
    assert result.delta is not None
    direction = "up" if result.delta > 0 else "down"
    size = display.number(result.code, abs(result.delta), unit=False) + UNIT_WORD[result.unit]
    return f"{result.name} {direction} {size} to {display.value(result)}"


def headline(card: Scorecard, previous_hidden: frozenset[str] = frozenset()) -> Headline:
    moves: list[tuple[float, IndicatorResult]] = []
    for result in card.indicators:
        if display.hidden(result) or result.delta is None or result.code in previous_hidden:
            continue
        if display.number(result.code, result.delta, unit=False).strip("+-0.") == "":
            continue  # no change at display precision
        better = result.delta if result.better == "higher" else -result.delta
        moves.append((better / _span(result), result))
    moves.sort(key=lambda move: move[0], reverse=True)
    improved = tuple(_change_text(r) for score, r in moves if score > 0)[:MAX_ITEMS]
    slipped = tuple(_change_text(r) for score, r in reversed(moves) if score < 0)[:MAX_ITEMS]

    gaps = [
        r
        for r in card.indicators
        if not display.hidden(r) and r.gap is not None and r.kpi is not None
    ]
    gaps.sort(key=lambda r: (not r.gap_significant, -abs(r.gap or 0.0) / _span(r)))
    largest = None
    if gaps and gaps[0].gap_significant:
        r = gaps[0]
        largest = (
            f"{r.name}: customers say {display.value(r)}, the internal KPI says "
            f"{display.number(r.code, r.kpi)} (gap {display.gap(r).rstrip(' *')})"
        )
    return Headline(improved=improved, slipped=slipped, largest_gap=largest)
