"""Which quarters a new campaign may ask about, and a quarter's calendar dates.

A campaign asks about the quarter under way or the one just ended (customers still
remember it); an older quarter is closed (its scorecards are out) and a later one
has not started. The app's campaign form and the recurring schedules use this rule.
"""

from __future__ import annotations

from datetime import date, timedelta

from flask_babel import gettext

from cpi.scoring import Period


def quarter_of(day: date) -> Period:
    return Period(day.year, (day.month - 1) // 3 + 1)


def quarter_start(period: Period) -> date:
    assert period.quarter is not None
    return date(period.year, 3 * period.quarter - 2, 1)


def quarter_end(period: Period) -> date:
    assert period.quarter is not None
    if period.quarter == 4:
        return date(period.year, 12, 31)
    return date(period.year, 3 * period.quarter + 1, 1) - timedelta(days=1)


def askable_periods(today: date) -> tuple[Period, Period]:
    """The quarter just ended and the quarter under way."""
    current = quarter_of(today)
    return current.previous(), current


def period_problem(period: Period, today: date) -> str | None:
    """Why a new campaign may not ask about ``period`` (a quarter), or None; in the
    reader's language."""
    previous, current = askable_periods(today)
    if period < previous:
        return gettext(
            "%(period)s is closed; a campaign asks about %(previous)s or %(current)s",
            period=period, previous=previous, current=current,
        )  # fmt: skip
    if period > current:
        return gettext(
            "%(period)s has not started; a campaign asks about %(previous)s or %(current)s",
            period=period, previous=previous, current=current,
        )  # fmt: skip
    return None
