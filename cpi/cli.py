"""The ``cpi`` command. Each feature adds its commands from its own ``cli.py``."""

from __future__ import annotations

import os

import click
from flask.cli import ScriptInfo

from cpi import create_app


class CpiGroup(click.Group):
    """Turns "the database is unavailable" (down, locked, read-only, full) into one line."""

    def invoke(self, ctx: click.Context) -> object:
        from sqlalchemy.exc import OperationalError

        try:
            return super().invoke(ctx)
        except OperationalError as error:
            reason = str(error.orig or error).strip().splitlines()[0][:200]
            raise click.ClickException(
                f"the database is unavailable ({reason}); try again when it is back"
            ) from None


@click.group(cls=CpiGroup)
@click.option(
    "--log-format",
    type=click.Choice(["json", "text"]),
    default=None,
    help="Log lines as JSON objects (default, CPI_LOG_FORMAT) or as text for people.",
)
@click.pass_context
def cli(ctx: click.Context, log_format: str | None) -> None:
    """CPI Tracker: customer performance indicators beside your internal KPIs."""
    if log_format:
        from cpi.ops import logs

        os.environ["CPI_LOG_FORMAT"] = log_format
        logs.configure(log_format)
    if ctx.obj is None:  # tests pass a ScriptInfo of their own app
        ctx.obj = ScriptInfo(create_app=lambda: create_app(), set_debug_flag=False)


def _register() -> None:
    from cpi.auth.cli import user_group
    from cpi.core_cli import init_command, serve_command
    from cpi.demo.cli import demo_command
    from cpi.imports.cli import import_group
    from cpi.jobs.cli import worker_command
    from cpi.ops.cli import backup_command, contact_group, restore_command
    from cpi.scorecards.cli import score_command, scorecard_command
    from cpi.surveys.cli import (
        campaign_group,
        outbox_group,
        remind_command,
        send_command,
    )

    for command in (
        init_command,
        serve_command,
        demo_command,
        user_group,
        import_group,
        score_command,
        scorecard_command,
        worker_command,
        backup_command,
        restore_command,
        contact_group,
        campaign_group,
        send_command,
        remind_command,
        outbox_group,
    ):
        cli.add_command(command)


_register()
