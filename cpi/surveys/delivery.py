"""What a delivered or bounced survey email changes: the invitation's ``sent_at`` or
``bounced_at``, and a bounce stops all email to the contact. cpi.mail calls this
through its delivery listener (registered by cpi.create_app): mail knows no survey."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from cpi.accounts.models import Contact
from cpi.mail.models import OutboxMessage
from cpi.mail.outbox import DeliveryOutcome
from cpi.surveys.models import Invitation


def record_delivery(
    session: Session, message: OutboxMessage, outcome: DeliveryOutcome, now: datetime
) -> None:
    if message.invitation_id is None:
        return
    invitation = session.get(Invitation, message.invitation_id)
    if invitation is None:
        return
    if outcome == "sent":
        if message.kind == "invitation" and invitation.sent_at is None:
            invitation.sent_at = now
        return
    invitation.bounced_at = invitation.bounced_at or now
    contact = session.get(Contact, invitation.contact_id)
    if contact is not None:
        contact.bounced_at = contact.bounced_at or now
