"""How an initiative report is shown to people: the parallel-trends chart as SVG
geometry, every line of the ROI calculation as text, the driver view in words, and what
an account manager may see. Built once from the report dict (:mod:`cpi.initiatives.report`)
and rendered by the same Jinja partial on the page and in the PDF.

No computation of figures happens here: only formatting of the report's own numbers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from babel import Locale
from babel.numbers import format_decimal
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from cpi.i18n.indicators import indicator_label
from cpi.initiatives.effects import NOT_ENOUGH_ACCOUNTS, NOT_ENOUGH_ANSWERS
from cpi.initiatives.roi import OUTCOME_BETTER, RATE_OUTCOMES
from cpi.scorecards.charts import FIXED_RANGE, Point
from cpi.scorecards.display import UNIT_SUFFIX, axis_unit, decimals
from cpi.scoring import INDICATORS_BY_CODE, Period

WIDTH, HEIGHT = 360, 170
LEFT, RIGHT, TOP, BOTTOM = 36, 14, 22, 26

# Labels are translated when shown (lazy_gettext): the user's language on the pages,
# English on the command line (no request there).
OUTCOME_LABELS: dict[str, Any] = {
    "renewed": _l("Renewal rate"),
    "churned": _l("Churn rate"),
    "revenue": _l("Revenue per account-quarter"),
    "expansion_revenue": _l("Expansion revenue per account-quarter"),
    "referrals": _l("Referrals per account-quarter"),
    "cost_to_serve": _l("Cost to serve per account-quarter"),
}
# "Accounts whose customers report FCR >= 80% <verb> <a> vs <b>": one whole sentence per
# outcome, so that each language can order its words.
DRIVER_SENTENCES: dict[str, Any] = {
    "renewed": _l(
        "Accounts whose customers report %(indicator)s %(split)s %(threshold)s "
        "renewed at %(better)s vs %(worse)s for the other accounts"
    ),
    "churned": _l(
        "Accounts whose customers report %(indicator)s %(split)s %(threshold)s "
        "churned at %(better)s vs %(worse)s for the other accounts"
    ),
    "revenue": _l(
        "Accounts whose customers report %(indicator)s %(split)s %(threshold)s "
        "brought in revenue of %(better)s vs %(worse)s for the other accounts"
    ),
    "expansion_revenue": _l(
        "Accounts whose customers report %(indicator)s %(split)s %(threshold)s "
        "brought in expansion revenue of %(better)s vs %(worse)s for the other accounts"
    ),
    "referrals": _l(
        "Accounts whose customers report %(indicator)s %(split)s %(threshold)s "
        "gave referrals at %(better)s vs %(worse)s for the other accounts"
    ),
    "cost_to_serve": _l(
        "Accounts whose customers report %(indicator)s %(split)s %(threshold)s "
        "cost to serve %(better)s vs %(worse)s for the other accounts"
    ),
}
KIND_LABELS: dict[str, Any] = {
    "fees": _l("Fees"),
    "materials": _l("Materials"),
    "hours": _l("Participants' time"),
    "other": _l("Other"),
    "new_revenue": _l("New revenue"),
    "direct_savings": _l("Direct savings"),
    "hours_avoided": _l("Hours avoided"),
    "giveaways_avoided": _l("Give-aways avoided"),
}
INITIATIVE_KIND_LABELS: dict[str, Any] = {
    "training": _l("Training"),
    "coaching": _l("Coaching"),
    "content": _l("Content"),
    "process": _l("Process"),
    "tool": _l("Tool"),
}
STUDY_STATUS_LABELS: dict[str, Any] = {
    "pending": _l("pending"),
    "approved": _l("approved"),
    "rejected": _l("rejected"),
}
REASONS: dict[str, Any] = {
    NOT_ENOUGH_ANSWERS: _l("not enough answers"),
    NOT_ENOUGH_ACCOUNTS: _l("not enough accounts"),
}
# What an account manager does not see of an initiative: money figures of the whole
# initiative (other participants' case studies, the team's costs and return).
MANAGER_ONLY_KEYS = (
    "costs",
    "benefits",
    "roi_percent",
    "roi_low",
    "roi_high",
    "return_multiple",
    "multiple_low",
    "multiple_high",
)


# -- numbers in the reader's language (Babel): "1 234,50" and "12,5 %" for a French user,
# "1,234.50" and "12.5%" in English (and on the command line, which has no request) --


def _locale() -> str:
    return str(get_locale() or "en")


def decimal(value: float, places: int, *, signed: bool = False, grouped: bool = True) -> str:
    """``value`` rounded to ``places`` decimals in the reader's number format."""
    body = ("#,##0" if grouped else "0") + ("." + "0" * places if places else "")
    pattern = f"+{body};-{body}" if signed else body
    return format_decimal(round(value, places), pattern, locale=_locale())


