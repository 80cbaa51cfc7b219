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

Not seen: writes that bypass the ORM session (raw ``engine.begin()`` connections, a
SQL console): a dashboard computed before such a write is reused until the next
app write bumps the generation (``cpi`` commands and pages all write through
sessions).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Integer, event, select, update
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
_FLAG = "cpi_data_changed"


class DataGeneration(Base):
    __tablename__ = "data_generation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)


def current(session: Session) -> int:
    """The committed generation as this session sees it (0 before any write)."""
    value = session.scalar(select(DataGeneration.value).where(DataGeneration.id == ROW_ID))
    return int(value or 0)


def bump(session: Session) -> None:
    """Move the generation on, in the session's transaction (the writers need not call
    this: the session events below do; for code that writes outside the ORM)."""
    connection = session.connection()
    table = DataGeneration.__table__
    done = connection.execute(
        update(table).where(table.c.id == ROW_ID).values(value=table.c.value + 1)
    )
    if done.rowcount:
        return
    insert = dialect_insert(connection.dialect.name)(table).values(id=ROW_ID, value=1)
    connection.execute(
        insert.on_conflict_do_update(index_elements=["id"], set_={"value": table.c.value + 1})
    )


def note_change(session: Session) -> None:
    """Mark the session's transaction as changing what dashboards read, for writes made
    on its connection with Core (which the ORM events below cannot see): the generation
    moves at its commit."""
    session.info[_FLAG] = True


def _watched_object(instance: Any) -> bool:
    table = getattr(type(instance), "__tablename__", None)
    return table in WATCHED


@event.listens_for(Session, "before_flush")
def _note_flush(session: Session, _context: Any, _instances: Any) -> None:
    if session.info.get(_FLAG):
        return
    for instance in (*session.new, *session.dirty, *session.deleted):
        if _watched_object(instance):
            session.info[_FLAG] = True
            return


@event.listens_for(Session, "do_orm_execute")
def _note_execute(state: ORMExecuteState) -> None:
    if state.session.info.get(_FLAG) or not (state.is_insert or state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    name = getattr(table, "name", None)
    if name is None or name in WATCHED:  # a statement whose table is unknown counts
        state.session.info[_FLAG] = True


@event.listens_for(Session, "before_commit")
def _bump_before_commit(session: Session) -> None:
    pending = any(
        _watched_object(instance) for instance in (*session.new, *session.dirty, *session.deleted)
    )
    if pending or session.info.pop(_FLAG, False):
        session.info.pop(_FLAG, None)
        bump(session)


@event.listens_for(Session, "after_soft_rollback")
def _forget(session: Session, previous: Any) -> None:
    if previous.parent is None and not previous.nested:  # the whole transaction undone
        session.info.pop(_FLAG, None)
