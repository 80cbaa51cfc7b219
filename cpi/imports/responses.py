"""The responses import, a batch of rows at a time (a million rows in seconds).

A batch's cells are checked a column at a time: each distinct cell of a column is
parsed once by the same rules as a single row (``validate_answers``, the field
parsers) and the rest are dictionary look-ups. A batch with any problem at all
(a bad cell, a blank or short row) is checked again row by row by
``parse_responses``, the one definition of a valid row, which names every problem;
so the errors are the row-by-row import's, line for line.

Rows go in as tuples (SQLite: one prepared upsert; PostgreSQL: ``COPY`` into a
temporary table and one ``INSERT ... SELECT ... ON CONFLICT``), in the caller's
transaction. On PostgreSQL the server's ``INSERT ... SELECT`` of a batch runs while
this process reads and checks the next one: the statement is waited for in a thread
(the driver waits without holding the GIL), and joined before the connection is used
again, so the connection still runs one statement at a time.

Duplicates are found at the end, across the whole file, from one integer per row
(contact and quarter), 12 bytes a row; a batch holding one is not written. The answer
sums of the accounts and quarters the file touched are then recomputed from the
answers, with the queries of ``cpi sums check``.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any, BinaryIO

import numpy as np
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cpi.accounts.models import Contact
from cpi.db import BackgroundStatement, dialect_insert
from cpi.i18n.errors import field_message
from cpi.imports import fields
from cpi.imports.csvfile import (
    MAX_ERRORS_LISTED,
    PLACES,
    WIDTH_ERROR,
    Batch,
    ImportFailed,
    ImportSummary,
    line_message,
    place_message,
    read_batches,
    row_cells,
)
from cpi.imports.fields import FieldError
from cpi.imports.rows import COLUMNS, Context, RowErrors, duplicate_message, parse_responses
from cpi.scoring import ANSWER_FIELDS, validate_answers
from cpi.surveys import sums
from cpi.surveys.models import Response
from cpi.timeutil import utcnow

BATCH_ROWS = 10_000
CACHE_LIMIT = 200_000  # distinct cells remembered per column
PERIODS_PER_CONTACT = 1 << 16  # a row's key: contact id * this + the quarter's number

ANSWER_COLUMNS = (*ANSWER_FIELDS, "comment", "submitted_at")
RESPONSE_COLUMNS = (
    "account_id", "contact_id", "period", "source", "updated_at", "name_consent",
    *ANSWER_COLUMNS,
)  # fmt: skip
_BAD = object()  # a cell that does not parse


class _Parsed(dict[Any, Any]):
    """cell -> parsed value (``_BAD`` if it does not parse), each distinct cell parsed
    once; ``map(parsed.__getitem__, column)`` checks a column at C speed."""

    def __init__(self, parse: Callable[[Any], Any]) -> None:
        super().__init__()
        self.parse = parse

    def __missing__(self, cell: Any) -> Any:
        try:
            value = self.parse(cell)
        except FieldError:
            value = _BAD
        if len(self) >= CACHE_LIMIT:
            self.clear()
        self[cell] = value
        return value


def _answer(name: str) -> Callable[[str], Any]:
    def parse(cell: str) -> Any:
        answers, errors = validate_answers({name: cell})
        return _BAD if errors else getattr(answers, name)

    return parse


def _contacts_pair(cells: tuple[str, str]) -> Any:
    # contacts_value_added may not exceed contacts_total: the two are checked together.
    answers, errors = validate_answers(
        {"contacts_total": cells[0], "contacts_value_added": cells[1]}
    )
    return _BAD if errors else (answers.contacts_total, answers.contacts_value_added)


@dataclass
class _Columns:
    """Valid rows as columns."""

    lines: list[int]
    account_pks: list[int]
    emails: list[str]
    periods: list[str]
    answers: dict[str, list[Any]]  # ANSWER_COLUMNS -> values


class _NothingSeen(dict[str, int]):
    """``Context.seen`` for rows checked one by one in a batch: it remembers no row, so
    ``parse_responses`` finds no duplicate; ``ResponsesImport.finish`` finds them all
    from the keys of every batch and names the first line in the file."""

    def setdefault(self, key: str, line: int) -> int:  # type: ignore[override]
        return line


@dataclass
class _Errors:
    listed: list[tuple[int, str]] = field(default_factory=list)
    total: int = 0

    def add(self, line: int, messages: list[str]) -> None:
        self.total += len(messages)
        if len(self.listed) < MAX_ERRORS_LISTED:
            self.listed.extend((line, message) for message in messages)


class ResponsesImport:
    """One file's import: check each batch, write it while no row failed, and at the
    end look for duplicates across batches and recompute the answer sums."""

    def __init__(self, session: Session, context: Context) -> None:
        self.session = session
        self.connection = session.connection()
        self.dialect = self.connection.dialect
        self.context = context
        self.account_pks = {account_id: pk for account_id, (pk, _) in context.accounts.items()}
        self.periods = _Parsed(lambda cell: fields.period("period", cell, quarter_only=True))
        self.answers = {name: _Parsed(_answer(name)) for name in ANSWER_FIELDS}
        self.contacts_pairs = _Parsed(_contacts_pair)
        self.emails = _Parsed(lambda cell: fields.email("contact_email", cell, required=True))
        self.quarter_numbers: dict[str, int] = {}
        self.keys: list[Any] = []  # per batch: int64 key and line of each valid row
        self.touched: set[tuple[int, str]] = set()
        self.errors = _Errors()
        self.rows = 0
        self.repeated = False  # a row repeats another: the import will fail
        self.staging = False
        self._merging: BackgroundStatement | None = None  # PostgreSQL: a batch's merge, running
        table = Response.__table__
        self.processors = {
            name: processor
            for name in RESPONSE_COLUMNS
            if (processor := table.c[name].type._cached_bind_processor(self.dialect)) is not None
        }

    # -- checking ----------------------------------------------------------------------

    def add(self, batch: Batch) -> None:
        columns = self._checked(batch)
        contact_ids = None if columns is None else self._contact_ids(columns, check=True)
        if columns is not None and contact_ids is not None:
            self.rows += len(batch.rows)
            self._accept(columns, contact_ids)
            return
        # Some problem: row by row, which names each one.
        columns = self._checked_row_by_row(batch)
        contact_ids = self._contact_ids(columns, check=False)
        assert contact_ids is not None
        self._accept(columns, contact_ids)

    def _accept(self, columns: _Columns, contact_ids: list[int]) -> None:
        """Keep the rows' keys for ``finish``; write them while the import can succeed.
        A row repeating another (in this batch or an earlier one) is found and named by
        ``finish``, with the first line in the file; a batch holding one is not written
        (one statement may not write a row twice), nor any batch after it."""
        if not columns.lines:
            return
        keys = self._keys(contact_ids, columns.periods)
        self.keys.append((keys, np.array(columns.lines, dtype=np.int64)))
        self.repeated = self.repeated or len(np.unique(keys)) < len(keys)
        if not self.errors.total and not self.repeated:
            self._write(columns, contact_ids)

    def _checked(self, batch: Batch) -> _Columns | None:
        """The batch as columns if every row is whole and every cell valid, else None."""
        names = batch.names
        if set(map(len, batch.rows)) != {len(names)}:
            return None
        raw = dict(zip(names, zip(*batch.rows, strict=True), strict=True))
        cells = {name: list(map(str.strip, column)) for name, column in raw.items()}
        account_pks = list(map(self.account_pks.get, cells["account_id"]))
        if None in account_pks:
            return None  # an unknown account, or a blank line
        periods = list(map(self.periods.__getitem__, cells["period"]))
        if _BAD in periods:
            return None
        answers: dict[str, list[Any]] = {}
        blank = [""] * len(batch.rows)
        for name in ("fcr", "quote_turnaround_days", "csat", "nps", "ces"):
            answers[name] = list(map(self.answers[name].__getitem__, cells.get(name, blank)))
            if _BAD in answers[name]:
                return None
        totals = cells.get("contacts_total", blank)
        pairs = zip(totals, cells.get("contacts_value_added", blank), strict=True)
        contacts = list(map(self.contacts_pairs.__getitem__, pairs))
        if _BAD in contacts:
            return None
        answers["contacts_total"] = [pair[0] for pair in contacts]
        answers["contacts_value_added"] = [pair[1] for pair in contacts]
        try:
            answers["submitted_at"] = _optional(fields.timestamp, "submitted_at", cells)
            answers["comment"] = _optional(fields.comment, "comment", cells)
        except FieldError:
            return None
        return _Columns(batch.lines, account_pks, cells["contact_email"], periods, answers)

    def _checked_row_by_row(self, batch: Batch) -> _Columns:
        """Every row through ``parse_responses``: the valid ones as columns, the
        problems of the others listed."""
        # duplicates are found by ``finish`` over the whole file, not here
        self.context.seen = _NothingSeen()
        records, lines = [], []
        for line, cells in zip(batch.lines, batch.rows, strict=True):
            row = row_cells(cells, batch.names)
            if row is None:
                continue  # a blank line
            self.rows += 1
            try:
                if WIDTH_ERROR in row:
                    raise RowErrors([field_message(PLACES["row"], row[WIDTH_ERROR])])
                records.append(parse_responses(row, line, self.context))
                lines.append(line)
            except RowErrors as problem:
                self.errors.add(line, problem.errors)
        return _Columns(
            lines,
            [r["account_pk"] for r in records],
            [r["contact_email"] for r in records],
            [r["period"] for r in records],
            {name: [r[name] for r in records] for name in ANSWER_COLUMNS},
        )

    def _keys(self, contact_ids: list[int], periods: list[str]) -> Any:
        numbers = self.quarter_numbers
        quarter = [numbers.setdefault(p, len(numbers)) for p in periods]
        return np.array(contact_ids, dtype=np.int64) * PERIODS_PER_CONTACT + np.array(
            quarter, dtype=np.int64
        )

    def finish(self) -> None:
        """Duplicates across batches, then the answer sums; raises ImportFailed."""
        self._duplicates()
        if self.errors.total:
            listed = self.errors.listed[:MAX_ERRORS_LISTED]  # in the file's order
            raise ImportFailed(
                [line_message(line, message) for line, message in listed], total=self.errors.total
            )
        if self.rows == 0:
            raise ImportFailed([place_message(2, "file", _l("the file has a header but no rows"))])
        sums.recompute(self.session, self.touched)

    def _duplicates(self) -> None:
        if not self.keys:
            return
        keys = np.concatenate([k for k, _ in self.keys])
        lines = np.concatenate([n for _, n in self.keys])
        self.keys = []
        order = np.argsort(keys, kind="stable")  # equal keys stay in the file's order
        keys, lines = keys[order], lines[order]
        starts = np.r_[True, keys[1:] != keys[:-1]]
        if starts.all():
            return
        first_line = lines[starts][np.cumsum(starts) - 1]
        repeated = np.flatnonzero(~starts)
        found = sorted(zip(lines[repeated].tolist(), first_line[repeated].tolist(), strict=True))
        duplicates = _Errors()
        for line, first in found:
            duplicates.add(line, [duplicate_message(first)])
        self.errors.listed = list(
            heapq.merge(self.errors.listed, duplicates.listed, key=lambda error: error[0])
        )
        self.errors.total += duplicates.total

    # -- writing -----------------------------------------------------------------------

    def _contact_ids(self, columns: _Columns, *, check: bool) -> list[int] | None:
        """Contact ids, creating contacts for addresses not stored yet (answers
        collected elsewhere may come from people not, or not yet, in our contacts).
        ``check``: the addresses of those are checked here (None: one is not valid);
        the stored contacts' were checked when stored."""
        known = self.context.contacts
        wanted = list(zip(columns.account_pks, columns.emails, strict=True))
        ids = list(map(known.get, wanted))
        if None not in ids:
            return ids  # type: ignore[return-value]
        missing = {key for key, found in zip(wanted, ids, strict=True) if found is None}
        if check:
            valid = {email: self.emails[email] for _, email in missing}
            if _BAD in valid.values():
                return None
            if any(email != address for email, address in valid.items()):
                pairs = zip(columns.emails, ids, strict=True)
                columns.emails = [valid[e] if found is None else e for e, found in pairs]
                wanted = list(zip(columns.account_pks, columns.emails, strict=True))
                missing = {(pk, valid[email]) for pk, email in missing} - known.keys()
        if missing:
            self.wait()
            insert = dialect_insert(self.dialect.name)
            self.connection.execute(
                insert(Contact).on_conflict_do_nothing(index_elements=["account_id", "email"]),
                [{"account_id": pk, "email": email, "created_at": utcnow()}
                 for pk, email in missing],
            )  # fmt: skip
            known.update(_stored_contact_ids(self.session, missing))
        return list(map(known.__getitem__, wanted))

    def _write(self, columns: _Columns, contact_ids: list[int]) -> None:
        touched = set(zip(columns.account_pks, columns.periods, strict=True))
        self.touched |= touched
        count = len(columns.lines)
        values = {
            "account_id": columns.account_pks,
            "contact_id": contact_ids,
            "period": columns.periods,
            "source": repeat("import", count),
            "updated_at": repeat(None, count),
            "name_consent": repeat(False, count),
            **columns.answers,
        }
        for name, process in self.processors.items():  # SQLite: as SQLAlchemy stores them
            column = values[name]
            if isinstance(column, repeat):
                value = next(column)
                values[name] = repeat(None if value is None else process(value), count)
            elif column.count(None) != count:
                values[name] = [None if v is None else process(v) for v in column]
        rows = list(zip(*(values[name] for name in RESPONSE_COLUMNS), strict=True))
        self.wait()
        # PostgreSQL: the sums rows first, so no submit changes these answers meanwhile.
        sums.lock(self.session, touched)
        if self.dialect.name == "postgresql":
            self._copy(rows)
        else:
            self.connection.exec_driver_sql(_SQLITE_UPSERT, rows)

    def _copy(self, rows: list[tuple[Any, ...]]) -> None:
        dbapi_connection: Any = self.connection.connection.dbapi_connection
        with dbapi_connection.cursor() as cursor:
            if not self.staging:
                cursor.execute(_PG_STAGING)
                self.staging = True
            with cursor.copy(_PG_COPY) as copy:
                for row in rows:
                    copy.write_row(row)
        self._merging = BackgroundStatement(dbapi_connection, _PG_MERGE_BATCH)

    def wait(self, *, failed: bool = False) -> None:
        """Wait for the batch's merge still running, if any, and raise its error (not
        when the import has already ``failed``: the caller's error is the one to tell)."""
        merging, self._merging = self._merging, None
        if merging is not None:
            merging.join()
            if merging.error is not None and not failed:
                raise merging.error