def percent(value: float | None, places: int = 1) -> str:
    """``12.5`` (already in percent) -> "12.5%" / "12,5 %" (the locale's percent layout)."""
    if value is None:
        return "–"
    layout = str(Locale.parse(_locale()).percent_formats[None].pattern).split(";")[0]
    return layout.replace("#,##0", decimal(value, places), 1)


def money(value: float | None) -> str:
    return "–" if value is None else decimal(value, 2)


def multiple(value: float | None) -> str:
    """A return multiple: ``2.35``, ``2,35``."""
    return "–" if value is None else decimal(value, 2)


def plain(value: float) -> str:
    """A number as given, without trailing zeros: ``7.5``, ``7,5`` (hours, chart ticks)."""
    return format_decimal(value, "#,##0.##", locale=_locale())


def hours(value: float | None) -> str:
    return "" if value is None else plain(value)


def figure(name: str, value: float | None, *, signed: bool = False) -> str:
    """An indicator's value with its unit, or an outcome's (rates in percent)."""
    if value is None:
        return "–"
    if name in INDICATORS_BY_CODE:
        unit = INDICATORS_BY_CODE[name].unit
        if unit == "percent" and not signed:
            return percent(value, decimals(name))
        suffix = " pts" if signed and unit == "percent" else UNIT_SUFFIX[unit]
        return decimal(value, decimals(name), signed=signed) + suffix
    if name in RATE_OUTCOMES:
        return decimal(value, 1, signed=True) + " pts" if signed else percent(value)
    return decimal(value, 2, signed=signed, grouped=name != "referrals")


def label(name: str) -> str:
    if name in INDICATORS_BY_CODE:
        return indicator_label(name)
    return str(OUTCOME_LABELS.get(name, name))


def kind_label(kind: str) -> str:
    """A cost line's or a case study's kind, in the current language."""
    return str(KIND_LABELS.get(kind, kind))


def initiative_kind(kind: str) -> str:
    return str(INITIATIVE_KIND_LABELS.get(kind, kind))


def study_status(status: str) -> str:
    return str(STUDY_STATUS_LABELS.get(status, status))


def reason(text: str) -> str:
    """Why a figure is withheld ("not enough answers"), in the current language."""
    return str(REASONS.get(text, text))


def caveat() -> str:
    """The driver view's warning (cpi.outcomes.drivers.CAVEAT), in the current language."""
    return _(
        "Association across accounts, not cause and effect: accounts that differ in one "
        "indicator differ in other ways too."
    )


def participant_edition(report: dict[str, Any], email: str) -> dict[str, Any]:
    """The report as an account manager sees it: their own accounts as the treated group
    (the report already does that), their own case studies, and no initiative-wide
    money figures or other participants' names."""
    shown = {key: value for key, value in report.items() if key not in MANAGER_ONLY_KEYS}
    shown["initiative"] = dict(report["initiative"], participants=[email.lower()])
    return shown


# -- the ROI calculation, line by line ------------------------------------------------


def cost_lines(costs: dict[str, Any]) -> list[str]:
    lines = []
    for item in costs["items"]:
        what = kind_label(item["kind"])
        if item["description"] and item["description"] != what:
            what += f" ({item['description']})"
        if item["kind"] == "hours":
            how = (
                f"{hours(item['hours'])} h × {money(item['hourly_cost'])} = {money(item['total'])}"
            )
        else:
            how = money(item["total"])
        lines.append(_("Cost: %(what)s: %(how)s", what=what, how=how))
    return lines


def _sum_line(title: str, parts: Sequence[float], total: float) -> str:
    if len(parts) > 1:
        return f"{title} = {' + '.join(money(p) for p in parts)} = {money(total)}"
    return f"{title} = {money(total)}"


