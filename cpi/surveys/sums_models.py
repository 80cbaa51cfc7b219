"""Answer sums kept on write: one row of additive sums per account and quarter, and
the quote turnaround days as a histogram, so medians and their intervals stay exact.

The columns are the integer sums of ``cpi.scoring.AnswerStats``; every write that
changes answers adds its delta in the same transaction (cpi/surveys/sums.py).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Float, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from cpi.db import Base


class AnswerSums(Base):
    __tablename__ = "answer_sums"

    # period first: scoring reads a few quarters for all accounts.
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    responses: Mapped[int] = mapped_column(BigInteger, default=0)
    fcr_yes: Mapped[int] = mapped_column(BigInteger, default=0)
    fcr_no: Mapped[int] = mapped_column(BigInteger, default=0)
    calls_n: Mapped[int] = mapped_column(BigInteger, default=0)
    calls_sum: Mapped[int] = mapped_column(BigInteger, default=0)
    calls_sumsq: Mapped[int] = mapped_column(BigInteger, default=0)
    share_n: Mapped[int] = mapped_column(BigInteger, default=0)
    share_y: Mapped[int] = mapped_column(BigInteger, default=0)
    share_x: Mapped[int] = mapped_column(BigInteger, default=0)
    share_yy: Mapped[int] = mapped_column(BigInteger, default=0)
    share_xx: Mapped[int] = mapped_column(BigInteger, default=0)
    share_xy: Mapped[int] = mapped_column(BigInteger, default=0)
    csat_n: Mapped[int] = mapped_column(BigInteger, default=0)
    csat_top2: Mapped[int] = mapped_column(BigInteger, default=0)
    nps_n: Mapped[int] = mapped_column(BigInteger, default=0)
    nps_promoters: Mapped[int] = mapped_column(BigInteger, default=0)
    nps_detractors: Mapped[int] = mapped_column(BigInteger, default=0)
    ces_n: Mapped[int] = mapped_column(BigInteger, default=0)
    ces_sum: Mapped[int] = mapped_column(BigInteger, default=0)
    ces_sumsq: Mapped[int] = mapped_column(BigInteger, default=0)


class AnswerQuoteDays(Base):
    """How many answers of an account and quarter gave each quote turnaround (days)."""

    __tablename__ = "answer_quote_days"

    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    days: Mapped[float] = mapped_column(Float, primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger)
