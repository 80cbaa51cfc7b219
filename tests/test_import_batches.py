"""The responses import checks a batch a column at a time (cpi/imports/responses.py):
it must accept and reject exactly what the row-by-row checks (``read_rows`` +
``parse_responses``, the one definition of a valid row) accept and reject, with the
same messages on the same lines, whatever the batch size; and what it stores, answer
sums included, must be what those rows say. On SQLite and (CPI_TEST_DATABASE_URL)
PostgreSQL."""

from __future__ import annotations

import csv
import io
import os
from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from cpi.accounts.models import Account, Contact
from cpi.imports.csvfile import MAX_ERRORS_LISTED, WIDTH_ERROR, ImportFailed, read_rows
from cpi.imports.operations import import_csv
from cpi.imports.rows import COLUMNS, Context, RowErrors, parse_responses
from cpi.scoring import ANSWER_FIELDS
from cpi.surveys.models import Response
from cpi.surveys.sums import differences

HEADER = [
    "account_id", "contact_email", "period", "submitted_at", "fcr", "contacts_total",
    "contacts_value_added", "quote_turnaround_days", "csat", "nps", "ces", "comment",
]  # fmt: skip
STORED = ("a@x.example", "b@x.example")

# Valid cells; then a few rows of a file are spoilt (a bad cell, a blank line, a short
# row, a duplicate), so that batches both pass and fail the column-at-a-time checks.
NEW = tuple(f"new{i}@x.example" for i in range(6)) + ("New@X.Example",)
VALID = {
    "account_id": ["ACC-1", "ACC-2"],
    "contact_email": [*STORED, *NEW],
    "period": ["2026-Q1", "2026-Q2", "2025-Q4"],
    "submitted_at": ["", "", "2026-01-02T03:04:05Z", "2026-01-02 03:04:05+01:00"],
    "fcr": ["yes", "no", "na", "", " YES "],
    "contacts_total": ["", "0", "3", "5", "4.0"],
    "contacts_value_added": ["", "0", "2", "3"],
    "quote_turnaround_days": ["", "0.5", "2", "365", "2.50"],
    "csat": ["", "1", "4", "5"],
    "nps": ["", "0", "9", "10"],
    "ces": ["", "1", "7"],
    "comment": ["", "", "fine, thanks", 'two\nlines "quoted"'],
}
BAD = [
    ("account_id", "NOPE-9"), ("account_id", ""), ("contact_email", "not-an-email"),
    ("contact_email", ""), ("period", "2026"), ("period", "2026-Q5"), ("period", ""),
    ("submitted_at", "2026-02-30T00:00"), ("fcr", "maybe"), ("contacts_total", "-1"),
    ("contacts_value_added", "4.5"), ("contacts_value_added", "6"),
    ("quote_turnaround_days", "400"), ("csat", "6"), ("nps", "11"), ("ces", "0"),
    ("comment", "bad\x01character"),
]  # fmt: skip
SPOILERS = [("cell", column, value) for column, value in BAD] + [
    ("blank", "", ""),
    ("short", "", ""),
    ("duplicate", "", ""),
]
valid_row = st.fixed_dictionaries({name: st.sampled_from(cells) for name, cells in VALID.items()})


@st.composite
def files(draw: Any, max_rows: int = 25) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = draw(
        st.lists(
            valid_row,
            max_size=max_rows,
            unique_by=lambda r: (r["account_id"], r["contact_email"].lower(), r["period"]),
        )
    )
    spoilers = draw(st.lists(st.tuples(st.integers(0, 99), st.sampled_from(SPOILERS)), max_size=3))
    for at, (kind, column, value) in spoilers:
        if not rows:
            break
        index = at % len(rows)
        if kind == "cell":
            rows[index] = {**rows[index], column: value}
        elif kind == "blank":
            rows.insert(index, {})
        elif kind == "short":
            rows.insert(index, {"account_id": "ACC-1"})
        elif rows[index]:
            rows.insert(at % (len(rows) + 1), dict(rows[index]))
    return rows


SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def csv_bytes(rows: list[dict[str, str]], header: list[str] = HEADER) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        if not row:
            out.write("\n")
        elif len(row) < len(VALID):
            writer.writerow([row[name] for name in header if name in row])
        else:
            writer.writerow([row[name] for name in header])
    return out.getvalue().encode()


