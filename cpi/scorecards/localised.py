"""The scorecard pages' words and figures in the reader's language (the ``fmt`` of the
staff pages and the internal PDF).

Reports, headlines and charts are cached once for readers of every language
(:mod:`cpi.scorecards.cache`), so they carry codes and numbers; their words are
written here, when a page is rendered, in the request's locale: ``_()`` for words,
Babel for numbers (``68,2 %`` in French). English reads exactly as
:mod:`cpi.scorecards.display` writes it (the command line, the JSON and the tests'
English pages).
"""

from __future__ import annotations

from flask_babel import get_locale, gettext

from cpi.scorecards import display
from cpi.scorecards import headline as headline_english
from cpi.scorecards.charts import Chart
from cpi.scorecards.headline import Headline
from cpi.scorecards.qbr import wording
from cpi.scorecards.reports import Benchmark, Report
from cpi.scoring import INDICATORS_BY_CODE, IndicatorResult, Scorecard

hidden = display.hidden
status_uncertain = display.status_uncertain


def _locale() -> str:
    locale = get_locale()
    return locale.language if locale is not None else "en"


def _english() -> bool:
    return _locale() == "en"


def _plain(code: str, value: float, *, signed: bool = False) -> str:
    places = display.decimals(code)
    body = "#,##0" + ("." + "0" * places if places else "")
    pattern = f"+{body};-{body}" if signed else body
    from babel.numbers import format_decimal

    return format_decimal(round(value, places), pattern, locale=_locale())


def number(code: str, value: float | None, *, signed: bool = False, unit: bool = True) -> str:
    """:func:`display.number` in the reader's language: ``68,2 %``, ``+1,5 pts``, ``2,4 j``."""
    if _english() or value is None:
        return display.number(code, value, signed=signed, unit=unit)
    kind = INDICATORS_BY_CODE[code].unit
    if kind == "percent" and not signed and unit:
        return wording.number(code, value, _locale())
    text = _plain(code, value, signed=signed)
    if not unit:
        return text
    if kind == "percent":  # a signed difference of percents is in points
        return gettext("%(value)s pts", value=text)
    if kind == "days":
        return gettext("%(value)s d", value=text)
    return text


def rate(percent: float | None) -> str:
    """A response rate: ``45.2%`` (``45,2 %``); "–" when unknown."""
    if percent is None:
        return "–"
    return f"{percent:.1f}%" if _english() else wording.number("fcr", percent, _locale())


def plain_rate(percent: float) -> str:
    """A response rate without its percent sign (the sentence carries it)."""
    return f"{percent:.1f}" if _english() else _plain("fcr", percent)


def value(result: IndicatorResult) -> str:
    return gettext("insufficient data") if hidden(result) else number(result.code, result.value)


def interval(result: IndicatorResult) -> str:
    if _english() or hidden(result) or result.ci_low is None or result.ci_high is None:
        return display.interval(result)
    return f"{_plain(result.code, result.ci_low)}–{_plain(result.code, result.ci_high)}"


def gap(result: IndicatorResult) -> str:
    if hidden(result) or result.gap is None:
        return "–"
    return number(result.code, result.gap, signed=True) + (" *" if result.gap_significant else "")


def delta(result: IndicatorResult) -> str:
    if hidden(result) or result.delta is None:
        return "–"
    marker = " *" if result.delta_significant else ""
    return number(result.code, result.delta, signed=True) + marker


def report_delta(report: Report, code: str) -> str:
    """The change shown in a report: none when the previous figure rests on too few answers."""
    return "–" if code in report.previous_hidden else delta(report.card.indicator(code))


def benchmark_value(benchmark: Benchmark, code: str) -> str:
    return (
        gettext("withheld") if code in benchmark.withheld else value(benchmark.card.indicator(code))
    )


def _status_words(status: str | None) -> str:
    return {
        "green": gettext("on target"),
        "amber": gettext("near target"),
        "red": gettext("off target"),
        "insufficient": gettext("too few answers"),
    }.get(status or "", gettext("no target"))


def status(result: IndicatorResult) -> str:
    words = _status_words(result.status)
    return gettext("%(status)s (uncertain)", status=words) if status_uncertain(result) else words


