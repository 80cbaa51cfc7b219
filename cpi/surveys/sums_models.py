"""Answer sums kept on write: one row of additive sums per account and quarter, and
the quote turnaround days as a histogram, so medians and their intervals stay exact.

The columns are the integer sums of ``cpi.scoring.AnswerStats``; every write that
changes answers adds its delta in the same transaction (cpi/surveys/sums.py). The
histogram is packed in the same row (``quote_days``, ``cpi.scoring.columns.
pack_histogram``): scoring reads a quarter's 2,000 rows, not ~35,000 entries.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, LargeBinary, String
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
    # (days, count) entries, ascending by days, counts > 0; NULL: none. Changed by
    # read-modify-write under the row's lock (cpi/surveys/sums.py, apply_deltas).
    quote_days: Mapped[bytes | None] = mapped_column(LargeBinary)
