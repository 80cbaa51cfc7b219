from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Float, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cpi.db import Base
from cpi.timeutil import utcnow

KINDS: tuple[str, ...] = ("training", "coaching", "content", "process", "tool")
# Cost lines: "fees" and "materials" are amounts; "hours" is participants' time
# (hours x hourly cost); "other" is an amount.
COST_KINDS: tuple[str, ...] = ("fees", "materials", "hours", "other")
# Case-study returns. "hours_avoided" (downtime or escalation) is hours x hourly rate.
CASE_STUDY_KINDS: tuple[str, ...] = (
    "new_revenue",
    "direct_savings",
    "hours_avoided",
    "giveaways_avoided",
)
CASE_STUDY_STATUSES: tuple[str, ...] = ("pending", "approved", "rejected")


class Initiative(Base):
    """An enablement initiative: a course, coaching programme, content, process or tool.

    ``indicators`` is a comma-separated list of catalogue codes (in catalogue order).
    ``benefit_outcome`` / ``benefit_value``: when set, the ROI counts the measured
    difference in differences of that outcome x that value (e.g. "renewed" x revenue
    per retained account); None leaves measured benefits out.
    """

    __tablename__ = "initiatives"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    description: Mapped[str | None] = mapped_column(Text)
    start_date: Mapped[date]
    end_date: Mapped[date]
    indicators: Mapped[str] = mapped_column(String(200))
    benefit_outcome: Mapped[str | None] = mapped_column(String(32))
    benefit_value: Mapped[float | None] = mapped_column(Float)
    created_by: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    participants: Mapped[list[InitiativeParticipant]] = relationship(
        back_populates="initiative",
        cascade="all, delete-orphan",
        order_by="InitiativeParticipant.email",
    )
    costs: Mapped[list[InitiativeCost]] = relationship(
        back_populates="initiative", cascade="all, delete-orphan", order_by="InitiativeCost.id"
    )
    case_studies: Mapped[list[CaseStudy]] = relationship(
        back_populates="initiative", cascade="all, delete-orphan", order_by="CaseStudy.id"
    )

    @property
    def indicator_codes(self) -> list[str]:
        return [code for code in self.indicators.split(",") if code]

    @property
    def participant_emails(self) -> list[str]:
        return [p.email for p in self.participants]


class InitiativeParticipant(Base):
    """An account manager taking part (by email, lower case): their accounts are treated."""

    __tablename__ = "initiative_participants"
    __table_args__ = (UniqueConstraint("initiative_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    initiative_id: Mapped[int] = mapped_column(
        ForeignKey("initiatives.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(254), index=True)

    initiative: Mapped[Initiative] = relationship(back_populates="participants")


class InitiativeCost(Base):
    """One cost line. ``amount`` for fees, materials and other; ``hours`` x
    ``hourly_cost`` for participants' time (``total`` either way)."""

    __tablename__ = "initiative_costs"

    id: Mapped[int] = mapped_column(primary_key=True)
    initiative_id: Mapped[int] = mapped_column(
        ForeignKey("initiatives.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    description: Mapped[str | None] = mapped_column(String(200))
    amount: Mapped[float | None] = mapped_column(Float)
    hours: Mapped[float | None] = mapped_column(Float)
    hourly_cost: Mapped[float | None] = mapped_column(Float)

    initiative: Mapped[Initiative] = relationship(back_populates="costs")

    @property
    def total(self) -> float:
        if self.kind == "hours":
            return (self.hours or 0.0) * (self.hourly_cost or 0.0)
        return self.amount or 0.0


class CaseStudy(Base):
    """A quantified return recorded by a participant (or enablement on their behalf).

    Only ``approved`` ones count as benefits. ``amount`` is the return in money; for
    ``hours_avoided`` it is ``hours`` x ``hourly_rate`` (both kept to show the line).
    """

    __tablename__ = "case_studies"

    id: Mapped[int] = mapped_column(primary_key=True)
    initiative_id: Mapped[int] = mapped_column(
        ForeignKey("initiatives.id", ondelete="CASCADE"), index=True
    )
    participant_email: Mapped[str] = mapped_column(String(254))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    happened_on: Mapped[date]
    kind: Mapped[str] = mapped_column(String(32))
    amount: Mapped[float] = mapped_column(Float)
    hours: Mapped[float | None] = mapped_column(Float)
    hourly_rate: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    recorded_by: Mapped[str | None] = mapped_column(String(254))
    reviewed_by: Mapped[str | None] = mapped_column(String(254))
    reviewed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    initiative: Mapped[Initiative] = relationship(back_populates="case_studies")
