"""Engine, sessions and the declarative base.

One engine per app. A request (or a command) gets one session and commits once,
at the edge. On SQLite every connection runs in WAL mode with a busy timeout, and
write sessions open their transaction with ``BEGIN IMMEDIATE`` so that two writers
queue on the lock instead of failing later with "database is locked".
"""

from __future__ import annotations

import math
import os
import select
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from flask import Flask, g, request
from sqlalchemy import Engine, MetaData, create_engine, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Seconds before a pooled PostgreSQL connection is replaced (CPI_DB_POOL_RECYCLE).
POOL_RECYCLE_SECONDS = 1800

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


class BackgroundStatement:
    """A statement run on a DB-API connection in a thread of its own (the driver waits
    for the server without holding the GIL, so the caller works meanwhile), its error
    kept for the caller. The caller uses the connection again only after ``join``."""

    def __init__(self, connection: Any, sql: str) -> None:
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=(connection, sql), daemon=True)
        self.thread.start()

    def _run(self, connection: Any, sql: str) -> None:
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql)
        except BaseException as error:  # noqa: BLE001 - the caller raises it after join()
            self.error = error

    def join(self) -> None:
        self.thread.join()


@dataclass(frozen=True)
class Timeouts:
    """Limits (seconds) on waiting for the database; None waits as long as it takes.

    ``connect``: opening a connection (libpq ``connect_timeout``); ``statement``: one
    statement, a commit or a pool check (PostgreSQL ``statement_timeout`` on the
    server, and a watchdog here that cuts the connection when the server or the
    network stalls and no answer comes back at all); ``pool``: waiting for a free
    pooled connection.
    """

    connect: float | None = None
    statement: float | None = None
    pool: float | None = None


def make_engine(url: str, *, timeouts: Timeouts | None = None, **kwargs: Any) -> Engine:
    # SQL parameters (emails, names, answers) never reach a log or an error message.
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)
        _configure_sqlite(engine)
        return engine
    timeouts = timeouts or Timeouts()
    connect_args: dict[str, Any] = {}
    if timeouts.connect is not None:
        connect_args["connect_timeout"] = max(2, math.ceil(timeouts.connect))
    if timeouts.statement is not None:
        connect_args["options"] = f"-c statement_timeout={int(timeouts.statement * 1000)}"
    if timeouts.pool is not None:
        kwargs.setdefault("pool_timeout", timeouts.pool)
    # No round trip to test each pooled connection (pool_pre_ping doubled the round
    # trips of a short request): connections are replaced after ``pool_recycle``
    # seconds, one the server has closed is noticed without a round trip (see
    # ``_closed_by_server``), and any other dead one fails its request with a 503 and
    # is invalidated with every connection opened before it.
    kwargs.setdefault("pool_recycle", POOL_RECYCLE_SECONDS)
    engine = create_engine(url, connect_args=connect_args, **kwargs)
    event.listen(engine.pool, "checkout", _refuse_closed)
    if engine.dialect.driver == "psycopg":
        event.listen(engine, "before_cursor_execute", _binary_results)
    if timeouts.statement is not None:
        _guard_postgresql(engine, timeouts.statement)
    return engine


# A statement run with ``.execution_options(binary_results=True)`` gets its rows in
# PostgreSQL's binary format: a large read of integers and bytea (the answer sums) then
# skips the server's text encoding and the client's parsing (half its time).
BINARY_RESULTS = "binary_results"


def _binary_results(
    _conn: Any, cursor: Any, _statement: str, _parameters: Any, context: Any, _many: bool
) -> None:
    if context is not None and context.execution_options.get(BINARY_RESULTS):
        from psycopg.pq import Format  # the psycopg driver is in use: installed

        cursor.format = Format.BINARY


def _closed_by_server(dbapi_connection: Any) -> bool:
    """True when an idle pooled connection has something to read: the server has sent
    its goodbye (a restart, ``pg_terminate_backend``, an idle timeout) or closed it.
    A poll of the socket, no round trip."""
    try:
        poller = select.poll()
        poller.register(dbapi_connection.pgconn.socket, select.POLLIN | select.POLLHUP)
        return bool(poller.poll(0))
    except Exception:  # closed already, or not a psycopg connection
        return bool(getattr(dbapi_connection, "closed", False))


