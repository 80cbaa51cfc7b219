"""How figures are shown to staff: rounded for display, and hidden below ``min_n``.

Pages, PDFs, exports and the table output all format through here, so a figure
reads the same everywhere and the privacy rule (indicators.md) holds everywhere.
"""

from __future__ import annotations

from cpi.scoring import INDICATORS_BY_CODE, IndicatorResult

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
    if hidden(result) or result.delta is None:
        return "–"
    return number(result.code, result.delta, signed=True)


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
