"""Issue 11 items 7 and 14: ``cpi restore`` accepts only this application's backups
that this release can read, keeps the live database on refusal and never brings an
erased person back; ``cpi contact forget`` deletes the delivered ``.eml`` files."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import func, select
from support import PG_URL
from survey_support import setup_campaign, tokens_by_email

from cpi.accounts.models import Contact
from cpi.db import database, make_engine
from cpi.migrate import alembic_config

sqlite_only = pytest.mark.skipif(bool(PG_URL), reason="cpi backup/restore are for SQLite")


def live_file(app: Any) -> Path:
    return Path(app.config["DATABASE_URL"].removeprefix("sqlite:///"))


def fingerprint(app: Any) -> str:
    """The live database's content (after folding the WAL in)."""
    database(app).engine.dispose()
    connection = sqlite3.connect(live_file(app))
    try:
        return hashlib.sha256("\n".join(connection.iterdump()).encode()).hexdigest()
    finally:
        connection.close()


def edit(path: Path, *statements: str) -> None:
    connection = sqlite3.connect(path)
    try:
        for statement in statements:
            connection.execute(statement)
        connection.commit()
    finally:
        connection.close()


@pytest.fixture
def campaign(runner: Any, write_csv: Any) -> int:
    campaign_id = setup_campaign(runner, write_csv)
    result = runner.invoke("send", str(campaign_id))
    assert result.exit_code == 0, result.output
    return campaign_id


@pytest.fixture
def backup_file(runner: Any, campaign: int, tmp_path: Path) -> Path:
    target = tmp_path / "backup.sqlite3"
    result = runner.invoke("backup", str(target))
    assert result.exit_code == 0, result.output
    return target


def refused(runner: Any, app: Any, path: Path, *words: str) -> None:
    before = fingerprint(app)
    result = runner.invoke("restore", str(path), "--yes", expect_exit=1)
    assert result.exit_code == 1, result.output
    assert "nothing restored" in result.output and "Traceback" not in result.output
    for word in words:
        assert word in result.output, result.output
    assert fingerprint(app) == before  # the live database is untouched
    assert not [p for p in live_file(app).parent.iterdir() if p.name.startswith(".cpi-restore")]


@sqlite_only
def test_item7_a_foreign_database_with_an_alembic_table_is_refused(
    app: Any, runner: Any, backup_file: Path, tmp_path: Path
) -> None:
    foreign = tmp_path / "foreign.sqlite3"
    edit(
        foreign,
        "CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)",
        "INSERT INTO alembic_version VALUES ('0004')",  # a revision this release knows
        "CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)",
    )
    refused(runner, app, foreign, "schema")
    # another application's revision id
    edit(foreign, "UPDATE alembic_version SET version_num = 'a1b2c3d4e5f6'")
    refused(runner, app, foreign, "a1b2c3d4e5f6")


@sqlite_only
def test_item7_a_backup_from_a_newer_release_is_refused(
    app: Any, runner: Any, backup_file: Path, tmp_path: Path
) -> None:
    newer = tmp_path / "newer.sqlite3"
    shutil.copy(backup_file, newer)
    edit(
        newer,
        "UPDATE alembic_version SET version_num = '0999'",
        "ALTER TABLE contacts ADD COLUMN phone VARCHAR(40)",
    )
    refused(runner, app, newer, "0999", "newer release")


@sqlite_only
def test_item7_a_backup_whose_schema_differs_is_refused(
    app: Any, runner: Any, backup_file: Path, tmp_path: Path
) -> None:
    changed = tmp_path / "changed.sqlite3"
    shutil.copy(backup_file, changed)
    edit(changed, "ALTER TABLE contacts DROP COLUMN locale")
    refused(runner, app, changed, "contacts.locale is missing")
    shutil.copy(backup_file, changed)
    edit(changed, "CREATE TABLE extra (id INTEGER PRIMARY KEY)")
    refused(runner, app, changed, "unexpected table extra")


@sqlite_only
def test_item7_restoring_a_backup_from_before_an_erasure_erases_again(
    app: Any, runner: Any, backup_file: Path, db: Any
) -> None:
    result = runner.invoke("contact", "forget", "bob@acme.test")
    assert result.exit_code == 0, result.output
    log = Path(app.config["INSTANCE_PATH"]) / "erasures.log"
    assert "bob@acme.test" not in log.read_text()  # only a hash of the address
    result = runner.invoke("restore", str(backup_file), "--yes")
    assert result.exit_code == 0, result.output
    assert "Re-applied 1 erasure(s)" in result.output
    db.rollback()
    emails = set(db.scalars(select(Contact.email)))
    assert "bob@acme.test" not in emails and "ann@acme.test" in emails
    assert db.scalar(select(func.count()).where(Contact.erased_at.is_not(None))) == 1
    # nobody's email to bob waits in the restored outbox either
    dump = "\n".join(sqlite3.connect(live_file(app)).iterdump()).lower()
    assert "bob@acme.test" not in dump and "bob jones" not in dump


def test_item14_forget_deletes_the_delivered_eml_files(
    app: Any, runner: Any, campaign: int
) -> None:
    folder = Path(app.config["MAIL_URL"].removeprefix("file://"))
    tokens = tokens_by_email(app)
    assert "bob@acme.test" in tokens
    bob_token = tokens["bob@acme.test"]

    def everything() -> str:
        return "\n".join(p.read_text(errors="replace") for p in folder.glob("*")).lower()

    assert "bob@acme.test" in everything()
    result = runner.invoke("contact", "forget", "BOB@acme.test")
    assert result.exit_code == 0, result.output
    assert "Deleted 1 delivered email file(s)" in result.output
    left = everything()
    assert "bob@acme.test" not in left and "bob jones" not in left
    assert bob_token not in left
    assert set(tokens_by_email(app)) == set(tokens) - {"bob@acme.test"}  # others kept


@sqlite_only
def test_item7_a_backup_from_an_older_release_is_upgraded_and_restored(
    app: Any, runner: Any, backup_file: Path, tmp_path: Path, db: Any
) -> None:
    older = tmp_path / "older.sqlite3"
    shutil.copy(backup_file, older)
    # What release 0004 wrote: the schema downgraded through every later migration.
    engine = make_engine(f"sqlite:///{older}")
    config = alembic_config(f"sqlite:///{older}")
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0004")
    engine.dispose()
    head = sqlite3.connect(older).execute("SELECT version_num FROM alembic_version").fetchall()
    assert head == [("0004",)]
    result = runner.invoke("restore", str(older), "--yes")
    assert result.exit_code == 0, result.output
    connection = sqlite3.connect(live_file(app))
    try:
        columns = {row[1] for row in connection.execute("PRAGMA table_info(users)")}
        head = connection.execute("SELECT version_num FROM alembic_version").fetchall()
    finally:
        connection.close()
    assert {"totp_secret", "totp_last_step"} <= columns
    assert head == [(ScriptDirectory.from_config(config).get_current_head(),)]
    db.rollback()
    assert db.scalar(select(func.count()).select_from(Contact)) == 4
