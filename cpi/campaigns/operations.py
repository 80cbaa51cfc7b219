"""What the campaign pages show and do: each function takes a session, flushes, never commits.

``owner_email`` limits every figure and list to one account manager's portfolio
(what an account manager sees); None is the whole campaign.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from cpi.accounts.models import Account, Contact
from cpi.exports.operations import neutralise
from cpi.rules.campaign_periods import period_problem
from cpi.scoring import Period
from cpi.surveys.campaigns import (
    LIVE_STATUSES,
    CampaignError,
    CampaignStats,
    campaign_stats,
    create_campaign,
)
from cpi.surveys.invitations import chosen_account_ids, count_uninvited
from cpi.surveys.models import Campaign, Invitation, Survey

SCOPES = ("company", "segment", "owner", "accounts")


def app_message(error: Exception) -> str:
    """A CampaignError worded for the command line (``--segment: ...``), for a form."""
    return str(error).removeprefix("--")


@dataclass(frozen=True)
class CampaignRequest:
    name: str
    period: str
    scope: str
    closes_on: date
    segment: str | None = None
    owner_email: str | None = None
    account_ids: tuple[str, ...] = ()
    remind_after_days: int | None = None
    survey_code: str = "cpi-pulse"


def create_from_app(session: Session, wanted: CampaignRequest, today: date) -> Campaign:
    """A draft campaign, or CampaignError naming the field (nothing is kept then: the
    caller rolls back). Refuses a closed or future quarter and a scope nobody can be
    emailed in."""
    try:
        period = Period.parse(wanted.period.strip())
    except ValueError:
        raise CampaignError(
            "period", _l("%(period)s is not a quarter like 2026-Q3", period=repr(wanted.period))
        ) from None
    if period.is_year:
        raise CampaignError(
            "period",
            _l("%(period)s is a year; a campaign asks about a quarter", period=repr(wanted.period)),
        )
    problem = period_problem(period, today)
    if problem:
        raise CampaignError("period", problem)
    if wanted.scope not in SCOPES:
        raise CampaignError("scope", _l("choose company, segment, account manager or accounts"))
    if wanted.scope == "segment" and not wanted.segment:
        raise CampaignError("segment", _l("choose a segment"))
    if wanted.scope == "owner" and not wanted.owner_email:
        raise CampaignError("account manager", _l("choose an account manager"))
    if wanted.scope == "accounts" and not any(a.strip() for a in wanted.account_ids):
        raise CampaignError("accounts", _l("give at least one account id"))
    campaign = create_campaign(
        session,
        name=wanted.name,
        period=str(period),
        segment=wanted.segment if wanted.scope == "segment" else None,
        owner_email=wanted.owner_email if wanted.scope == "owner" else None,
        account_ids=list(wanted.account_ids) if wanted.scope == "accounts" else None,
        closes_on=wanted.closes_on,
        survey_code=wanted.survey_code,
        remind_after_days=wanted.remind_after_days,
        today=today,
    )
    if count_uninvited(session, campaign) == 0:
        raise CampaignError(
            "scope",
            _l(
                "no contact in this scope can be emailed (no address, opted out, bounced or erased)"
            ),
        )
    return campaign


def scope_text(session: Session, campaign: Campaign) -> str:
    if campaign.account_id is not None:
        account = session.get(Account, campaign.account_id)
        return f"account {account.account_id if account else campaign.account_id}"
    chosen = chosen_account_ids(session, campaign.id)
    if chosen:
        ids = session.scalars(
            select(Account.account_id).where(Account.id.in_(chosen)).order_by(Account.account_id)
        ).all()
        return "accounts " + ", ".join(ids)
    parts = []
    if campaign.segment:
        parts.append(f"segment {campaign.segment}")
    if campaign.owner_email:
        parts.append(f"portfolio of {campaign.owner_email}")
    return ", ".join(parts) or "all accounts"


def choices(session: Session) -> dict[str, list[str]]:
    """The segments, account managers and surveys a campaign or schedule may use."""
    return {
        "segments": list(
            session.scalars(select(Account.segment).distinct().order_by(Account.segment))
        ),
        "owners": list(
            session.scalars(
                select(func.lower(Account.owner_email))
                .where(Account.owner_email.is_not(None))
                .distinct()
                .order_by(func.lower(Account.owner_email))
            )
        ),
        "surveys": list(session.scalars(select(Survey.code).order_by(Survey.code))),
    }


def _count_if(condition: Any) -> Any:
    return func.sum(case((condition, 1), else_=0))


def _portfolio(query: Any, owner_email: str | None) -> Any:
    if owner_email is None:
        return query
    return query.where(func.lower(Account.owner_email) == owner_email.lower())


def stats_for(session: Session, campaign_id: int, owner_email: str | None) -> CampaignStats:
    """The campaign's figures (those of ``cpi campaign show``), or its portfolio part."""
    if owner_email is None:
        return campaign_stats(session, [campaign_id])[campaign_id]
    row = session.execute(
        _portfolio(
            select(
                func.count(Invitation.id),
                _count_if(Invitation.sent_at.is_not(None)),
                _count_if(Invitation.bounced_at.is_not(None)),
                _count_if(Invitation.answered_at.is_not(None)),
                _count_if(Contact.opted_out_at.is_not(None)),
                _count_if(Invitation.reminders_sent > 0),
            )
            .join(Contact, Contact.id == Invitation.contact_id)
            .join(Account, Account.id == Contact.account_id)
            .where(Invitation.campaign_id == campaign_id),
            owner_email,
        )
    ).one()
    invited, delivered, bounced, answered, opted_out, reminded = (int(v or 0) for v in row)
    return CampaignStats(
        invited=invited,
        delivered=delivered,
        bounced=bounced,
        answered=answered,
        opted_out=opted_out,
        reminded=reminded,
    )


