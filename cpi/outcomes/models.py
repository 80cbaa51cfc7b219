from __future__ import annotations

from sqlalchemy import Float, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cpi.db import Base

# The outcome columns of the outcomes CSV and of this table, in file order.
OUTCOME_FIELDS: tuple[str, ...] = (
    "renewed",
    "churned",
    "revenue",
    "expansion_revenue",
    "referrals",
    "cost_to_serve",
)
# Yes/no outcomes: their group value is a rate (percent of account-quarters answered "yes").
BINARY_OUTCOMES: frozenset[str] = frozenset({"renewed", "churned"})


class Outcome(Base):
    """What happened with one account in one quarter (from the CRM / finance); blanks are
    "not known", never zero."""

    __tablename__ = "outcomes"
    __table_args__ = (UniqueConstraint("account_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    period: Mapped[str] = mapped_column(String(7), index=True)
    renewed: Mapped[bool | None]
    churned: Mapped[bool | None]
    revenue: Mapped[float | None] = mapped_column(Float)
    expansion_revenue: Mapped[float | None] = mapped_column(Float)
    referrals: Mapped[int | None]
    cost_to_serve: Mapped[float | None] = mapped_column(Float)
