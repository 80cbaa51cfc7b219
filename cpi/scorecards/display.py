"""How figures are shown to staff: rounded for display, and hidden below ``min_n``.

Pages, PDFs, exports and the table output all format through here, so a figure
reads the same everywhere and the privacy rule (indicators.md) holds everywhere.
"""

from __future__ import annotations

from cpi.scoring import INDICATORS_BY_CODE, IndicatorResult, Scorecard

INSUFFICIENT = "insufficient data"
UNIT_SUFFIX = {"percent": "%", "days": " d", "contacts": "", "score": "", "points": ""}


def decimals(code: str) -> int:
    unit = INDICATORS_BY_CODE[code].unit
    return {"percent": 1, "days": 1, "points": 1, "contacts": 2, "score": 2}[unit]


def number(code: str, value: float | None, *, signed: bool = False, unit: bool = True) -> str:
    """A rounded figure with its unit; a signed difference of percents is in points."""
    if value is None:
        return "–"
    indicator_unit = INDICATORS_BY_CODE[code].unit
    if signed:
        text = f"{value:+.{decimals(code)}f}"
        suffix = " pts" if indicator_unit == "percent" else UNIT_SUFFIX[indicator_unit]
    else:
        text = f"{value:.{decimals(code)}f}"
        suffix = UNIT_SUFFIX[indicator_unit]
    return text + (suffix if unit else "")


def hidden(result: IndicatorResult) -> bool:
    """True when the figure rests on too few answers to be shown to staff."""
    return result.status == "insufficient"


def value(result: IndicatorResult) -> str:
    return INSUFFICIENT if hidden(result) else number(result.code, result.value)


def interval(result: IndicatorResult) -> str:
    if hidden(result) or result.ci_low is None or result.ci_high is None:
        return "–"
    places = decimals(result.code)
    return f"{result.ci_low:.{places}f}–{result.ci_high:.{places}f}"


def gap(result: IndicatorResult) -> str:
    if hidden(result) or result.gap is None:
        return "–"
    return number(result.code, result.gap, signed=True) + (" *" if result.gap_significant else "")


def delta(result: IndicatorResult) -> str:
    """The change since the period before; `` *`` when it is significant (its 95%
    interval excludes 0), as a significant gap is marked."""
    if hidden(result) or result.delta is None:
        return "–"
    marker = " *" if result.delta_significant else ""
    return number(result.code, result.delta, signed=True) + marker


STATUS_WORDS = {
    "green": "on target",
    "amber": "near target",
    "red": "off target",
    "insufficient": "too few answers",
}


def status_uncertain(result: IndicatorResult) -> bool:
    """A green/amber/red status whose interval crosses a boundary of its band."""
    return result.status in ("green", "amber", "red") and not result.status_certain


def status(result: IndicatorResult) -> str:
    """The status badge's words; an uncertain status says so (indicators.md)."""
    words = STATUS_WORDS.get(result.status or "", "no target")
    return f"{words} (uncertain)" if status_uncertain(result) else words


def off_target(card: Scorecard) -> str:
    rated = [r for r in card.indicators if r.status in ("green", "amber", "red")]
    if not rated:
        if all(hidden(r) for r in card.indicators):
            return "no data"
        return "no targets"
    red = [r for r in rated if r.status == "red"]
    text = f"{len(red)} of {len(rated)}"
    uncertain = sum(1 for r in red if status_uncertain(r))
    return text + (f" ({uncertain} uncertain)" if uncertain else "")


# What each figure is, in words, beside its name (pages, PDFs and chart axes).
MEASURE = {
    "fcr": "share of yes answers",
    "value_added_calls": "mean value-added contacts per respondent",
    "value_added_share": "share of contacts that added value",
    "quote_turnaround": "median days",
    "csat": "share answering 4 or 5 of 5",
    "nps": "% promoters − % detractors, points",
    "ces": "mean score, 1 very hard to 7 very easy",
}
AXIS_UNIT = {
    "percent": "%",
    "contacts": "contacts",
    "days": "days",
    "score": "score 1–7",
    "points": "points",
}


def measure(code: str) -> str:
    return MEASURE.get(code, "")


def axis_unit(code: str) -> str:
    """The unit of an indicator's figures, in words (chart axes)."""
    return AXIS_UNIT[INDICATORS_BY_CODE[code].unit]


def gap_unit(code: str) -> str:
    """The unit of a difference of two figures (a gap, a change)."""
    unit = INDICATORS_BY_CODE[code].unit
    return "percentage points" if unit == "percent" else AXIS_UNIT[unit]
