from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from cpi.core_cli import require_schema
from cpi.imports.rows import KINDS
from cpi.jobs.dispatch import dispatch
from cpi.jobs.staging import stage


@click.command("import")
@click.argument("kind", type=click.Choice(KINDS))
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def import_group(kind: str, file: Path) -> None:
    """Import a CSV of contacts, kpis, responses, targets or outcomes: all rows or none."""
    size = file.stat().st_size
    limit = current_app.config["IMPORT_MAX_BYTES"]
    if size > limit:
        raise click.ClickException(
            f"{file}: file is {size / 1e6:.0f} MB; the limit is {limit / 1e6:.0f} MB "
            "(CPI_IMPORT_MAX_BYTES)"
        )
    require_schema()
    # A large file goes to a worker (when there is a queue), from a copy in the shared
    # instance folder; a small one is quicker to import than to hand over.
    small = size < int(current_app.config.get("IMPORT_QUEUE_BYTES", 5_000_000))
    if small or not current_app.config.get("REDIS_URL"):
        click.echo(dispatch("import_csv", here=True, kind=kind, path=str(file), name=str(file)))
        return
    staged = stage(file)
    click.echo(
        dispatch(
            "import_csv",
            kind=kind,
            path=str(staged),
            name=str(file),
            staged=True,
            not_queued=lambda: staged.unlink(missing_ok=True),
        )
    )
