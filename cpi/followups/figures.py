"""Closed-loop figures: follow-ups opened and closed, the median time to close, and the
share closed within 2 business days, per account manager and in total.

Definitions (README, "Closing the loop"):
- a follow-up belongs to the quarter of the answers that raised it;
- *time to close* is calendar time from the alert to "resolved", in days;
- *closed within 2 business days*: resolved no later than the alert's time 2 weekdays on
  (cpi.rules.business_days); the share's denominator is the follow-ups whose outcome is
  known: resolved ones, and open ones already past those 2 business days.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from statistics import median

from sqlalchemy import select
from sqlalchemy.orm import Session

from cpi.accounts.models import Account
from cpi.followups.models import FollowUp
from cpi.rules.business_days import add_business_days
from cpi.timeutil import utcnow

WITHIN_BUSINESS_DAYS = 2


@dataclass(frozen=True)
class LoopFigures:
    label: str  # the account manager's email, or "All"
    opened: int
    closed: int
    median_days_to_close: float | None
    closed_in_time: int
    decided: int

    @property
    def share_in_time(self) -> float | None:
        """Percent of decided follow-ups closed within 2 business days."""
        return None if not self.decided else 100.0 * self.closed_in_time / self.decided


def loop_figures(
    label: str, spans: Iterable[tuple[datetime, datetime | None]], now: datetime
) -> LoopFigures:
    """Figures from (alerted at, resolved at or None) pairs."""
    opened = closed = in_time = decided = 0
    durations: list[float] = []
    for created, resolved in spans:
        opened += 1
        deadline = add_business_days(created, WITHIN_BUSINESS_DAYS)
        if resolved is not None:
            closed += 1
            decided += 1
            durations.append((resolved - created).total_seconds() / 86400)
            in_time += resolved <= deadline
        elif now > deadline:
            decided += 1
    return LoopFigures(
        label=label,
        opened=opened,
        closed=closed,
        median_days_to_close=median(durations) if durations else None,
        closed_in_time=in_time,
        decided=decided,
    )


def scope_figures(
    session: Session,
    *,
    period: str,
    owner_email: str | None = None,
    account_id: str | None = None,
    segment: str | None = None,
    now: datetime | None = None,
) -> tuple[LoopFigures, list[LoopFigures]]:
    """The total and the per-account-manager rows for a quarter (or year) and a scope.
    Account managers are the accounts' current owners."""
    now = now or utcnow()
    periods = [period] if "-" in period else [f"{period}-Q{q}" for q in range(1, 5)]
    query = (
        select(Account.owner_email, FollowUp.created_at, FollowUp.resolved_at)
        .join(Account, Account.id == FollowUp.account_id)
        .where(FollowUp.period.in_(periods))
    )
    if owner_email is not None:
        query = query.where(Account.owner_email == owner_email)
    if account_id is not None:
        query = query.where(Account.account_id == account_id)
    if segment is not None:
        query = query.where(Account.segment == segment)
    rows = list(session.execute(query))
    per_owner: dict[str, list[tuple[datetime, datetime | None]]] = {}
    for owner, created, resolved in rows:
        per_owner.setdefault(owner or "(no account manager)", []).append((created, resolved))
    total = loop_figures("All", ((r.created_at, r.resolved_at) for r in rows), now)
    return total, [loop_figures(owner, spans, now) for owner, spans in sorted(per_owner.items())]


CSV_HEADER = (
    "period", "account_manager", "opened", "closed", "median_days_to_close",
    "closed_within_2_business_days", "decided", "share_within_2_business_days",
)  # fmt: skip


def csv_row(period: str, figures: LoopFigures) -> list[str]:
    share = figures.share_in_time
    median_days = figures.median_days_to_close
    return [
        period,
        figures.label,
        str(figures.opened),
        str(figures.closed),
        "" if median_days is None else f"{median_days:.2f}",
        str(figures.closed_in_time),
        str(figures.decided),
        "" if share is None else f"{share:.1f}",
    ]
