"""The surveys feature's background work: sending, reminders, and the schedule tick."""

from __future__ import annotations

import logging
from datetime import date

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from cpi.db import database
from cpi.jobs.progress import TaskProgress
from cpi.jobs.tasks import TaskError, task
from cpi.mail.tasks import deliver, delivery_line
from cpi.surveys import schedules, sending
from cpi.surveys.campaigns import CampaignError, close_due_campaigns, get_campaign
from cpi.surveys.invitations import count_uninvited
from cpi.surveys.models import Campaign
from cpi.timeutil import utcnow

log = logging.getLogger("cpi.surveys")


def _queued_then_delivered(
    progress: TaskProgress, campaign_id: int, report: sending.SendReport, what: str
) -> str:
    lines = [f"campaign {campaign_id}: {report.queued} {what} queued"]
    lines += [f"skipped {line}" for line in report.skipped]
    lines.append(delivery_line(deliver(progress)))
    return "\n".join(lines)


@task("send_campaign", label="Sending the campaign", timeout=12 * 3600)
def send_campaign(progress: TaskProgress, campaign_id: int) -> str:
    """``cpi send``: queue the invitations (resumable), then deliver them."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        with database().transaction() as session:
            campaign = get_campaign(session, campaign_id)
            progress.start(count_uninvited(session, campaign), "Queueing invitations")
        report = sending.send_campaign(
            app, campaign_id, deliver_now=False, on_progress=progress.update
        )
    except CampaignError as error:
        raise TaskError(str(error)) from None
    return _queued_then_delivered(progress, campaign_id, report, "invitations")


@task("remind_campaign", label="Sending reminders", timeout=12 * 3600)
def remind_campaign(progress: TaskProgress, campaign_id: int, after_days: int) -> str:
    """``cpi remind``: queue the reminders that are due, then deliver them."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        report = sending.remind_campaign(app, campaign_id, after_days=after_days, deliver_now=False)
    except CampaignError as error:
        raise TaskError(str(error)) from None
    return _queued_then_delivered(progress, campaign_id, report, "reminders")


@task("schedule_tick", label="Scheduled work", timeout=6 * 3600, periodic=True)
def schedule_tick(progress: TaskProgress, today: str | None = None) -> str:
    """Close campaigns past their closing day, start the recurring campaigns that are due,
    queue due reminders, retry the outbox. ``today`` (YYYY-MM-DD) is for tests and catch-up."""
    day = date.fromisoformat(today) if today else utcnow().date()
    with database().transaction() as session:
        closed = close_due_campaigns(session, day)
    started, invited = _run_schedules(day)
    reminded = _queue_due_reminders()
    return (
        f"closed {closed} campaign(s); {started} recurring campaign(s) started, "
        f"{invited} invitation(s) queued; {reminded} reminder(s) queued; "
        f"{delivery_line(deliver(progress))}"
    )


def _run_schedules(today: date) -> tuple[int, int]:
    """Make each due schedule's campaign (once per quarter), then send every scheduled
    campaign not fully sent yet (a send cut short by a dead worker resumes here)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    db = database()
    with db.transaction() as session:
        due = schedules.due_schedule_ids(session, today)
    started = 0
    for schedule_id in due:
        try:
            with db.transaction() as session:
                run = schedules.make_campaign(session, schedule_id, today)
        except IntegrityError:
            continue  # another tick made this quarter's campaign at the same moment
        if run.note == "created":
            started += 1
            log.info("schedule %s started campaign %s", schedule_id, run.campaign_id)
    with db.transaction() as session:
        unsent = schedules.unsent_scheduled_campaigns(session)
    invited = 0
    for campaign_id in unsent:
        try:
            report = sending.send_campaign(app, campaign_id, deliver_now=False)
        except CampaignError:
            continue  # closed since we looked
        invited += report.queued
    return started, invited


def _queue_due_reminders() -> int:
    """For each open campaign with a reminder setting, remind whoever is due (at most 2 each)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    with database().transaction() as session:
        campaigns = list(
            session.execute(
                select(Campaign.id, Campaign.remind_after_days).where(
                    Campaign.status == "open", Campaign.remind_after_days.is_not(None)
                )
            )
        )
    queued = 0
    for campaign_id, after_days in campaigns:
        try:
            report = sending.remind_campaign(
                app, campaign_id, after_days=after_days, deliver_now=False
            )
        except CampaignError:
            continue  # closed since we looked
        queued += report.queued
    return queued
