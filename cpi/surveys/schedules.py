"""Recurring campaigns: every quarter, ``lead_days`` before its end, a campaign over the
schedule's scope that closes at the quarter's end, created and sent by the schedule tick.

Each function takes a session, flushes, never commits. A schedule makes at most one
campaign per quarter (a unique row per schedule and period), so a tick that runs twice,
or two workers ticking at once, create one campaign.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cpi.accounts.models import Account
from cpi.rules.campaign_periods import quarter_end, quarter_of
from cpi.surveys.campaigns import DEFAULT_SURVEY, CampaignError, create_campaign
from cpi.surveys.invitations import count_uninvited
from cpi.surveys.models import Campaign, CampaignSchedule, ScheduledCampaign, Survey
from cpi.timeutil import utcnow

MAX_LEAD_DAYS = 80  # a quarter has at least 90 days: the campaign starts inside it


class ScheduleError(ValueError):
    """A schedule that cannot be saved; the message names the field."""


def create_schedule(
    session: Session,
    *,
    name: str,
    lead_days: int,
    segment: str | None = None,
    owner_email: str | None = None,
    remind_after_days: int | None = None,
    survey_code: str = DEFAULT_SURVEY,
    created_by: str | None = None,
) -> CampaignSchedule:
    name = " ".join((name or "").split())
    if not name or len(name) > 190:
        raise ScheduleError("name: give a name of 1 to 190 characters")
    if not 1 <= lead_days <= MAX_LEAD_DAYS:
        raise ScheduleError(f"start: give 1 to {MAX_LEAD_DAYS} days before the quarter's end")
    if remind_after_days is not None and not 1 <= remind_after_days <= 30:
        raise ScheduleError("reminders: give 1 to 30 days")
    survey = session.scalar(select(Survey).where(Survey.code == survey_code))
    if survey is None:
        raise ScheduleError(f"survey: no survey with code {survey_code!r}")
    segment = segment or None
    owner_email = (owner_email or "").strip().lower() or None
    accounts = select(Account.id)
    if segment:
        accounts = accounts.where(Account.segment == segment)
    if owner_email:
        accounts = accounts.where(func.lower(Account.owner_email) == owner_email)
    if session.scalar(accounts.limit(1)) is None:
        raise ScheduleError("scope: no account is in this scope")
    schedule = CampaignSchedule(
        name=name,
        survey_id=survey.id,
        segment=segment,
        owner_email=owner_email,
        lead_days=lead_days,
        remind_after_days=remind_after_days,
        paused=False,
        created_by=created_by,
        created_at=utcnow(),
    )
    session.add(schedule)
    session.flush()
    return schedule


def get_schedule(session: Session, schedule_id: int) -> CampaignSchedule:
    schedule = session.get(CampaignSchedule, schedule_id)
    if schedule is None:
        raise ScheduleError(f"no schedule with id {schedule_id}")
    return schedule


def list_schedules(session: Session) -> list[CampaignSchedule]:
    return list(session.scalars(select(CampaignSchedule).order_by(CampaignSchedule.id)))


def starts_on(schedule: CampaignSchedule, today: date) -> date:
    """The day this quarter's campaign starts."""
    return date.fromordinal(quarter_end(quarter_of(today)).toordinal() - schedule.lead_days)


def next_start(schedule: CampaignSchedule, today: date) -> date:
    """The day the next campaign starts (today's quarter, or the next one's when done)."""
    period = quarter_of(today)
    start = starts_on(schedule, today)
    if today <= start:
        return start
    following = date.fromordinal(quarter_end(period).toordinal() + 1)
    return starts_on(schedule, following)


@dataclass(frozen=True)
class ScheduleRun:
    schedule_id: int
    campaign_id: int | None
    note: str


def due_schedule_ids(session: Session, today: date) -> list[int]:
    """Unpaused schedules whose campaign for today's quarter is due and not yet made."""
    period = str(quarter_of(today))
    made = select(ScheduledCampaign.schedule_id).where(ScheduledCampaign.period == period)
    candidates = session.scalars(
        select(CampaignSchedule).where(
            CampaignSchedule.paused.is_(False), CampaignSchedule.id.not_in(made)
        )
    )
    return [s.id for s in candidates if starts_on(s, today) <= today]


def make_campaign(session: Session, schedule_id: int, today: date) -> ScheduleRun:
    """This quarter's campaign of the schedule (made once; none without reachable contacts)."""
    schedule = get_schedule(session, schedule_id)
    period = quarter_of(today)
    existing = session.scalar(
        select(ScheduledCampaign.campaign_id).where(
            ScheduledCampaign.schedule_id == schedule_id,
            ScheduledCampaign.period == str(period),
        )
    )
    if existing is not None:
        return ScheduleRun(schedule_id, existing, "already made")
    survey_code = session.scalar(select(Survey.code).where(Survey.id == schedule.survey_id))
    try:
        campaign = create_campaign(
            session,
            name=f"{schedule.name} {period}",
            period=str(period),
            segment=schedule.segment,
            owner_email=schedule.owner_email,
            closes_on=quarter_end(period),
            survey_code=survey_code or DEFAULT_SURVEY,
            remind_after_days=schedule.remind_after_days,
            today=today,
        )
    except CampaignError as error:
        schedule.last_note = f"{today.isoformat()}: {error}"
        return ScheduleRun(schedule_id, None, str(error))
    if count_uninvited(session, campaign) == 0:
        session.delete(campaign)
        schedule.last_note = f"{today.isoformat()}: no reachable contacts in scope"
        session.flush()
        return ScheduleRun(schedule_id, None, "no reachable contacts in scope")
    session.add(
        ScheduledCampaign(schedule_id=schedule_id, period=str(period), campaign_id=campaign.id)
    )
    schedule.last_note = None
    session.flush()
    return ScheduleRun(schedule_id, campaign.id, "created")


def unsent_scheduled_campaigns(session: Session) -> list[int]:
    """Campaigns made by schedules whose sending has not finished (resumed by each tick)."""
    return list(
        session.scalars(
            select(Campaign.id)
            .join(ScheduledCampaign, ScheduledCampaign.campaign_id == Campaign.id)
            .where(Campaign.status.in_(("draft", "sending")))
            .order_by(Campaign.id)
        )
    )


def campaigns_by_schedule(session: Session) -> dict[int, list[tuple[str, int]]]:
    rows = session.execute(
        select(
            ScheduledCampaign.schedule_id, ScheduledCampaign.period, ScheduledCampaign.campaign_id
        ).order_by(ScheduledCampaign.period.desc())
    )
    result: dict[int, list[tuple[str, int]]] = {}
    for schedule_id, period, campaign_id in rows:
        result.setdefault(schedule_id, []).append((period, campaign_id))
    return result
