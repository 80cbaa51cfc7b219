"""The customer edition as plain data, in one language: what the PDF and the deck show.

Built once from the account's :class:`~cpi.scorecards.reports.Report` (every figure
comes from ``score()``) and the account manager's choices; words are translated here
and in the template under the edition's locale (``force_locale``), figures are
formatted by :mod:`cpi.scorecards.qbr.wording`. An arrow appears only beside a
significant change (indicators.md, "Headlines"); internal figures (KPI, gap, target,
status) only when the account manager chose to show them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from flask_babel import force_locale, gettext

from cpi.i18n.indicators import indicator_label
from cpi.scorecards import display
from cpi.scorecards.charts import Chart
from cpi.scorecards.qbr import wording
from cpi.scorecards.reports import Report
from cpi.scoring import INDICATORS_BY_CODE, IndicatorResult, Period, Scorecard

PRINTED_COMMENTS = 6
PRINTED_COMMENT_CHARS = 600
MAX_ACTIONS = 5


def indicator_measure(code: str) -> str:
    measures = {
        "fcr": gettext("requests resolved at the first contact"),
        "value_added_calls": gettext("contacts that brought value, per person"),
        "value_added_share": gettext("share of contacts that brought value"),
        "quote_turnaround": gettext("median business days to a final quote"),
        "csat": gettext("answering 4 or 5 out of 5"),
        "nps": gettext("promoters minus detractors"),
        "ces": gettext("from 1 (very hard) to 7 (very easy)"),
    }
    return measures[code]


@dataclass(frozen=True)
class PrintedComment:
    text: str
    author: str | None
    period: str


@dataclass(frozen=True)
class Tile:
    """One headline CPI: a large number, its sparkline, an arrow when the change is
    significant, the plain-language note, and (when chosen) the internal figures."""

    code: str
    name: str
    measure: str
    value: str
    shown: bool  # False: too few answers, no figure
    note: str  # "out of 23 answers; likely between 52,1 and 74,9"
    arrow: str | None  # "up" or "down", only for a significant change
    arrow_good: bool
    change: str  # "+7,2 pts since April – June 2026", or ""
    spark: str  # SVG path data in the chart's coordinates, or ""
    spark_box: str  # the SVG viewBox of the plot area
    internal: tuple[tuple[str, str], ...]  # (label, figure) rows; empty unless chosen


@dataclass(frozen=True)
class LocalChart:
    """A trend chart's geometry (cpi.scorecards.charts) with labels in the edition's language."""

    chart: Chart
    name: str
    measure: str
    x_labels: tuple[tuple[float, float, str], ...]
    y_ticks: tuple[tuple[float, float, str], ...]
    summary: str
    show_internal: bool
    values: tuple[float | None, ...] = ()  # the customers' figure per quarter (None: hidden)
    kpis: tuple[float | None, ...] = ()  # the internal KPI per quarter (shown when chosen)


@dataclass(frozen=True)
class CustomerEdition:
    account_id: str
    account_name: str
    period: str
    period_words: str
    locale: str
    page_size: str
    responses: int
    response_rate: str | None
    tiles: tuple[Tile, ...]
    improved: tuple[str, ...]
    actions: tuple[str, ...]
    comments: tuple[PrintedComment, ...]
    charts: tuple[LocalChart, ...]
    show_internal: bool
    generated: str
    min_n: int

    @property
    def is_year(self) -> bool:
        """A year's review (``2026``) rather than a quarter's: it is an annual business review."""
        return Period.parse(self.period).quarter is None


def _unit(code: str, text: str) -> str:
    if code == "quote_turnaround":
        return gettext("%(value)s days", value=text)
    return text


def figure(result: IndicatorResult, locale: str, value: float | None = None) -> str:
    """The rounded figure with its unit, or "–"."""
    shown = result.value if value is None else value
    if shown is None:
        return "–"
    return _unit(result.code, wording.number(result.code, shown, locale))


def _difference(code: str, value: float, locale: str) -> str:
    text = wording.number(code, value, locale, signed=True)
    unit = {"percent": gettext("%(value)s pts", value=text)}
    return unit.get(INDICATORS_BY_CODE[code].unit, _unit(code, text))


def _note(result: IndicatorResult, locale: str, min_n: int) -> str:
    if display.hidden(result):
        return gettext("fewer than %(count)s answers: no figure is shown", count=min_n)
    note = gettext("out of %(count)s answers", count=result.n)
    if result.ci_low is not None and result.ci_high is not None:
        low = wording.plain(result.code, result.ci_low, locale)
        high = wording.plain(result.code, result.ci_high, locale)
        note += "; " + gettext(
            "the true value likely lies between %(low)s and %(high)s", low=low, high=high
        )
    return note


def _internal_rows(result: IndicatorResult, locale: str) -> tuple[tuple[str, str], ...]:
    rows = []
    if result.kpi is not None:
        rows.append((gettext("Our internal measure"), figure(result, locale, result.kpi)))
    if result.gap is not None and not display.hidden(result):
        rows.append((gettext("Difference"), _difference(result.code, result.gap, locale)))
    if result.target is not None:
        rows.append((gettext("Our target"), figure(result, locale, result.target)))
    return tuple(rows)


def tile(
    result: IndicatorResult,
    chart: Chart,
    *,
    locale: str,
    min_n: int,
    previous_words: str,
    previous_hidden: frozenset[str],
    show_internal: bool,
) -> Tile:
    shown = not display.hidden(result) and result.value is not None
    significant = (
        shown
        and bool(result.delta_significant)
        and result.delta not in (None, 0)
        and result.code not in previous_hidden
    )
    arrow = None
    change = ""
    if significant:
        assert result.delta is not None
        arrow = "up" if result.delta > 0 else "down"
        better = (result.delta > 0) == (result.better == "higher")
        change = gettext(
            "%(change)s since %(period)s",
            change=_difference(result.code, result.delta, locale),
            period=previous_words,
        )
    box = (
        f"{chart.plot_left - 4:.0f} {chart.plot_top - 4:.0f} "
        f"{chart.plot_right - chart.plot_left + 8:.0f} {chart.plot_bottom - chart.plot_top + 8:.0f}"
    )
    return Tile(
        code=result.code,
        name=indicator_label(result.code),
        measure=indicator_measure(result.code),
        value=figure(result, locale) if shown else gettext("too few answers"),
        shown=shown,
        note=_note(result, locale, min_n),
        arrow=arrow,
        arrow_good=significant and better,
        change=change,
        spark=" ".join(chart.cpi_lines),
        spark_box=box,
        internal=_internal_rows(result, locale) if show_internal else (),
    )


def local_chart(
    chart: Chart, history: Sequence[IndicatorResult], periods: Sequence[str], locale: str,
    show: bool,
) -> LocalChart:  # fmt: skip
    result = history[-1]
    name = indicator_label(chart.code)
    labels = tuple(
        (p.x, p.y, wording.short_period(period, locale))
        for p, period in zip(chart.x_labels, periods, strict=True)
    )
    ticks = tuple((t.x, t.y, wording.tick(float(t.label), locale)) for t in chart.y_ticks)
    latest = figure(result, locale) if not display.hidden(result) else gettext("too few answers")
    summary = gettext(
        "%(name)s from %(first)s to %(last)s; latest: %(value)s.",
        name=name,
        first=wording.period_words(periods[0], locale),
        last=wording.period_words(periods[-1], locale),
        value=latest,
    )
    values = tuple(None if display.hidden(r) else r.value for r in history)
    return LocalChart(chart, name, indicator_measure(chart.code), labels, ticks, summary, show,
                      values, tuple(r.kpi for r in history))  # fmt: skip


def build(
    report: Report,
    trend: Sequence[Scorecard],
    *,
    account_name: str,
    locale: str,
    page_size: str,
    actions: Sequence[str],
    comments: Sequence[PrintedComment],
    show_internal: bool,
    today: date,
) -> CustomerEdition:
    """The customer edition of an account's report, in ``locale``."""
    with force_locale(locale):
        return _build(report, trend, account_name, locale, page_size, actions, comments,
                      show_internal, today)  # fmt: skip


