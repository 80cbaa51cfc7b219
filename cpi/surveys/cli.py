"""``cpi campaign create|list|show|close|run-schedules``, ``cpi send``, ``cpi remind``,
``cpi outbox deliver``."""

from __future__ import annotations

from datetime import date

import click
from flask.cli import with_appcontext

from cpi.core_cli import require_schema
from cpi.db import database
from cpi.jobs.dispatch import dispatch
from cpi.surveys.campaigns import (
    DEFAULT_SURVEY,
    CampaignError,
    CampaignStats,
    campaign_stats,
    close_campaign,
    close_due_campaigns,
    create_campaign,
    get_campaign,
    list_campaigns,
)
from cpi.surveys.invitations import count_uninvited


def _closes(value: str | None, option: str = "--closes") -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a date like 2026-10-15", param_hint=option
        ) from None


def _rate(stats: CampaignStats) -> str:
    return "-" if stats.response_rate is None else f"{stats.response_rate:.1f}%"


@click.group("campaign")
def campaign_group() -> None:
    """Survey campaigns: create, list, show, close."""


@campaign_group.command("create")
@click.option("--name", required=True)
@click.option("--period", required=True, help="the quarter it asks about, e.g. 2026-Q3")
@click.option("--segment", default=None)
@click.option("--account", "account_id", default=None, help="account_id")
@click.option("--closes", default=None, help="last day answers are taken, YYYY-MM-DD")
@click.option("--survey", "survey_code", default=DEFAULT_SURVEY, show_default=True)
@click.option(
    "--remind-after",
    "remind_after_days",
    type=click.IntRange(1, 90),
    default=None,
    help="`cpi worker` reminds non-respondents after N days (at most 2 reminders)",
)
@with_appcontext
def create_command(
    name: str,
    period: str,
    segment: str | None,
    account_id: str | None,
    closes: str | None,
    survey_code: str,
    remind_after_days: int | None,
) -> None:
    """Create a campaign over the contacts in scope; prints its id."""
    closes_on = _closes(closes)
    require_schema()
    try:
        with database().transaction() as session:
            campaign = create_campaign(
                session,
                name=name,
                period=period,
                segment=segment,
                account_id=account_id,
                closes_on=closes_on,
                survey_code=survey_code,
                remind_after_days=remind_after_days,
            )
            campaign_id = campaign.id
            reachable = count_uninvited(session, campaign)
    except CampaignError as error:
        raise click.ClickException(str(error)) from None
    click.echo(campaign_id)
    click.echo(f"campaign {campaign_id} created (draft): {reachable} contacts to invite", err=True)


@campaign_group.command("list")
@with_appcontext
def list_command() -> None:
    """Campaigns with invited, answered, response rate, bounced, opted out."""
    require_schema()
    with database().transaction() as session:
        close_due_campaigns(session)
        campaigns = list_campaigns(session)
        stats = campaign_stats(session, [c.id for c in campaigns])
    if not campaigns:
        click.echo("no campaigns")
        return
    header = f"{'id':>4}  {'status':<8} {'period':<7} {'invited':>7} {'answered':>8} {'rate':>6} "
    header += f"{'bounced':>7} {'opted out':>9}  name"
    click.echo(header)
    for campaign in campaigns:
        s = stats[campaign.id]
        click.echo(
            f"{campaign.id:>4}  {campaign.status:<8} {campaign.period:<7} {s.invited:>7} "
            f"{s.answered:>8} {_rate(s):>6} {s.bounced:>7} {s.opted_out:>9}  {campaign.name}"
        )


@campaign_group.command("show")
@click.argument("campaign_id", type=int)
@with_appcontext
def show_command(campaign_id: int) -> None:
    """One campaign: scope, status and its figures."""
    require_schema()
    try:
        with database().transaction() as session:
            close_due_campaigns(session)
            campaign = get_campaign(session, campaign_id)
            stats = campaign_stats(session, [campaign_id])[campaign_id]
            scope = "all accounts"
            if campaign.account_id is not None:
                from cpi.accounts.models import Account

                account = session.get(Account, campaign.account_id)
                scope = f"account {account.account_id if account else campaign.account_id}"
            elif campaign.segment:
                scope = f"segment {campaign.segment}"
    except CampaignError as error:
        raise click.ClickException(str(error)) from None
    lines = [
        ("campaign", f"{campaign.id} {campaign.name}"),
        ("status", campaign.status),
        ("period", campaign.period),
        ("scope", scope),
        ("closes", campaign.closes_on.isoformat() if campaign.closes_on else "-"),
        ("invited", stats.invited),
        ("delivered", stats.delivered),
        ("queued", stats.queued),
        ("bounced", stats.bounced),
        ("answered", stats.answered),
        ("response rate", _rate(stats)),
        ("reminded", stats.reminded),
        ("opted out", stats.opted_out),
    ]
    for label, value in lines:
        click.echo(f"{label + ':':<15}{value}")


@campaign_group.command("close")
@click.argument("campaign_id", type=int)
@with_appcontext
def close_command(campaign_id: int) -> None:
    """Close a campaign now: its links stop taking answers."""
    require_schema()
    try:
        with database().transaction() as session:
            close_campaign(session, campaign_id)
    except CampaignError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"campaign {campaign_id} closed")


@campaign_group.command("run-schedules")
@click.option("--today", default=None, help="run as on this day, YYYY-MM-DD (catching up)")
@with_appcontext
def run_schedules_command(today: str | None) -> None:
    """Run the schedule once: close due campaigns, start and send the recurring campaigns
    that are due, send due reminders, retry the outbox (cron, without `cpi worker`)."""
    day = _closes(today, "--today")
    require_schema()
    click.echo(dispatch("schedule_tick", today=day.isoformat() if day else None))


@click.command("send")
@click.argument("campaign_id", type=int)
@with_appcontext
def send_command(campaign_id: int) -> None:
    """Queue one invitation per contact not yet invited, then deliver the outbox."""
    require_schema()
    click.echo(dispatch("send_campaign", campaign_id=campaign_id))


@click.command("remind")
@click.argument("campaign_id", type=int)
@click.option("--after-days", default=5, show_default=True, type=click.IntRange(min=0))
@with_appcontext
def remind_command(campaign_id: int, after_days: int) -> None:
    """Remind invitees who have not answered (at most 2 reminders each)."""
    require_schema()
    click.echo(dispatch("remind_campaign", campaign_id=campaign_id, after_days=after_days))


@click.group("outbox")
def outbox_group() -> None:
    """The email outbox."""


@outbox_group.command("deliver")
@click.option(
    "--requeue-interrupted",
    is_flag=True,
    help="send again messages whose sender died mid-send (they may have gone out once)",
)
@with_appcontext
def deliver_command(requeue_interrupted: bool) -> None:
    """Deliver what is still queued (also done by the worker)."""
    require_schema()
    # On a worker, the holder of the delivery turn requeues interrupted messages itself.
    click.echo(dispatch("deliver_outbox", requeue_interrupted=requeue_interrupted))
