"""Load what scoring needs from the database, as plain values, and score scopes.

One GROUP BY per query turns the period's responses into additive statistics per
account and quarter; segments, portfolios and the company are sums of those, so a
scope never re-reads rows. The sums arrive as columns (``SumsColumns``, one row per
account and quarter) and the columnar scorer scores every scope of a type at once;
scorecard objects are built only for the scopes asked for. All arithmetic happens in
``cpi.scoring``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache, partial
from operator import itemgetter
from typing import Any

import numpy as np
from sqlalchemy import func, select, true
from sqlalchemy.orm import Session

from cpi.accounts.info import AccountInfo as AccountInfo  # re-exported for scorecards
from cpi.accounts.models import Account, Contact
from cpi.db import BINARY_RESULTS
from cpi.kpis.models import KpiFigure, Target
from cpi.rules.addresses import normalise_email
from cpi.scoring import (
    CATALOGUE,
    INT_FIELDS,
    AnswerStats,
    KpiIndex,
    KpiRow,
    Period,
    Scope,
    Scorecard,
    ScoreColumns,
    SumsColumns,
    TargetIndex,
    TargetRow,
    answer_counts,
    score_scopes,
)
from cpi.scoring.columns import RowTable, unpack_histogram
from cpi.surveys.models import Campaign, Invitation, Response
from cpi.surveys.sums import packed_sums
from cpi.surveys.sums_models import AnswerSums

SCOPE_TYPES = ("account", "segment", "owner", "company")


class ScopeNotFound(LookupError):
    """A scope or period that does not exist; the message says which."""


class _Shared:
    """What every copy of one load shares (``dataclasses.replace(data, period=...)``
    scores a trend quarter from the same rows): the KPI and target indexes, the
    stats view, and the columns of every scope type already scored."""

    def __init__(self) -> None:
        # (the sums rows it was built from, the table): see ``_row_table``
        self.row_table: tuple[dict[tuple[str, str], int], RowTable] | None = None
        self.kpi_index: KpiIndex | None = None
        self.target_index: TargetIndex | None = None
        self.stats: dict[str, dict[str, AnswerStats]] | None = None
        self.scores: dict[tuple[str, Period, int], tuple[dict[str | None, int], ScoreColumns]] = {}

    def __reduce__(self) -> tuple[type[_Shared], tuple[()]]:
        # Pickled (the shared cache, Redis) as an empty one: indexes and scores are
        # rebuilt on use faster than they unpickle.
        return (_Shared, ())

    def rows_only(self) -> _Shared:
        """A fresh copy for other sums of the same KPI and target rows: their indexes
        kept, the stats and scores (which read the sums) left out."""
        shared = _Shared()
        shared.kpi_index, shared.target_index = self.kpi_index, self.target_index
        return shared


@dataclass
class ScoringData:
    """Everything scoring one period needs, loaded once.

    ``sums`` holds one row of additive sums per account and quarter with answers;
    ``sum_rows`` maps (account_id, quarter) to its row.
    """

    period: Period
    accounts: dict[str, AccountInfo]
    sums: SumsColumns
    sum_rows: dict[tuple[str, str], int]
    kpi_rows: list[KpiRow]
    target_rows: list[TargetRow]
    # account_id -> quarter -> invitations
    invited: dict[str, dict[str, int]] = field(default_factory=dict)
    shared: _Shared = field(default_factory=_Shared, repr=False, compare=False)

    @property
    def stats(self) -> dict[str, dict[str, AnswerStats]]:
        """account_id -> quarter -> stats (built on first use, from ``sums``)."""
        if self.shared.stats is None:
            stats: dict[str, dict[str, AnswerStats]] = defaultdict(dict)
            for (account_id, quarter), row in self.sum_rows.items():
                stats[account_id][quarter] = self.sums.stats(row)
            self.shared.stats = dict(stats)
        return self.shared.stats

    @property
    def kpi_index(self) -> KpiIndex:
        if self.shared.kpi_index is None:
            self.shared.kpi_index = KpiIndex(self.kpi_rows)
        return self.shared.kpi_index

    @property
    def target_index(self) -> TargetIndex:
        if self.shared.target_index is None:
            self.shared.target_index = TargetIndex(self.target_rows)
        return self.shared.target_index

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


def _plain_rows(session: Session, statement: Any) -> list[tuple[Any, ...]]:
    """The rows of a SELECT as the DBAPI's plain tuples, on the session's connection:
    for the large reads of scoring (~300,000 histogram entries, ~50,000 KPI rows a
    year), where building a SQLAlchemy Row for each costs more than the query. Only
    for columns whose driver values need no conversion (numbers and strings)."""
    # Executed by SQLAlchemy (its compiled cache; its events run: the statement watchdog
    # of cpi.db, tests' statement counts), fetched from the DBAPI cursor (no Row per entry).
    result = session.connection().execute(statement)
    try:
        return list(result.cursor.fetchall())
    finally:
        result.close()


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
    account_rows = _plain_rows(session, account_query)
    # (pk, the AccountInfo of the other columns), made in C: thousands of accounts a load
    accounts_by_pk: dict[int, AccountInfo] = dict(
        zip(
            map(itemgetter(0), account_rows),
            map(partial(tuple.__new__, AccountInfo), map(itemgetter(slice(1, None)), account_rows)),
            strict=True,
        )
    )
    only = list(accounts_by_pk) if account_ids is not None else None

    # The sums kept on write (cpi/surveys/sums.py), one row per account and quarter with
    # its packed quote-days histogram, as the driver's plain tuples.
    sums, sum_rows = _load_sums(session, quarters, only, accounts_by_pk)

    relevant = set(quarters) | {str(period), str(period.previous())}
    # Without history only the period itself is scored (and a year from its quarters):
    # the previous quarter's KPI rows would be read for nothing.
    kpi_periods = relevant if history else {str(period), *(str(q) for q in period.quarters())}
    kpi_filter = KpiFigure.account_id.in_(only) if only is not None else true()
    # The account's CRM id by a join, so that each row maps straight onto a KpiRow (the
    # tuple made a KpiRow in C, as ``KpiRow._make`` does less its Python call per row).
    kpi_rows = list(map(partial(tuple.__new__, KpiRow), _plain_rows(
        session,
        select(KpiFigure.indicator, KpiFigure.period, Account.account_id, KpiFigure.segment,
               KpiFigure.value, KpiFigure.numerator, KpiFigure.denominator)
        .outerjoin(Account, Account.id == KpiFigure.account_id)
        .where(KpiFigure.period.in_(kpi_periods), kpi_filter)
        .execution_options(**{BINARY_RESULTS: True})
    )))  # fmt: skip
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
        sums=sums,
        sum_rows=sum_rows,
        kpi_rows=kpi_rows,
        target_rows=target_rows,
        invited=dict(invited),
    )


def load_account_sums(
    session: Session, period: Period, accounts_by_pk: dict[int, AccountInfo]
) -> tuple[SumsColumns, dict[tuple[str, str], int]]:
    """The sums of those accounts (pk: account) that ``load_scoring_data(period)`` reads,
    and the row of each (account_id, quarter): what a write to answers changes."""
    return _load_sums(session, periods_needed(period), list(accounts_by_pk), accounts_by_pk)


def _load_sums(
    session: Session,
    quarters: Sequence[str],
    only: Sequence[int] | None,
    accounts_by_pk: dict[int, AccountInfo],
) -> tuple[SumsColumns, dict[tuple[str, str], int]]:
    """The sums rows of the quarters as columns, and the row of each (account_id, quarter)."""
    s = AnswerSums
    packed = packed_sums(session.get_bind().dialect.name)
    sums_columns = [packed[0]] if packed else [getattr(s, n) for n in INT_FIELDS]
    rows = _plain_rows(
        session,
        select(s.account_id, s.period, s.quote_days, *sums_columns)
        .where(s.period.in_(quarters), s.responses > 0)
        .where(s.account_id.in_(only) if only is not None else true())
        .execution_options(**{BINARY_RESULTS: True}),
    )
    account_of = {pk: info.account_id for pk, info in accounts_by_pk.items()}
    accounts = map(account_of.__getitem__, map(itemgetter(0), rows))
    pairs = zip(accounts, map(itemgetter(1), rows), strict=True)
    keys = dict(zip(pairs, range(len(rows)), strict=True))
    if not rows:
        return SumsColumns.empty(), keys
    if packed:
        table = packed[1]([row[3] for row in rows])
    else:
        table = np.array([row[3:] for row in rows], dtype=np.int64)
    return SumsColumns.from_packed(table, [row[2] for row in rows]), keys


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
    # over the accounts with invitations or over the scope's, whichever are fewer
    if len(data.invited) < len(scope.account_ids):
        invited = [by_quarter for a, by_quarter in data.invited.items() if a in scope.account_ids]
    else:
        invited = [data.invited.get(account_id, {}) for account_id in scope.account_ids]
    total = sum(by_quarter.get(quarter, 0) for by_quarter in invited for quarter in quarters)
    return total or None


def _row_table(data: ScoringData) -> RowTable:
    """The row of each (account, quarter) of ``data.sums`` as one table, built once per
    load (a copy of the load with other sums builds its own)."""
    cached = data.shared.row_table
    if cached is None or cached[0] is not data.sum_rows:
        cached = data.shared.row_table = (data.sum_rows, RowTable.build(data.sum_rows))
    return cached[1]


def score_many(data: ScoringData, scopes: Sequence[Scope], *, min_n: int) -> ScoreColumns:
    """Every indicator for every scope in ``data.period``, as columns (one row a scope);
    ``ScoreColumns.card(i)`` builds the scorecard of the scopes shown."""
    period = data.period
    # each scope's sums pooled over its accounts in the period's and the previous
    # period's quarters (one row a scope)
    current, previous = (
        data.sums.pool_flat(members, sizes)
        for members, sizes in _row_table(data).members(
            [scope.account_ids for scope in scopes],
            [[str(q) for q in p.quarters()] for p in (period, period.previous())],
        )
    )
    return score_scopes(
        scopes, period, current, previous, data.kpi_index, data.target_index, min_n=min_n
    )


@lru_cache(maxsize=100_000)
def _account_scope(account: AccountInfo) -> Scope:
    """An account's scope (immutable, so made once: every load of thousands of accounts
    names the same scopes again)."""
    return Scope("account", account.account_id, account.name,
                 frozenset((account.account_id,)), account.segment)  # fmt: skip


def canonical_scopes(
    data: ScoringData, scope_type: str, holding: Collection[str] | None = None
) -> list[Scope]:
    """Every scope of a type that ``data`` holds, as ``resolve_scope`` names them;
    ``holding`` (account ids): only the scopes that hold one of those accounts."""
    names = sorted(data.accounts if holding is None else set(holding))
    accounts = list(map(data.accounts.__getitem__, names))
    if scope_type == "account":  # as resolve_scope names them, without its look-ups
        return list(map(_account_scope, accounts))
    keys: list[str | None]
    if scope_type == "segment":
        keys = sorted({a.segment for a in accounts})
    elif scope_type == "owner":
        keys = sorted({a.owner_email for a in accounts if a.owner_email})
    else:
        keys = [None]
    scopes = []
    for key in keys:
        try:
            scopes.append(resolve_scope(data, scope_type, key))
        except ScopeNotFound:  # an owner address that does not normalise to itself
            continue
    return scopes


def scores_of_type(
    data: ScoringData, scope_type: str, *, min_n: int
) -> tuple[dict[str | None, int], ScoreColumns]:
    """Every scope of ``scope_type`` (account, segment, owner, company) in ``data``, scored
    at once and kept for the load: (row of each scope id, the columns). A page that shows
    a list of accounts, segments or portfolios scores them in one go."""
    key = (scope_type, data.period, min_n)
    found = data.shared.scores.get(key)
    if found is None:
        scopes = canonical_scopes(data, scope_type)
        rows = {scope.id: i for i, scope in enumerate(scopes)}
        found = (rows, score_many(data, scopes, min_n=min_n))
        data.shared.scores[key] = found
    return found


def account_scores(data: ScoringData, *, min_n: int) -> tuple[dict[str | None, int], ScoreColumns]:
    """Every account of ``data`` scored at once: (row of each account_id, the columns)."""
    return scores_of_type(data, "account", min_n=min_n)


def score(
    data: ScoringData,
    scope: Scope,
    *,
    min_n: int,
    generated_at: datetime | None = None,
    by_account: Any = None,
) -> Scorecard:
    """The scope's scorecard for ``data.period``. A scope as ``resolve_scope`` names it
    comes from the columns of every scope of its type (scored once per load); any
    other scope (a restricted view) is a column of length one. (``by_account`` is
    accepted for older callers and not needed.)"""
    del by_account
    invited = _invited_for(data, scope)
    if scope.type in SCOPE_TYPES:
        rows, columns = scores_of_type(data, scope.type, min_n=min_n)
        row = rows.get(scope.id)
        if row is not None and columns.scopes[row] == scope:
            return columns.card(row, invited=invited, generated_at=generated_at)
    return score_many(data, [scope], min_n=min_n).card(
        0, invited=invited, generated_at=generated_at
    )


def answer_counts_by_quarter(
    data: ScoringData, keys: Iterable[tuple[str, str]]
) -> dict[str, dict[tuple[str, str], int]]:
    """n of every indicator for each (account_id, quarter) of ``keys`` that has answers,
    from the loaded sums in one go: {code: {(account_id, quarter): n}}."""
    found = [(key, data.sum_rows[key]) for key in keys if key in data.sum_rows]
    columns = data.sums.take([row for _, row in found])
    return {
        indicator.code: dict(
            zip((key for key, _ in found), answer_counts(indicator, columns).tolist(), strict=True)
        )
        for indicator in CATALOGUE
    }


def score_accounts(
    data: ScoringData,
    account_ids: Iterable[str],
    *,
    min_n: int,
    generated_at: datetime | None = None,
) -> list[Scorecard]:
    rows, columns = account_scores(data, min_n=min_n)
    cards = []
    for account_id in account_ids:
        if account_id not in rows:
            raise ScopeNotFound(f"no account {account_id!r}")
        scope = columns.scopes[rows[account_id]]
        cards.append(
            columns.card(
                rows[account_id], invited=_invited_for(data, scope), generated_at=generated_at
            )
        )
    return cards


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
    session: Session,
    scope_type: str,
    scope_id: str | None,
    *,
    min_n: int | None = None,
    since: tuple[Mapping[str, QuarterActivity], Collection[str]] | None = None,
) -> dict[str, QuarterActivity]:
    """Every quarter with answers, invitations or a live campaign in the scope.

    The answer counts come from the answer sums (one row per account and quarter), not
    from the answers. With ``min_n`` the quote turnaround's count (a histogram in the
    sums) is read only for the quarters whose other counts stay below ``min_n``, so
    ``best_n`` is exact below ``min_n`` and at least ``min_n`` otherwise.

    ``since``: (an earlier result for the same scope and ``min_n``, the quarters whose
    answers were written since it), when nothing else changed (the base generation,
    cpi.generation): only those quarters' answers are counted again."""
    where = scope_filter(scope_type, scope_id)
    if since is None:
        answers = _answer_activity(session, where, min_n, None)
        invited, surveying = _campaign_activity(session, scope_type, where)
    else:
        earlier, written = since
        answers = {q: (a.responses, a.best_n) for q, a in earlier.items() if q not in written}
        answers.update(_answer_activity(session, where, min_n, written))
        invited = {q: a.invited for q, a in earlier.items() if a.invited}
        surveying = {q for q, a in earlier.items() if a.surveying}
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


