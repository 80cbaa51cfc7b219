"""Erasure of a person: ``cpi contact forget EMAIL``.

What identifies the person goes (email, name, their free-text comments, the email
still waiting for them in the outbox); what is anonymous stays (their scale answers,
which keep every account's figures unchanged). The erasure is in the audit log,
without the address it erased.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from cpi.accounts.models import Account, Contact
from cpi.audit.operations import record
from cpi.mail.models import OutboxMessage
from cpi.surveys.models import Response
from cpi.timeutil import utcnow


@dataclass(frozen=True)
class Erasure:
    contacts: int
    comments: int
    messages: int
    accounts: tuple[str, ...]


def normalise_email(email: str) -> str:
    return email.strip().lower()


def forget_contact(session: Session, email: str, *, actor: str) -> Erasure:
    """Erase every contact with this email (at any account); flush, never commit."""
    address = normalise_email(email)
    contacts = list(
        session.execute(
            select(Contact.id, Account.account_id)
            .join(Account, Account.id == Contact.account_id)
            .where(func.lower(Contact.email) == address)
            .order_by(Contact.id)
        )
    )
    ids = [row.id for row in contacts]
    comments = 0
    if ids:
        comments = (
            session.execute(
                update(Response)
                .where(Response.contact_id.in_(ids), Response.comment.is_not(None))
                .values(comment=None)
                .execution_options(synchronize_session=False)
            ).rowcount
            or 0
        )  # type: ignore[attr-defined]
        session.execute(
            update(Response)
            .where(Response.contact_id.in_(ids))
            .values(name_consent=False)
            .execution_options(synchronize_session=False)
        )
        session.execute(
            update(Contact)
            .where(Contact.id.in_(ids))
            .values(email=None, name=None, erased_at=utcnow())
            .execution_options(synchronize_session=False)
        )
    messages = (
        session.execute(
            delete(OutboxMessage)
            .where(func.lower(OutboxMessage.to_addr) == address)
            .execution_options(synchronize_session=False)
        ).rowcount
        or 0
    )  # type: ignore[attr-defined]
    accounts = tuple(sorted({row.account_id for row in contacts}))
    erasure = Erasure(contacts=len(ids), comments=comments, messages=messages, accounts=accounts)
    if ids or messages:
        record(
            session,
            actor,
            "contact.forget",
            f"erased {erasure.contacts} contact(s) at account(s) {', '.join(accounts) or '-'}; "
            f"{comments} comment(s) and {messages} email(s) removed",
        )
    session.flush()
    return erasure
