"""Issue 7 item 39: property-based tests of the CSV parser (cpi/imports/csvfile.py + rows.py).

* Any bytes at all, for every import kind: the parser either yields rows that
  the row checks accept or reject with RowErrors, or fails with ImportFailed;
  never any other exception.
* Valid rows, written by Python's csv module in any column order and with any
  text (commas, quotes, non-Latin scripts), come back with the same values.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cpi.imports.csvfile import WIDTH_ERROR, ImportFailed, read_rows
from cpi.imports.rows import COLUMNS, KINDS, PARSERS, Context, RowErrors

ACCOUNTS = {"A-1": (1, "Retail"), "B-2": (2, "Healthcare")}
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def fresh_context() -> Context:
    return Context(accounts=dict(ACCOUNTS), segments={"Retail", "Healthcare"})


def parse_all(kind: str, data: bytes) -> list[dict[str, Any]]:
    """Run a file through the parser and the row checks, as the import does."""
    context = fresh_context()
    records = []
    for line, row in read_rows(io.BytesIO(data), COLUMNS[kind]):
        assert line >= 2
        if WIDTH_ERROR in row:
            continue
        try:
            records.append(PARSERS[kind](row, line, context))
        except RowErrors as problem:
            assert problem.errors
            assert all(": " in message for message in problem.errors)
    return records


def only_import_failed(kind: str, data: bytes) -> None:
    try:
        parse_all(kind, data)
    except ImportFailed as failure:
        assert failure.errors
        assert all(message.startswith("line ") for message in failure.errors)


@FUZZ
@given(kind=st.sampled_from(KINDS), data=st.binary(max_size=3000))
def test_arbitrary_bytes_never_crash(kind: str, data: bytes) -> None:
    only_import_failed(kind, data)


# Cells made of the characters that trouble CSV parsers, under a valid header.
TRICKY = st.lists(
    st.sampled_from(list(",\"'\r\n\t;\x00 \ufeffaé1-.@:Q") + ["2026-Q3", "yes", "999", "A-1"]),
    max_size=12,
).map("".join)


@FUZZ
@given(
    kind=st.sampled_from(KINDS),
    header_extra=st.lists(TRICKY, max_size=2),
    rows=st.lists(st.lists(TRICKY, max_size=9), max_size=8),
    separator=st.sampled_from([",", ";", "\t"]),
)
def test_tricky_cells_under_a_real_header_never_crash(
    kind: str, header_extra: list[str], rows: list[list[str]], separator: str
) -> None:
    header = list(COLUMNS[kind].known) + header_extra
    lines = [separator.join(header)] + [separator.join(cells) for cells in rows]
    only_import_failed(kind, "\n".join(lines).encode("utf-8", "surrogatepass"))


# -- round trip ---------------------------------------------------------------------

ONE_LINE_TEXT = (
    st.text(
        alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")),
        min_size=1,
        max_size=60,
    )
    .map(str.strip)
    .filter(bool)
)
# Addresses the one email rule (cpi/rules/addresses.py) accepts: a dot-atom local part,
# domain labels that neither start nor end with a hyphen, an ordinary top-level domain.
EMAIL = st.from_regex(
    r"\A[a-z0-9+_-]{1,10}(\.[a-z0-9+_-]{1,8}){0,2}@[a-z0-9]([a-z0-9-]{0,18}[a-z0-9])?"
    r"\.(com|org|net|io|de)\Z"
)
PERIOD = st.builds(lambda y, q: f"{y}-Q{q}", st.integers(2000, 2099), st.integers(1, 4))
BLANK = st.just("")


@st.composite
def response_rows(draw: st.DrawFn) -> dict[str, str]:
    total = draw(st.none() | st.integers(0, 999))
    added = draw(st.none() | st.integers(0, 999 if total is None else total))
    days = draw(st.none() | st.decimals(0, 365, places=2, allow_nan=False))
    return {
        "account_id": draw(st.sampled_from(sorted(ACCOUNTS))),
        "contact_email": draw(EMAIL),
        "period": draw(PERIOD),
        "fcr": draw(st.sampled_from(["", "yes", "no", "na"])),
        "contacts_total": "" if total is None else str(total),
        "contacts_value_added": "" if added is None else str(added),
        "quote_turnaround_days": "" if days is None else str(days),
        "csat": draw(BLANK | st.integers(1, 5).map(str)),
        "nps": draw(BLANK | st.integers(0, 10).map(str)),
        "ces": draw(BLANK | st.integers(1, 7).map(str)),
        "comment": draw(BLANK | ONE_LINE_TEXT),
    }


def write(rows: list[Mapping[str, str]], columns: list[str], bom: bool) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return ("\ufeff" if bom else "").encode() + buffer.getvalue().encode("utf-8")


def unique_by(rows: list[dict[str, str]], *keys: str) -> list[dict[str, str]]:
    seen: dict[tuple[str, ...], dict[str, str]] = {}
    for row in rows:
        seen.setdefault(tuple(row[k].lower() for k in keys), row)
    return list(seen.values())


@FUZZ
@given(
    rows=st.lists(response_rows(), min_size=1, max_size=15), order=st.randoms(), bom=st.booleans()
)
def test_valid_responses_round_trip(rows: list[dict[str, str]], order: Any, bom: bool) -> None:
    rows = unique_by(rows, "account_id", "contact_email", "period")
    columns = list(COLUMNS["responses"].known)
    order.shuffle(columns)
    records = parse_all("responses", write(rows, columns, bom))
    assert len(records) == len(rows)
    for row, record in zip(rows, records, strict=True):
        assert record["account_pk"] == ACCOUNTS[row["account_id"]][0]
        assert record["contact_email"] == row["contact_email"]
        assert record["period"] == row["period"]
        assert record["fcr"] == (row["fcr"] or None)
        for name in ("contacts_total", "contacts_value_added", "csat", "nps", "ces"):
            assert record[name] == (int(row[name]) if row[name] else None)
        days = row["quote_turnaround_days"]
        assert record["quote_turnaround_days"] == (float(days) if days else None)
        assert record["comment"] == (row["comment"] or None)


@st.composite
def contact_rows(draw: st.DrawFn) -> dict[str, str]:
    return {
        "account_id": draw(st.from_regex(r"\A[A-Z]{1,4}-[0-9]{1,5}\Z")),
        "account_name": draw(ONE_LINE_TEXT),
        "segment": draw(ONE_LINE_TEXT),
        "owner_email": draw(BLANK | EMAIL),
        "contact_email": draw(EMAIL),
        "contact_name": draw(BLANK | ONE_LINE_TEXT),
        "locale": draw(st.sampled_from(["", "en", "fr", "de-AT", "hu", "ru"])),
    }


@FUZZ
@given(rows=st.lists(contact_rows(), min_size=1, max_size=10), order=st.randoms())
def test_valid_contacts_round_trip(rows: list[dict[str, str]], order: Any) -> None:
    # One account per account_id (the import refuses an account described two ways).
    rows = unique_by(unique_by(rows, "account_id"), "account_id", "contact_email")
    columns = list(COLUMNS["contacts"].known)
    order.shuffle(columns)
    records = parse_all("contacts", write(rows, columns, bom=False))
    assert len(records) == len(rows)
    for row, record in zip(rows, records, strict=True):
        for name in ("account_id", "account_name", "segment", "contact_email"):
            assert record[name] == row[name]
        assert record["owner_email"] == (row["owner_email"] or None)
        assert record["contact_name"] == (row["contact_name"] or None)
        assert record["locale"] == (row["locale"].lower() or None)
