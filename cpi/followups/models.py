from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cpi.db import Base
from cpi.timeutil import utcnow


class AlertRule(Base):
    """An edited alert rule; an indicator without a row uses its default (cpi.followups.rules)."""

    __tablename__ = "alert_rules"

    indicator: Mapped[str] = mapped_column(String(32), primary_key=True)
    enabled: Mapped[bool] = mapped_column(default=True)
    # Alert when the answer is at or below this (scales); unused for fcr (alert on "no").
    threshold: Mapped[float | None] = mapped_column(Float)
    updated_by: Mapped[str | None] = mapped_column(String(254))
    updated_at: Mapped[datetime | None]


class AlertState(Base):
    """Which rules a respondent's answers for a period matched last time, so that a
    re-answer alerts only for a rule it newly matches."""

    __tablename__ = "alert_states"

    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True
    )
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    # Comma-separated indicator codes, e.g. "fcr,nps" ("" when nothing matches).
    matched: Mapped[str] = mapped_column(String(64), default="")


class FollowUp(Base):
    """A customer's worrying answer, for the account's owner to act on:
    open -> contacted -> resolved (with a note)."""

    __tablename__ = "followups"
    __table_args__ = (
        Index("ix_followups_respondent", "account_id", "contact_id", "period"),
        Index("ix_followups_status_due", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    period: Mapped[str] = mapped_column(String(7))
    # The rules that raised it, comma-separated indicator codes ("fcr,nps").
    reasons: Mapped[str] = mapped_column(String(64))
    # The answers as they were when it was raised or last re-answered (JSON object).
    answers: Mapped[str] = mapped_column(Text, default="{}")
    # The customer's comment (erased with the contact by `cpi contact forget`).
    comment: Mapped[str | None] = mapped_column(Text)
    # True when the contact had opted out, was erased or did not consent to their name:
    # the follow-up never shows who it was.
    anonymous: Mapped[bool] = mapped_column(default=True)
    # open | contacted | resolved
    status: Mapped[str] = mapped_column(String(16), default="open")
    owner_email: Mapped[str | None] = mapped_column(String(254), index=True)
    assignee_email: Mapped[str | None] = mapped_column(String(254), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    due_at: Mapped[datetime]
    contacted_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(254))
    resolution_note: Mapped[str | None] = mapped_column(Text)
    # Who is told (a staff user), and when: at once, or in their daily digest.
    notify_email: Mapped[str | None] = mapped_column(String(254))
    notified_at: Mapped[datetime | None]


class AlertPreference(Base):
    """A staff user's choice: an email per alert (default) or one daily digest."""

    __tablename__ = "alert_preferences"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    digest: Mapped[bool] = mapped_column(default=False)
    last_digest_on: Mapped[date | None]
