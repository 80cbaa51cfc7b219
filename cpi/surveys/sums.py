"""Keep the answer sums equal to the answers, and recompute them to check.

(They live beside the answers, in the surveys feature: every package that writes
answers already imports it, and a package of its own would form an import cycle
with the survey submit.)

Every write that changes answers calls in here in its own transaction:

* ``replace_answers``: one respondent's answers for an account and quarter are
  being replaced (survey submit and re-answer): locks the sums row, reads the
  current answers and adds (new - old);
* ``add_answers``: new responses only (demo loading);
* ``lock`` + ``apply_deltas``: many deltas at once; ``lock`` + ``recompute``: many
  answers written at once (CSV import), the sums of their accounts and quarters
  recomputed from the answers.

A delta always comes from ``cpi.scoring.stats.add_answers``, the one definition of
what an answer adds to the sums (``AnswerStats.from_answers`` uses it too), and is
added with ``INSERT ... ON CONFLICT DO UPDATE SET col = col + excluded.col``, so
concurrent writers lose no increment. On PostgreSQL the sums row of an account
and quarter is also the lock that orders every writer of that account's answers in
that quarter: a writer takes it before it reads the answers it replaces.

The quote-days histogram is packed in the sums row (``quote_days``), so it changes
by read-modify-write: the upsert of the sums locks the row first (PostgreSQL; on
SQLite the write transaction holds the database), then the histogram is read
``FOR UPDATE``, merged and written back; no concurrent writer can come between. A
submit (``replace_answers``) reads the histogram with the answers it replaces, once
``lock`` holds the row, and its sums upsert writes the merged histogram: one read and
one write. Histogram entries and sums rows that reach 0 are deleted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    bindparam,
    case,
    delete,
    func,
    literal_column,
    select,
    true,
    tuple_,
    update,
)
from sqlalchemy.orm import Session

from cpi.db import dialect_insert
from cpi.generation import note_answers, note_change
from cpi.scoring import ANSWER_FIELDS, Answers, AnswerStats
from cpi.scoring.columns import pack_histogram, unpack_histogram
from cpi.scoring.stats import INT_FIELDS as SUM_FIELDS
from cpi.scoring.stats import add_answers as add_answers_to
from cpi.surveys.models import Response
from cpi.surveys.sums_models import AnswerSums

Key = tuple[int, str]  # (account pk, quarter)


def stats_delta(old: Iterable[Answers], new: Iterable[Answers]) -> AnswerStats:
    """What replacing the answers ``old`` by ``new`` adds to the sums (may be negative)."""
    sums = dict.fromkeys(SUM_FIELDS, 0)
    days: dict[float, int] = {}
    add_answers_to(sums, days, new)
    add_answers_to(sums, days, old, -1)
    return AnswerStats(quote_days=days, **sums)


def answers_of(row: Any) -> Answers:
    """The answers of a responses row (anything with the answer fields as attributes)."""
    return Answers(**{name: getattr(row, name) for name in ANSWER_FIELDS})


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
    key = {"account_id": account_pk, "contact_id": contact_id, "period": quarter}
    connection = session.connection()
    # The answers replaced and the row's histogram in one read: the sums row is locked
    # (PostgreSQL: ``lock`` above; SQLite: the write transaction), so the histogram read
    # here is still the one the upsert below replaces.
    row = connection.execute(_STORED_ANSWERS_AND_DAYS, key).one()
    old = answers_of(row) if row.response_id is not None else None
    delta = stats_delta([] if old is None else [old], [new])
    note_answers(session, [(account_pk, quarter)])
    statements = _statements(connection.dialect.name)
    sums, days = _changes(delta)
    if not (any(sums.values()) or days):
        return  # the same answers again: the sums stay as they are
    values = {"account_id": account_pk, "period": quarter, **sums}
    if days:
        values["quote_days"] = _merged(row.quote_days, days)
        connection.execute(statements.add_sums_setting_days, values)
    else:
        connection.execute(statements.add_sums, values)
    # (a replaced answer leaves the count as it was, a new one adds 1: no row empties)


# Built once: every survey submit runs it (Core, on the session's connection). One row
# whether or not the response and the sums row exist (outer joins from a one-row FROM).
_ONE_ROW = select(literal_column("1").label("one")).subquery("one_row")
_STORED_ANSWERS_AND_DAYS = select(
    Response.id.label("response_id"),
    *[getattr(Response, name) for name in ANSWER_FIELDS],
    AnswerSums.quote_days,
).select_from(
    _ONE_ROW.outerjoin(
        Response,
        and_(
            Response.account_id == bindparam("account_id"),
            Response.contact_id == bindparam("contact_id"),
            Response.period == bindparam("period"),
        ),
    ).outerjoin(
        AnswerSums,
        and_(
            AnswerSums.account_id == bindparam("account_id"),
            AnswerSums.period == bindparam("period"),
        ),
    )
)


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
    sums_rows, emptied_sums = [], []
    days_deltas: dict[Key, dict[float, int]] = {}
    for (account_pk, quarter), delta in items:
        sums, days = _changes(delta)
        if any(sums.values()) or days:
            # The upsert also locks the row before its histogram is read (PostgreSQL).
            sums_rows.append({"account_id": account_pk, "period": quarter, **sums})
            if sums["responses"] < 0:
                emptied_sums.append({"account_id": account_pk, "period": quarter})
        if days:
            days_deltas[(account_pk, quarter)] = days
    if len(sums_rows) == 1 and days_deltas:
        # One row: the upsert that locks it returns its histogram, so reading it takes no
        # statement of its own.
        stored = connection.execute(statements.add_sums_returning_days, sums_rows[0]).scalar()
        (key,) = days_deltas
        _write_days(connection, statements, days_deltas, {key: stored})
    else:
        if sums_rows:
            connection.execute(statements.add_sums, sums_rows)
        if days_deltas:
            _add_days(connection, statements, days_deltas)
    if emptied_sums:
        connection.execute(statements.drop_empty_sums, emptied_sums)


def _add_days(
    connection: Any, statements: _Statements, deltas: Mapping[Key, Mapping[float, int]]
) -> None:
    """Merge each delta into its row's packed histogram (read-modify-write, rows locked)."""
    keys = [(quarter, account_pk) for account_pk, quarter in sorted(deltas)]
    stored = {
        (account_pk, quarter): packed
        for account_pk, quarter, packed in connection.execute(statements.read_days, {"keys": keys})
    }
    _write_days(connection, statements, deltas, stored)