def off_target(card: Scorecard) -> str:
    rated = [r for r in card.indicators if r.status in ("green", "amber", "red")]
    if not rated:
        return (
            gettext("no data") if all(hidden(r) for r in card.indicators) else gettext("no targets")
        )
    red = [r for r in rated if r.status == "red"]
    text = gettext("%(count)s of %(total)s", count=len(red), total=len(rated))
    uncertain = sum(1 for r in red if status_uncertain(r))
    return text + (" " + gettext("(%(count)s uncertain)", count=uncertain) if uncertain else "")


def measure(code: str) -> str:
    return {
        "fcr": gettext("share of yes answers"),
        "value_added_calls": gettext("mean value-added contacts per respondent"),
        "value_added_share": gettext("share of contacts that added value"),
        "quote_turnaround": gettext("median days"),
        "csat": gettext("share answering 4 or 5 of 5"),
        "nps": gettext("%(percent)s promoters − %(percent)s detractors, points", percent="%"),
        "ces": gettext("mean score, 1 very hard to 7 very easy"),
    }.get(code, "")


def _unit_words(unit: str) -> str:
    return {
        "percent": "%",
        "contacts": gettext("contacts"),
        "days": gettext("days"),
        "score": gettext("score 1–7"),
        "points": gettext("points"),
    }[unit]


def axis_unit(code: str) -> str:
    return _unit_words(INDICATORS_BY_CODE[code].unit)


def gap_unit(code: str) -> str:
    unit = INDICATORS_BY_CODE[code].unit
    return gettext("percentage points") if unit == "percent" else _unit_words(unit)


# --- the headline ---


def no_change(headline: Headline) -> str:
    return gettext("No significant change since the period before.")


def no_gap(headline: Headline) -> str:
    return gettext("No significant gap between what customers say and the internal KPIs.")


def change_line(result: IndicatorResult) -> str:
    """ "Net Promoter Score down 0.30, from 12.0 to 11.7" in the reader's language."""
    from cpi.i18n.indicators import indicator_label

    if _english():
        return headline_english.change_text(result)
    assert result.delta is not None
    size = number(result.code, abs(result.delta), unit=False)
    if INDICATORS_BY_CODE[result.code].unit in ("percent", "points"):
        size = gettext("%(value)s pts", value=size)
    elif INDICATORS_BY_CODE[result.code].unit == "days":
        size = gettext("%(value)s d", value=size)
    words = {
        "indicator": indicator_label(result.code),
        "size": size,
        "before": number(result.code, result.previous),
        "now": value(result),
    }
    if result.delta > 0:
        return gettext("%(indicator)s up %(size)s, from %(before)s to %(now)s", **words)
    return gettext("%(indicator)s down %(size)s, from %(before)s to %(now)s", **words)


def gap_line(result: IndicatorResult) -> str:
    from cpi.i18n.indicators import indicator_label

    if _english():
        return headline_english.gap_text(result)
    return gettext(
        "%(indicator)s: customers say %(customers)s, the internal KPI says %(kpi)s (gap %(gap)s)",
        indicator=indicator_label(result.code),
        customers=value(result),
        kpi=number(result.code, result.kpi),
        gap=gap(result).rstrip(" *"),
    )


# --- charts ---


def chart_summary(chart: Chart) -> str:
    """The chart in words, for screen readers and text extraction."""
    if _english():
        return chart.summary
    from cpi.i18n.indicators import indicator_label

    name = f"{indicator_label(chart.code)} ({measure(chart.code)})"
    if chart.periods:
        words = [
            gettext(
                "%(name)s, %(first)s to %(last)s.",
                name=name,
                first=chart.periods[0],
                last=chart.periods[-1],
            )
        ]
    else:
        words = [name + "."]
    last = chart.latest
    if last is not None:
        words.append(gettext("Customers: %(value)s.", value=value(last)))
        if last.kpi is not None:
            words.append(gettext("Internal KPI: %(value)s.", value=number(chart.code, last.kpi)))
        if last.target is not None:
            words.append(gettext("Target: %(value)s.", value=number(chart.code, last.target)))
    return " ".join(words)


def tick(label: str) -> str:
    """A y-axis tick (``62.5``) with the reader's decimal sign."""
    return label if _english() else wording.tick(float(label), _locale())


def x_label(chart: Chart, index: int, label: str) -> str:
    """A quarter under a chart: ``Q3 ’26``, ``T3 ’26`` in French."""
    if _english() or index >= len(chart.periods):
        return label
    return wording.short_period(chart.periods[index], _locale())
