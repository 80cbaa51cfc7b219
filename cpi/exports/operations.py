"""CSV exports of scorecards, safe to open in a spreadsheet.

Text cells that a spreadsheet would run as a formula (starting with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return) get a leading apostrophe (OWASP "CSV
injection"). Numbers are written by us and stay numbers. Figures from fewer than
``min_n`` answers are left empty with the status ``insufficient`` (privacy rule).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cpi.accounts.models import Account, Contact
from cpi.scorecards import display
from cpi.scorecards.disclosure import Disclosure
from cpi.scorecards.operations import AccountInfo, ScoringData, score_accounts
from cpi.scoring import IndicatorResult, Period
from cpi.surveys.models import Response

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
HEADER = (
    "account_id", "account_name", "segment", "owner_email", "period", "indicator",
    "n", "value", "ci_low", "ci_high", "kpi", "gap", "gap_significant", "target", "status",
)  # fmt: skip


def neutralise(text: str | None) -> str:
    if not text:
        return ""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _figure(code: str, value: float | None) -> str:
    return "" if value is None else display.number(code, value, unit=False)


def indicator_cells(result: IndicatorResult) -> list[str]:
    hidden = display.hidden(result)
    shown = (None if hidden else v for v in (result.value, result.ci_low, result.ci_high))
    value, low, high = shown
    return [
        result.code,
        str(result.n),
        _figure(result.code, value),
        _figure(result.code, low),
        _figure(result.code, high),
        _figure(result.code, result.kpi),
        "" if hidden else _figure(result.code, result.gap),
        "" if hidden or result.gap is None else ("yes" if result.gap_significant else "no"),
        _figure(result.code, result.target),
        result.status or "",
    ]


def scorecard_rows(
    data: ScoringData, account_ids: Iterable[str], *, min_n: int, disclosure: Disclosure
) -> Iterator[list[str]]:
    ids = sorted(account_ids)
    for card in map(disclosure.card, score_accounts(data, ids, min_n=min_n)):
        account = data.accounts[card.scope_id or ""]
        text = [account.account_id, account.name, account.segment, account.owner_email or ""]
        for result in card.indicators:
            yield [neutralise(cell) for cell in text] + [card.period] + indicator_cells(result)


RESPONSE_HEADER = (
    "account_id", "account_name", "segment", "period", "fcr", "contacts_total",
    "contacts_value_added", "quote_turnaround_days", "csat", "nps", "ces", "comment",
    "respondent_name",
)  # fmt: skip


def load_accounts(session: Session) -> list[AccountInfo]:
    return [
        AccountInfo(*row)
        for row in session.execute(
            select(Account.account_id, Account.name, Account.segment, Account.owner_email)
        )
    ]


def response_rows(
    session: Session, account_ids: Iterable[str], period: Period | str, *, min_n: int
) -> Iterator[list[str]]:
    """The period's responses of these accounts, anonymous: no email, no time, a name only
    when the respondent agreed and was not erased. Accounts with fewer than ``min_n``
    answers in the period are left out (their rows could be told apart)."""
    quarters = [str(q) for q in Period.parse(period).quarters()]
    ids = list(account_ids)
    enough = (
        select(Response.account_id)
        .where(Response.period.in_(quarters))
        .group_by(Response.account_id)
        .having(func.count() >= min_n)
    )
    r = Response
    statement = (
        select(Account.account_id, Account.name, Account.segment, r.period, r.fcr,
               r.contacts_total, r.contacts_value_added, r.quote_turnaround_days, r.csat,
               r.nps, r.ces, r.comment, r.name_consent, Contact.name, Contact.erased_at)
        .join(Account, Account.id == r.account_id)
        .outerjoin(Contact, Contact.id == r.contact_id)
        .where(r.period.in_(quarters), r.account_id.in_(enough))
        .order_by(Account.account_id, r.period, r.id)
    )  # fmt: skip
    for chunk in _chunks(ids, 500):
        for row in session.execute(statement.where(Account.account_id.in_(chunk))):
            *fields, consent, name, erased = row
            account_id, account_name, segment = (neutralise(text) for text in fields[:3])
            answers = ["" if v is None else _plain(v) for v in fields[3:11]]
            comment = neutralise(fields[11])
            named = name if consent and name and erased is None else ""
            yield [account_id, account_name, segment, *answers, comment, neutralise(named)]


def _plain(value: object) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return neutralise(str(value))


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def csv_lines(rows: Iterable[list[str]], header: Iterable[str] = HEADER) -> Iterator[str]:
    """The CSV text line by line (a streamed download), header first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(row)
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