def _write_days(
    connection: Any,
    statements: _Statements,
    deltas: Mapping[Key, Mapping[float, int]],
    stored: Mapping[Key, bytes | None],
) -> None:
    """Write each row's stored histogram (packed) plus its delta."""
    changed = [
        {"key_account": key[0], "key_period": key[1], "packed": _merged(stored.get(key), delta)}
        for key, delta in deltas.items()
    ]
    connection.execute(statements.write_days, changed)


def _changes(delta: AnswerStats) -> tuple[dict[str, int], dict[float, int]]:
    """A delta's sums, and its histogram's non-zero changes."""
    sums = {name: getattr(delta, name) for name in SUM_FIELDS}
    return sums, {value: count for value, count in delta.quote_days.items() if count}


def _merged(stored: bytes | None, delta: Mapping[float, int]) -> bytes | None:
    """A stored (packed) histogram plus a delta, packed."""
    histogram = unpack_histogram(stored)
    for days, count in delta.items():
        histogram[days] = histogram.get(days, 0) + count
    return pack_histogram(histogram)


@dataclass(frozen=True)
class _Statements:
    lock: Any
    add_sums: Any
    add_sums_returning_days: Any
    add_sums_setting_days: Any
    read_days: Any
    write_days: Any
    drop_empty_sums: Any


