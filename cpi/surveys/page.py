"""What the survey page's header says: whose account, which quarter, until when.

Worded in the page's language with Babel ("Acme Industrial · July – September 2026"
in English, "juillet – septembre 2026" in French, "2026. július–szeptember" in
Hungarian); the quarter comes from the campaign's period.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

from babel.dates import format_date, format_interval
from sqlalchemy import select
from sqlalchemy.orm import Session

from cpi.accounts.models import Account
from cpi.surveys.models import Campaign
from cpi.surveys.responses import Visit


@dataclass(frozen=True)
class SurveyHeader:
    account_name: str
    period_label: str
    closes_label: str | None


def period_span(period: str) -> tuple[date, date] | None:
    """First and last day of ``2026-Q3`` (a quarter) or ``2026`` (a year)."""
    year_text, _, quarter_text = period.strip().upper().partition("-Q")
    if not year_text.isdigit() or len(quarter_text) > 1 or quarter_text not in "1234":
        return None
    year = int(year_text)
    if not 1 <= year <= 9999:
        return None
    if not quarter_text:
        return date(year, 1, 1), date(year, 12, 31)
    last_month = 3 * int(quarter_text)
    last_day = calendar.monthrange(year, last_month)[1]
    return date(year, last_month - 2, 1), date(year, last_month, last_day)


def period_label(period: str, locale: str) -> str:
    """``2026-Q3`` -> "July – September 2026" in ``locale``; the code itself if odd."""
    span = period_span(period)
    if span is None:
        return period
    if span[0].month == 1 and span[1].month == 12:
        return format_date(span[0], "y", locale=locale)
    return format_interval(span[0], span[1], "yMMMM", locale=locale)


def survey_header(session: Session, visit: Visit, locale: str) -> SurveyHeader:
    row = session.execute(
        select(Account.name, Campaign.closes_on)
        .select_from(Campaign)
        .join(Account, Account.id == visit.account_id)
        .where(Campaign.id == visit.campaign_id)
    ).first()
    name, closes_on = (row.name, row.closes_on) if row is not None else ("", None)
    return SurveyHeader(
        account_name=name,
        period_label=period_label(visit.period, locale),
        closes_label=format_date(closes_on, "long", locale=locale) if closes_on else None,
    )
