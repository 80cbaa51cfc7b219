"""Keep the answer sums equal to the answers, and recompute them to check.

(They live beside the answers, in the surveys feature: every package that writes
answers already imports it, and a package of its own would form an import cycle
with the survey submit.)

Every write that changes answers calls in here in its own transaction:

* ``replace_answers``: one respondent's answers for an account and quarter are
  being replaced (survey submit and re-answer): locks the sums row, reads the
  current answers and adds (new - old);
* ``record_answer_change``: the caller knows old and new; ``add_answers``: new
  responses only (demo loading);
* ``lock`` + ``apply_deltas``: many at once (CSV import).

A delta always comes from ``cpi.scoring.stats.add_answers``, the one definition of
what an answer adds to the sums (``AnswerStats.from_answers`` uses it too), and is
added with ``INSERT ... ON CONFLICT DO UPDATE SET col = col + excluded.col``, so
concurrent writers lose no increment. On PostgreSQL the sums row of an account
and quarter is also the lock that orders every writer of that account's answers in
that quarter: a writer takes it before it reads the answers it replaces.
Histogram counts and sums rows that reach 0 are deleted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import and_, bindparam, case, delete, func, select, true, tuple_
from sqlalchemy.orm import Session

from cpi.db import dialect_insert
from cpi.generation import note_answers, note_change
from cpi.scoring import ANSWER_FIELDS, Answers, AnswerStats
from cpi.scoring.stats import INT_FIELDS as SUM_FIELDS
from cpi.scoring.stats import add_answers as add_answers_to
from cpi.surveys.models import Response
from cpi.surveys.sums_models import AnswerQuoteDays, AnswerSums

Key = tuple[int, str]  # (account pk, quarter)


def stats_delta(old: Iterable[Answers], new: Iterable[Answers]) -> AnswerStats:
    """What replacing the answers ``old`` by ``new`` adds to the sums (may be negative)."""
    sums = dict.fromkeys(SUM_FIELDS, 0)
    days: dict[float, int] = {}
    add_answers_to(sums, days, new)
    add_answers_to(sums, days, old, -1)
    return AnswerStats(quote_days=days, **sums)


class PendingSums:
    """The deltas of many answer changes, added up per account and quarter, to apply
    once at the end (a CSV import)."""

    def __init__(self) -> None:
        self.sums: dict[Key, dict[str, int]] = {}
        self.days: dict[Key, dict[float, int]] = {}

    def add(self, changes: Iterable[tuple[Key, Answers | None, Answers | None]]) -> None:
        """``(key, old, new)`` per response: old or new None when absent."""
        for key, old, new in changes:
            sums = self.sums.get(key)
            if sums is None:
                sums = self.sums[key] = dict.fromkeys(SUM_FIELDS, 0)
                self.days[key] = {}
            if new is not None:
                add_answers_to(sums, self.days[key], (new,))
            if old is not None:
                add_answers_to(sums, self.days[key], (old,), -1)

    def deltas(self) -> dict[Key, AnswerStats]:
        return {
            key: AnswerStats(quote_days=self.days[key], **sums) for key, sums in self.sums.items()
        }


def answers_of(row: Any) -> Answers:
    """The answers of a responses row (anything with the answer fields as attributes)."""
    return Answers(**{name: getattr(row, name) for name in ANSWER_FIELDS})


def record_answer_change(
    session: Session,
    account_pk: int,
    quarter: str,
    old: Answers | None,
    new: Answers | None,
) -> None:
    """One response of the account and quarter goes from ``old`` to ``new`` (None: absent)."""
    delta = stats_delta([] if old is None else [old], [] if new is None else [new])
    apply_deltas(session, {(account_pk, quarter): delta})


def add_answers(session: Session, added: Iterable[tuple[int, str, Answers]]) -> None:
    """New responses ``(account pk, quarter, answers)``, none replacing another."""
    grouped: dict[Key, list[Answers]] = {}
    for account_pk, quarter, answers in added:
        grouped.setdefault((account_pk, quarter), []).append(answers)
    lock(session, grouped)
    apply_deltas(session, {key: stats_delta([], group) for key, group in grouped.items()})


def replace_answers(
    session: Session, account_pk: int, contact_id: int, quarter: str, new: Answers
) -> None:
    """Call before writing a respondent's answers for an account and quarter (insert
    or update of the one row of ``(account_pk, contact_id, quarter)``): adds what the
    write changes. On PostgreSQL the account and quarter's sums row stays locked until
    commit, so the answers read here are the ones the write replaces."""
    lock(session, [(account_pk, quarter)])
    row = session.execute(
        select(*[getattr(Response, name) for name in ANSWER_FIELDS]).where(
            Response.account_id == account_pk,
            Response.contact_id == contact_id,
            Response.period == quarter,
        )
    ).first()
    record_answer_change(session, account_pk, quarter, answers_of(row) if row else None, new)


def lock(session: Session, keys: Iterable[Key]) -> None:
    """Lock the sums rows of these accounts and quarters until commit (creating empty
    ones), in one order so two writers cannot deadlock. SQLite needs none: a write
    transaction there holds the whole database (BEGIN IMMEDIATE)."""
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        return
    rows = [{"account_id": pk, "period": quarter} for pk, quarter in sorted(set(keys))]
    if rows:
        session.execute(_statements(dialect).lock, rows)


def apply_deltas(session: Session, deltas: Mapping[Key, AnswerStats]) -> None:
    """Add each delta to its account and quarter, atomically (in key order, a few
    thousand keys per statement so that memory stays flat)."""
    statements = _statements(session.get_bind().dialect.name)
    # Core writes: tell the dashboard cache which quarters change (cpi.generation)
    note_answers(session, deltas)
    connection = session.connection()
    items = sorted(deltas.items())
    for start in range(0, len(items), APPLY_CHUNK):
        _apply(connection, statements, items[start : start + APPLY_CHUNK])


APPLY_CHUNK = 2000


def _apply(connection: Any, statements: _Statements, items: list[tuple[Key, AnswerStats]]) -> None:
    sums_rows, day_rows, emptied_days, emptied_sums = [], [], [], []
    for (account_pk, quarter), delta in items:
        sums = {name: getattr(delta, name) for name in SUM_FIELDS}
        if any(sums.values()):
            sums_rows.append({"account_id": account_pk, "period": quarter, **sums})
            if sums["responses"] < 0:
                emptied_sums.append({"account_id": account_pk, "period": quarter})
        for days, count in delta.quote_days.items():
            key = {"account_id": account_pk, "period": quarter, "days": days}
            day_rows.append({**key, "count": count})
            if count < 0:
                emptied_days.append(key)
    if sums_rows:
        connection.execute(statements.add_sums, sums_rows)
    if day_rows:
        connection.execute(statements.add_days, day_rows)
    if emptied_days:
        connection.execute(statements.drop_empty_days, emptied_days)
    if emptied_sums:
        connection.execute(statements.drop_empty_sums, emptied_sums)


@dataclass(frozen=True)
class _Statements:
    lock: Any
    add_sums: Any
    add_days: Any
    drop_empty_days: Any
    drop_empty_sums: Any


@cache
def _statements(dialect: str) -> _Statements:
    insert = dialect_insert(dialect)
    sums = AnswerSums.__table__
    days = AnswerQuoteDays.__table__
    add_sums = insert(sums)
    add_sums = add_sums.on_conflict_do_update(
        index_elements=["period", "account_id"],
        set_={name: sums.c[name] + add_sums.excluded[name] for name in SUM_FIELDS},
    )
    add_days = insert(days)
    add_days = add_days.on_conflict_do_update(
        index_elements=["period", "account_id", "days"],
        set_={"count": days.c.count + add_days.excluded["count"]},
    )
    lock = insert(sums).values(
        account_id=bindparam("account_id"),
        period=bindparam("period"),
        **dict.fromkeys(SUM_FIELDS, 0),
    )
    lock = lock.on_conflict_do_update(
        index_elements=["period", "account_id"], set_={"responses": sums.c.responses}
    )
    same_key = and_(
        sums.c.account_id == bindparam("account_id"), sums.c.period == bindparam("period")
    )
    return _Statements(
        lock=lock,
        add_sums=add_sums,
        add_days=add_days,
        drop_empty_days=delete(days).where(
            days.c.account_id == bindparam("account_id"),
            days.c.period == bindparam("period"),
            days.c.days == bindparam("days"),
            days.c.count <= 0,
        ),
        drop_empty_sums=delete(sums).where(same_key, sums.c.responses <= 0),
    )


# ---------------------------------------------------------------------------
# Reading the sums (what scoring reads) and recomputing them from the answers.


def stored_stats_rows(
    session: Session, quarters: Sequence[str], only: Sequence[int] | None = None
) -> Any:
    """Rows of (account_id, period, *SUM_FIELDS), from the sums table: the same columns
    as ``recomputed_stats_rows`` (``.keys()`` names them)."""
    s = AnswerSums
    # Core rows on the session's connection: plain tuples, not the ORM's row processing.
    return session.connection().execute(
        select(s.account_id, s.period, *[getattr(s, name) for name in SUM_FIELDS])
        .where(s.period.in_(quarters), s.responses > 0)
        .where(s.account_id.in_(only) if only is not None else true())
        .order_by(s.period, s.account_id)
    )


def stored_days_rows(
    session: Session, quarters: Sequence[str], only: Sequence[int] | None = None
) -> Any:
    """Rows of (account_id, period, days, count) from the histogram table."""
    d = AnswerQuoteDays
    return session.connection().execute(
        select(d.account_id, d.period, d.days, d.count)
        .where(d.period.in_(quarters), d.count > 0)
        .where(d.account_id.in_(only) if only is not None else true())
        .order_by(d.period, d.account_id, d.days)
    )


def recomputed_stats_query(quarters: Sequence[str] | None = None) -> Any:
    """The sums recomputed from the answers with one GROUP BY (the check's reference)."""
    r = Response
    y, x = r.contacts_value_added, r.contacts_total
    in_share = (x > 0) & y.is_not(None)

    def count_when(condition: Any) -> Any:
        return func.sum(case((condition, 1), else_=0))

    def sum_when(condition: Any, expression: Any) -> Any:
        return func.sum(case((condition, expression), else_=0))

    return (
        select(
            r.account_id,
            r.period,
            func.count().label("responses"),
            count_when(r.fcr == "yes").label("fcr_yes"),
            count_when(r.fcr == "no").label("fcr_no"),
            func.count(y).label("calls_n"),
            func.coalesce(func.sum(y), 0).label("calls_sum"),
            func.coalesce(func.sum(y * y), 0).label("calls_sumsq"),
            count_when(in_share).label("share_n"),
            sum_when(in_share, y).label("share_y"),
            sum_when(in_share, x).label("share_x"),
            sum_when(in_share, y * y).label("share_yy"),
            sum_when(in_share, x * x).label("share_xx"),
            sum_when(in_share, x * y).label("share_xy"),
            func.count(r.csat).label("csat_n"),
            count_when(r.csat >= 4).label("csat_top2"),
            func.count(r.nps).label("nps_n"),
            count_when(r.nps >= 9).label("nps_promoters"),
            count_when(r.nps <= 6).label("nps_detractors"),
            func.count(r.ces).label("ces_n"),
            func.coalesce(func.sum(r.ces), 0).label("ces_sum"),
            func.coalesce(func.sum(r.ces * r.ces), 0).label("ces_sumsq"),
        )
        .where(r.period.in_(quarters) if quarters is not None else true())
        # In the order of ix_responses_period_account_answers: a streaming aggregate.
        .group_by(r.period, r.account_id)
        .order_by(r.period, r.account_id)
    )


def recomputed_days_query(quarters: Sequence[str] | None = None) -> Any:
    r = Response
    return (
        select(r.account_id, r.period, r.quote_turnaround_days, func.count())
        .where(r.period.in_(quarters) if quarters is not None else true())
        .where(r.quote_turnaround_days.is_not(None))
        .group_by(r.period, r.account_id, r.quote_turnaround_days)
        .order_by(r.period, r.account_id, r.quote_turnaround_days)
    )


@dataclass(frozen=True)
class Difference:
    account_id: str  # the CRM's account id
    quarter: str
    field: str  # a sum's name, or "quote_days=<days>"
    stored: int
    recomputed: int

    def __str__(self) -> str:
        return (
            f"account {self.account_id} {self.quarter} {self.field}: "
            f"stored {self.stored}, recomputed {self.recomputed}"
        )


def _int(value: Any) -> int:
    return int(value or 0)


def _table(session: Session, stats: Any, days: Any) -> dict[tuple[int, str, str], int]:
    values: dict[tuple[int, str, str], int] = {}
    for row in stats:
        for name in SUM_FIELDS:
            if _int(row[name]):
                values[(row["account_id"], row["period"], name)] = _int(row[name])
    for account_pk, quarter, value, count in days:
        if _int(count):
            values[(account_pk, quarter, f"quote_days={float(value)!r}")] = _int(count)
    return values


def differences(session: Session) -> list[Difference]:
    """Every (account, quarter, field) where the sums tables disagree with the answers."""
    from cpi.accounts.models import Account

    s, d = AnswerSums, AnswerQuoteDays
    stored = _table(
        session,
        session.execute(select(s.account_id, s.period, *[getattr(s, n) for n in SUM_FIELDS]))
        .mappings()
        .all(),
        session.execute(select(d.account_id, d.period, d.days, d.count)).all(),
    )
    recomputed = _table(
        session,
        session.execute(recomputed_stats_query()).mappings().all(),
        session.execute(recomputed_days_query()).all(),
    )
    names = dict(session.execute(select(Account.id, Account.account_id)).all())
    found = []
    for key in sorted(stored.keys() | recomputed.keys(), key=lambda k: (k[1], k[0], k[2])):
        if stored.get(key, 0) != recomputed.get(key, 0):
            pk, quarter, field = key
            name = names.get(pk, f"#{pk}")
            found.append(
                Difference(name, quarter, field, stored.get(key, 0), recomputed.get(key, 0))
            )
    return found


def rebuild(session: Session) -> int:
    """Replace the sums tables' content by a recomputation from the answers (flushes,
    never commits); returns how many sums rows there are now."""
    connection = session.connection()
    note_change(session)  # Core writes: tell the dashboard cache (cpi.generation)
    lock_tables(session)
    connection.execute(delete(AnswerQuoteDays))
    connection.execute(delete(AnswerSums))
    columns = ["account_id", "period", *SUM_FIELDS]
    connection.execute(AnswerSums.__table__.insert().from_select(columns, recomputed_stats_query()))
    connection.execute(
        AnswerQuoteDays.__table__.insert().from_select(
            ["account_id", "period", "days", "count"], recomputed_days_query()
        )
    )
    return session.scalar(select(func.count()).select_from(AnswerSums)) or 0


def lock_tables(session: Session) -> None:
    """Hold off every writer of answers (PostgreSQL) while the sums are recomputed."""
    if session.get_bind().dialect.name == "postgresql":
        session.connection().exec_driver_sql(
            "LOCK TABLE responses, answer_sums, answer_quote_days IN SHARE ROW EXCLUSIVE MODE"
        )


def existing_answers(
    session: Session, keys: Sequence[tuple[int, int, str]]
) -> dict[tuple[int, int, str], Answers]:
    """The current answers of these (account pk, contact id, quarter) rows, if any."""
    if not keys:
        return {}
    r = Response
    rows = session.connection().execute(
        select(r.account_id, r.contact_id, r.period, *[getattr(r, n) for n in ANSWER_FIELDS]).where(
            tuple_(r.account_id, r.contact_id, r.period).in_(list(keys))
        )
    )
    return {(row.account_id, row.contact_id, row.period): answers_of(row) for row in rows}
