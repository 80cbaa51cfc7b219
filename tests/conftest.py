"""Fixtures: a fresh database per test, on SQLite or (CPI_TEST_DATABASE_URL) PostgreSQL.

SQLite: the schema is migrated once per session into a template file that each
test copies. PostgreSQL: the schema is migrated once, and each test starts from
empty tables (the migration's seed rows are kept).
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click.testing
import pytest
from flask import Flask
from flask.cli import ScriptInfo
from sqlalchemy import text
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from cpi import create_app
from cpi.cli import cli
from cpi.db import database, make_engine
from cpi.migrate import upgrade

PG_URL = os.environ.get("CPI_TEST_DATABASE_URL", "")
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


@pytest.fixture(scope="session")
def pg_migrated() -> str:
    engine = make_engine(PG_URL)
    upgrade(engine)
    engine.dispose()
    return PG_URL


def _empty_pg_tables(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as connection:
        tables = connection.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        ).scalars()
        names = [name for name in tables if name not in SEEDED_TABLES]
        if names:
            connection.execute(text(f"TRUNCATE {', '.join(names)} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if PG_URL:
        url: str = request.getfixturevalue("pg_migrated")
        _empty_pg_tables(url)
        return url
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


class Runner:
    """Runs ``cpi`` commands against the test app, as a user would type them."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def invoke(
        self, *args: str, env: dict[str, str] | None = None, input: str | None = None
    ) -> click.testing.Result:
        runner = click.testing.CliRunner()
        return runner.invoke(
            cli,
            list(args),
            obj=ScriptInfo(create_app=lambda: self.app),
            env=env,
            input=input,
            catch_exceptions=False,
        )


@pytest.fixture
def runner(app: Flask) -> Runner:
    return Runner(app)


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
