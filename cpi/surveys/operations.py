"""Campaigns, invitations and answers. Each function takes a session, flushes, never commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import and_, bindparam, case, func, select, update
from sqlalchemy.orm import Session

from cpi.accounts.models import Account, Contact
from cpi.db import dialect_insert
from cpi.mail.models import OutboxMessage
from cpi.scoring import Answers, Period
from cpi.scoring.catalogue import ANSWER_FIELDS
from cpi.surveys.models import Campaign, Invitation, Question, Response, Survey
from cpi.surveys.tokens import hash_token, plausible, same_hash
from cpi.timeutil import utcnow

DEFAULT_SURVEY = "cpi-pulse"
MAX_REMINDERS = 2
LIVE_STATUSES = ("sending", "open")


class CampaignError(ValueError):
    """A campaign command that cannot be done; the message says why, naming the option."""


# --- campaigns ----------------------------------------------------------------------


def create_campaign(
    session: Session,
    *,
    name: str,
    period: str,
    segment: str | None = None,
    account_id: str | None = None,
    closes_on: date | None = None,
    survey_code: str = DEFAULT_SURVEY,
    today: date | None = None,
    remind_after_days: int | None = None,
) -> Campaign:
    name = " ".join((name or "").split())
    if not name or len(name) > 200:
        raise CampaignError("--name: give a name of 1 to 200 characters")
    try:
        parsed = Period.parse(period)
    except ValueError:
        raise CampaignError(f"--period: {period!r} is not a quarter like 2026-Q3") from None
    if parsed.is_year:
        raise CampaignError(f"--period: {period!r} is a year; a campaign asks about a quarter")
    if segment and account_id:
        raise CampaignError("give at most one of --segment and --account")
    survey = session.scalar(select(Survey).where(Survey.code == survey_code))
    if survey is None:
        raise CampaignError(f"--survey: no survey with code {survey_code!r}")
    account_pk = None
    if account_id:
        account_pk = session.scalar(select(Account.id).where(Account.account_id == account_id))
        if account_pk is None:
            raise CampaignError(f"--account: no account {account_id!r}")
    if segment and session.scalar(select(Account.id).where(Account.segment == segment)) is None:
        raise CampaignError(f"--segment: no account in segment {segment!r}")
    if closes_on is not None and closes_on < (today or utcnow().date()):
        raise CampaignError(f"--closes: {closes_on.isoformat()} is in the past")
    campaign = Campaign(
        name=name,
        period=str(parsed),
        survey_id=survey.id,
        segment=segment or None,
        account_id=account_pk,
        status="draft",
        closes_on=closes_on,
        remind_after_days=remind_after_days,
        created_at=utcnow(),
    )
    session.add(campaign)
    session.flush()
    return campaign


def get_campaign(session: Session, campaign_id: int) -> Campaign:
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise CampaignError(f"no campaign with id {campaign_id}")
    return campaign


def close_due_campaigns(session: Session, today: date | None = None) -> int:
    """Close campaigns whose closing day has passed (answers are taken through that day)."""
    today = today or utcnow().date()
    result = session.execute(
        update(Campaign)
        .where(Campaign.status != "closed", Campaign.closes_on < today)
        .values(status="closed", closed_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def close_campaign(session: Session, campaign_id: int) -> Campaign:
    campaign = get_campaign(session, campaign_id)
    if campaign.status != "closed":
        campaign.status = "closed"
        campaign.closed_at = utcnow()
        session.flush()
    return campaign


def is_taking_answers(campaign: Campaign, today: date | None = None) -> bool:
    return taking_answers(campaign.status, campaign.closes_on, today)


def taking_answers(status: str, closes_on: date | None, today: date | None = None) -> bool:
    """The one rule: a live campaign takes answers through its closing day."""
    today = today or utcnow().date()
    return status in LIVE_STATUSES and (closes_on is None or closes_on >= today)


@dataclass(frozen=True)
class CampaignStats:
    invited: int = 0
    delivered: int = 0
    bounced: int = 0
    answered: int = 0
    opted_out: int = 0
    queued: int = 0
    reminded: int = 0

    @property
    def response_rate(self) -> float | None:
        return round(100.0 * self.answered / self.invited, 1) if self.invited else None


def campaign_stats(session: Session, campaign_ids: list[int]) -> dict[int, CampaignStats]:
    if not campaign_ids:
        return {}

    def count_if(condition: Any) -> Any:
        return func.sum(case((condition, 1), else_=0))

    stats = {
        row.campaign_id: row
        for row in session.execute(
            select(
                Invitation.campaign_id,
                func.count(Invitation.id).label("invited"),
                count_if(Invitation.sent_at.is_not(None)).label("delivered"),
                count_if(Invitation.bounced_at.is_not(None)).label("bounced"),
                count_if(Invitation.answered_at.is_not(None)).label("answered"),
                count_if(Contact.opted_out_at.is_not(None)).label("opted_out"),
                count_if(Invitation.reminders_sent > 0).label("reminded"),
            )
            .join(Contact, Contact.id == Invitation.contact_id)
            .where(Invitation.campaign_id.in_(campaign_ids))
            .group_by(Invitation.campaign_id)
        )
    }
    queued = dict(
        session.execute(  # type: ignore[arg-type]
            select(Invitation.campaign_id, func.count(OutboxMessage.id))
            .join(Invitation, Invitation.id == OutboxMessage.invitation_id)
            .where(
                Invitation.campaign_id.in_(campaign_ids),
                OutboxMessage.status.in_(("queued", "sending")),
            )
            .group_by(Invitation.campaign_id)
        ).all()
    )
    result = {}
    for campaign_id in campaign_ids:
        row = stats.get(campaign_id)
        result[campaign_id] = CampaignStats(
            invited=int(row.invited) if row else 0,
            delivered=int(row.delivered or 0) if row else 0,
            bounced=int(row.bounced or 0) if row else 0,
            answered=int(row.answered or 0) if row else 0,
            opted_out=int(row.opted_out or 0) if row else 0,
            reminded=int(row.reminded or 0) if row else 0,
            queued=int(queued.get(campaign_id, 0)),
        )
    return result


def list_campaigns(session: Session) -> list[Campaign]:
    return list(session.scalars(select(Campaign).order_by(Campaign.id)))


# --- invitations --------------------------------------------------------------------


def _reachable() -> Any:
    return and_(
        Contact.email.is_not(None),
        Contact.opted_out_at.is_(None),
        Contact.bounced_at.is_(None),
        Contact.erased_at.is_(None),
    )


def uninvited_contacts(
    session: Session, campaign: Campaign, limit: int, after_id: int = 0
) -> list[Contact]:
    """Contacts in the campaign's scope who can be emailed and have no invitation yet."""
    already = select(Invitation.contact_id).where(Invitation.campaign_id == campaign.id)
    query = (
        select(Contact)
        .join(Account, Account.id == Contact.account_id)
        .where(_reachable(), Contact.id.not_in(already), Contact.id > after_id)
        .order_by(Contact.id)
        .limit(limit)
    )
    if campaign.account_id is not None:
        query = query.where(Contact.account_id == campaign.account_id)
    elif campaign.segment:
        query = query.where(Account.segment == campaign.segment)
    return list(session.scalars(query))


