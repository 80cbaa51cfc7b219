"""The data generation: a counter bumped by every write that changes what dashboards read.

Dashboards are cached under the generation they were computed at
(:mod:`cpi.scorecards.cache`); a write moves the generation on, so the next
request computes afresh, in every process at once (the counter lives in the
database). Nothing is polled: reading the generation is one primary-key look-up.

The bump needs no call in the writers: every ORM ``Session`` that writes to one of
the :data:`WATCHED` tables (a flushed object, or an ``insert``/``update``/``delete``
run through ``session.execute``) increments the counter just before it commits, in
the same transaction, so a rolled-back write bumps nothing and a committed one is
never missed. The row is locked only for that last statement and the commit.

Per quarter: beside the global counter (row 1), the table keeps a *base* generation
(row 2) and one generation per quarter (row ``year * 10 + quarter``). A write whose
quarters are known (the answer sums and the responses of a quarter: a submit, an
import's rows; see :func:`note_quarters`) moves only those quarters' rows; every
other watched write (accounts, users, KPIs, targets, campaigns, an erasure, any
statement whose quarters cannot be told) moves the base. So a result that reads
only some quarters (a past quarter's figures, the audit of a closed year) can be
cached under the base and those quarters' generations (:func:`quarter_generations`)
and outlive writes to other quarters. The global counter still moves with every
watched write, as before.

Not seen: writes that bypass the ORM session (raw ``engine.begin()`` connections, a
SQL console): a dashboard computed before such a write is reused until the next
app write bumps the generation (``cpi`` commands and pages all write through
sessions).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import cache
from typing import Any

from sqlalchemy import BigInteger, Integer, bindparam, event, select, update
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column

from cpi.db import Base, dialect_insert

# Tables whose rows a dashboard, an account page or the differencing audit reads.
WATCHED = frozenset(
    {
        "responses",  # answers (imports, submits, re-answers, erasure)
        "answer_sums",  # the sums kept beside them (issue 13), should they be written alone
        "accounts",  # names, segments, owners
        "contacts",  # erasure removes the names shown beside comments
        "kpi_figures",
        "targets",
        "users",  # account managers' names, roles
        "campaigns",  # "in progress" periods
        "invitations",  # response rates
    }
)
ROW_ID = 1
BASE_ROW_ID = 2
_FLAG = "cpi_data_changed"
_BASE_FLAG = "cpi_base_changed"
_QUARTERS = "cpi_quarters_changed"  # quarter -> the account pks written (None: unknown)
_COMMITTED = "cpi_quarters_committed"
# Rows of these tables belong to one quarter (their ``period`` column): an INSERT whose
# every parameter set names its quarter is noted per quarter, anything else as a base
# change.
PER_QUARTER = frozenset({"responses", "answer_sums"})
_QUARTER = re.compile(r"(\d{4})-Q([1-4])")


class DataGeneration(Base):
    __tablename__ = "data_generation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)


def current(session: Session) -> int:
    """The committed generation as this session sees it (0 before any write)."""
    value = session.scalar(select(DataGeneration.value).where(DataGeneration.id == ROW_ID))
    return int(value or 0)


def quarter_row_id(quarter: str) -> int | None:
    """The generation row of a quarter ("2026-Q3" -> 20263); None if not a quarter."""
    match = _QUARTER.fullmatch(quarter)
    return int(match.group(1)) * 10 + int(match.group(2)) if match else None


def row_quarter(row_id: int) -> str | None:
    """The quarter of a generation row (20263 -> "2026-Q3"); None for the global and base rows."""
    if row_id <= BASE_ROW_ID:
        return None
    return f"{row_id // 10:04d}-Q{row_id % 10}"


def generations(session: Session) -> dict[int, int]:
    """Every generation row (global, base and the quarters written since): a few rows."""
    table = DataGeneration.__table__
    return {int(i): int(v) for i, v in session.execute(select(table.c.id, table.c.value))}


def quarter_generations(rows: dict[int, int], quarters: Iterable[str]) -> tuple[int, ...]:
    """(base, then each quarter's generation) from ``generations()``: what a result that
    reads only those quarters depends on. A quarter never written on its own is 0."""
    values = [rows.get(BASE_ROW_ID, 0)]
    for quarter in quarters:
        row = quarter_row_id(quarter)
        values.append(rows.get(row, 0) if row is not None else rows.get(ROW_ID, 0))
    return tuple(values)


def bump_rows(session: Session, row_ids: Iterable[int]) -> dict[int, int]:
    """Move these generations on, in the session's transaction: one ``UPDATE ...
    RETURNING`` for the rows that exist (a submit moves two: global and its quarter), an
    upsert for any that does not yet. Returns each row's new value (the rows stay locked
    until commit). The writers need not call this: the session events below do; it is for
    code that writes outside the ORM."""
    ids = sorted(set(row_ids))
    connection = session.connection()
    moved = {
        int(i): int(v)
        for i, v in connection.execute(_bump_statement(connection.dialect.name), {"ids": ids})
    }
    for row_id in ids:
        if row_id not in moved:
            moved[row_id] = int(
                connection.scalar(_create_statement(connection.dialect.name), {"id": row_id})
            )
    return moved


_TABLE = DataGeneration.__table__


@cache
def _bump_statement(dialect: str) -> Any:
    chosen = _TABLE.c.id.in_(bindparam("ids", expanding=True))
    if dialect == "postgresql":
        # Lock the rows in id order (a sub-SELECT ... ORDER BY ... FOR UPDATE), so that two
        # writers moving overlapping rows cannot deadlock; SQLite's write lock is global.
        locked = select(_TABLE.c.id).where(chosen).order_by(_TABLE.c.id).with_for_update()
        chosen = _TABLE.c.id.in_(locked.scalar_subquery())
    return (
        update(_TABLE)
        .where(chosen)
        .values(value=_TABLE.c.value + 1)
        .returning(_TABLE.c.id, _TABLE.c.value)
    )


@cache
def _create_statement(dialect: str) -> Any:
    insert = dialect_insert(dialect)(_TABLE).values(id=bindparam("id"), value=1)
    return insert.on_conflict_do_update(
        index_elements=["id"], set_={"value": _TABLE.c.value + 1}
    ).returning(_TABLE.c.value)


def note_change(session: Session) -> None:
    """Mark the session's transaction as changing what dashboards read, for writes made
    on its connection with Core (which the ORM events below cannot see): the generation
    moves at its commit."""
    session.info[_FLAG] = True
    session.info[_BASE_FLAG] = True


def note_quarters(session: Session, quarters: Iterable[str]) -> None:
    """Like ``note_change``, for Core writes that change only the answers (and their
    sums) of these quarters: only their generations move (and the global one)."""
    note_answers(session, ((None, quarter) for quarter in quarters))


def note_answers(session: Session, keys: Iterable[tuple[int | None, str]]) -> None:
    """``note_quarters`` for writes whose accounts are known: (account pk, quarter) each
    (pk None: unknown). The accounts are told to ``on_quarters_committed`` listeners."""
    session.info[_FLAG] = True
    noted: dict[str, set[int] | None] = session.info.setdefault(_QUARTERS, {})
    for account_pk, quarter in keys:
        if quarter_row_id(quarter) is None:
            session.info[_BASE_FLAG] = True
            continue
        accounts = noted.setdefault(quarter, set())
        if accounts is None or account_pk is None:
            noted[quarter] = None
        else:
            accounts.add(account_pk)


Committed = list[tuple[str, int, frozenset[int] | None]]
_listeners: list[Callable[[Session, Committed], None]] = []


def on_quarters_committed(listener: Callable[[Session, Committed], None]) -> None:
    """Call ``listener(session, [(quarter, its new generation, account pks written or
    None)])`` after each commit that moved quarter generations (a change log that readers
    may use to update a result instead of computing it afresh; an entry it never got
    means "compute afresh")."""
    if listener not in _listeners:
        _listeners.append(listener)


def _statement_quarters(state: ORMExecuteState, table: str) -> set[tuple[int | None, str]] | None:
    """The (account pk, quarter) of an INSERT into a per-quarter table whose every row
    names its quarter (the pk None when a row does not name it)."""
    if table not in PER_QUARTER or not state.is_insert:
        return None
    params = state.parameters
    rows = params if isinstance(params, list | tuple) else [params]
    keys = set()
    for row in rows:
        quarter = row.get("period") if isinstance(row, dict) else None
        if not isinstance(quarter, str) or quarter_row_id(quarter) is None:
            return None
        account = row.get("account_id")
        keys.add((account if isinstance(account, int) else None, quarter))
    return keys or None


def _watched_object(instance: Any) -> bool:
    table = getattr(type(instance), "__tablename__", None)
    return table in WATCHED


@event.listens_for(Session, "before_flush")
def _note_flush(session: Session, _context: Any, _instances: Any) -> None:
    if session.info.get(_BASE_FLAG):
        return
    for instance in (*session.new, *session.dirty, *session.deleted):
        if _watched_object(instance):
            session.info[_FLAG] = session.info[_BASE_FLAG] = True
            return


@event.listens_for(Session, "do_orm_execute")
def _note_execute(state: ORMExecuteState) -> None:
    info = state.session.info
    if info.get(_BASE_FLAG) or not (state.is_insert or state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    name = getattr(table, "name", None)
    if name is None or name in WATCHED:  # a statement whose table is unknown counts
        keys = _statement_quarters(state, name) if name is not None else None
        if keys is not None:
            note_answers(state.session, keys)
        else:
            info[_FLAG] = info[_BASE_FLAG] = True


@event.listens_for(Session, "before_commit")
def _bump_before_commit(session: Session) -> None:
    pending = any(
        _watched_object(instance) for instance in (*session.new, *session.dirty, *session.deleted)
    )
    changed = session.info.pop(_FLAG, False)
    base = session.info.pop(_BASE_FLAG, False) or pending
    quarters: dict[str, set[int] | None] = session.info.pop(_QUARTERS, {})
    if pending or changed:
        # One statement, rows in id order (global, base, quarters) so that two writers
        # cannot deadlock.
        rows = {quarter: quarter_row_id(quarter) for quarter in quarters}
        ids = [ROW_ID, *([BASE_ROW_ID] if base else []), *(i for i in rows.values() if i)]
        values = bump_rows(session, ids)
        committed: Committed = [
            (quarter, values[row_id], frozenset(accounts) if accounts is not None else None)
            for quarter, accounts in sorted(quarters.items())
            if (row_id := rows[quarter]) is not None
        ]
        if committed and _listeners:
            session.info[_COMMITTED] = committed


@event.listens_for(Session, "after_commit")
def _tell_listeners(session: Session) -> None:
    committed = session.info.pop(_COMMITTED, None)
    if committed:
        for listener in list(_listeners):
            listener(session, committed)


@event.listens_for(Session, "after_soft_rollback")
def _forget(session: Session, previous: Any) -> None:
    if previous.parent is None and not previous.nested:  # the whole transaction undone
        for name in (_FLAG, _BASE_FLAG, _QUARTERS, _COMMITTED):
            session.info.pop(name, None)