@pytest.fixture
def accounts(db: Session) -> Session:
    for account_id in ("ACC-1", "ACC-2"):
        account = Account(account_id=account_id, name=account_id, segment="Retail")
        db.add(account)
        db.flush()
        db.add_all(Contact(account_id=account.id, email=email) for email in STORED)
    db.commit()
    return db


def row_by_row(session: Session, data: bytes) -> tuple[list[str], int, list[dict[str, Any]]]:
    """(errors, their number, valid records) as the row-by-row checks see the file."""
    accounts = {
        account_id: (pk, segment)
        for pk, account_id, segment in session.execute(
            select(Account.id, Account.account_id, Account.segment)
        )
    }
    context = Context(accounts=accounts, segments={"Retail"})
    context.contacts = {
        (account_pk, email): contact_id
        for contact_id, account_pk, email in session.execute(
            select(Contact.id, Contact.account_id, Contact.email)
        )
    }
    errors: list[str] = []
    records = []
    rows = 0
    try:
        for line, row in read_rows(io.BytesIO(data), COLUMNS["responses"]):
            rows += 1
            try:
                if WIDTH_ERROR in row:
                    raise RowErrors([f"row: {row[WIDTH_ERROR]}"])
                records.append(parse_responses(row, line, context))
            except RowErrors as problem:
                errors.extend(f"line {line}: {message}" for message in problem.errors)
    except ImportFailed as failure:
        return failure.errors, failure.total, []
    if not errors and rows == 0:
        return ["line 2: file: the file has a header but no rows"], 1, []
    return errors, len(errors), records


def stored_rows(session: Session) -> set[tuple[Any, ...]]:
    r = Response
    return {
        tuple(row)
        for row in session.execute(
            select(r.account_id, Contact.email, r.period, r.submitted_at, r.comment,
                   *[getattr(r, name) for name in ANSWER_FIELDS]).join(Contact)
        )
    }  # fmt: skip


def expected_rows(records: list[dict[str, Any]]) -> set[tuple[Any, ...]]:
    return {
        (r["account_pk"], r["contact_email"], r["period"], r["submitted_at"], r["comment"],
         *[r[name] for name in ANSWER_FIELDS])
        for r in records
    }  # fmt: skip


@SETTINGS
@given(rows=files(), batch_rows=st.integers(1, 8))
def test_batches_accept_and_reject_what_rows_do(
    app: Flask, accounts: Session, rows: list[dict[str, str]], batch_rows: int
) -> None:
    session = accounts
    data = csv_bytes(rows)
    errors, total, records = row_by_row(session, data)
    session.rollback()
    try:
        try:
            summary = import_csv(session, "responses", io.BytesIO(data), batch_rows=batch_rows)
        except ImportFailed as failure:
            assert (failure.errors, failure.total) == (errors, total)
            return
        assert errors == []
        assert summary.rows == len(records)
        assert stored_rows(session) == expected_rows(records)
        assert differences(session) == []
    finally:
        session.rollback()


@SETTINGS
@given(rows=files(max_rows=12), batch_rows=st.integers(1, 4))
def test_reimport_is_idempotent(
    app: Flask, accounts: Session, rows: list[dict[str, str]], batch_rows: int
) -> None:
    session = accounts
    data = csv_bytes(rows)
    try:
        try:
            import_csv(session, "responses", io.BytesIO(data), batch_rows=batch_rows)
        except ImportFailed:
            return
        first = stored_rows(session)
        summary = import_csv(session, "responses", io.BytesIO(data), batch_rows=batch_rows)
        assert summary.created == 0
        assert stored_rows(session) == first
        assert differences(session) == []
    finally:
        session.rollback()


def test_duplicates_across_batches_name_the_first_line(app: Flask, accounts: Session) -> None:
    row = dict(zip(HEADER, ["ACC-1", "a@x.example", "2026-Q1", "", "yes", "3", "2", "1",
                            "4", "9", "6", ""], strict=True))  # fmt: skip
    other = {**row, "period": "2026-Q2"}
    data = csv_bytes([row, other, other, row, {}, row])
    with pytest.raises(ImportFailed) as failure:
        import_csv(accounts, "responses", io.BytesIO(data), batch_rows=2)
    assert failure.value.errors == [
        "line 4: row: duplicate of line 3",
        "line 5: row: duplicate of line 2",
        "line 7: row: duplicate of line 2",
    ]
    accounts.rollback()