def count_uninvited(session: Session, campaign: Campaign) -> int:
    already = select(Invitation.contact_id).where(Invitation.campaign_id == campaign.id)
    query = (
        select(func.count(Contact.id))
        .join(Account, Account.id == Contact.account_id)
        .where(_reachable(), Contact.id.not_in(already))
    )
    if campaign.account_id is not None:
        query = query.where(Contact.account_id == campaign.account_id)
    elif campaign.segment:
        query = query.where(Account.segment == campaign.segment)
    return session.scalar(query) or 0


def add_invitation(session: Session, campaign: Campaign, contact: Contact, token_hash: str,
                   token_salt: str) -> Invitation:  # fmt: skip
    invitation = Invitation(
        campaign_id=campaign.id,
        contact_id=contact.id,
        token_hash=token_hash,
        token_salt=token_salt,
        created_at=utcnow(),
        reminders_sent=0,
    )
    session.add(invitation)
    session.flush()
    return invitation


def due_reminders(
    session: Session, campaign: Campaign, after_days: int, now: datetime | None = None
) -> list[Invitation]:
    """Delivered, unanswered invitations of reachable contacts not reminded lately."""
    now = now or utcnow()
    cutoff = now - timedelta(days=after_days)
    return list(
        session.scalars(
            select(Invitation)
            .join(Contact, Contact.id == Invitation.contact_id)
            .where(
                Invitation.campaign_id == campaign.id,
                Invitation.sent_at.is_not(None),
                Invitation.answered_at.is_(None),
                Invitation.bounced_at.is_(None),
                Invitation.reminders_sent < MAX_REMINDERS,
                func.coalesce(Invitation.last_reminded_at, Invitation.sent_at) <= cutoff,
                _reachable(),
            )
            .order_by(Invitation.id)
        )
    )


# --- the customer's side ------------------------------------------------------------


@dataclass(frozen=True)
class Visit:
    """What a valid token opens: one contact's invitation to one campaign."""

    invitation_id: int
    campaign_id: int
    contact_id: int
    account_id: int
    period: str
    survey_id: int
    locale: str | None
    taking_answers: bool
    opted_out: bool


# Built once: a submit runs these on every request, and building SQLAlchemy
# statements costs more than running them (see benchmarks/bench_submits.py).
_VISIT_QUERY = (
    select(
        Invitation.id,
        Invitation.token_hash,
        Invitation.campaign_id,
        Invitation.contact_id,
        Contact.account_id,
        Contact.locale,
        Contact.opted_out_at,
        Contact.erased_at,
        Campaign.period,
        Campaign.survey_id,
        Campaign.status,
        Campaign.closes_on,
    )
    .join(Campaign, Campaign.id == Invitation.campaign_id)
    .join(Contact, Contact.id == Invitation.contact_id)
    .where(Invitation.token_hash == bindparam("token_hash"))
)


