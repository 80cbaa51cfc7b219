"""Issue 7 item 31: upgrading a database that holds data keeps every row.

For every earlier revision (0001 is the first release's schema): migrate a fresh
database to it, fill every table with rows using plain SQL on the tables as they
are at that revision (no app models), upgrade to head, and check that every row is
still there with the same values in every column that still exists. Written
generically, so every migration added later is covered without touching this file.
"""

from __future__ import annotations

import itertools
import os
import struct
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Engine,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    make_url,
    select,
    text,
)

from cpi.db import make_engine
from cpi.migrate import alembic_config, upgrade

PG_URL = os.environ.get("CPI_TEST_DATABASE_URL", "")
ROWS_PER_TABLE = 3
FIRST_ID = 1001  # above any id a migration seeds
_databases = itertools.count()


def earlier_revisions() -> list[str]:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    (head,) = script.get_heads()
    revisions = [r.revision for r in script.walk_revisions()]  # newest first
    return [r for r in reversed(revisions) if r != head]


@pytest.fixture
def fresh_engine(tmp_path) -> Iterator[Engine]:  # type: ignore[no-untyped-def]
    """An empty database: a SQLite file, or a new PostgreSQL database beside the test one."""
    if not PG_URL:
        engine = make_engine(f"sqlite:///{tmp_path / 'old.sqlite3'}")
        yield engine
        engine.dispose()
        return
    name = f"cpi_migration_data_{os.getpid()}_{next(_databases)}"
    server = make_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(make_url(PG_URL).set(database=name).render_as_string(False))
    try:
        yield engine
    finally:
        engine.dispose()
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


def sample_value(table: Table, column: Any, row: int, ids: dict[str, list[int]]) -> Any:
    """A value of the column's type, distinct per row (unique constraints hold)."""
    for key in column.foreign_keys:
        parent = key.column.table.name
        return ids[parent][row % len(ids[parent])]
    kind = column.type
    if isinstance(kind, Boolean):
        return row % 2 == 0
    if isinstance(kind, Integer):
        return FIRST_ID + row if column.primary_key else row + 1
    if isinstance(kind, (Float, Numeric)):
        return 1.5 + row
    if isinstance(kind, DateTime):
        return datetime(2026, 1, 1 + row, 9, 30, 15)
    if isinstance(kind, Date):
        return date(2026, 1, 1 + row)
    if isinstance(kind, JSON):
        return {"row": row, "column": column.name}
    if isinstance(kind, LargeBinary):
        return f"{row}{column.name}".encode()
    if isinstance(kind, (String, Text)):
        value = f"{row}{column.name}-{table.name}"
        length = getattr(kind, "length", None)
        return value[:length] if length else value
    raise AssertionError(f"{table.name}.{column.name}: no sample for type {kind!r}")


def fill_every_table(engine: Engine) -> dict[str, dict[Any, dict[str, Any]]]:
    """Insert rows into every table; return every row of every table by primary key."""
    metadata = MetaData()
    metadata.reflect(bind=engine)
    ids: dict[str, list[int]] = {}
    with engine.begin() as connection:
        for table in metadata.sorted_tables:
            if table.name == "alembic_version":
                continue
            rows = [
                {
                    column.name: sample_value(table, column, row, ids)
                    for column in table.columns  # keys too: distinct per row
                }
                for row in range(ROWS_PER_TABLE)
            ]
            connection.execute(table.insert(), rows)
            ids[table.name] = [FIRST_ID + row for row in range(ROWS_PER_TABLE)]
        return snapshot(connection, metadata)


def snapshot(connection: Any, metadata: MetaData) -> dict[str, dict[Any, dict[str, Any]]]:
    everything: dict[str, dict[Any, dict[str, Any]]] = {}
    for table in metadata.sorted_tables:
        if table.name == "alembic_version":
            continue
        keys = [column.name for column in table.primary_key.columns]
        everything[table.name] = {
            tuple(row[k] for k in keys): dict(row)
            for row in connection.execute(select(table)).mappings()
        }
    return everything


def _quote_days_packed(
    rows: dict[Any, dict[str, Any]], after: dict[str, dict[Any, dict[str, Any]]]
) -> None:
    """Migration 0014 moved each histogram entry into its sums row's packed histogram."""
    for (period, account_id, days), old in rows.items():
        sums = after["answer_sums"].get((period, account_id))
        assert sums is not None, f"answer_quote_days row {period, account_id, days} lost"
        entries = dict(struct.iter_unpack("<dq", bytes(sums["quote_days"])))
        assert entries.get(days) == old["count"], f"histogram entry {period, days} changed"


# Tables whose rows a migration moved into another table's columns (a generic row
# check cannot follow them): table -> the check that every row arrived.
MOVED = {"answer_quote_days": _quote_days_packed}


@pytest.mark.parametrize("revision", earlier_revisions())
def test_upgrade_with_data_keeps_every_row(revision: str, fresh_engine: Engine) -> None:
    upgrade(fresh_engine, revision)
    before = fill_every_table(fresh_engine)
    assert all(len(rows) >= ROWS_PER_TABLE for rows in before.values())

    upgrade(fresh_engine)

    metadata = MetaData()
    metadata.reflect(bind=fresh_engine)
    with fresh_engine.connect() as connection:
        after = snapshot(connection, metadata)
    for table, rows in before.items():
        if table in MOVED:
            assert table not in after, f"table {table} should have moved"
            MOVED[table](rows, after)
            continue
        assert table in after, f"table {table} disappeared"
        for key, old in rows.items():
            new = after[table].get(key)
            assert new is not None, f"{table} row {key} lost by the upgrade from {revision}"
            kept = {name: value for name, value in old.items() if name in new}
            assert kept == {name: new[name] for name in kept}, f"{table} row {key} changed"