def _build(
    report: Report,
    trend: Sequence[Scorecard],
    account_name: str,
    locale: str,
    page_size: str,
    actions: Sequence[str],
    comments: Sequence[PrintedComment],
    show_internal: bool,
    today: date,
) -> CustomerEdition:
    card = report.card
    periods = [c.period for c in trend]
    previous_words = wording.period_words(str(Period.parse(report.period).previous()), locale)
    by_code = {c.code: c for c in report.charts}
    tiles = tuple(
        tile(r, by_code[r.code], locale=locale, min_n=report.min_n,
             previous_words=previous_words, previous_hidden=report.previous_hidden,
             show_internal=show_internal)
        for r in card.indicators
        if r.n or r.kpi is not None
    )  # fmt: skip
    improved = tuple(
        gettext(
            "%(indicator)s improved from %(before)s to %(after)s",
            indicator=indicator_label(code),
            before=figure(card.indicator(code), locale, card.indicator(code).previous),
            after=figure(card.indicator(code), locale),
        )
        for code in report.headline.improved_codes
    )
    charts = tuple(
        local_chart(c, [t.indicator(c.code) for t in trend], periods, locale, show_internal)
        for c in report.charts
        if not c.empty and (c.cpi_points or show_internal)
    )
    rate = None
    if card.response_rate is not None:
        rate = wording.number("fcr", card.response_rate, locale)
    return CustomerEdition(
        account_id=report.scope_id or "",
        account_name=account_name,
        period=report.period,
        period_words=wording.period_words(report.period, locale),
        locale=locale,
        page_size=page_size,
        responses=card.responses,
        response_rate=rate,
        tiles=tiles,
        improved=improved,
        actions=tuple(a for a in actions if a.strip())[:MAX_ACTIONS],
        comments=tuple(comments)[:PRINTED_COMMENTS],
        charts=charts,
        show_internal=show_internal,
        generated=wording.long_date(today, locale),
        min_n=report.min_n,
    )