def test_a_repeat_inside_a_later_batch_names_the_first_line_in_the_file(
    app: Flask, accounts: Session
) -> None:
    # Found by Hypothesis: lines 4 and 5 (one batch, checked row by row) repeat line 3
    # (the batch before). Both name line 3, as the row-by-row checks do; none is written.
    row = dict(zip(HEADER, ["ACC-1", "a@x.example", "2026-Q1", "", "yes", "3", "2", "1",
                            "4", "9", "6", ""], strict=True))  # fmt: skip
    other = {**row, "period": "2026-Q2"}
    data = csv_bytes([other, row, row, row])
    expected = row_by_row(accounts, data)[0]
    accounts.rollback()
    assert expected == ["line 4: row: duplicate of line 3", "line 5: row: duplicate of line 3"]
    for batch_rows in (1, 2, 3, 4):
        with pytest.raises(ImportFailed) as failure:
            import_csv(accounts, "responses", io.BytesIO(data), batch_rows=batch_rows)
        assert failure.value.errors == expected, batch_rows
        accounts.rollback()
        assert stored_rows(accounts) == set()


def test_the_error_list_is_capped_and_the_total_counts_all(app: Flask, accounts: Session) -> None:
    row = dict(zip(HEADER, ["ACC-1", "a@x.example", "2026-Q1", "", "yes", "3", "2", "1",
                            "4", "9", "6", ""], strict=True))  # fmt: skip
    bad = {**row, "fcr": "maybe"}
    rows = [row] + [bad] * 700 + [row] * 700  # 700 bad cells, 700 duplicates of line 2
    with pytest.raises(ImportFailed) as failure:
        import_csv(accounts, "responses", io.BytesIO(csv_bytes(rows)), batch_rows=300)
    assert failure.value.total == 1400
    assert len(failure.value.errors) == MAX_ERRORS_LISTED
    assert failure.value.errors[0] == "line 3: fcr: must be yes, no or na"
    assert failure.value.errors[700] == "line 703: row: duplicate of line 2"
    accounts.rollback()


PG_URL = os.environ.get("CPI_TEST_DATABASE_URL", "").startswith("postgresql")


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL only: its batches are merged in a thread")
def test_an_error_in_a_batch_merged_meanwhile_fails_the_import_and_keeps_nothing(
    app: Flask, accounts: Session
) -> None:
    # The server refuses one row of the second batch (a trigger, dropped by the rollback):
    # its merge runs while the import reads on; the error still ends the import, and the
    # connection stays usable for the rollback and what follows.
    psycopg = pytest.importorskip("psycopg")
    accounts.execute(text(
        "CREATE FUNCTION cpi_test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "RAISE EXCEPTION 'refused by the test'; END $$; "
        "CREATE TRIGGER cpi_test_refuse BEFORE INSERT ON responses FOR EACH ROW "
        "WHEN (NEW.comment = 'refuse me') EXECUTE FUNCTION cpi_test_refuse()"
    ))  # fmt: skip
    row = dict(zip(HEADER, ["ACC-1", "a@x.example", "2026-Q1", "", "yes", "3", "2", "1",
                            "4", "9", "6", ""], strict=True))  # fmt: skip
    rows = [{**row, "period": period} for period in ("2025-Q3", "2025-Q4", "2026-Q1")]
    rows.append({**row, "period": "2026-Q2", "comment": "refuse me"})
    with pytest.raises(psycopg.errors.RaiseException) as failure:
        import_csv(accounts, "responses", io.BytesIO(csv_bytes(rows)), batch_rows=2)
    assert "refused by the test" in str(failure.value)
    accounts.rollback()
    assert stored_rows(accounts) == set()
    # the reader failing while a batch's merge is running: the reader's error is told
    broken = csv_bytes(rows[:3]) + b"ACC-1,a@x.example,2026-Q2,,yes,3,2,1,4,9,6,\xff\n"
    with pytest.raises(ImportFailed) as failed:
        import_csv(accounts, "responses", io.BytesIO(broken), batch_rows=2)
    assert "line 5" in " ".join(failed.value.errors)
    accounts.rollback()
    assert stored_rows(accounts) == set()
