"""The outbox: email written in the caller's transaction, delivered after the commit.

Delivery claims one row at a time with ``UPDATE ... SET status='sending' WHERE
id = ? AND status = 'queued'`` in its own short transaction: only the sender whose
update changed the row sends it, so two senders running at once (or ``cpi send``
run twice) never send a message twice. A row left in ``sending`` by a sender that
died is not retried automatically (it may have been sent); ``cpi outbox deliver
--requeue-interrupted`` puts such rows back after their lease.

States: queued -> sending -> sent | bounced (and back to queued on a temporary
failure, with exponential backoff).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Literal

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from cpi.db import Database
from cpi.mail.compose import as_text
from cpi.mail.models import OutboxMessage
from cpi.mail.transports import (
    PermanentFailure,
    ServerUnavailable,
    TemporaryFailure,
    open_transport,
)
from cpi.timeutil import utcnow

# What else a delivery changes (an invitation sent, a contact bounced) belongs to the
# features that queued the message: they register a listener (cpi.create_app does),
# so that mail imports none of them.
DeliveryOutcome = Literal["sent", "bounced"]
DeliveryListener = Callable[[Session, OutboxMessage, DeliveryOutcome, datetime], None]
_listeners: list[DeliveryListener] = []


def on_delivery(listener: DeliveryListener) -> None:
    """Call ``listener(session, message, outcome, now)`` in the transaction that marks a
    message sent or bounced (once per listener, however often it is registered)."""
    if listener not in _listeners:
        _listeners.append(listener)


def _notify(session: Session, row: OutboxMessage, outcome: DeliveryOutcome, now: datetime) -> None:
    for listener in _listeners:
        listener(session, row, outcome, now)


MAX_ATTEMPTS = 8
LEASE = timedelta(minutes=15)
# Headers that carry a customer's link; dropped from the stored copy once delivered.
DROPPED_HEADERS = ("list-unsubscribe", "mime-version")


def queue_message(
    session: Session, *, kind: str, message: EmailMessage, invitation_id: int | None = None
) -> OutboxMessage:
    """Add the message to the outbox in the caller's transaction (flushed, not committed)."""
    row = OutboxMessage(
        kind=kind,
        invitation_id=invitation_id,
        message_id=str(message["Message-ID"]),
        to_addr=message["To"].addresses[0].addr_spec,
        raw=as_text(message),
        status="queued",
        attempts=0,
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    return row


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, ... minutes after the 1st, 2nd, 3rd failed attempt; at most an hour."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 60))


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    bounced: int = 0
    unavailable: str | None = None
    interrupted: int = 0
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        text = f"sent {self.sent}, retrying later {self.retrying}, bounced {self.bounced}"
        if self.unavailable:
            text += f"; mail server unavailable ({self.unavailable}): the rest stays queued"
        if self.interrupted:
            text += (
                f"; {self.interrupted} interrupted while sending (maybe sent):"
                " `cpi outbox deliver --requeue-interrupted` sends them again"
            )
        return text


def deliver_outbox(
    db: Database,
    mail_url: str,
    sender: str,
    *,
    now: datetime | None = None,
    limit: int | None = None,
    requeue_interrupted: bool = False,
    timeout: float = 30.0,
    on_progress: Callable[[int], None] | None = None,
) -> DeliveryReport:
    """Send what is due in the outbox; callable in a command, a job or a test."""
    now = now or utcnow()
    report = DeliveryReport()
    if requeue_interrupted:
        with db.transaction() as session:
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.status == "sending", OutboxMessage.next_attempt_at <= now)
                .values(status="queued", next_attempt_at=now)
            )
    transport = open_transport(mail_url, timeout=timeout)
    try:
        for outbox_id in _due_ids(db, now, limit):
            raw = _claim(db, outbox_id, now)
            if raw is None:
                continue  # another sender took it
            recipient, body = raw
            try:
                transport.send(outbox_id, sender, recipient, body.encode("ascii"))
            except ServerUnavailable as error:
                _release(db, outbox_id, now)
                report.unavailable = str(error)
                break
            except TemporaryFailure as error:
                if _retry_later(db, outbox_id, now, str(error)):
                    report.retrying += 1
                else:
                    report.bounced += 1
            except PermanentFailure as error:
                _bounce(db, outbox_id, now, str(error))
                report.bounced += 1
            else:
                _mark_sent(db, outbox_id, now, body)
                report.sent += 1
            if on_progress:
                on_progress(1)
    finally:
        transport.close()
    with db.transaction() as session:
        report.interrupted = (
            session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.status == "sending", OutboxMessage.next_attempt_at <= now)
            )
            or 0
        )
    return report


