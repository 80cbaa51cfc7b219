"""Dashboards: a scope's scorecard and trend, plus the perception-gap ranking of
what lies inside it (segments, account managers, accounts).

The ranking is per indicator (gaps in different units do not compare): significant
gaps first, largest first. Scopes whose figure rests on fewer than ``min_n``
answers are listed as insufficient and never ranked (the privacy rule).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cpi.kpis.models import KpiFigure
from cpi.scorecards import display
from cpi.scorecards.cache import cached, data_fingerprint, kept_by_quarter
from cpi.scorecards.differencing import Universe
from cpi.scorecards.disclosure import Disclosure
from cpi.scorecards.operations import (
    AccountInfo,
    QuarterActivity,
    default_quarter,
    periods_needed,
    quarter_activity,
)
from cpi.scorecards.pieces import Pieces
from cpi.scorecards.reports import (
    Report,
    benchmarks,
    owner_names,
    report_from_cards,
    scope_comments,
)
from cpi.scorecards.slices import TREND_QUARTERS
from cpi.scoring import (
    CATALOGUE,
    INDICATORS_BY_CODE,
    Indicator,
    IndicatorResult,
    Period,
    Scope,
    Scorecard,
)
from cpi.surveys.sums_models import AnswerSums

RANKED_SHOWN = 25
INSUFFICIENT_SHOWN = 60


@dataclass(frozen=True)
class RankRow:
    kind: str  # segment | owner | account
    key: str
    label: str
    detail: str  # an account's id and segment; "" for a segment or owner (see accounts)
    result: IndicatorResult
    accounts: int | None = None  # a segment's or owner's number of accounts


@dataclass(frozen=True)
class Ranking:
    kind: str
    title: str
    ranked: tuple[RankRow, ...]  # significant gaps first, then by size
    ranked_total: int
    no_kpi: int  # enough answers but no KPI to compare with
    insufficient: tuple[RankRow, ...]
    insufficient_total: int


@dataclass(frozen=True)
class Overview:
    report: Report
    indicator: Indicator
    rankings: tuple[Ranking, ...]


def rank(kind: str, title: str, rows: Iterable[RankRow], *, limit: int = RANKED_SHOWN) -> Ranking:
    rows = list(rows)
    insufficient = sorted(
        (row for row in rows if display.hidden(row.result)), key=lambda row: row.label.lower()
    )
    comparable = [
        row for row in rows if not display.hidden(row.result) and row.result.gap is not None
    ]
    no_kpi = sum(1 for row in rows if not display.hidden(row.result) and row.result.gap is None)
    comparable.sort(key=lambda row: (not row.result.gap_significant, -abs(row.result.gap or 0.0)))
    return Ranking(
        kind=kind,
        title=title,
        ranked=tuple(comparable[:limit]),
        ranked_total=len(comparable),
        no_kpi=no_kpi,
        insufficient=tuple(insufficient[:INSUFFICIENT_SHOWN]),
        insufficient_total=len(insufficient),
    )


def build_overview(
    session: Session,
    scope_type: str,
    scope_id: str | None,
    period: Period,
    indicator_code: str,
    *,
    min_n: int,
    visible: Iterable[AccountInfo] | None = None,
    generated_at: datetime | None = None,
    viewer: Universe | None = None,
    comment_min_answers: int = 0,
) -> Overview:
    """The dashboard of a scope (company, segment or owner); ScopeNotFound if unknown.

    ``visible``: when given, the scope is limited to those accounts (an account
    manager's own), whatever the scope's type says. ``viewer``: whose view
    (SECURITY.md, "Differencing"; every figure as computed when not given).
    ``comment_min_answers``: leave out the comments of accounts with fewer answers
    (everyone but administrators).

    Built from per-period pieces (cpi.scorecards.pieces), each cached under the
    generations of the quarters it reads: after a write to one quarter only that
    quarter's pieces are computed again.
    """
    indicator = INDICATORS_BY_CODE.get(indicator_code, CATALOGUE[0])
    pieces = Pieces(session, period, min_n=min_n)
    accounts = pieces.accounts()
    disclosure = Disclosure(session, viewer, min_n, counts=pieces.year_counts)
    scope = pieces.scope(scope_type, scope_id)
    if visible is not None:
        mine = frozenset(a.account_id for a in visible) & scope.account_ids
        scope = Scope(scope.type, scope.id, scope.name, mine, scope.segment)
    names = owner_names(session)
    in_scope = None if scope.type == "company" and visible is None else scope.account_ids
    comments = scope_comments(session, in_scope, period, min_answers=comment_min_answers)

    def at(when: Period, moment: datetime | None) -> Scorecard:
        card = pieces.card(scope, when)
        if moment is not None:
            card = replace(card, generated_at=moment)
        return disclosure.card(card)

    report = report_from_cards(
        period, scope, at, accounts, min_n=min_n, owner_names=names, generated_at=generated_at,
        comments=comments.shown, comments_total=comments.total,
        comments_withheld=comments.withheld,
    )  # fmt: skip
    report = replace(report, benchmarks=benchmarks(pieces, scope, period, disclosure))
    members = sorted((accounts[a] for a in scope.account_ids), key=lambda a: a.account_id)
    rankings = []
    if scope.type == "company" and visible is None:
        segments = {a.segment for a in members}
        owners = {a.owner_email for a in members if a.owner_email}
        for kind, title, keys, labels in (
            ("segment", "Segments", segments, {}),
            ("owner", "Account managers", owners, names),
        ):
            ranked = pieces.ranking(kind, indicator.code)
            rankings.append(rank(kind, title, [
                RankRow(kind, key, labels.get(key, key), "",
                        disclosure.result(kind, key, period, ranked[key].result),
                        accounts=ranked[key].accounts)
                for key in sorted(keys)
            ]))  # fmt: skip
    ranked = pieces.ranking("account", indicator.code)
    account_rows = [
        RankRow("account", account.account_id, account.name,
                f"{account.account_id} · {account.segment}",
                disclosure.result("account", account.account_id, period,
                                  ranked[account.account_id].result))
        for account in members
    ]  # fmt: skip
    rankings.append(rank("account", "Accounts", account_rows))
    return Overview(report=report, indicator=indicator, rankings=tuple(rankings))


def available_periods(session: Session) -> list[str]:
    """Quarters with answers or KPIs, newest first, each year after its quarters."""
    answered, with_kpis = kept_by_quarter(
        session,
        ("available-quarters", str(session.get_bind().url)),
        lambda: (_answered_quarters(session, None), _kpi_quarters(session)),
        lambda before, written: (
            (before[0] - written) | _answered_quarters(session, written),
            before[1],  # KPIs are not a quarter's answers: a write to them moves the base
        ),
    )
    return _with_years(answered | with_kpis)


def _answered_quarters(session: Session, among: Collection[str] | None) -> set[str]:
    """The periods with answer sums (``among``: of those only)."""
    query = select(AnswerSums.period).distinct()
    if among is not None:
        query = query.where(AnswerSums.period.in_(sorted(among)))
    return set(session.scalars(query))


def _kpi_quarters(session: Session) -> set[str]:
    return {p for p in session.scalars(select(KpiFigure.period).distinct()) if "-Q" in p}


def _with_years(quarters: Iterable[str]) -> list[str]:
    quarters = set(quarters)
    periods: list[str] = []
    for year in sorted({q[:4] for q in quarters}, reverse=True):
        periods += sorted((q for q in quarters if q.startswith(year)), reverse=True)
        periods.append(year)
    return periods


@dataclass(frozen=True)
class PeriodChoice:
    value: str
    label: str
    in_progress: bool = False


@dataclass(frozen=True)
class PeriodMenu:
    """A scope's period picker: its default period and every choice, newest first."""

    default: Period | None
    choices: tuple[PeriodChoice, ...]


def period_menu(
    session: Session, scope_type: str, scope_id: str | None, *, min_n: int
) -> PeriodMenu:
    """The default is the latest quarter in which the scope has at least ``min_n``
    answers to one indicator; a newer quarter (fewer answers so far) or one with a
    campaign still open is "in progress", shown with its answers and response rate."""
    activity = scope_activity(session, scope_type, scope_id, min_n=min_n)
    default = default_quarter(activity, min_n=min_n)
    choices = []
    quarters = {p for p in available_periods(session) if "-Q" in p}  # years: added again
    for value in _with_years(quarters | set(activity)):
        if "-Q" not in value:
            choices.append(PeriodChoice(value, f"Year {value}"))
            continue
        seen = activity.get(value)
        newer = default is None or value > str(default)
        thin = seen is None or seen.best_n < min_n
        if seen is None or not (seen.surveying or (newer and thin)):
            choices.append(PeriodChoice(value, value))
            continue
        rate = (
            f", response rate {seen.response_rate:.0f}%" if seen.response_rate is not None else ""
        )
        answers = f"{seen.responses} answer{'' if seen.responses == 1 else 's'}"
        choices.append(PeriodChoice(value, f"{value} (in progress: {answers}{rate})", True))
    return PeriodMenu(default, tuple(choices))


def scope_activity(
    session: Session, scope_type: str, scope_id: str | None, *, min_n: int
) -> dict[str, QuarterActivity]:
    """``quarter_activity``, kept in the cache with the generations it was read at: after
    writes to some quarters' answers only (a survey answer: one), only those quarters'
    answers are counted again."""
    return kept_by_quarter(
        session,
        ("activity", str(session.get_bind().url), scope_type, scope_id, min_n),
        lambda: quarter_activity(session, scope_type, scope_id, min_n=min_n),
        lambda before, written: quarter_activity(
            session, scope_type, scope_id, min_n=min_n, since=(before, written)
        ),
    )


def cached_period_menu(
    session: Session, scope_type: str, scope_id: str | None, *, min_n: int
) -> PeriodMenu:
    """``period_menu``, reused while the data behind it is unchanged."""
    key = (
        "period-menu", str(session.get_bind().url), scope_type, scope_id, min_n,
        data_fingerprint(session, ()),
    )  # fmt: skip
    return cached(key, lambda: period_menu(session, scope_type, scope_id, min_n=min_n))


def cached_overview(
    session: Session,
    scope_type: str,
    scope_id: str | None,
    period: Period,
    indicator_code: str,
    *,
    min_n: int,
    viewer: Universe | None = None,
    comment_min_answers: int = 0,
) -> Overview:
    """``build_overview``, reused while the data behind it is unchanged (cpi.scorecards.cache)."""
    quarters = periods_needed(period, TREND_QUARTERS - 1)
    key = (
        str(session.get_bind().url), scope_type, scope_id, str(period), indicator_code, min_n,
        comment_min_answers, viewer, data_fingerprint(session, quarters),
    )  # fmt: skip
    return cached(key, lambda: build_overview(
        session, scope_type, scope_id, period, indicator_code, min_n=min_n,
        viewer=viewer, comment_min_answers=comment_min_answers))  # fmt: skip
