"""Migrations: one linear history, upgrade from empty, and models that match them."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select, text

import cpi.models  # noqa: F401  (registers every table)
from cpi.db import Base, make_engine
from cpi.migrate import alembic_config, upgrade


def test_single_head() -> None:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1


def test_upgrade_from_empty_and_models_match(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine)  # already at head: a no-op, and safe to repeat
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
        assert differences == []
        tables = set(inspect(connection).get_table_names())
        assert {"accounts", "contacts", "responses", "kpi_figures", "targets", "users"} <= tables
    engine.dispose()


def test_fresh_sqlite_upgrade_seeds_default_survey(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'fresh.sqlite3'}")
    upgrade(engine)
    with engine.connect() as connection:
        fields = (
            connection.execute(
                text(
                    "SELECT q.field FROM questions q JOIN surveys s ON s.id = q.survey_id "
                    "WHERE s.code = 'cpi-pulse' ORDER BY q.position"
                )
            )
            .scalars()
            .all()
        )
    assert fields[:7] == [
        "fcr",
        "contacts_total",
        "contacts_value_added",
        "quote_turnaround_days",
        "csat",
        "nps",
        "ces",
    ]
    engine.dispose()


def test_downgrade_to_base_and_up_again(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'roundtrip.sqlite3'}"
    engine = make_engine(url)
    upgrade(engine)
    config = alembic_config(url)
    command.downgrade(config, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade(engine)
    with engine.connect() as connection:
        assert (
            connection.execute(select(text("count(*)")).select_from(text("surveys"))).scalar() == 1
        )
    engine.dispose()
