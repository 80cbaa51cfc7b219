from __future__ import annotations

from sqlalchemy import Float, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cpi.db import Base


def kpi_scope_key(account_id: str | None, segment: str | None) -> str:
    """One string per KPI scope, so that a unique constraint can hold (NULLs never collide)."""
    if account_id:
        return f"account:{account_id}"
    if segment:
        return f"segment:{segment}"
    return "company"


class KpiFigure(Base):
    """An internal KPI for one indicator, period and scope (account, segment or company)."""

    __tablename__ = "kpi_figures"
    __table_args__ = (UniqueConstraint("indicator", "period", "scope_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    indicator: Mapped[str] = mapped_column(String(32))
    period: Mapped[str] = mapped_column(String(7), index=True)
    scope_key: Mapped[str] = mapped_column(String(180))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    segment: Mapped[str | None] = mapped_column(String(100))
    value: Mapped[float] = mapped_column(Float)
    numerator: Mapped[float | None] = mapped_column(Float)
    denominator: Mapped[float | None] = mapped_column(Float)


class Target(Base):
    """A target per indicator and period, company-wide (segment_key '') or per segment."""

    __tablename__ = "targets"
    __table_args__ = (UniqueConstraint("indicator", "period", "segment_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    indicator: Mapped[str] = mapped_column(String(32))
    period: Mapped[str] = mapped_column(String(7), index=True)
    segment_key: Mapped[str] = mapped_column(String(100), default="")
    target: Mapped[float] = mapped_column(Float)
    tolerance: Mapped[float | None] = mapped_column(Float)