def measured_line(detail: dict[str, Any]) -> str:
    outcome = detail["outcome"]
    if detail["value"] is None:
        return _(
            "Measured benefit (%(outcome)s): not counted, %(reason)s",
            outcome=label(outcome), reason=reason(detail["reason"]),
        )  # fmt: skip
    sign = "" if OUTCOME_BETTER[outcome] == "higher" else "−1 × "
    scale = " × 0.01" if outcome in RATE_OUTCOMES else ""
    text = _(
        "Measured benefit (%(outcome)s): %(did)s difference in differences%(scale)s"
        " × %(units)s treated account-quarters × %(per_unit)s = %(value)s",
        outcome=label(outcome), did=sign + figure(outcome, detail["did"], signed=True),
        scale=scale, units=detail["units"], per_unit=money(detail["value_per_unit"]),
        value=money(detail["value"]),
    )  # fmt: skip
    if detail["low"] is not None:
        text += " " + _interval(money(detail["low"]), money(detail["high"]))
    return text


def _interval(low: str, high: str) -> str:
    return _("(95%% interval %(low)s to %(high)s)", low=low, high=high)


def roi_lines(report: dict[str, Any]) -> list[str]:
    """Every line of the ROI calculation, in order: costs, benefits, ROI and multiple."""
    costs, benefits = report["costs"], report["benefits"]
    lines = cost_lines(costs)
    lines.append(_sum_line(_("Total costs"), [i["total"] for i in costs["items"]], costs["total"]))
    counted = [s for s in report["case_studies"] if s["counted"]]
    for study in counted:
        how = (
            f"{hours(study['hours'])} h × {money(study['hourly_rate'])} = {money(study['amount'])}"
            if study["kind"] == "hours_avoided"
            else money(study["amount"])
        )
        lines.append(
            _(
                "Case study (%(kind)s): %(title)s: %(how)s",
                kind=kind_label(study["kind"]), title=study["title"], how=how,
            )
        )  # fmt: skip
    lines.append(
        _sum_line(
            _("Approved case studies"), [s["amount"] for s in counted], benefits["case_studies"]
        )
    )
    parts = [benefits["case_studies"]]
    if benefits["measured_detail"] is not None:
        lines.append(measured_line(benefits["measured_detail"]))
        if benefits["measured"] is not None:
            parts.append(benefits["measured"])
    else:
        lines.append(_("Measured benefit: not counted"))
    total = _sum_line(_("Total benefits"), parts, benefits["total"])
    if benefits["total_low"] is not None:
        total += " " + _interval(money(benefits["total_low"]), money(benefits["total_high"]))
    lines.append(total)
    if report["roi_percent"] is None:
        lines.append(_("ROI: not defined without costs"))
        return lines
    roi = (
        f"{_('ROI')} = ({money(benefits['total'])} − {money(costs['total'])}) / "
        f"{money(costs['total'])} × 100 = {percent(report['roi_percent'])}"
    )
    ratio = (
        f"{_('Return multiple')} = {money(benefits['total'])} / {money(costs['total'])} = "
        f"{multiple(report['return_multiple'])}"
    )
    if report["roi_low"] is not None:
        roi += " " + _interval(percent(report["roi_low"]), percent(report["roi_high"]))
        ratio += " " + _interval(
            multiple(report["multiple_low"]), multiple(report["multiple_high"])
        )
    return lines + [roi, ratio]


# -- the parallel-trends chart ------------------------------------------------------------


@dataclass(frozen=True)
class Marker:
    x: float
    label: str


@dataclass(frozen=True)
class TrendChart:
    code: str
    name: str
    width: int
    height: int
    plot_left: float
    plot_right: float
    plot_top: float
    plot_bottom: float
    x_labels: tuple[Point, ...]
    y_ticks: tuple[Point, ...]
    treated_lines: tuple[str, ...]
    treated_points: tuple[Point, ...]
    untreated_lines: tuple[str, ...]
    untreated_points: tuple[Point, ...]
    markers: tuple[Marker, ...]
    summary: str
    y_unit: str

    @property
    def empty(self) -> bool:
        return not self.treated_points and not self.untreated_points


def _quarter_position(day: date, first: Period) -> float:
    """Where a day falls on the quarter axis (0 = the middle of the first quarter)."""
    quarter = (day.month - 1) // 3
    start = date(day.year, quarter * 3 + 1, 1)
    end = date(day.year + (quarter == 3), (quarter * 3 + 3) % 12 + 1, 1)
    within = (day - start).days / (end - start).days
    index = (day.year - first.year) * 4 + quarter + 1 - (first.quarter or 1)
    return index - 0.5 + within


