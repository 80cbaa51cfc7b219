"""The ``cpi`` command. Each feature adds its commands from its own ``cli.py``."""

from __future__ import annotations

import click
from flask.cli import ScriptInfo

from cpi import create_app


@click.group()
@click.pass_context
def cli(ctx: click.Context) -> None:
    """CPI Tracker: customer performance indicators beside your internal KPIs."""
    if ctx.obj is None:  # tests pass a ScriptInfo of their own app
        ctx.obj = ScriptInfo(create_app=lambda: create_app(), set_debug_flag=False)


def _register() -> None:
    from cpi.auth.cli import user_group
    from cpi.core_cli import init_command, serve_command
    from cpi.demo.cli import demo_command
    from cpi.imports.cli import import_group
    from cpi.scorecards.cli import score_command

    for command in (
        init_command,
        serve_command,
        demo_command,
        user_group,
        import_group,
        score_command,
    ):
        cli.add_command(command)


_register()