@dataclass(frozen=True)
class RateRow:
    key: str
    label: str
    invited: int
    answered: int

    @property
    def rate(self) -> float | None:
        return round(100.0 * self.answered / self.invited, 1) if self.invited else None


BREAKDOWNS = {
    "segment": (Account.segment, Account.segment),
    "owner": (func.lower(Account.owner_email), func.lower(Account.owner_email)),
    "account": (Account.account_id, Account.name),
}


def rates_by(session: Session, campaign_id: int, by: str, owner_email: str | None) -> list[RateRow]:
    """Invited, answered and response rate per segment, account manager or account."""
    key, label = BREAKDOWNS[by]
    rows = session.execute(
        _portfolio(
            select(
                key.label("key"),
                func.min(label).label("label"),
                func.count(Invitation.id),
                _count_if(Invitation.answered_at.is_not(None)),
            )
            .join(Contact, Contact.id == Invitation.contact_id)
            .join(Account, Account.id == Contact.account_id)
            .where(Invitation.campaign_id == campaign_id)
            .group_by(key)
            .order_by(key),
            owner_email,
        )
    )
    return [
        RateRow(str(k or "-"), str(lab or k or "-"), int(n or 0), int(a or 0))
        for k, lab, n, a in rows
    ]


def answers_over_time(
    session: Session, campaign_id: int, owner_email: str | None
) -> list[tuple[date, int]]:
    """(day, answers that day) for the days with answers, in order."""
    day = func.date(Invitation.answered_at)
    rows = session.execute(
        _portfolio(
            select(day, func.count(Invitation.id))
            .join(Contact, Contact.id == Invitation.contact_id)
            .join(Account, Account.id == Contact.account_id)
            .where(Invitation.campaign_id == campaign_id, Invitation.answered_at.is_not(None))
            .group_by(day)
            .order_by(day),
            owner_email,
        )
    )
    result = []
    for value, count in rows:
        result.append((value if isinstance(value, date) else date.fromisoformat(str(value)), count))
    return result


def first_sent(session: Session, campaign_id: int) -> datetime | None:
    return session.scalar(
        select(func.min(Invitation.sent_at)).where(Invitation.campaign_id == campaign_id)
    )


@dataclass(frozen=True)
class Invitee:
    contact: str
    email: str
    account_id: str
    account_name: str
    owner_email: str
    sent_at: datetime | None
    reminders_sent: int
    last_reminded_at: datetime | None
    answered_at: datetime | None
    state: str  # answered | waiting | not delivered yet | bounced | opted out | erased


def _state(row: Any) -> str:
    if row.erased_at is not None:
        return "erased"
    if row.answered_at is not None:
        return "answered"
    if row.bounced_at is not None or row.contact_bounced_at is not None:
        return "bounced"
    if row.opted_out_at is not None:
        return "opted out"
    if row.sent_at is None:
        return "not delivered yet"
    return "waiting"


