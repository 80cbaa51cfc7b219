"""Online backup and restore of a SQLite database with SQLite's own backup API.

The backup API copies a consistent snapshot while web processes keep writing (WAL
readers never block writers); the copy is checked with ``PRAGMA integrity_check``
before it is renamed into place, so a backup file either is whole or does not exist.
PostgreSQL is backed up with ``pg_dump`` (see the README).

A restore accepts only a backup of this application that this release can read: its
schema revision must be one of this release's migrations (not a newer release's),
and after upgrading a scratch copy to this release its tables and columns must be
exactly this release's. Every check runs on copies; the live database is replaced
only when all pass, so a refused restore changes nothing.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Engine, inspect
from sqlalchemy.engine import make_url

from cpi.db import make_engine
from cpi.migrate import alembic_config, upgrade

SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 30_000


class BackupError(Exception):
    """A one-line reason why the backup or restore did not happen; nothing was changed."""


@dataclass(frozen=True)
class BackupReport:
    path: Path
    size: int
    tables: int


def sqlite_path(database_url: str) -> Path:
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        raise BackupError(
            f"cpi backup and cpi restore work on SQLite; this database is "
            f"{url.get_backend_name()}: use pg_dump and pg_restore (see the README)"
        )
    if not url.database or url.database == ":memory:":
        raise BackupError("the database is in memory: there is no file to back up")
    return Path(url.database).resolve()


def _connect(path: Path, *, read_only: bool = False) -> sqlite3.Connection:
    if read_only:
        connection = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    else:
        connection = sqlite3.connect(path)
    connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    return connection


def integrity_problems(connection: sqlite3.Connection) -> list[str]:
    try:
        rows = [row[0] for row in connection.execute("PRAGMA integrity_check")]
    except sqlite3.DatabaseError as error:
        return [str(error)]
    return [] if rows == ["ok"] else rows


def _table_count(connection: sqlite3.Connection) -> int:
    query = "SELECT count(*) FROM sqlite_master WHERE type='table'"
    return int(connection.execute(query).fetchone()[0])


def backup(database_url: str, target: Path) -> BackupReport:
    """Copy the live database to ``target`` (replaced atomically), checked before renaming."""
    source = sqlite_path(database_url)
    target = target.resolve()
    if not source.exists():
        raise BackupError(f"{source}: no database file (run `cpi init` first)")
    if target == source:
        raise BackupError(f"{target} is the live database; choose another file")
    if target.is_dir():
        raise BackupError(f"{target} is a folder; give a file name")
    if not target.parent.is_dir():
        raise BackupError(f"{target.parent}: no such folder")
    fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        with closing(_connect(source)) as live, closing(_connect(Path(temporary))) as copy:
            live.backup(copy)  # one step: a single consistent snapshot
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            problems = integrity_problems(copy)
            if problems:
                raise BackupError(f"the copy failed its integrity check: {problems[0]}")
            tables = _table_count(copy)
        os.replace(temporary, target)
    except sqlite3.Error as error:
        raise BackupError(f"backup failed: {error}") from None
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return BackupReport(path=target, size=target.stat().st_size, tables=tables)


def check_backup(path: Path) -> None:
    """Raise :class:`BackupError` unless ``path`` is an intact CPI Tracker SQLite database."""
    if not path.is_file():
        raise BackupError(f"{path}: no such file")
    with open(path, "rb") as handle:
        if handle.read(len(SQLITE_HEADER)) != SQLITE_HEADER:
            raise BackupError(f"{path} is not a SQLite database; nothing restored")
    try:
        with closing(_connect(path, read_only=True)) as candidate:
            problems = integrity_problems(candidate)
            if problems:
                raise BackupError(f"{path} is damaged ({problems[0]}); nothing restored")
            has_schema = candidate.execute(
                "SELECT 1 FROM sqlite_master WHERE type='table' AND name='alembic_version'"
            ).fetchone()
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{path} is damaged ({error}); nothing restored") from None
    if not has_schema:
        raise BackupError(f"{path} is not a CPI Tracker database; nothing restored")
    check_revision(path)


def _revision(path: Path) -> str:
    with closing(_connect(path, read_only=True)) as candidate:
        rows = candidate.execute("SELECT version_num FROM alembic_version").fetchall()
    if len(rows) != 1 or not isinstance(rows[0][0], str):
        raise BackupError(f"{path} has no single schema revision; nothing restored")
    return str(rows[0][0])


def check_revision(path: Path) -> str:
    """The backup's schema revision, if it is one of this release's migrations."""
    try:
        revision = _revision(path)
    except sqlite3.Error as error:
        raise BackupError(
            f"{path} is not a CPI Tracker database ({error}); nothing restored"
        ) from None
    scripts = ScriptDirectory.from_config(alembic_config("sqlite://"))
    try:
        known = scripts.get_revision(revision) is not None
    except CommandError:
        known = False
    if not known:
        raise BackupError(
            f"{path} has schema revision {revision[:40]!r}, which this release does not "
            f"know (newest here: {scripts.get_current_head()}): it comes from a newer "
            "release or another application; nothing restored"
        )
    return revision


def _schema(path: Path) -> dict[str, set[str]]:
    engine = make_engine(f"sqlite:///{path}")
    try:
        inspector = inspect(engine)
        return {
            table: {column["name"] for column in inspector.get_columns(table)}
            for table in inspector.get_table_names()
        }
    finally:
        engine.dispose()


def _schema_differences(found: dict[str, set[str]], wanted: dict[str, set[str]]) -> list[str]:
    problems = [f"table {name} is missing" for name in sorted(wanted.keys() - found.keys())]
    problems += [f"unexpected table {name}" for name in sorted(found.keys() - wanted.keys())]
    for name in sorted(wanted.keys() & found.keys()):
        problems += [f"{name}.{c} is missing" for c in sorted(wanted[name] - found[name])]
        problems += [f"unexpected column {name}.{c}" for c in sorted(found[name] - wanted[name])]
    return problems


def _migrate(path: Path, revision: str, source: Path) -> None:
    engine = make_engine(f"sqlite:///{path}")
    try:
        upgrade(engine, revision)
    except Exception as error:  # a foreign schema that the migrations cannot upgrade
        reason = str(error).strip().splitlines()[0][:200] if str(error).strip() else ""
        raise BackupError(
            f"{source} cannot be upgraded to this release ({reason or type(error).__name__})"
            "; nothing restored"
        ) from None
    finally:
        engine.dispose()


def _same_schema(copy: Path, reference: Path, source: Path) -> None:
    problems = _schema_differences(_schema(copy), _schema(reference))
    if problems:
        raise BackupError(
            f"{source} does not have this application's schema ({'; '.join(problems[:3])}); "
            "nothing restored"
        )


def _upgraded_copy(source: Path, folder: Path, prepare: Callable[[Engine], None] | None) -> Path:
    """A scratch copy of ``source`` upgraded to this release; raise :class:`BackupError`
    unless its tables and columns are those this release's migrations make, both at the
    backup's own revision and after the upgrade."""
    revision = check_revision(source)
    copy = folder / "candidate.sqlite3"
    reference = folder / "reference.sqlite3"
    with closing(_connect(source, read_only=True)) as backup_db, closing(_connect(copy)) as out:
        backup_db.backup(out)
    _migrate(reference, revision, source)
    _same_schema(copy, reference, source)
    _migrate(reference, "head", source)
    _migrate(copy, "head", source)
    _same_schema(copy, reference, source)
    if prepare is not None:
        engine = make_engine(f"sqlite:///{copy}")
        try:
            prepare(engine)
        finally:
            engine.dispose()
    return copy


def restore(
    database_url: str, source: Path, prepare: Callable[[Engine], None] | None = None
) -> BackupReport:
    """Replace the live database's content with ``source``, in one transaction.

    Web processes may stay up: the copy takes the write lock, and they see either the
    old content or the new, never a mixture. ``prepare`` runs on the checked, upgraded
    scratch copy before it replaces anything (the CLI re-applies erasures there).
    """
    live_path = sqlite_path(database_url)
    source = source.resolve()
    if source == live_path:
        raise BackupError(f"{source} is the live database; nothing to restore")
    check_backup(source)
    live_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".cpi-restore-", dir=live_path.parent) as scratch:
        try:
            candidate = _upgraded_copy(source, Path(scratch), prepare)
            with (
                closing(_connect(candidate, read_only=True)) as backup_db,
                closing(_connect(live_path)) as live,
            ):
                backup_db.backup(live)
                problems = integrity_problems(live)
                if problems:
                    raise BackupError(f"the restored database failed its check: {problems[0]}")
                tables = _table_count(live)
        except sqlite3.Error as error:
            raise BackupError(f"restore failed: {error}") from None
    return BackupReport(path=live_path, size=live_path.stat().st_size, tables=tables)