def find_visit(session: Session, token: str, today: date | None = None) -> Visit | None:
    """The invitation a token belongs to, or None for anything unknown or malformed."""
    if not isinstance(token, str) or not plausible(token):
        return None
    token_hash = hash_token(token)
    row = session.execute(_VISIT_QUERY, {"token_hash": token_hash}).first()
    if row is None or not same_hash(row.token_hash, token_hash) or row.erased_at is not None:
        return None
    return Visit(
        invitation_id=row.id,
        campaign_id=row.campaign_id,
        contact_id=row.contact_id,
        account_id=row.account_id,
        period=row.period,
        survey_id=row.survey_id,
        locale=row.locale,
        taking_answers=taking_answers(row.status, row.closes_on, today),
        opted_out=row.opted_out_at is not None,
    )


@dataclass(frozen=True)
class QuestionInfo:
    """A question as plain values (cached between requests)."""

    field: str
    kind: str
    label: str
    required: bool
    min_value: float | None
    max_value: float | None


def survey_questions(session: Session, survey_id: int) -> list[QuestionInfo]:
    return [
        QuestionInfo(q.field, q.kind, q.label, q.required, q.min_value, q.max_value)
        for q in session.scalars(
            select(Question).where(Question.survey_id == survey_id).order_by(Question.position)
        )
    ]


def current_answers(session: Session, visit: Visit) -> dict[str, Any]:
    """The respondent's answers for this period so far (to show when they come back)."""
    response = session.scalar(
        select(Response).where(
            Response.account_id == visit.account_id,
            Response.contact_id == visit.contact_id,
            Response.period == visit.period,
        )
    )
    if response is None:
        return {}
    values: dict[str, Any] = {name: getattr(response, name) for name in ANSWER_FIELDS}
    values["comment"] = response.comment
    values["name_consent"] = response.name_consent
    return {name: value for name, value in values.items() if value not in (None, "")}


def record_answers(
    session: Session,
    visit: Visit,
    answers: Answers,
    *,
    comment: str | None,
    name_consent: bool,
    now: datetime | None = None,
) -> None:
    """Insert or update the one response of this contact, account and period.

    The response is one ``INSERT ... ON CONFLICT (account_id, contact_id, period) DO
    UPDATE``: the database's unique constraint, not a lock in Python, makes fifty
    identical submits at once end as one row (a second statement then marks the
    invitation answered). An imported response for the same
    person and quarter is updated in place.
    """
    now = now or utcnow()
    params: dict[str, Any] = {name: getattr(answers, name) for name in ANSWER_FIELDS}
    params.update(
        comment=comment,
        name_consent=name_consent,
        account_id=visit.account_id,
        contact_id=visit.contact_id,
        period=visit.period,
        invitation_id=visit.invitation_id,
        source="survey",
        submitted_at=now,
        # to the microsecond: the dashboard cache notices every re-answer by it
        updated_at=datetime.now(UTC).replace(tzinfo=None),
    )
    upsert, mark_answered = _answer_statements(session.get_bind().dialect.name)
    session.execute(upsert, params)
    session.execute(mark_answered, {"invitation_id": visit.invitation_id, "now": now})


@cache
def _answer_statements(dialect: str) -> tuple[Any, Any]:
    insert = dialect_insert(dialect)
    statement = insert(Response)
    excluded = statement.excluded
    answer_columns = (*ANSWER_FIELDS, "comment", "name_consent")
    upsert = statement.on_conflict_do_update(
        index_elements=["account_id", "contact_id", "period"],
        set_={
            **{name: excluded[name] for name in answer_columns},
            "invitation_id": excluded.invitation_id,
            "source": excluded.source,
            "updated_at": excluded.updated_at,
            "submitted_at": func.coalesce(Response.submitted_at, excluded.submitted_at),
        },
    )
    mark_answered = (
        update(Invitation)
        .where(Invitation.id == bindparam("invitation_id"))
        .values(answered_at=func.coalesce(Invitation.answered_at, bindparam("now")))
        .execution_options(synchronize_session=False)
    )
    return upsert, mark_answered


def opt_out(session: Session, visit: Visit, now: datetime | None = None) -> None:
    """Stop all survey email to this contact, in this and every later campaign."""
    session.execute(
        update(Contact)
        .where(Contact.id == visit.contact_id, Contact.opted_out_at.is_(None))
        .values(opted_out_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )
    # Nothing still queued for this person goes out after they said stop.
    session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.status == "queued",
            OutboxMessage.invitation_id.in_(
                select(Invitation.id).where(Invitation.contact_id == visit.contact_id)
            ),
        )
        .values(status="cancelled", last_error="contact opted out")
        .execution_options(synchronize_session=False)
    )
