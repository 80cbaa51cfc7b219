from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cpi.db import Base
from cpi.timeutil import utcnow


class OutboxMessage(Base):
    """An email written in the same transaction as what caused it; delivered after commit."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    # invitation | reminder | scorecard
    kind: Mapped[str] = mapped_column(String(16))
    invitation_id: Mapped[int | None] = mapped_column(
        ForeignKey("invitations.id", ondelete="SET NULL"), index=True
    )
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    to_addr: Mapped[str] = mapped_column(String(254))
    # The whole message as RFC 5322 bytes (decoded as ASCII: headers are encoded).
    raw: Mapped[str] = mapped_column(Text)
    # queued | sending | sent | bounced
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