@cache
def _statements(dialect: str) -> _Statements:
    insert = dialect_insert(dialect)
    sums = AnswerSums.__table__
    add_sums = insert(sums)
    add_sums = add_sums.on_conflict_do_update(
        index_elements=["period", "account_id"],
        set_={name: sums.c[name] + add_sums.excluded[name] for name in SUM_FIELDS},
    )
    # The sums plus a histogram merged by the caller, which read it with the row locked.
    add_sums_setting_days = insert(sums)
    add_sums_setting_days = add_sums_setting_days.on_conflict_do_update(
        index_elements=["period", "account_id"],
        set_={
            **{name: sums.c[name] + add_sums_setting_days.excluded[name] for name in SUM_FIELDS},
            "quote_days": add_sums_setting_days.excluded.quote_days,
        },
    )
    lock = insert(sums).values(
        account_id=bindparam("account_id"),
        period=bindparam("period"),
        **dict.fromkeys(SUM_FIELDS, 0),
    )
    lock = lock.on_conflict_do_update(
        index_elements=["period", "account_id"], set_={"responses": sums.c.responses}
    )
    read_days = select(sums.c.account_id, sums.c.period, sums.c.quote_days).where(
        tuple_(sums.c.period, sums.c.account_id).in_(bindparam("keys", expanding=True))
    )
    if dialect == "postgresql":
        read_days = read_days.with_for_update()
    same_key = and_(
        sums.c.account_id == bindparam("account_id"), sums.c.period == bindparam("period")
    )
    return _Statements(
        lock=lock,
        add_sums=add_sums,
        add_sums_returning_days=add_sums.returning(sums.c.quote_days),
        add_sums_setting_days=add_sums_setting_days,
        read_days=read_days,
        write_days=update(sums)
        .where(
            sums.c.account_id == bindparam("key_account"),
            sums.c.period == bindparam("key_period"),
        )
        .values(quote_days=bindparam("packed")),
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


def packed_sums(dialect: str) -> tuple[Any, Callable[[list[Any]], Any]] | None:
    """A column that holds a sums row's SUM_FIELDS as one value, and the function that
    turns a list of them into an (rows × 20) int64 array; None for other dialects.

    Scoring reads thousands of sums rows: one value per row instead of 20 halves the
    read (the driver builds a Python int per value). SQLite: 16 hex digits per sum
    (printf; a negative sum in two's complement); PostgreSQL: ``int8send``, 8 bytes
    big-endian per sum. Both decode as big-endian int64."""
    columns = [getattr(AnswerSums, name) for name in SUM_FIELDS]
    if dialect == "sqlite":
        expression = func.printf("%016x" * len(columns), *columns)

        def decode(values: list[Any]) -> Any:
            return _int64_rows(bytes.fromhex("".join(values)))

        return expression, decode
    if dialect == "postgresql":
        expression = func.int8send(columns[0])
        for column in columns[1:]:
            expression = expression.op("||")(func.int8send(column))

        def decode_bytes(values: list[Any]) -> Any:
            return _int64_rows(b"".join(values))

        return expression, decode_bytes
    return None


def _int64_rows(buffer: bytes) -> Any:
    import numpy as np

    return np.frombuffer(buffer, dtype=">i8").astype(np.int64).reshape(-1, len(SUM_FIELDS))


def stored_days_rows(
    session: Session, quarters: Sequence[str], only: Sequence[int] | None = None
) -> list[tuple[int, str, float, int]]:
    """(account_id, period, days, count) of every stored histogram entry, unpacked."""
    s = AnswerSums
    rows = session.connection().execute(
        select(s.account_id, s.period, s.quote_days)
        .where(s.period.in_(quarters), s.quote_days.is_not(None))
        .where(s.account_id.in_(only) if only is not None else true())
        .order_by(s.period, s.account_id)
    )
    return [
        (account_pk, quarter, days, count)
        for account_pk, quarter, packed in rows
        for days, count in unpack_histogram(packed).items()
    ]


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

    s = AnswerSums
    stored = _table(
        session,
        session.execute(select(s.account_id, s.period, *[getattr(s, n) for n in SUM_FIELDS]))
        .mappings()
        .all(),
        [
            (account_pk, quarter, days, count)
            for account_pk, quarter, packed in session.execute(
                select(s.account_id, s.period, s.quote_days)
            )
            for days, count in unpack_histogram(packed).items()
        ],
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
    connection.execute(delete(AnswerSums))
    _insert_recomputed(session, recomputed_stats_query(), recomputed_days_query())
    return session.scalar(select(func.count()).select_from(AnswerSums)) or 0


def _insert_recomputed(session: Session, stats: Any, days: Any) -> None:
    """Insert the sums rows ``stats`` recomputes, then pack into them the histograms
    of the rows ``days`` gives (account, quarter, days, count)."""
    connection = session.connection()
    columns = ["account_id", "period", *SUM_FIELDS]
    connection.execute(AnswerSums.__table__.insert().from_select(columns, stats))
    histograms: dict[Key, dict[float, int]] = {}
    for account_pk, quarter, value, count in connection.execute(days):
        histograms.setdefault((account_pk, quarter), {})[float(value)] = int(count)
    write_days = _statements(session.get_bind().dialect.name).write_days
    items = [
        {"key_account": pk, "key_period": quarter, "packed": pack_histogram(histogram)}
        for (pk, quarter), histogram in histograms.items()
    ]
    for start in range(0, len(items), APPLY_CHUNK * 10):
        connection.execute(write_days, items[start : start + APPLY_CHUNK * 10])


_RECOMPUTED_KEYS = Table(
    "cpi_recomputed_sums_keys",
    MetaData(),
    Column("period", String(7), primary_key=True),
    Column("account_id", Integer, primary_key=True),
    prefixes=["TEMPORARY"],
)


def recompute(session: Session, keys: Iterable[Key]) -> None:
    """Replace the sums of these accounts and quarters by a recomputation from their
    answers (a bulk write: the CSV import, after writing its rows; flushes, never
    commits). The same queries as ``cpi sums check``, restricted to the keys. On
    PostgreSQL the caller holds the keys' locks (``lock``), so no submit changes
    their answers meanwhile."""
    keys = sorted(set(keys))
    if not keys:
        return
    connection = session.connection()
    # Core writes: tell the dashboard cache which accounts and quarters change
    note_answers(session, keys)
    table = _RECOMPUTED_KEYS
    table.create(connection)  # rolled back with the transaction if anything fails
    connection.execute(
        table.insert(), [{"account_id": pk, "period": quarter} for pk, quarter in keys]
    )
    wanted = select(table.c.period, table.c.account_id)
    quarters = sorted({quarter for _, quarter in keys})
    connection.execute(
        delete(AnswerSums).where(tuple_(AnswerSums.period, AnswerSums.account_id).in_(wanted))
    )
    affected = tuple_(Response.period, Response.account_id).in_(wanted)
    _insert_recomputed(
        session,
        recomputed_stats_query(quarters).where(affected),
        recomputed_days_query(quarters).where(affected),
    )
    table.drop(connection)


def lock_tables(session: Session) -> None:
    """Hold off every writer of answers (PostgreSQL) while the sums are recomputed."""
    if session.get_bind().dialect.name == "postgresql":
        session.connection().exec_driver_sql(
            "LOCK TABLE responses, answer_sums IN SHARE ROW EXCLUSIVE MODE"
        )
