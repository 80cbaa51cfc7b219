"""Fixtures: a fresh database per test, on SQLite or (CPI_TEST_DATABASE_URL) PostgreSQL.

SQLite: the schema is migrated once per session into a template file that each
test copies. PostgreSQL: the schema is migrated once, and each test starts from
empty tables (the migration's seed rows are kept).

Every shared fixture is defined here (test modules never re-export one); helpers that
are not fixtures are in support.py (one copy each), jobs_support.py, staff_support.py
and survey_support.py.
"""

from __future__ import annotations

import contextlib
import graphlib
import os
import shutil
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from jobs_support import WorkerProcess
from sqlalchemy import Engine, delete, exists, literal, select, table, text, union_all
from sqlalchemy.orm import Session
from support import PG_URL, RedisServer, Runner, SmtpServer
from werkzeug.serving import make_server

from cpi import create_app
from cpi.db import database, make_engine
from cpi.migrate import upgrade
from cpi.scorecards import cache as dashboard_cache

SEEDED_TABLES = {"alembic_version", "surveys", "questions"}


def pytest_report_header() -> str:
    return f"database: {PG_URL.split('@')[-1] if PG_URL else 'SQLite'}"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "cpi.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


class PgTables:
    """Empties the migrated PostgreSQL test database between tests, as fast as it can.

    TRUNCATE makes new files for every table (~0.5 s for all of them on a loaded
    machine); most tests write a few tables, so only the tables holding rows are
    emptied, with DELETE, children first, and only the sequences that were used are
    restarted. The result is what ``TRUNCATE ... RESTART IDENTITY`` gives."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        with engine.connect() as connection:
            tables = set(
                connection.execute(
                    text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
                ).scalars()
            )
            references = connection.execute(
                text(
                    "SELECT conrelid::regclass::text, confrelid::regclass::text "
                    "FROM pg_constraint WHERE contype = 'f' AND conrelid <> confrelid"
                )
            ).all()
            owned = connection.execute(
                text(
                    "SELECT s.relname, d.refobjid::regclass::text FROM pg_class s "
                    "JOIN pg_depend d ON d.objid = s.oid AND d.deptype IN ('a', 'i') "
                    "AND d.classid = 'pg_class'::regclass "
                    "AND d.refclassid = 'pg_class'::regclass WHERE s.relkind = 'S'"
                )
            ).all()
        # Referencing tables before the tables they reference.
        parents: dict[str, set[str]] = {name: set() for name in tables - SEEDED_TABLES}
        for child, parent in references:
            if child in parents and parent in parents:
                parents[parent].add(child)
        self.tables = list(graphlib.TopologicalSorter(parents).static_order())
        self.sequences = [sequence for sequence, owner in owned if owner in parents]
        self.any_rows = union_all(
            *(select(literal(t)).where(exists().select_from(table(t))) for t in self.tables)
        )

    def empty(self) -> None:
        with self.engine.begin() as connection:
            filled = set(connection.execute(self.any_rows).scalars())
            for name in self.tables:
                if name in filled:
                    connection.execute(delete(table(name)))
            # The seeded survey stays; questions an admin added in a test go (cpi/questions).
            connection.execute(text("DELETE FROM questions WHERE custom"))
            used = connection.execute(
                text(
                    "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public' "
                    "AND sequencename = ANY(:names) AND last_value IS NOT NULL"
                ),
                {"names": self.sequences},
            ).scalars()
            for name in list(used):
                connection.execute(text(f"ALTER SEQUENCE {name} RESTART"))


@pytest.fixture(scope="session")
def pg_migrated() -> Iterator[PgTables]:
    engine = make_engine(PG_URL)
    upgrade(engine)
    yield PgTables(engine)
    engine.dispose()


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if PG_URL:
        tables: PgTables = request.getfixturevalue("pg_migrated")
        tables.empty()
        return PG_URL
    template: Path = request.getfixturevalue("sqlite_template")
    path = tmp_path / "cpi.sqlite3"
    shutil.copy(template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def app_config(database_url: str, tmp_path: Path) -> dict[str, Any]:
    return {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "SECRET_KEY": "test-secret-key",
        "MAIL_URL": f"file://{tmp_path / 'outbox'}",
        "BASE_URL": "http://survey.test",
        # argon2-cffi's profile for tests: the production one costs ~0.1-0.8 s a hash and
        # the suite hashes hundreds (tests/test_auth.py checks the production profile)
        "PASSWORD_HASH_PROFILE": "CHEAPEST",
    }


@pytest.fixture
def app(app_config: dict[str, Any]) -> Iterator[Flask]:
    app = create_app(app_config)
    yield app
    database(app).engine.dispose()


@pytest.fixture
def client(app: Flask) -> Any:
    return app.test_client()


@pytest.fixture
def db(app: Flask) -> Iterator[Session]:
    """A session on the test database. It reads in short transactions: call
    ``db.rollback()`` (or commit) before reading what a command just wrote."""
    session = database(app).session()
    yield session
    session.rollback()
    session.close()


@pytest.fixture(autouse=True)
def _fresh_dashboard_cache() -> Iterator[None]:
    """The dashboard cache is per process: no test sees another test's figures."""
    dashboard_cache.clear()
    yield
    dashboard_cache.clear()


@pytest.fixture
def runner(app: Flask) -> Runner:
    return Runner(app)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A private ``redis-server`` for this test (the shared one on 6379 is never used)."""
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A real SMTP server (aiosmtpd) on a free loopback port; ``.handler`` records."""
    with SmtpServer() as server:
        yield server


@pytest.fixture
def worker(app: Flask, tmp_path: Path) -> Iterator[WorkerProcess]:
    """A ``cpi worker`` process (started by the test) with the test app's configuration."""
    process = WorkerProcess(app, tmp_path / "worker.log")
    yield process
    process.stop()
    # Kill whatever a killed worker might have left in its group (nothing, normally).
    if process.process is not None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.process.pid, signal.SIGKILL)


@pytest.fixture
def write_csv(tmp_path: Path):  # type: ignore[no-untyped-def]
    def write(name: str, content: str | bytes) -> Path:
        path = tmp_path / name
        if isinstance(content, str):
            content = content.encode("utf-8")
        path.write_bytes(content)
        return path

    return write


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def live_url(app: Flask) -> Iterator[str]:
    """The app served on a free loopback port (survey links point at it)."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    app.config["BASE_URL"] = url
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield url
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture
def browser() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright (Playwright cannot download browsers here)."""
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()
