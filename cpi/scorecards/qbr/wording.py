"""Numbers, periods and dates in the customer's language (Babel's CLDR data).

Every figure of the customer edition goes through here, so that a French QBR reads
``64,3 %`` and ``juillet – septembre 2026``; rounding is the staff pages' own
(:func:`cpi.scorecards.display.decimals`): display only, never in the data.
"""

from __future__ import annotations

from datetime import date

from babel import Locale
from babel.dates import format_date, format_interval, get_quarter_names
from babel.numbers import format_decimal

from cpi.scorecards.display import decimals
from cpi.scoring import INDICATORS_BY_CODE, Period


def _pattern(places: int, signed: bool = False) -> str:
    body = "#,##0" + ("." + "0" * places if places else "")
    return f"+{body};-{body}" if signed else body


def number(code: str, value: float, locale: str, *, signed: bool = False) -> str:
    """A figure rounded for display with its unit: ``64,3 %``, ``2,4 j``, ``+12,0``."""
    places = decimals(code)
    unit = INDICATORS_BY_CODE[code].unit
    text = format_decimal(round(value, places), _pattern(places, signed), locale=locale)
    if unit == "percent" and not signed:
        # the locale's own percent layout ("64,3 %" in French, "64,3%" in Hungarian)
        layout = str(Locale.parse(locale).percent_formats[None].pattern).split(";")[0]
        return layout.replace("#,##0", text, 1)
    return text


def plain(code: str, value: float, locale: str) -> str:
    """The figure without a unit (ranges, chart labels)."""
    return format_decimal(round(value, decimals(code)), _pattern(decimals(code)), locale=locale)


def tick(value: float, locale: str) -> str:
    whole = abs(value - round(value)) < 1e-9
    return format_decimal(value, "#,##0" if whole else "#,##0.0", locale=locale)


def period_words(period: str, locale: str) -> str:
    """``2026-Q3`` -> ``July – September 2026`` (``juillet – septembre 2026``); a year stays."""
    parsed = Period.parse(period)
    if parsed.quarter is None:
        return str(parsed.year)
    first = date(parsed.year, 3 * parsed.quarter - 2, 1)
    last = date(parsed.year, 3 * parsed.quarter, 1)
    return format_interval(first, last, "yMMMM", locale=locale)


def short_period(period: str, locale: str) -> str:
    """``2026-Q3`` -> ``Q3 ’26`` / ``T3 ’26`` (chart axes)."""
    parsed = Period.parse(period)
    if parsed.quarter is None:
        return str(parsed.year)
    name = get_quarter_names("abbreviated", "stand-alone", locale)[parsed.quarter]
    return f"{name} ’{parsed.year % 100:02d}"


def long_date(day: date, locale: str) -> str:
    return format_date(day, "long", locale=locale)
