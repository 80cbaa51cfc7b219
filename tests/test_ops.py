"""``cpi backup``, ``cpi restore`` and ``cpi contact forget`` through the real commands."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import func, select
from support import PG_URL

from cpi.accounts.models import Contact
from cpi.audit.models import AuditEvent
from cpi.surveys.models import Response

sqlite_only = pytest.mark.skipif(bool(PG_URL), reason="cpi backup/restore are for SQLite")

CONTACTS = (
    "account_id,account_name,segment,owner_email,contact_email,contact_name\n"
    "ACME-001,Acme Industrial,Manufacturing,am@example.com,jo@acme.example,Jo Smith\n"
    "ACME-001,Acme Industrial,Manufacturing,am@example.com,li@acme.example,Li Wei\n"
    "HOSP-002,St. Aurelia,Healthcare,am2@example.com,Jo@Acme.example,Jo Smith\n"
)
RESPONSES = (
    "account_id,contact_email,period,fcr,csat,nps,comment\n"
    "ACME-001,jo@acme.example,2026-Q3,yes,4,9,Jo says the quotes are slow\n"
    "ACME-001,li@acme.example,2026-Q3,no,2,3,Li is unhappy\n"
    "HOSP-002,jo@acme.example,2026-Q3,yes,5,10,Jo again\n"
)


@pytest.fixture
def people(runner, write_csv):  # type: ignore[no-untyped-def]
    for kind, content in (("contacts", CONTACTS), ("responses", RESPONSES)):
        result = runner.invoke("import", kind, str(write_csv(f"{kind}.csv", content)))
        assert result.exit_code == 0, result.output


def sqlite_file(app) -> Path:  # type: ignore[no-untyped-def]
    return Path(app.config["DATABASE_URL"].removeprefix("sqlite:///"))


def rows(path: Path, query: str) -> list[tuple]:  # type: ignore[type-arg]
    connection = sqlite3.connect(path)
    try:
        return connection.execute(query).fetchall()
    finally:
        connection.close()


# --- backup and restore -------------------------------------------------------------


@sqlite_only
def test_backup_then_restore_brings_back_the_rows(people, runner, app, tmp_path, db) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "backups" / "cpi-backup.sqlite3"
    target.parent.mkdir()
    result = runner.invoke("backup", str(target))
    assert result.exit_code == 0, result.output
    assert "integrity check ok" in result.output
    assert rows(target, "PRAGMA integrity_check") == [("ok",)]
    assert rows(target, "SELECT count(*) FROM responses") == [(3,)]
    # Only the finished copy is left beside it: no temporary files.
    assert [p.name for p in target.parent.iterdir()] == ["cpi-backup.sqlite3"]

    # Later changes are undone by the restore, except erasures (issue 11 item 7).
    later = (
        "account_id,contact_email,period,fcr,csat,nps\nACME-001,jo@acme.example,2026-Q4,yes,5,9\n"
    )
    (tmp_path / "later.csv").write_text(later)
    assert runner.invoke("import", "responses", str(tmp_path / "later.csv")).exit_code == 0
    forget = runner.invoke("contact", "forget", "li@acme.example")
    assert forget.exit_code == 0, forget.output
    db.rollback()
    assert db.scalar(select(func.count()).where(Contact.email.is_(None))) == 1
    assert db.scalar(select(func.count()).select_from(Response)) == 4

    result = runner.invoke("restore", str(target), "--yes")
    assert result.exit_code == 0, result.output
    db.rollback()
    assert db.scalar(select(func.count()).where(Contact.email.is_(None))) == 1
    assert db.scalar(select(func.count()).select_from(Response)) == 3
    assert rows(sqlite_file(app), "PRAGMA integrity_check") == [("ok",)]


@sqlite_only
def test_restore_refuses_a_damaged_file_and_changes_nothing(people, runner, app, tmp_path) -> None:  # type: ignore[no-untyped-def]
    good = tmp_path / "good.sqlite3"
    assert runner.invoke("backup", str(good)).exit_code == 0
    damaged = tmp_path / "damaged.sqlite3"
    data = bytearray(good.read_bytes())
    page = 4096
    # Scribble over every page after the first (the schema survives, the b-trees do not).
    for start in range(page, len(data), page):
        data[start + 8 : start + 200] = b"\xa5" * 192
    damaged.write_bytes(bytes(data))
    before = rows(sqlite_file(app), "SELECT count(*) FROM responses")

    result = runner.invoke("restore", str(damaged), "--yes", expect_exit=1)
    assert result.exit_code != 0
    assert "damaged" in result.output and "nothing restored" in result.output
    assert rows(sqlite_file(app), "SELECT count(*) FROM responses") == before

    not_sqlite = tmp_path / "notes.txt"
    not_sqlite.write_text("hello")
    result = runner.invoke("restore", str(not_sqlite), "--yes", expect_exit=1)
    assert result.exit_code != 0
    assert "not a SQLite database" in result.output

    other = tmp_path / "other.sqlite3"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    result = runner.invoke("restore", str(other), "--yes", expect_exit=1)
    assert "not a CPI Tracker database" in result.output
    assert rows(sqlite_file(app), "SELECT count(*) FROM responses") == before


@sqlite_only
def test_restore_asks_before_replacing(people, runner, tmp_path) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "b.sqlite3"
    assert runner.invoke("backup", str(target)).exit_code == 0
    result = runner.invoke("restore", str(target), input="n\n", expect_exit=1)
    assert result.exit_code != 0
    assert "Replace every row" in result.output


@sqlite_only
def test_backup_refuses_the_live_file_and_missing_folders(runner, app, tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke("backup", str(sqlite_file(app)), expect_exit=1)
    assert result.exit_code != 0 and "live database" in result.output
    result = runner.invoke("backup", str(tmp_path / "nowhere" / "b.sqlite3"), expect_exit=1)
    assert result.exit_code != 0 and "no such folder" in result.output


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL only")
def test_backup_on_postgresql_points_to_pg_dump(runner, tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke("backup", str(tmp_path / "b.sqlite3"), expect_exit=1)
    assert result.exit_code != 0
    assert "pg_dump" in result.output


# --- contact forget -----------------------------------------------------------------


def test_forget_erases_the_person_everywhere_and_keeps_answers(people, runner, db) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke("contact", "forget", "  JO@acme.example ")
    assert result.exit_code == 0, result.output
    assert "Erased 2 contact(s)" in result.output
    assert "2 comment(s) deleted" in result.output
    db.rollback()

    remaining = db.scalars(select(Contact.email).where(Contact.email.is_not(None))).all()
    assert remaining == ["li@acme.example"]
    erased = db.scalars(select(Contact).where(Contact.erased_at.is_not(None))).all()
    assert len(erased) == 2
    assert all(c.email is None and c.name is None for c in erased)

    answers = db.execute(
        select(Response.csat, Response.nps, Response.comment, Response.contact_id).order_by(
            Response.csat
        )
    ).all()
    # Every scale answer is still there; only Li's comment (not erased) survives.
    assert [(a.csat, a.nps) for a in answers] == [(2, 3), (4, 9), (5, 10)]
    assert [a.comment for a in answers] == ["Li is unhappy", None, None]

    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "contact.forget")).one()
    assert event.actor == "cli"
    assert "jo@" not in (event.detail or "").lower()
    assert "ACME-001" in (event.detail or "") and "HOSP-002" in (event.detail or "")


def test_forget_keeps_company_figures_unchanged(people, runner) -> None:  # type: ignore[no-untyped-def]
    before = runner.invoke("score", "--period", "2026-Q3", "--format", "json").output
    assert runner.invoke("contact", "forget", "jo@acme.example").exit_code == 0
    after = runner.invoke("score", "--period", "2026-Q3", "--format", "json").output

    def strip_time(text: str) -> str:
        return "\n".join(line for line in text.splitlines() if "generated_at" not in line)

    assert strip_time(after) == strip_time(before)


def test_forget_an_unknown_address_says_so(people, runner, db) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke("contact", "forget", "nobody@example.com", expect_exit=1)
    assert result.exit_code != 0
    assert "no contact with email 'nobody@example.com'" in result.output
    db.rollback()
    assert (
        db.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "contact.forget")
        )
        == 0
    )
