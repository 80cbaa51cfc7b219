"""Invitations: who is still to be invited, adding an invitation, who is due a reminder.
Each function takes a session, flushes, never commits."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from cpi.accounts.models import Account, Contact
from cpi.surveys.models import Campaign, CampaignAccount, Invitation
from cpi.timeutil import utcnow

MAX_REMINDERS = 2


def _reachable() -> Any:
    return and_(
        Contact.email.is_not(None),
        Contact.opted_out_at.is_(None),
        Contact.bounced_at.is_(None),
        Contact.erased_at.is_(None),
    )


def in_scope(session: Session, query: Any, campaign: Campaign) -> Any:
    """Limit a query joining Contact and Account to the campaign's scope: one account,
    accounts chosen by hand, or all accounts (of a segment, of an account manager, or both)."""
    if campaign.account_id is not None:
        return query.where(Contact.account_id == campaign.account_id)
    chosen = chosen_account_ids(session, campaign.id)
    if chosen:
        query = query.where(Contact.account_id.in_(chosen))
    if campaign.segment:
        query = query.where(Account.segment == campaign.segment)
    if campaign.owner_email:
        query = query.where(func.lower(Account.owner_email) == campaign.owner_email.lower())
    return query


def chosen_account_ids(session: Session, campaign_id: int) -> list[int]:
    return list(
        session.scalars(
            select(CampaignAccount.account_id).where(CampaignAccount.campaign_id == campaign_id)
        )
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
    return list(session.scalars(in_scope(session, query, campaign)))


def count_uninvited(session: Session, campaign: Campaign) -> int:
    already = select(Invitation.contact_id).where(Invitation.campaign_id == campaign.id)
    query = (
        select(func.count(Contact.id))
        .join(Account, Account.id == Contact.account_id)
        .where(_reachable(), Contact.id.not_in(already))
    )
    return session.scalar(in_scope(session, query, campaign)) or 0


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
