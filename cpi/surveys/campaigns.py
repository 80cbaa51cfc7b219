"""Campaigns: create, find, close, list and count. Each function takes a session, flushes,
never commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session

from cpi.accounts.models import Account, Contact
from cpi.i18n.errors import LocalisedError
from cpi.mail.models import OutboxMessage
from cpi.scoring import Period
from cpi.surveys.models import Campaign, CampaignAccount, Invitation, Survey
from cpi.timeutil import utcnow

DEFAULT_SURVEY = "cpi-pulse"
LIVE_STATUSES = ("sending", "open")


# The options of the command line and the fields of the new-campaign form, as a page
# names them (the command line prints the option: ``--period: ...``).
CAMPAIGN_FIELDS: dict[str, Any] = {
    "--name": _l("name"),
    "--period": _l("period"),
    "period": _l("period"),
    "--survey": _l("survey"),
    "--account": _l("account"),
    "--segment": _l("segment"),
    "segment": _l("segment"),
    "--closes": _l("closing date"),
    "accounts": _l("accounts"),
    "account manager": _l("account manager"),
    "scope": _l("scope"),
}


class CampaignError(LocalisedError):
    """A campaign command that cannot be done; the message says why, naming the option
    (the field on a page, in the user's language: :class:`cpi.i18n.errors.LocalisedError`)."""

    field_labels = CAMPAIGN_FIELDS


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
    owner_email: str | None = None,
    account_ids: list[str] | None = None,
) -> Campaign:
    name = " ".join((name or "").split())
    if not name or len(name) > 200:
        raise CampaignError("--name", _l("give a name of 1 to 200 characters"))
    try:
        parsed = Period.parse(period)
    except ValueError:
        raise CampaignError(
            "--period", _l("%(period)s is not a quarter like 2026-Q3", period=repr(period))
        ) from None
    if parsed.is_year:
        raise CampaignError(
            "--period",
            _l("%(period)s is a year; a campaign asks about a quarter", period=repr(period)),
        )
    if segment and account_id:
        raise CampaignError("give at most one of --segment and --account")
    if account_ids and (segment or account_id or owner_email):
        raise CampaignError("accounts", _l("chosen accounts cannot be combined with another scope"))
    survey = session.scalar(select(Survey).where(Survey.code == survey_code))
    if survey is None:
        raise CampaignError("--survey", _l("no survey with code %(code)s", code=repr(survey_code)))
    account_pk = None
    if account_id:
        account_pk = session.scalar(select(Account.id).where(Account.account_id == account_id))
        if account_pk is None:
            raise CampaignError("--account", _l("no account %(account)s", account=repr(account_id)))
    if segment and session.scalar(select(Account.id).where(Account.segment == segment)) is None:
        raise CampaignError(
            "--segment", _l("no account in segment %(segment)s", segment=repr(segment))
        )
    owner_email = (owner_email or "").strip().lower() or None
    if owner_email and account_id:
        raise CampaignError("give at most one of an account manager and --account")
    if owner_email and (
        session.scalar(select(Account.id).where(func.lower(Account.owner_email) == owner_email))
        is None
    ):
        raise CampaignError(
            "account manager",
            _l("no account is managed by %(email)s", email=repr(owner_email)),
        )
    chosen = _chosen_accounts(session, account_ids or [])
    if closes_on is not None and closes_on < (today or utcnow().date()):
        raise CampaignError("--closes", _l("%(date)s is in the past", date=closes_on.isoformat()))
    campaign = Campaign(
        name=name,
        period=str(parsed),
        survey_id=survey.id,
        segment=segment or None,
        account_id=account_pk,
        owner_email=owner_email,
        status="draft",
        closes_on=closes_on,
        remind_after_days=remind_after_days,
        created_at=utcnow(),
    )
    session.add(campaign)
    session.flush()
    session.add_all(CampaignAccount(campaign_id=campaign.id, account_id=pk) for pk in chosen)
    session.flush()
    return campaign


def _chosen_accounts(session: Session, account_ids: list[str]) -> list[int]:
    wanted = list(dict.fromkeys(a.strip() for a in account_ids if a.strip()))
    found = dict(
        session.execute(  # type: ignore[arg-type]
            select(Account.account_id, Account.id).where(Account.account_id.in_(wanted))
        ).all()
    )
    missing = [a for a in wanted if a not in found]
    if missing:
        raise CampaignError("accounts", _l("no account %(account)s", account=repr(missing[0])))
    return [found[a] for a in wanted]


def get_campaign(session: Session, campaign_id: int) -> Campaign:
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise CampaignError(f"no campaign with id {campaign_id}")
    return campaign


def _due(today: date) -> Any:
    return (Campaign.status != "closed") & (Campaign.closes_on < today)


def any_due_campaigns(session: Session, today: date | None = None) -> bool:
    """Whether some campaign's closing day has passed while it is still open (a read)."""
    today = today or utcnow().date()
    return bool(session.scalar(select(select(Campaign.id).where(_due(today)).exists())))


def close_due_campaigns(session: Session, today: date | None = None) -> int:
    """Close campaigns whose closing day has passed (answers are taken through that day)."""
    today = today or utcnow().date()
    result = session.execute(
        update(Campaign)
        .where(_due(today))
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
