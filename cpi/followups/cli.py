"""``cpi followups digest``: send the pending alert digests now (the worker does it daily)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from cpi.core_cli import require_schema
from cpi.jobs.dispatch import dispatch


@click.group("followups")
def followups_group() -> None:
    """Follow-ups raised by alert rules."""


@followups_group.command("digest")
@with_appcontext
def digest_command() -> None:
    """Queue and deliver every staff user's pending alert digest, whatever the hour."""
    require_schema()
    click.echo(dispatch("followup_digest", force=True))
