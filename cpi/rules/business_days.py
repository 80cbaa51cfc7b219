"""Business days: Monday to Friday (no holiday calendar). Follow-ups are due, and the
closed-loop figures count "closed within 2 business days", by this one rule."""

from __future__ import annotations

from datetime import datetime, timedelta


def add_business_days(start: datetime, days: int) -> datetime:
    """The same time of day ``days`` weekdays later (a Saturday + 1 is Monday)."""
    moment = start
    left = days
    while left > 0:
        moment += timedelta(days=1)
        if moment.weekday() < 5:
            left -= 1
    return moment
