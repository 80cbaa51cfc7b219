"""Faults (issue 7, items 28-30, 32): kills, concurrent imports, a read-only or full
database, a backup taken while customers submit. Item 33 (no tokens or passwords in
logs) is in tests/test_gunicorn.py, where a real server writes the logs."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
import requests
from jobs_support import REPO, Gunicorn, worker_env
from sqlalchemy import event, func, select, text
from support import PG_URL, csrf_token, wait_until
from survey_support import GOOD_ANSWERS, open_form, setup_campaign, tokens_by_email

from cpi.accounts.models import Account, Contact
from cpi.db import database
from cpi.surveys.models import Response

pytestmark = [pytest.mark.slow, pytest.mark.database]
sqlite_only = pytest.mark.skipif(bool(PG_URL), reason="SQLite file faults")

CPI = [sys.executable, "-c", "from cpi.cli import cli; cli()"]


def contacts_csv(n: int) -> str:
    rows = ["account_id,account_name,segment,contact_email,contact_name"]
    rows += [
        f"A{i % 500:04d},Account {i % 500},Retail,p{i:06d}@example.test,P {i}" for i in range(n)
    ]
    return "\n".join(rows) + "\n"


def cpi(app: Any, *args: str, **popen: Any) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [*CPI, *args],
        env=worker_env(app),
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        **popen,
    )


def counts(db: Any) -> tuple[int, int]:
    db.rollback()
    return (
        db.scalar(select(func.count()).select_from(Account)),
        db.scalar(select(func.count()).select_from(Contact)),
    )


def writing(app: Any) -> bool:
    """True once some process holds an open write transaction with rows written."""
    url = app.config["DATABASE_URL"]
    if url.startswith("sqlite"):
        wal = Path(url.removeprefix("sqlite:///") + "-wal")
        return wal.exists() and wal.stat().st_size > 256 * 1024
    with database(app).engine.connect() as connection:
        return bool(
            connection.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid() AND xact_start IS NOT NULL "
                    "AND backend_xid IS NOT NULL"
                )
            )
        )


# --- 28: a process killed in the middle of an import ---------------------------------


def test_import_killed_midway_leaves_nothing_and_the_rerun_imports_once(app, write_csv, db) -> None:  # type: ignore[no-untyped-def]
    big = write_csv("big.csv", contacts_csv(60_000))
    process = cpi(app, "import", "contacts", str(big))
    wait_until(lambda: writing(app) or process.poll() is not None, 120, "the import to write")
    assert process.poll() is None, "the import finished before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=10)
    assert counts(db) == (0, 0)  # nothing half-written

    for _ in range(2):  # the rerun imports everything; a second rerun changes nothing
        rerun = cpi(app, "import", "contacts", str(big))
        output = rerun.communicate(timeout=600)[0].decode()
        assert rerun.returncode == 0, output
        assert counts(db) == (500, 60_000)


# --- 29: two imports of the same file at once ----------------------------------------


def test_two_imports_of_the_same_file_at_once_give_the_result_of_one(app, write_csv, db) -> None:  # type: ignore[no-untyped-def]
    path = write_csv("contacts.csv", contacts_csv(5_000))
    processes = [cpi(app, "import", "contacts", str(path)) for _ in range(2)]
    outputs = [p.communicate(timeout=600)[0].decode() for p in processes]
    for process, output in zip(processes, outputs, strict=True):
        assert process.returncode == 0, output
        assert "Imported 5000 contacts rows" in output
        assert "Traceback" not in output
    assert counts(db) == (500, 5_000)


# --- 30: a read-only or full database -------------------------------------------------


@pytest.fixture
def answerable(app, runner, write_csv):  # type: ignore[no-untyped-def]
    campaign_id = setup_campaign(runner, write_csv)
    assert runner.invoke("send", str(campaign_id)).exit_code == 0
    return tokens_by_email(app)


def sqlite_path(app: Any) -> Path:
    return Path(app.config["DATABASE_URL"].removeprefix("sqlite:///"))


def integrity(path: Path) -> list[tuple[str]]:
    connection = sqlite3.connect(path)
    try:
        return connection.execute("PRAGMA integrity_check").fetchall()
    finally:
        connection.close()


@sqlite_only
def test_a_full_database_gives_a_retry_page_and_no_damage(app, answerable, client, db) -> None:  # type: ignore[no-untyped-def]
    token = answerable["bob@acme.test"]
    csrf = open_form(client, token)
    engine = database(app).engine
    engine.dispose()

    def no_room(dbapi_connection: Any, _record: Any) -> None:
        # The disk is "full": the file may not grow by a single page.
        pages = dbapi_connection.execute("PRAGMA page_count").fetchone()[0]
        dbapi_connection.execute(f"PRAGMA max_page_count = {pages}")

    event.listen(engine, "connect", no_room)
    try:
        answers = {**GOOD_ANSWERS, "comment": "x" * 4000, "csrf_token": csrf}
        response = client.post(f"/s/{token}", data=answers)
        assert response.status_code == 503
        assert "Retry-After" in response.headers
        page = response.get_data(as_text=True)
        assert "Please try again in a moment" in page and "Traceback" not in page
    finally:
        event.remove(engine, "connect", no_room)
        engine.dispose()
    assert integrity(sqlite_path(app)) == [("ok",)]
    assert db.scalar(select(func.count()).select_from(Response)) == 0
    # Room again: the same answers go in, once.
    assert client.post(f"/s/{token}", data=answers).status_code == 303
    assert client.post(f"/s/{token}", data=answers).status_code == 303
    db.rollback()
    assert db.scalar(select(func.count()).select_from(Response)) == 1


@sqlite_only
def test_a_read_only_database_gives_a_retry_page_and_a_clear_cli_error(
    app, app_config, answerable, write_csv, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    from click.testing import CliRunner
    from flask.cli import ScriptInfo

    from cpi import create_app
    from cpi.cli import cli

    path = sqlite_path(app)
    database(app).engine.dispose()
    read_only = create_app(
        {**app_config, "DATABASE_URL": f"sqlite:///file:{path}?mode=ro&uri=true"}
    )
    client = read_only.test_client()
    token = answerable["bob@acme.test"]
    page = client.get(f"/s/{token}")
    assert page.status_code == 200  # reading still works
    csrf = csrf_token(page.get_data(as_text=True))
    response = client.post(f"/s/{token}", data={**GOOD_ANSWERS, "csrf_token": csrf})
    assert response.status_code == 503
    assert "Please try again in a moment" in response.get_data(as_text=True)

    result = CliRunner().invoke(
        cli,
        ["contact", "forget", "bob@acme.test"],
        obj=ScriptInfo(create_app=lambda: read_only),
    )
    assert result.exit_code == 1
    assert "the database is unavailable" in result.output
    assert "readonly" in result.output or "read-only" in result.output
    assert "Traceback" not in result.output
    database(read_only).engine.dispose()
    assert integrity(path) == [("ok",)]


# --- 32: a backup taken while customers submit ----------------------------------------


@sqlite_only
def test_backup_during_submits_restores_every_acknowledged_answer(
    app, runner, write_csv, tmp_path, db
) -> None:  # type: ignore[no-untyped-def]
    contacts = ["account_id,account_name,segment,contact_email,contact_name"]
    contacts += [
        f"A{i % 20:03d},Account {i % 20},Healthcare,s{i:04d}@x.test,S {i}" for i in range(240)
    ]
    campaign_id = setup_campaign(runner, write_csv, contacts="\n".join(contacts) + "\n")
    assert runner.invoke("send", str(campaign_id)).exit_code == 0
    tokens = list(tokens_by_email(app).values())
    assert len(tokens) == 240

    acknowledged: dict[str, bool] = {}  # token -> the server answered before the backup
    backup_started = threading.Event()
    errors: list[str] = []
    with Gunicorn(app, tmp_path, workers=2) as server:

        def submit(chunk: list[str]) -> None:
            with requests.Session() as http:
                for token in chunk:
                    page = http.get(f"{server.url}/s/{token}", timeout=30)
                    csrf = csrf_token(page.text)
                    answer = http.post(
                        f"{server.url}/s/{token}",
                        data={**GOOD_ANSWERS, "csrf_token": csrf},
                        allow_redirects=False,
                        timeout=60,
                    )
                    if answer.status_code == 303:
                        # acknowledged before the backup began (False if in doubt)
                        acknowledged[token] = not backup_started.is_set()
                    else:
                        errors.append(f"{answer.status_code}")

        threads = [threading.Thread(target=submit, args=(tokens[i::4],)) for i in range(4)]
        for thread in threads:
            thread.start()
        wait_until(lambda: len(acknowledged) >= 60, 120, "the first submits")
        backup_started.set()
        backup = tmp_path / "during.sqlite3"
        result = runner.invoke("backup", str(backup))
        assert result.exit_code == 0, result.output
        for thread in threads:
            thread.join(300)
    assert errors == []
    assert len(acknowledged) == 240
    before = {t for t, early in acknowledged.items() if early}
    assert 60 <= len(before) < 240  # the backup really ran during the submits

    # Restore into a fresh database and look for every answer acknowledged before it.
    assert integrity(backup) == [("ok",)]
    restored_path = tmp_path / "restored.sqlite3"
    restored_path.write_bytes(b"")
    from cpi.ops.backup import restore

    restore(f"sqlite:///{restored_path}", backup)
    assert integrity(restored_path) == [("ok",)]
    from cpi.surveys.tokens import hash_token

    connection = sqlite3.connect(restored_path)
    try:
        answered = {
            row[0]
            for row in connection.execute(
                "SELECT i.token_hash FROM responses r JOIN invitations i ON i.id = r.invitation_id"
            )
        }
    finally:
        connection.close()
    missing = [t for t in before if hash_token(t) not in answered]
    assert missing == []
    db.rollback()
    assert db.scalar(select(func.count()).select_from(Response)) == 240
