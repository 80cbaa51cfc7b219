"""Engine, sessions and the declarative base.

One engine per app. A request (or a command) gets one session and commits once,
at the edge. On SQLite every connection runs in WAL mode with a busy timeout, and
write sessions open their transaction with ``BEGIN IMMEDIATE`` so that two writers
queue on the lock instead of failing later with "database is locked".
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from flask import Flask, g, request
from sqlalchemy import Engine, MetaData, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def dialect_insert(dialect: str) -> Any:
    """``insert`` with ``ON CONFLICT`` for this dialect (PostgreSQL's or SQLite's).

    Imported when first needed: the dialect modules are a noticeable part of start-up."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get("cpi_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


@dataclass
class Database:
    engine: Engine
    read_sessions: sessionmaker[Session]
    write_sessions: sessionmaker[Session]

    def session(self, *, write: bool = False) -> Session:
        return (self.write_sessions if write else self.read_sessions)()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A write session that commits on success and rolls back on any error."""
        session = self.session(write=True)
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()


def init_app(app: Flask) -> None:
    engine = make_engine(app.config["DATABASE_URL"])
    writer = engine.execution_options(cpi_write=True)
    app.extensions["cpi_db"] = Database(
        engine=engine,
        read_sessions=sessionmaker(engine, expire_on_commit=False),
        write_sessions=sessionmaker(writer, expire_on_commit=False),
    )
    app.teardown_appcontext(_close_session)


def database(app: Flask | None = None) -> Database:
    from flask import current_app

    return (app or current_app).extensions["cpi_db"]  # type: ignore[no-any-return]


def get_session() -> Session:
    """The session of this request or command; write requests begin IMMEDIATE."""
    if "db_session" not in g:
        from flask import has_request_context

        write = has_request_context() and request.method in WRITE_METHODS
        g.db_session = database().session(write=write or g.get("db_write", False))
    return g.db_session  # type: ignore[no-any-return]


def use_write_session() -> None:
    """Make the current app context's session a write session (for CLI commands)."""
    g.db_write = True


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