def _optional(parse: Callable[..., Any], name: str, cells: dict[str, list[str]]) -> list[Any]:
    column = cells.get(name)
    if column is None:
        return [None] * len(cells["period"])
    return [parse(name, cell) if cell else None for cell in column]


def _stored_contact_ids(
    session: Session, wanted: Iterable[tuple[int, str]]
) -> dict[tuple[int, str], int]:
    wanted = set(wanted)
    found: dict[tuple[int, str], int] = {}
    for contact_id, account_pk, email in session.execute(
        select(Contact.id, Contact.account_id, Contact.email).where(
            Contact.account_id.in_({pk for pk, _ in wanted}),
            Contact.email.in_({email for _, email in wanted}),
        )
    ):
        if (account_pk, email) in wanted:
            found[(account_pk, email)] = contact_id
    return found


def import_responses(
    session: Session,
    raw: BinaryIO,
    context: Context,
    *,
    progress: Callable[[int], None] | None = None,
    batch_rows: int = BATCH_ROWS,
) -> ImportSummary:
    """Import a responses file; raises ImportFailed listing every problem."""
    before = session.scalar(select(func.count()).select_from(Response)) or 0
    work = ResponsesImport(session, context)
    try:
        for batch in read_batches(raw, COLUMNS["responses"], batch_rows):
            work.add(batch)
            if progress is not None:
                progress(work.rows)
    except BaseException:  # no statement left running when the caller rolls back
        work.wait(failed=True)
        raise
    work.wait()
    work.finish()
    session.flush()
    after = session.scalar(select(func.count()).select_from(Response)) or 0
    created = after - before
    return ImportSummary(kind="responses", rows=work.rows, created=created,
                         updated=work.rows - created)  # fmt: skip


