"""The headline of a scorecard: what improved, what slipped, the largest perception gap.

Only significant differences make a headline (indicators.md, "Headlines"): a change
must have ``delta_significant`` (its 95% interval excludes 0), a gap
``gap_significant`` (the KPI lies outside the CPI's interval). Nothing else is
called a change, however large it looks.

Within a list, differences are ranked in comparable terms: the difference divided
by the indicator's possible range (100 points for percents, 200 for NPS, 6 for the
1-7 effort score); counts and days, which have no fixed range, relative to the
previous value for a change and to the KPI for a gap (at least one unit, so that a
previous value of 0 does not make any change infinitely large).

Figures hidden by the privacy rule never appear (``delta_significant`` is already
false below ``min_n`` answers in either period; a previous figure hidden from staff
is excluded as well).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from cpi.scorecards import display
from cpi.scoring import IndicatorResult, Scorecard

SPAN = {"percent": 100.0, "points": 200.0, "score": 6.0}
UNIT_WORD = {"percent": " pts", "points": " pts", "score": "", "contacts": "", "days": " d"}
MAX_ITEMS = 2
NO_CHANGE = "No significant change since the period before."
NO_GAP = "No significant gap between what customers say and the internal KPIs."


@dataclass(frozen=True)
class Headline:
    """Codes and figures only: a headline is cached and shared by readers of every
    language, so its sentences are written when shown (English here, for the command
    line and the tests; :mod:`cpi.scorecards.localised` in the reader's language)."""

    improved_results: tuple[IndicatorResult, ...] = ()
    slipped_results: tuple[IndicatorResult, ...] = ()
    largest_gap_result: IndicatorResult | None = None

    no_change: ClassVar[str] = NO_CHANGE  # what an empty "Improved" or "Slipped" list says
    no_gap: ClassVar[str] = NO_GAP

    @property
    def improved(self) -> tuple[str, ...]:
        return tuple(change_text(r) for r in self.improved_results)

    @property
    def slipped(self) -> tuple[str, ...]:
        return tuple(change_text(r) for r in self.slipped_results)

    @property
    def largest_gap(self) -> str | None:
        r = self.largest_gap_result
        return None if r is None else gap_text(r)

    # the indicator codes behind each line, in the same order (for tests and links)
    @property
    def improved_codes(self) -> tuple[str, ...]:
        return tuple(r.code for r in self.improved_results)

    @property
    def slipped_codes(self) -> tuple[str, ...]:
        return tuple(r.code for r in self.slipped_results)

    @property
    def largest_gap_code(self) -> str | None:
        return None if self.largest_gap_result is None else self.largest_gap_result.code

    @property
    def empty(self) -> bool:
        return not (self.improved_results or self.slipped_results or self.largest_gap_result)


def _span(result: IndicatorResult, reference: float | None) -> float:
    """What a difference is measured against: the range, or the reference value."""
    if result.unit in SPAN:
        return SPAN[result.unit]
    return max(abs(reference or 0.0), 1.0)


def change_size(result: IndicatorResult) -> float:
    """The change in comparable terms, positive when it is for the better."""
    assert result.delta is not None
    better = result.delta if result.better == "higher" else -result.delta
    return better / _span(result, result.previous)


def gap_size(result: IndicatorResult) -> float:
    """|gap| in comparable terms."""
    assert result.gap is not None
    return abs(result.gap) / _span(result, result.kpi)


def change_text(result: IndicatorResult) -> str:
    assert result.delta is not None
    direction = "up" if result.delta > 0 else "down"
    size = display.number(result.code, abs(result.delta), unit=False) + UNIT_WORD[result.unit]
    return (
        f"{result.name} {direction} {size}, from "
        f"{display.number(result.code, result.previous)} to {display.value(result)}"
    )


def gap_text(r: IndicatorResult) -> str:
    assert r.kpi is not None
    return (
        f"{r.name}: customers say {display.value(r)}, the internal KPI says "
        f"{display.number(r.code, r.kpi)} (gap {display.gap(r).rstrip(' *')})"
    )


def headline(card: Scorecard, previous_hidden: frozenset[str] = frozenset()) -> Headline:
    moves = [
        (change_size(result), result)
        for result in card.indicators
        if result.delta_significant
        and result.delta is not None
        and result.delta != 0
        and not display.hidden(result)
        and result.code not in previous_hidden
    ]
    moves.sort(key=lambda move: (-abs(move[0]), move[1].code))
    improved = [r for size, r in moves if size > 0][:MAX_ITEMS]
    slipped = [r for size, r in moves if size < 0][:MAX_ITEMS]

    gaps = [
        r
        for r in card.indicators
        if r.gap_significant and r.gap is not None and r.kpi is not None and not display.hidden(r)
    ]
    gaps.sort(key=lambda r: (-gap_size(r), r.code))
    return Headline(
        improved_results=tuple(improved),
        slipped_results=tuple(slipped),
        largest_gap_result=gaps[0] if gaps else None,
    )
