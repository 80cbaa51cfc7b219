"""The ``cpi`` command. Each feature defines its commands in its own ``cli.py``.

A command's module is imported when the command runs, not when ``cpi`` starts: the
table below names each command's module and its one-line summary, so that ``cpi
--help`` lists every command without importing the models and their libraries (like
pip's command table). tests/test_startup.py checks that each summary is the first
line of its command's help, so the two cannot drift apart.
"""

from __future__ import annotations

import importlib
import os

import click
from click.utils import make_default_short_help
from flask.cli import ScriptInfo

from cpi import create_app

# name: (module, attribute, summary shown by `cpi --help`)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "init": (
        "cpi.core_cli",
        "init_command",
        "Create or upgrade the database to the newest migration.",
    ),
    "serve": (
        "cpi.core_cli",
        "serve_command",
        "Serve the web app (for production, run gunicorn: see the README).",
    ),
    "demo": (
        "cpi.demo.cli",
        "demo_command",
        "Load a realistic demo data set (running it twice changes nothing).",
    ),
    "user": ("cpi.auth.cli", "user_group", "Staff users."),
    "import": (
        "cpi.imports.cli",
        "import_group",
        "Import a CSV of contacts, kpis, responses, targets or outcomes: all rows or none.",
    ),
    "score": (
        "cpi.scorecards.cli",
        "score_command",
        "Compute the scorecard for a scope and period (company-wide without a scope flag).",
    ),
    "scorecard": (
        "cpi.scorecards.cli",
        "scorecard_command",
        "Write the PDF scorecard of a scope, or of every account (--all-accounts).",
    ),
    "followups": (
        "cpi.followups.cli",
        "followups_group",
        "Follow-ups raised by alert rules.",
    ),
    "worker": (
        "cpi.jobs.cli",
        "worker_command",
        "Run background jobs and the schedule from the Redis queue named by CPI_REDIS_URL.",
    ),
    "backup": (
        "cpi.ops.cli",
        "backup_command",
        "Copy the SQLite database to FILE while the app keeps running (checked before kept).",
    ),
    "restore": (
        "cpi.ops.cli",
        "restore_command",
        "Replace the SQLite database's content with the backup FILE (refused if damaged).",
    ),
    "contact": ("cpi.ops.cli", "contact_group", "Contacts: erase a person's personal data."),
    "campaign": (
        "cpi.surveys.cli",
        "campaign_group",
        "Survey campaigns: create, list, show, close.",
    ),
    "send": (
        "cpi.surveys.cli",
        "send_command",
        "Queue one invitation per contact not yet invited, then deliver the outbox.",
    ),
    "remind": (
        "cpi.surveys.cli",
        "remind_command",
        "Remind invitees who have not answered (at most 2 reminders each).",
    ),
    "outbox": ("cpi.surveys.cli", "outbox_group", "The email outbox."),
    "initiative": (
        "cpi.initiatives.cli",
        "initiative_group",
        "Enablement initiatives: create, list, show, report.",
    ),
    "sums": (
        "cpi.surveys.sums_cli",
        "sums_group",
        "Answer sums kept on write: check them against the answers, or rebuild them.",
    ),
}


class CpiGroup(click.Group):
    """Loads each command when it is used; turns "the database is unavailable" (down,
    locked, read-only, full) into one line."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = self.commands.get(cmd_name)
        if command is None and cmd_name in COMMANDS:
            module, attribute, _summary = COMMANDS[cmd_name]
            command = getattr(importlib.import_module(module), attribute)
            self.add_command(command, cmd_name)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Click's listing, with the summaries from the table (no command module imported)."""
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            if name in COMMANDS and name not in self.commands:
                rows.append((name, make_default_short_help(COMMANDS[name][2], limit)))
            elif not self.commands[name].hidden:
                rows.append((name, self.commands[name].get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> object:
        from sqlalchemy.exc import OperationalError

        from cpi.config import ConfigError

        try:
            return super().invoke(ctx)
        except ConfigError as error:  # a setting that cannot be used: its one line
            raise click.ClickException(str(error)) from None
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
        from cpi import logs

        os.environ["CPI_LOG_FORMAT"] = log_format
        logs.configure(log_format)
    if ctx.obj is None:  # tests pass a ScriptInfo of their own app
        ctx.obj = ScriptInfo(create_app=lambda: create_app(), set_debug_flag=False)
