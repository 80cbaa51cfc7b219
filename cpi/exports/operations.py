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

from cpi.scorecards import display
from cpi.scorecards.disclosure import Disclosure
from cpi.scorecards.operations import ScoringData, score_accounts
from cpi.scoring import IndicatorResult

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


def csv_lines(rows: Iterable[list[str]]) -> Iterator[str]:
    """The CSV text line by line (a streamed download), header first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    for row in rows:
        writer.writerow(row)
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
