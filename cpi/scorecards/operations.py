"""Load what scoring needs from the database, as plain values, and score scopes.

One GROUP BY per query turns the period's responses into additive statistics per
account and quarter; segments, portfolios and the company are sums of those, so a
scope never re-reads rows. All arithmetic happens in ``cpi.scoring``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import case, func, select, true
from sqlalchemy.orm import Session

from cpi.accounts.info import AccountInfo as AccountInfo  # re-exported for scorecards
from cpi.accounts.models import Account, Contact
from cpi.kpis.models import KpiFigure, Target
from cpi.rules.addresses import normalise_email
from cpi.scoring import AnswerStats, KpiRow, Period, Scope, Scorecard, TargetRow, score_scope
from cpi.surveys.models import Campaign, Invitation, Response
from cpi.surveys.sums import stored_days_rows, stored_stats_rows

SCOPE_TYPES = ("account", "segment", "owner", "company")


class ScopeNotFound(LookupError):
    """A scope or period that does not exist; the message says which."""


@dataclass
class ScoringData:
    """Everything scoring one period needs, loaded once."""

    period: Period
    accounts: dict[str, AccountInfo]
    # account_id -> quarter -> stats
    stats: dict[str, dict[str, AnswerStats]]
    kpi_rows: list[KpiRow]
    target_rows: list[TargetRow]
    # account_id -> quarter -> invitations
    invited: dict[str, dict[str, int]] = field(default_factory=dict)

    def kpis_by_account(self) -> dict[str | None, list[KpiRow]]:
        grouped: dict[str | None, list[KpiRow]] = defaultdict(list)
        for row in self.kpi_rows:
            grouped[row.account_id].append(row)
        return grouped


# Reports look back a year and a few quarters (comparisons, trend charts): a period
# whose window would fall before year 1 is not one staff can ask for.
FIRST_REPORT_YEAR = 1000


def report_period(text: str) -> Period:
    """The period a page, PDF, export or API call asks for; ValueError if malformed or
    outside the years reports can cover (e.g. ``0001-Q1``, whose previous year is 0)."""
    period = Period.parse(text)
    if period.year < FIRST_REPORT_YEAR:
        raise ValueError(f"period: years before {FIRST_REPORT_YEAR} are not reported")
    return period


def periods_needed(period: Period, history: int = 0) -> list[str]:
    """The quarters of the period and of the period before (for ``previous``).

    With ``history`` > 0, also the ``history`` quarters before the period's last
    quarter and the quarter before each (trend charts score those quarters).
    """
    wanted = {str(q) for p in (period, period.previous()) for q in p.quarters()}
    quarter = period.quarters()[-1]
    for _ in range(history + 1):
        wanted.add(str(quarter))
        quarter = quarter.previous()
    wanted.add(str(quarter))
    return sorted(wanted)


def history_quarters(period: Period, count: int) -> list[Period]:
    """The ``count`` quarters ending with the period's last quarter, oldest first."""
    quarters = [period.quarters()[-1]]
    while len(quarters) < count:
        quarters.append(quarters[-1].previous())
    return quarters[::-1]


def _stats_rows(session: Session, quarters: Sequence[str], only: Sequence[int] | None) -> Any:
    """(account_id, period, *sums) mappings per account and quarter, from the sums kept
    on write (cpi/surveys/sums.py)."""
    return stored_stats_rows(session, quarters, only)


def _days_rows(session: Session, quarters: Sequence[str], only: Sequence[int] | None) -> Any:
    """(account_id, period, days, count) rows: the quote-days histograms."""
    return stored_days_rows(session, quarters, only)


