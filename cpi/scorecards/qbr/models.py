"""What an account manager chose for an account's QBR, and the customer's branding."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cpi.db import Base
from cpi.timeutil import utcnow


class QbrPlan(Base):
    """One account's QBR for one period: edition, language, comments, actions.

    ``chosen_comments`` and ``hidden_comments`` hold response ids; a hidden comment
    never prints, a chosen one prints in the customer edition (which prints no other).
    """

    __tablename__ = "qbr_plans"
    __table_args__ = (UniqueConstraint("account_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    period: Mapped[str] = mapped_column(String(7))
    edition: Mapped[str] = mapped_column(String(16), default="customer")
    language: Mapped[str | None] = mapped_column(String(8))  # None: the account's
    page_size: Mapped[str | None] = mapped_column(String(8))  # None: from the language
    show_internal: Mapped[bool] = mapped_column(Boolean, default=False)
    actions: Mapped[list[Any]] = mapped_column(JSON, default=list)
    chosen_comments: Mapped[list[Any]] = mapped_column(JSON, default=list)
    hidden_comments: Mapped[list[Any]] = mapped_column(JSON, default=list)
    updated_by: Mapped[str | None] = mapped_column(String(254))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class AccountBranding(Base):
    """An account's language for customer documents and its logo (checked on upload)."""

    __tablename__ = "account_branding"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), unique=True
    )
    locale: Mapped[str | None] = mapped_column(String(8))
    logo: Mapped[bytes | None] = mapped_column(LargeBinary)
    logo_type: Mapped[str | None] = mapped_column(String(32))  # image/png or image/jpeg
    updated_by: Mapped[str | None] = mapped_column(String(254))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