def _answer_activity(
    session: Session, where: list[Any], min_n: int | None, quarters: Collection[str] | None
) -> dict[str, tuple[int, int]]:
    """(answers, best n) per quarter with answer sums in scope (``quarters``: those only)."""
    s = AnswerSums
    if quarters is not None:
        where = [*where, s.period.in_(sorted(quarters))]
    answers = {
        quarter: (int(total or 0), max(int(n or 0) for n in counts))
        for quarter, total, *counts in session.execute(
            select(
                s.period,
                func.sum(s.responses),
                func.sum(s.fcr_yes + s.fcr_no),
                func.sum(s.calls_n),
                func.sum(s.csat_n),
                func.sum(s.nps_n),
                func.sum(s.ces_n),
            )
            .join(Account, Account.id == s.account_id)
            .where(*where)
            .group_by(s.period)
        )
    }
    # The quote turnaround's count can only raise best_n up to the number of answers.
    unsure = [
        q
        for q, (total, best) in answers.items()
        if best < total and (min_n is None or best < min_n)
    ]
    if unsure:
        quote_n: dict[str, int] = defaultdict(int)
        for quarter, packed in session.execute(
            select(s.period, s.quote_days)
            .join(Account, Account.id == s.account_id)
            .where(s.period.in_(unsure), s.quote_days.is_not(None), *where)
        ):
            quote_n[quarter] += sum(unpack_histogram(packed).values())
        for quarter, n in quote_n.items():
            total, best = answers[quarter]
            answers[quarter] = (total, max(best, n))
    return answers


def _campaign_activity(
    session: Session, scope_type: str, where: list[Any]
) -> tuple[dict[str, int], set[str]]:
    """Invitations per quarter in scope, and the quarters with a live campaign in scope."""
    from cpi.surveys.campaigns import LIVE_STATUSES

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
    return invited, set(session.scalars(live.distinct()))


def default_quarter(activity: dict[str, QuarterActivity], *, min_n: int) -> Period | None:
    """The latest quarter in which the scope has enough answers to score at least one
    indicator (``min_n``); failing that, the latest quarter with any answer."""
    scorable = [q for q, a in activity.items() if a.best_n >= min_n]
    answered = [q for q, a in activity.items() if a.responses > 0]
    chosen = max(scorable or answered, default=None)
    return Period.parse(chosen) if chosen else None