# Built once from the constant column names above (no input reaches these strings).
_COLUMNS = ", ".join(RESPONSE_COLUMNS)
_UPSERT_TAIL = "ON CONFLICT (account_id, contact_id, period) DO UPDATE SET " + ", ".join(
    f"{name} = excluded.{name}" for name in ANSWER_COLUMNS
)
_SQLITE_UPSERT = (
    f"INSERT INTO responses ({_COLUMNS}) VALUES ({', '.join('?' for _ in RESPONSE_COLUMNS)}) "  # noqa: S608
    + _UPSERT_TAIL
)
_PG_STAGING = (
    "CREATE TEMPORARY TABLE IF NOT EXISTS cpi_import_responses ON COMMIT DROP AS "  # noqa: S608
    f"SELECT {_COLUMNS} FROM responses WITH NO DATA"
)
_PG_COPY = f"COPY cpi_import_responses ({_COLUMNS}) FROM STDIN"
_PG_MERGE = (
    f"INSERT INTO responses ({_COLUMNS}) SELECT {_COLUMNS} FROM cpi_import_responses "  # noqa: S608
    + _UPSERT_TAIL
)
# the batch's merge, then the staging table emptied for the next batch (one round trip)
_PG_MERGE_BATCH = f"{_PG_MERGE}; TRUNCATE cpi_import_responses"
