"""Run Alembic migrations from the app (``cpi init``) and from tests."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from cpi import resource_dir

if TYPE_CHECKING:  # Alembic is imported when a command touches the database, not at start-up
    from alembic.config import Config
    from sqlalchemy import Engine


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(resource_dir("migrations")))
    # '%' would be read as interpolation by configparser
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command

    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        # A migration may rewrite a big table: no statement deadline (cpi.db.Timeouts).
        connection.execution_options(cpi_no_deadline=True)
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("SET LOCAL statement_timeout = 0")
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def schema_problem(engine: Engine) -> str | None:
    """None when the database is at this release's newest revision, else one line saying
    what to do. Only ``cpi init`` (and ``cpi demo``) migrate; every other command checks."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    url = engine.url
    where = url.render_as_string(hide_password=True)
    if _sqlite_file_missing(engine):
        return f"the database {where} does not exist yet: run `cpi init` to create it"
    script = ScriptDirectory.from_config(alembic_config(url.render_as_string(False)))
    heads = set(script.get_heads())
    with engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    if current == heads:
        return None
    if not current:
        return f"the database {where} is not initialised: run `cpi init` to create its tables"
    known = {revision.revision for revision in script.walk_revisions()}
    if not current <= known:
        return (
            f"the database {where} is at revision {', '.join(sorted(current))}, which this "
            "release does not know (a newer release upgraded it): install that release"
        )
    return (
        f"the database {where} is at revision {', '.join(sorted(current))} and this release "
        f"needs {', '.join(sorted(heads))}: run `cpi init` to upgrade it (back it up first)"
    )


def _sqlite_file_missing(engine: Engine) -> bool:
    """A SQLite file that does not exist (connecting would create it empty)."""
    if engine.url.get_backend_name() != "sqlite":
        return False
    name = engine.url.database or ""
    if name in ("", ":memory:") or name.startswith("file:"):
        return False
    return not os.path.exists(name)
