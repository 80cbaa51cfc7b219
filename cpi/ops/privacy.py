"""Erasure of a person: ``cpi contact forget EMAIL``.

What identifies the person goes (email, name, their free-text comments, the email
still waiting for them in the outbox); what is anonymous stays (their scale answers,
which keep every account's figures unchanged). The erasure is in the audit log,
without the address it erased.

Every erasure is also appended to an erasure log kept outside the database (the
instance folder's ``erasures.log``: one salted SHA-256 of the address per line, never
the address). A backup taken before an erasure still holds the person; ``cpi
restore`` re-applies the log, so a restore never brings an erased person back. The
file transport's ``.eml`` copies of their emails (name, address, live survey link)
are deleted too.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from email import policy
from email.parser import BytesHeaderParser
from email.utils import getaddresses
from pathlib import Path

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from cpi.accounts.models import Account, Contact
from cpi.audit.operations import record
from cpi.followups.operations import erase_comments
from cpi.mail.models import OutboxMessage
from cpi.rules.addresses import normalise_email
from cpi.surveys.models import CustomAnswer, Question, Response
from cpi.timeutil import utcnow


@dataclass(frozen=True)
class Erasure:
    contacts: int
    comments: int
    messages: int
    accounts: tuple[str, ...]


ERASURE_LOG = "erasures.log"
_ERASURE_SALT = b"cpi-erasure-log\x00"


def erasure_hash(email: str) -> str:
    return hashlib.sha256(_ERASURE_SALT + normalise_email(email).encode("utf-8")).hexdigest()


def log_erasure(instance: Path, email: str) -> None:
    """Append the erasure to the log (flushed to disk) before the erasure commits."""
    instance.mkdir(parents=True, exist_ok=True)
    fd = os.open(instance / ERASURE_LOG, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a", encoding="ascii") as handle:
        handle.write(erasure_hash(email) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def erased_hashes(instance: Path) -> set[str]:
    path = instance / ERASURE_LOG
    if not path.exists():
        return set()
    return {line.strip() for line in path.read_text("ascii").splitlines() if line.strip()}


def reapply_erasures(session: Session, hashes: set[str], *, actor: str) -> list[Erasure]:
    """Erase again everyone in the log still present (after a restore); flush, never commit."""
    if not hashes:
        return []
    addresses = {
        normalise_email(address)
        for address in session.scalars(select(Contact.email).where(Contact.email.is_not(None)))
    } | {normalise_email(address) for address in session.scalars(select(OutboxMessage.to_addr))}
    return [
        forget_contact(session, address, actor=actor)
        for address in sorted(addresses)
        if erasure_hash(address) in hashes
    ]


def erase_mail_files(folder: Path, email: str) -> int:
    """Delete the file transport's ``.eml`` files sent to ``email``; return how many."""
    if not folder.is_dir():
        return 0
    address = normalise_email(email)
    parser = BytesHeaderParser(policy=policy.compat32)
    removed = 0
    for path in sorted(folder.glob("*.eml")):
        try:
            with open(path, "rb") as handle:
                headers = parser.parse(handle)
        except OSError:
            continue
        recipients = getaddresses([str(v) for v in headers.get_all("To", [])])
        if any(normalise_email(addr) == address for _, addr in recipients):
            path.unlink(missing_ok=True)
            removed += 1
    return removed


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
        # Short-text answers to custom questions are free text, like a comment.
        comments += (
            session.execute(
                delete(CustomAnswer)
                .where(
                    CustomAnswer.response_id.in_(
                        select(Response.id).where(Response.contact_id.in_(ids))
                    ),
                    CustomAnswer.question_id.in_(
                        select(Question.id).where(Question.kind == "short_text")
                    ),
                )
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
        erase_comments(session, ids)  # the follow-ups' copies of their comments
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