def _refuse_closed(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    if _closed_by_server(dbapi_connection):
        raise DisconnectionError("the server closed this pooled connection")


class _Watchdog:
    """Cuts the socket of a PostgreSQL connection whose statement is past its deadline.

    ``statement_timeout`` works only while the server runs and the network carries its
    answer; when either stalls the driver would wait forever (then gunicorn kills the
    worker). Cutting the socket makes the driver fail at once with a disconnect, which
    SQLAlchemy turns into an OperationalError (a 503 page) and an invalidated
    connection. One thread per process, started on first use (and again after a fork).
    """

    TICK = 0.1

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._deadlines: dict[int, tuple[float, Any]] = {}
        self._thread: threading.Thread | None = None

    def arm(self, dbapi_connection: Any, seconds: float) -> None:
        with self._lock:
            self._deadlines[id(dbapi_connection)] = (time.monotonic() + seconds, dbapi_connection)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="cpi-db-watchdog")
                self._thread.daemon = True
                self._thread.start()

    def disarm(self, dbapi_connection: Any) -> None:
        with self._lock:
            self._deadlines.pop(id(dbapi_connection), None)

    def _run(self) -> None:
        while True:
            time.sleep(self.TICK)
            now = time.monotonic()
            with self._lock:
                late = [key for key, (deadline, _) in self._deadlines.items() if deadline <= now]
                for key in late:
                    _, connection = self._deadlines.pop(key)
                    _cut(connection)


def _cut(dbapi_connection: Any) -> None:
    try:
        fd = dbapi_connection.pgconn.socket
        sock = socket.socket(fileno=os.dup(fd))
    except Exception:  # already closed: nothing to cut
        return
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    finally:
        sock.close()


_watchdog = _Watchdog()


def _guard_postgresql(engine: Engine, seconds: float) -> None:
    # The watchdog allows the server's own statement_timeout to answer first.
    limit = seconds + 1.0

    def arm_cursor(conn: Any, *_args: Any) -> None:
        if not conn.get_execution_options().get("cpi_no_deadline", False):
            _watchdog.arm(conn.connection.dbapi_connection, limit)

    def disarm_cursor(conn: Any, *_args: Any) -> None:
        _watchdog.disarm(conn.connection.dbapi_connection)

    def on_error(context: Any) -> None:
        if context.connection is not None and context.connection.connection is not None:
            dbapi_connection = context.connection.connection.dbapi_connection
            if dbapi_connection is not None:
                _watchdog.disarm(dbapi_connection)

    event.listen(engine, "before_cursor_execute", arm_cursor)
    event.listen(engine, "after_cursor_execute", disarm_cursor)
    event.listen(engine, "handle_error", on_error)

    # COMMIT and ROLLBACK (also the pool's reset on return) are not cursor executions:
    # this engine's dialect runs them under the watchdog too.
    dialect: Any = engine.dialect
    for name in ("do_commit", "do_rollback"):
        original = getattr(dialect, name)

        def guarded(dbapi_connection: Any, _original: Any = original) -> None:
            _watchdog.arm(dbapi_connection, limit)
            try:
                _original(dbapi_connection)
            finally:
                _watchdog.disarm(dbapi_connection)

        setattr(dialect, name, guarded)

    def disarm_pooled(dbapi_connection: Any, *_args: Any) -> None:
        if dbapi_connection is not None:
            _watchdog.disarm(dbapi_connection)

    event.listen(engine.pool, "checkin", disarm_pooled)
    event.listen(engine.pool, "close", disarm_pooled)
    event.listen(engine.pool, "invalidate", disarm_pooled)


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
    url = app.config["DATABASE_URL"]
    options = {} if url.startswith("sqlite") else {"pool_recycle": pool_recycle(app.config)}
    engine = make_engine(url, timeouts=timeouts(app.config), **options)
    writer = engine.execution_options(cpi_write=True)
    app.extensions["cpi_db"] = Database(
        engine=engine,
        read_sessions=sessionmaker(engine, expire_on_commit=False),
        write_sessions=sessionmaker(writer, expire_on_commit=False),
    )
    app.teardown_appcontext(_close_session)


def timeouts(config: Any) -> Timeouts:
    """``CPI_DB_CONNECT_TIMEOUT``, ``CPI_DB_STATEMENT_TIMEOUT``, ``CPI_DB_POOL_TIMEOUT``
    (seconds; 0 turns one off)."""

    def seconds(name: str) -> float | None:
        value = float(config[name])
        return value if value > 0 else None

    return Timeouts(
        connect=seconds("DB_CONNECT_TIMEOUT"),
        statement=seconds("DB_STATEMENT_TIMEOUT"),
        pool=seconds("DB_POOL_TIMEOUT"),
    )


def pool_recycle(config: Any) -> int:
    """``CPI_DB_POOL_RECYCLE`` seconds (-1: never replace a connection for its age)."""
    return int(config.get("DB_POOL_RECYCLE", POOL_RECYCLE_SECONDS))


def database(app: Flask | None = None) -> Database:
    from flask import current_app

    return (app or current_app).extensions["cpi_db"]  # type: ignore[no-any-return]


def get_session() -> Session:
    """The session of this request or command; write requests begin IMMEDIATE."""
    if "db_session" not in g:
        from flask import has_request_context

        write = has_request_context() and request.method in WRITE_METHODS
        g.db_session = database().session(write=write)
    return g.db_session  # type: ignore[no-any-return]


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