def load_scoring_data(
    session: Session,
    period: Period | str,
    *,
    history: int = 0,
    account_ids: Collection[str] | None = None,
) -> ScoringData:
    """Load a period's data; ``history`` adds earlier quarters (for trends) and
    ``account_ids`` limits the load to those accounts (an account page)."""
    period = Period.parse(period)
    quarters = periods_needed(period, history)
    account_query = select(
        Account.id, Account.account_id, Account.name, Account.segment, Account.owner_email
    )
    if account_ids is not None:
        account_query = account_query.where(Account.account_id.in_(list(account_ids)))
    accounts_by_pk: dict[int, AccountInfo] = {
        pk: AccountInfo(account_id, name, segment, owner)
        for pk, account_id, name, segment, owner in session.execute(account_query)
    }
    only = list(accounts_by_pk) if account_ids is not None else None

    histograms: dict[tuple[int, str], dict[float, int]] = defaultdict(dict)
    for account_pk, quarter, days, count in _days_rows(session, quarters, only):
        if days is not None:
            histograms[(account_pk, quarter)][days] = count

    stats: dict[str, dict[str, AnswerStats]] = defaultdict(dict)
    for row in _stats_rows(session, quarters, only):
        values = dict(row)
        account_pk, quarter = values.pop("account_id"), values.pop("period")
        account = accounts_by_pk[account_pk]
        stats[account.account_id][quarter] = AnswerStats(
            quote_days=histograms.get((account_pk, quarter), {}), **values
        )

    relevant = set(quarters) | {str(period), str(period.previous())}
    kpi_filter = KpiFigure.account_id.in_(only) if only is not None else true()
    kpi_rows = [
        KpiRow(indicator, kpi_period, accounts_by_pk[pk].account_id if pk else None, segment,
               value, numerator, denominator)
        for indicator, kpi_period, pk, segment, value, numerator, denominator in session.execute(
            select(KpiFigure.indicator, KpiFigure.period, KpiFigure.account_id, KpiFigure.segment,
                   KpiFigure.value, KpiFigure.numerator, KpiFigure.denominator)
            .where(KpiFigure.period.in_(relevant), kpi_filter)
        )
    ]  # fmt: skip
    target_rows = [
        TargetRow(indicator, target_period, segment_key or None, target, tolerance)
        for indicator, target_period, segment_key, target, tolerance in session.execute(
            select(Target.indicator, Target.period, Target.segment_key, Target.target,
                   Target.tolerance).where(Target.period.in_(relevant))
        )
    ]  # fmt: skip

    invited: dict[str, dict[str, int]] = defaultdict(dict)
    for account_pk, quarter, count in session.execute(
        select(Contact.account_id, Campaign.period, func.count(Invitation.id))
        .select_from(Invitation)
        .join(Campaign, Campaign.id == Invitation.campaign_id)
        .join(Contact, Contact.id == Invitation.contact_id)
        .where(Campaign.period.in_(quarters))
        .where(Contact.account_id.in_(only) if only is not None else true())
        .group_by(Contact.account_id, Campaign.period)
    ):
        invited[accounts_by_pk[account_pk].account_id][quarter] = count

    return ScoringData(
        period=period,
        accounts={info.account_id: info for info in accounts_by_pk.values()},
        stats=dict(stats),
        kpi_rows=kpi_rows,
        target_rows=target_rows,
        invited=dict(invited),
    )


def resolve_scope(data: ScoringData, scope_type: str, scope_id: str | None) -> Scope:
    """The scope named on a command line or in an address; ScopeNotFound if unknown."""
    accounts = data.accounts.values()
    if scope_type == "company":
        return Scope("company", None, None, frozenset(data.accounts))
    if scope_type == "account":
        account = data.accounts.get(scope_id or "")
        if account is None:
            raise ScopeNotFound(f"no account {scope_id!r}")
        return Scope(
            "account",
            account.account_id,
            account.name,
            frozenset({account.account_id}),
            account.segment,
        )
    if scope_type == "segment":
        members = frozenset(a.account_id for a in accounts if a.segment == scope_id)
        if not members:
            raise ScopeNotFound(f"no segment {scope_id!r}")
        return Scope("segment", scope_id, scope_id, members, scope_id)
    if scope_type == "owner":
        owner = normalise_email(scope_id or "")
        members = frozenset(a.account_id for a in accounts if (a.owner_email or "") == owner)
        if not members:
            raise ScopeNotFound(f"no accounts owned by {scope_id!r}")
        return Scope("owner", owner, owner, members)
    raise ScopeNotFound(f"unknown scope type {scope_type!r}")


def _invited_for(data: ScoringData, scope: Scope) -> int | None:
    quarters = [str(q) for q in data.period.quarters()]
    total = sum(
        data.invited.get(account_id, {}).get(quarter, 0)
        for account_id in scope.account_ids
        for quarter in quarters
    )
    return total or None


def _kpis_for(
    scope: Scope, data: ScoringData, by_account: dict[str | None, list[KpiRow]]
) -> list[KpiRow]:
    if scope.type == "company":
        return data.kpi_rows
    rows = [row for account_id in scope.account_ids for row in by_account.get(account_id, ())]
    if scope.type == "segment":
        rows += [row for row in by_account.get(None, ()) if row.segment == scope.id]
    return rows


@lru_cache(maxsize=1024)
def _period_of(text: str) -> Period | None:
    try:
        return Period.parse(text)
    except ValueError:
        return None


def score(
    data: ScoringData,
    scope: Scope,
    *,
    min_n: int,
    generated_at: datetime | None = None,
    by_account: dict[str | None, list[KpiRow]] | None = None,
) -> Scorecard:
    # Only what score_scope reads: the period's and the previous period's quarters,
    # and KPIs and targets of the period itself and of its quarters (a year without
    # its own row derives both from them; the data may hold trend quarters).
    period = data.period
    quarters = {str(q) for p in (period, period.previous()) for q in p.quarters()}
    parts: dict[str, list[AnswerStats]] = defaultdict(list)
    for account_id in scope.account_ids:
        for quarter, part in data.stats.get(account_id, {}).items():
            if quarter in quarters:
                parts[quarter].append(part)
    stats = {quarter: AnswerStats.merge(group) for quarter, group in parts.items()}
    kpi_periods = {period, *period.quarters()}
    kpis = _kpis_for(scope, data, by_account or data.kpis_by_account())
    return score_scope(
        scope,
        period,
        stats,
        [row for row in kpis if _period_of(row.period) in kpi_periods],
        [row for row in data.target_rows if _period_of(row.period) in kpi_periods],
        min_n=min_n,
        invited=_invited_for(data, scope),
        generated_at=generated_at,
    )