def count_due(db: Database, now: datetime | None = None) -> int:
    with db.transaction() as session:
        query = select(func.count()).select_from(OutboxMessage).where(_due(now or utcnow()))
        return session.scalar(query) or 0


def _due(now: datetime):  # type: ignore[no-untyped-def]
    return (OutboxMessage.status == "queued") & or_(
        OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now
    )


def _due_ids(db: Database, now: datetime, limit: int | None) -> list[int]:
    session = db.session()
    try:
        query = select(OutboxMessage.id).where(_due(now)).order_by(OutboxMessage.id)
        if limit:
            query = query.limit(limit)
        return list(session.scalars(query))
    finally:
        session.close()


def _claim(db: Database, outbox_id: int, now: datetime) -> tuple[str, str] | None:
    """Take the row for this sender, or None when another sender already has it."""
    with db.transaction() as session:
        claimed = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == outbox_id, OutboxMessage.status == "queued")
            .values(
                status="sending",
                attempts=OutboxMessage.attempts + 1,
                next_attempt_at=now + LEASE,
            )
            .execution_options(synchronize_session=False)
        ).rowcount
        if claimed != 1:
            return None
        row = session.execute(
            select(OutboxMessage.to_addr, OutboxMessage.raw).where(OutboxMessage.id == outbox_id)
        ).one()
        return row.to_addr, row.raw


def _release(db: Database, outbox_id: int, now: datetime) -> None:
    """Not attempted after all (no server): back to the queue, the attempt not counted."""
    with db.transaction() as session:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == outbox_id, OutboxMessage.status == "sending")
            .values(
                status="queued",
                attempts=OutboxMessage.attempts - 1,
                next_attempt_at=now,
                last_error="mail server unavailable",
            )
            .execution_options(synchronize_session=False)
        )


def _retry_later(db: Database, outbox_id: int, now: datetime, error: str) -> bool:
    with db.transaction() as session:
        row = session.get(OutboxMessage, outbox_id)
        assert row is not None
        if row.attempts >= MAX_ATTEMPTS:
            _bounce_row(session, row, now, f"gave up after {row.attempts} attempts: {error}")
            return False
        row.status = "queued"
        row.next_attempt_at = now + backoff(row.attempts)
        row.last_error = error[:1000]
        return True


def _bounce(db: Database, outbox_id: int, now: datetime, error: str) -> None:
    with db.transaction() as session:
        row = session.get(OutboxMessage, outbox_id)
        assert row is not None
        _bounce_row(session, row, now, error)


def _bounce_row(session: Session, row: OutboxMessage, now: datetime, error: str) -> None:
    """A permanent failure: the contact's address does not work; no more email to it."""
    row.status = "bounced"
    row.last_error = error[:1000]
    row.next_attempt_at = None
    _notify(session, row, "bounced", now)


def _mark_sent(db: Database, outbox_id: int, now: datetime, raw: str) -> None:
    with db.transaction() as session:
        row = session.get(OutboxMessage, outbox_id)
        assert row is not None
        row.status = "sent"
        row.sent_at = now
        row.next_attempt_at = None
        row.last_error = None
        # The body and the unsubscribe header hold the customer's link: keep only
        # the other headers once the message has left.
        row.raw = redacted(raw)
        _notify(session, row, "sent", now)


def redacted(raw: str) -> str:
    """The header block without the link-bearing and content headers, and no body."""
    header_block = raw.split("\r\n\r\n", 1)[0]
    kept: list[str] = []
    dropping = False
    for line in header_block.split("\r\n"):
        if line[:1] in (" ", "\t"):
            if not dropping:
                kept.append(line)
            continue
        name = line.split(":", 1)[0].strip().lower()
        dropping = name in DROPPED_HEADERS or name.startswith("content-")
        if not dropping:
            kept.append(line)
    return "\r\n".join(kept) + "\r\n\r\n[body removed after delivery]\r\n"