def invitees(
    session: Session,
    campaign_id: int,
    owner_email: str | None,
    *,
    unanswered_only: bool = False,
    limit: int | None = None,
    account_id: str | None = None,
) -> list[Invitee]:
    """Who was invited (and who answered, never what), in account then contact order;
    with ``account_id``, at that account only."""
    query = (
        select(
            Contact.name,
            Contact.email,
            Contact.erased_at,
            Contact.opted_out_at,
            Contact.bounced_at.label("contact_bounced_at"),
            Account.account_id,
            Account.name.label("account_name"),
            Account.owner_email,
            Invitation.sent_at,
            Invitation.bounced_at,
            Invitation.reminders_sent,
            Invitation.last_reminded_at,
            Invitation.answered_at,
        )
        .join(Contact, Contact.id == Invitation.contact_id)
        .join(Account, Account.id == Contact.account_id)
        .where(Invitation.campaign_id == campaign_id)
        .order_by(Account.account_id, Contact.email, Invitation.id)
    )
    if unanswered_only:
        query = query.where(Invitation.answered_at.is_(None))
    if account_id is not None:
        query = query.where(Account.account_id == account_id)
    if limit is not None:
        query = query.limit(limit)
    result = []
    for row in session.execute(_portfolio(query, owner_email)):
        erased = row.erased_at is not None
        result.append(
            Invitee(
                contact="(erased)" if erased else (row.name or ""),
                email="" if erased else (row.email or ""),
                account_id=row.account_id,
                account_name=row.account_name,
                owner_email=row.owner_email or "",
                sent_at=row.sent_at,
                reminders_sent=int(row.reminders_sent or 0),
                last_reminded_at=row.last_reminded_at,
                answered_at=row.answered_at,
                state=_state(row),
            )
        )
    return result


NOT_ANSWERED_HEADER = (
    "account_id", "account_name", "owner_email", "contact_name", "contact_email", "status",
    "invited_at", "reminders_sent", "last_reminder_at",
)  # fmt: skip


def not_answered_rows(items: list[Invitee]) -> list[list[str]]:
    """Rows for the CSV, text neutralised against spreadsheet formulas (cpi.exports)."""

    def stamp(value: datetime | None) -> str:
        return value.strftime("%Y-%m-%d %H:%M") if value else ""

    return [
        [neutralise(i.account_id), neutralise(i.account_name), neutralise(i.owner_email),
         neutralise(i.contact), neutralise(i.email), i.state, stamp(i.sent_at),
         str(i.reminders_sent), stamp(i.last_reminded_at)]
        for i in items
    ]  # fmt: skip


ACCOUNT_PANEL_INVITEES = 200


def account_campaigns(session: Session, account_id: str) -> list[tuple[Campaign, list[Invitee]]]:
    """The open campaigns that invited contacts at the account, each with who was invited
    there and who answered (the day; never what): the account page's panel."""
    invited_here = (
        select(Invitation.campaign_id)
        .join(Contact, Contact.id == Invitation.contact_id)
        .join(Account, Account.id == Contact.account_id)
        .where(Account.account_id == account_id)
    )
    live = session.scalars(
        select(Campaign)
        .where(Campaign.status.in_(LIVE_STATUSES), Campaign.id.in_(invited_here))
        .order_by(Campaign.id.desc())
    )
    return [
        (c, invitees(session, c.id, None, account_id=account_id, limit=ACCOUNT_PANEL_INVITEES))
        for c in live
    ]


def campaigns_for(session: Session, owner_email: str | None) -> list[Campaign]:
    """Every campaign (newest first), or an account manager's: the live ones that invited
    someone at their accounts."""
    query = select(Campaign).order_by(Campaign.id.desc())
    if owner_email is not None:
        mine = (
            select(Invitation.campaign_id)
            .join(Contact, Contact.id == Invitation.contact_id)
            .join(Account, Account.id == Contact.account_id)
            .where(func.lower(Account.owner_email) == owner_email.lower())
        )
        query = query.where(Campaign.status.in_(LIVE_STATUSES), Campaign.id.in_(mine))
    return list(session.scalars(query))
