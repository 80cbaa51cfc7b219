from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cpi.db import Base

# The answer fields (cpi.scoring's one list) are named like the responses CSV columns
# and the form fields; the Response columns below carry the same names.
from cpi.scoring.catalogue import ANSWER_FIELDS as ANSWER_FIELDS
from cpi.timeutil import utcnow


class Survey(Base):
    """A questionnaire; the default one (code ``cpi-pulse``) is created by the first migration."""

    __tablename__ = "surveys"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))

    questions: Mapped[list[Question]] = relationship(
        back_populates="survey", order_by="Question.position"
    )


class Question(Base):
    """One question of a survey. The form is built from these rows, not from a class."""

    __tablename__ = "questions"
    __table_args__ = (UniqueConstraint("survey_id", "field"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"))
    position: Mapped[int]
    # The answer field it fills (see ANSWER_FIELDS), or "comment" / "name_consent".
    field: Mapped[str] = mapped_column(String(64))
    # choice | integer | decimal | scale | text | consent
    kind: Mapped[str] = mapped_column(String(16))
    label: Mapped[str] = mapped_column(Text)
    required: Mapped[bool] = mapped_column(default=False)
    min_value: Mapped[float | None] = mapped_column(Float)
    max_value: Mapped[float | None] = mapped_column(Float)
    # Custom questions (added by an admin, cpi/questions): kind yes_no | options |
    # scale | short_text, labels in every language, answers in CustomAnswer.
    custom: Mapped[bool] = mapped_column(default=False, server_default=false())
    # {"en": "...", "fr": "...", ...}; built-in questions are translated by the catalogue.
    texts: Mapped[dict[str, str] | None] = mapped_column(JSON)
    # [{"value": "1", "labels": {"en": "...", ...}}, ...] for kind "options"
    options: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    # A retired question leaves the form; its past answers and figures stay.
    retired_at: Mapped[datetime | None]

    survey: Mapped[Survey] = relationship(back_populates="questions")


class CustomAnswer(Base):
    """One answer to one custom question, beside its response (no column per question).

    Written in the same transaction as the response; replaced when the respondent
    answers again; kept when the question is retired.
    """

    __tablename__ = "custom_answers"
    __table_args__ = (UniqueConstraint("response_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id"), index=True)
    # yes/no, an option's value or a short text; a scale answer is a number.
    value_text: Mapped[str | None] = mapped_column(String(200))
    value_number: Mapped[int | None]


class Campaign(Base):
    """A survey sent to the contacts in a scope, about one period."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    period: Mapped[str] = mapped_column(String(7), index=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id"))
    segment: Mapped[str | None] = mapped_column(String(100))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    # An account manager's portfolio (accounts whose owner_email is this), with or
    # without a segment; chosen accounts are rows of CampaignAccount.
    owner_email: Mapped[str | None] = mapped_column(String(254))
    # draft -> sending -> open -> closed
    status: Mapped[str] = mapped_column(String(16), default="draft")
    closes_on: Mapped[date | None]
    closed_at: Mapped[datetime | None]
    remind_after_days: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    survey: Mapped[Survey] = relationship()
    invitations: Mapped[list[Invitation]] = relationship(back_populates="campaign")


class Invitation(Base):
    """One contact invited to one campaign; the token is its credential, stored only hashed."""

    __tablename__ = "invitations"
    __table_args__ = (UniqueConstraint("campaign_id", "contact_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Random salt from which, with the secret key, the token is derived again for
    # reminders (cpi/surveys/tokens.py); the token itself is never stored.
    token_salt: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    bounced_at: Mapped[datetime | None]
    reminders_sent: Mapped[int] = mapped_column(default=0)
    last_reminded_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]

    campaign: Mapped[Campaign] = relationship(back_populates="invitations")


class Response(Base):
    """One respondent's answers for one account and period (imported or from a campaign)."""

    __tablename__ = "responses"
    __table_args__ = (
        UniqueConstraint("account_id", "contact_id", "period"),
        # Covers the scoring GROUP BYs (cpi/scorecards/operations.py): index-only scans.
        Index(
            "ix_responses_period_account_answers",
            "period",
            "account_id",
            "quote_turnaround_days",
            "fcr",
            "contacts_total",
            "contacts_value_added",
            "csat",
            "nps",
            "ces",
        ),  # fmt: skip
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    invitation_id: Mapped[int | None] = mapped_column(
        ForeignKey("invitations.id", ondelete="SET NULL"), unique=True
    )
    period: Mapped[str] = mapped_column(String(7))
    # import | survey
    source: Mapped[str] = mapped_column(String(16), default="import")
    submitted_at: Mapped[datetime | None]
    updated_at: Mapped[datetime | None] = mapped_column(index=True)
    fcr: Mapped[str | None] = mapped_column(String(3))
    contacts_total: Mapped[int | None]
    contacts_value_added: Mapped[int | None]
    quote_turnaround_days: Mapped[float | None] = mapped_column(Float)
    csat: Mapped[int | None]
    nps: Mapped[int | None]
    ces: Mapped[int | None]
    comment: Mapped[str | None] = mapped_column(Text)
    name_consent: Mapped[bool] = mapped_column(default=False)


class CampaignAccount(Base):
    """An account chosen by hand for a campaign (the scope "chosen accounts")."""

    __tablename__ = "campaign_accounts"

    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True
    )
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )


class CampaignSchedule(Base):
    """A recurring campaign: every quarter, ``lead_days`` before its end, over a scope,
    closing at the quarter's end. The schedule tick creates and sends it (once per quarter)."""

    __tablename__ = "campaign_schedules"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id"))
    segment: Mapped[str | None] = mapped_column(String(100))
    owner_email: Mapped[str | None] = mapped_column(String(254))
    lead_days: Mapped[int]
    remind_after_days: Mapped[int | None]
    paused: Mapped[bool] = mapped_column(default=False)
    created_by: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Why the last tick made no campaign (no reachable contacts ...), for the page.
    last_note: Mapped[str | None] = mapped_column(Text)

    survey: Mapped[Survey] = relationship()


class ScheduledCampaign(Base):
    """The campaign a schedule made for a quarter: one per (schedule, period), so a tick
    that runs twice creates one campaign."""

    __tablename__ = "scheduled_campaigns"
    __table_args__ = (UniqueConstraint("schedule_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    schedule_id: Mapped[int] = mapped_column(
        ForeignKey("campaign_schedules.id", ondelete="CASCADE")
    )
    period: Mapped[str] = mapped_column(String(7))
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), unique=True
    )
