from __future__ import annotations

import os
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from cpi.audit.operations import record
from cpi.core_cli import require_schema
from cpi.db import database
from cpi.imports.csvfile import ImportFailed
from cpi.imports.operations import import_csv
from cpi.imports.rows import KINDS
from cpi.jobs.dispatch import dispatch
from cpi.jobs.staging import stage
from cpi.progress import progress_bar


@click.command("import")
@click.argument("kind", type=click.Choice(KINDS))
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def import_group(kind: str, file: Path) -> None:
    """Import a CSV of contacts, kpis, responses or targets: all rows or none."""
    size = file.stat().st_size
    limit = current_app.config["IMPORT_MAX_BYTES"]
    if size > limit:
        raise click.ClickException(
            f"{file}: file is {size / 1e6:.0f} MB; the limit is {limit / 1e6:.0f} MB "
            "(CPI_IMPORT_MAX_BYTES)"
        )
    require_schema()
    if current_app.config.get("REDIS_URL") and size >= int(
        current_app.config.get("IMPORT_QUEUE_BYTES", 5_000_000)
    ):
        # A large file is imported by a worker, from a copy in the shared instance folder.
        staged = stage(file)
        click.echo(
            dispatch(
                "import_csv",
                kind=kind,
                path=str(staged),
                name=str(file),
                not_queued=lambda: staged.unlink(missing_ok=True),
            )
        )
        return
    with open(file, "rb") as raw, progress_bar(size, f"Importing {kind}") as bar:
        done = 0

        def advance(_rows: int) -> None:
            nonlocal done
            position = raw.tell()
            bar.update(position - done)
            done = position

        try:
            with database().transaction() as session:
                summary = import_csv(session, kind, raw, progress=advance)
                record(
                    session,
                    "cli",
                    f"import.{kind}",
                    f"{os.path.basename(file)}: {summary.rows} rows",
                )
        except ImportFailed as failure:
            click.echo(failure.report(), err=True)
            raise click.ClickException(
                f"{file}: nothing imported; {failure.total} problem(s) listed above"
            ) from None
        bar.update(size - done)
    click.echo(
        f"Imported {summary.rows} {kind} rows from {file} "
        f"({summary.created} new, {summary.updated} updated or unchanged)"
    )
