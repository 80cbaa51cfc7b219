"""``cpi sums check`` and ``cpi sums rebuild``: the answer sums against the answers."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from cpi.audit.operations import record
from cpi.core_cli import require_schema
from cpi.db import database
from cpi.surveys.sums import differences, lock_tables, rebuild

LISTED = 200


@click.group("sums")
def sums_group() -> None:
    """Answer sums kept on write: check them against the answers, or rebuild them."""


@sums_group.command("check")
@with_appcontext
def check_command() -> None:
    """Recompute the sums from the answers and list every difference (exit 1 if any)."""
    require_schema()
    session = database().session()
    try:
        found = differences(session)
    finally:
        session.close()
    if not found:
        click.echo("Answer sums agree with the answers.")
        return
    for difference in found[:LISTED]:
        click.echo(str(difference))
    if len(found) > LISTED:
        click.echo(f"... and {len(found) - LISTED} more")
    raise click.ClickException(
        f"{len(found)} difference(s) between the answer sums and the answers; "
        "run `cpi sums rebuild` to repair"
    )


@sums_group.command("rebuild")
@with_appcontext
def rebuild_command() -> None:
    """Recompute the sums from the answers and replace them (one transaction)."""
    require_schema()
    with database().transaction() as session:
        lock_tables(session)  # PostgreSQL: no answer changes while this runs
        before = len(differences(session))
        rows = rebuild(session)
        record(
            session,
            "cli",
            "sums.rebuild",
            f"{rows} account-quarter(s) recomputed; {before} difference(s) repaired",
        )
    click.echo(
        f"Rebuilt the answer sums: {rows} account-quarter(s), {before} difference(s) repaired"
    )