def _range(code: str, points: Sequence[dict[str, Any]]) -> tuple[float, float]:
    unit = INDICATORS_BY_CODE[code].unit
    if unit in FIXED_RANGE:
        return FIXED_RANGE[unit]
    seen = [v for p in points for v in (p["treated"], p["untreated"]) if v is not None]
    top = max(seen, default=1.0) * 1.1 or 1.0
    magnitude = 10 ** math.floor(math.log10(top))
    return 0.0, next(s * magnitude for s in (1, 2, 4, 6, 8, 10) if s * magnitude >= top)


def trend_chart(code: str, points: Sequence[dict[str, Any]], start: date, end: date) -> TrendChart:
    """Both groups' quarterly values of one indicator on one chart, the initiative's
    start and end marked (figures withheld by min_n leave a gap)."""
    periods = [p["period"] for p in points]
    low, high = _range(code, points)
    span = WIDTH - RIGHT - LEFT
    step = span / max(len(periods), 1)

    def x(position: float) -> float:
        return LEFT + step * (position + 0.5)

    def y(value: float) -> float:
        value = min(max(value, low), high)
        return HEIGHT - BOTTOM - (value - low) / (high - low) * (HEIGHT - BOTTOM - TOP)

    def series(key: str) -> tuple[tuple[str, ...], tuple[Point, ...]]:
        lines: list[str] = []
        run: list[str] = []
        shown = []
        for i, p in enumerate(points):
            if p[key] is None:
                if len(run) > 1:
                    lines.append(" ".join(run))
                run = []
                continue
            run.append(f"{'M' if not run else 'L'}{x(i):.1f},{y(p[key]):.1f}")
            shown.append(Point(x(i), y(p[key]), figure(code, p[key])))
        if len(run) > 1:
            lines.append(" ".join(run))
        return tuple(lines), tuple(shown)

    treated_lines, treated_points = series("treated")
    untreated_lines, untreated_points = series("untreated")
    first = Period.parse(periods[0]) if periods else Period(start.year, 1)
    limit = len(periods) - 0.5
    markers = tuple(
        Marker(x(min(max(_quarter_position(day, first), -0.5), limit)), text)
        for day, text in ((start, _("start")), (end, _("end")))
    )
    ticks = [low + (high - low) * k / 4 for k in range(5)]
    words = [
        _("%(indicator)s, %(first)s to %(last)s.", indicator=label(code), first=periods[0],
          last=periods[-1]) if periods else label(code)
    ]  # fmt: skip
    words += [
        _(
            "%(period)s: treated %(treated)s, untreated %(untreated)s.", period=p["period"],
            treated=figure(code, p["treated"]), untreated=figure(code, p["untreated"]),
        )
        for p in points
    ]  # fmt: skip
    words.append(_("The initiative ran from %(start)s to %(end)s.", start=start, end=end))
    return TrendChart(
        code=code,
        name=label(code),
        width=WIDTH,
        height=HEIGHT,
        plot_left=LEFT,
        plot_right=WIDTH - RIGHT,
        plot_top=TOP,
        plot_bottom=HEIGHT - BOTTOM,
        x_labels=tuple(Point(x(i), HEIGHT - 8, p.replace("-", " ")) for i, p in enumerate(periods)),
        y_ticks=tuple(Point(LEFT - 4, y(t), plain(t)) for t in ticks),
        treated_lines=treated_lines,
        treated_points=treated_points,
        untreated_lines=untreated_lines,
        untreated_points=untreated_points,
        markers=markers,
        summary=" ".join(words),
        y_unit=axis_unit(code),
    )


def trend_charts(report: dict[str, Any]) -> list[TrendChart]:
    info = report["initiative"]
    start, end = date.fromisoformat(info["start"]), date.fromisoformat(info["end"])
    return [trend_chart(code, report["trends"][code], start, end) for code in info["indicators"]]


# -- the driver view in words ---------------------------------------------------------------


def driver_sentence(row: dict[str, Any]) -> str:
    """ "Accounts whose customers report First-contact resolution ≥ 80.0% renewed at
    94.0% vs 71.0% for the others" (association, not cause)."""
    code, outcome = row["indicator"], row["outcome"]
    split = "≥" if row["split"] == ">=" else "≤"
    better, worse = row["better"]["value"], row["worse"]["value"]
    return str(DRIVER_SENTENCES[outcome]) % {
        "indicator": label(code), "split": split, "threshold": figure(code, row["threshold"]),
        "better": figure(outcome, better), "worse": figure(outcome, worse),
    }  # fmt: skip