def score_accounts(
    data: ScoringData,
    account_ids: Iterable[str],
    *,
    min_n: int,
    generated_at: datetime | None = None,
) -> list[Scorecard]:
    by_account = data.kpis_by_account()
    return [
        score(
            data,
            resolve_scope(data, "account", account_id),
            min_n=min_n,
            generated_at=generated_at,
            by_account=by_account,
        )
        for account_id in account_ids
    ]


def has_data(session: Session, period: Period) -> bool:
    """Whether anything (answers, campaigns or KPIs) exists for the period."""
    quarters = [str(q) for q in period.quarters()] + [str(period)]
    for model in (Response, Campaign, KpiFigure):
        found = session.scalar(select(model.id).where(model.period.in_(quarters)).limit(1))
        if found is not None:
            return True
    return False


def latest_period(session: Session) -> Period | None:
    latest = session.scalar(select(func.max(Response.period)))
    return Period.parse(latest) if latest else None


def scope_filter(scope_type: str, scope_id: str | None) -> list[Any]:
    """WHERE clauses on ``Account`` that select a scope's accounts (none: the company)."""
    if scope_type == "account":
        return [Account.account_id == (scope_id or "")]
    if scope_type == "segment":
        return [Account.segment == (scope_id or "")]
    if scope_type == "owner":
        return [Account.owner_email == (scope_id or "").strip().lower()]
    return []


@dataclass(frozen=True)
class QuarterActivity:
    """What a scope holds in one quarter: how many answers, the largest number of
    answers to any one indicator, invitations, and whether a campaign is still open."""

    quarter: str
    responses: int
    best_n: int
    invited: int
    surveying: bool

    @property
    def response_rate(self) -> float | None:
        return 100.0 * self.responses / self.invited if self.invited else None


def quarter_activity(
    session: Session, scope_type: str, scope_id: str | None
) -> dict[str, QuarterActivity]:
    """Every quarter with answers, invitations or a live campaign in the scope."""
    from cpi.surveys.campaigns import LIVE_STATUSES

    r = Response
    where = scope_filter(scope_type, scope_id)

    def count_when(condition: Any) -> Any:
        return func.sum(case((condition, 1), else_=0))

    answers = {
        quarter: (int(total or 0), max(int(n or 0) for n in counts))
        for quarter, total, *counts in session.execute(
            select(
                r.period,
                func.count(),
                count_when(r.fcr.in_(("yes", "no"))),
                func.count(r.contacts_value_added),
                func.count(r.quote_turnaround_days),
                func.count(r.csat),
                func.count(r.nps),
                func.count(r.ces),
            )
            .join(Account, Account.id == r.account_id)
            .where(*where)
            .group_by(r.period)
        )
    }
    invited = dict(
        session.execute(
            select(Campaign.period, func.count(Invitation.id))
            .select_from(Invitation)
            .join(Campaign, Campaign.id == Invitation.campaign_id)
            .join(Contact, Contact.id == Invitation.contact_id)
            .join(Account, Account.id == Contact.account_id)
            .where(*where)
            .group_by(Campaign.period)
        ).all()
    )
    # A live campaign in the scope: one for the company (no segment, no account), for a
    # segment of the scope, or for one of its accounts.
    live = select(Campaign.period).where(Campaign.status.in_(LIVE_STATUSES))
    if scope_type != "company":
        in_scope = select(Account.id).where(*where)
        segments = select(Account.segment).where(*where)
        live = live.where(
            (Campaign.account_id.in_(in_scope))
            | (Campaign.segment.in_(segments) & Campaign.account_id.is_(None))
            | (Campaign.segment.is_(None) & Campaign.account_id.is_(None))
        )
    surveying = set(session.scalars(live.distinct()))
    return {
        quarter: QuarterActivity(
            quarter,
            answers.get(quarter, (0, 0))[0],
            answers.get(quarter, (0, 0))[1],
            int(invited.get(quarter, 0) or 0),
            quarter in surveying,
        )
        for quarter in set(answers) | set(invited) | surveying
        if "-Q" in quarter
    }


def default_quarter(activity: dict[str, QuarterActivity], *, min_n: int) -> Period | None:
    """The latest quarter in which the scope has enough answers to score at least one
    indicator (``min_n``); failing that, the latest quarter with any answer."""
    scorable = [q for q, a in activity.items() if a.best_n >= min_n]
    answered = [q for q, a in activity.items() if a.responses > 0]
    chosen = max(scorable or answered, default=None)
    return Period.parse(chosen) if chosen else None
