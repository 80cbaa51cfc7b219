"""Import a CSV file: every row or none.

Rows are parsed and checked one at a time while the file streams in; valid rows
are written in batches inside the caller's transaction. If any row is bad the
caller rolls back, so a failed import changes nothing, and every bad row is
reported, not only the first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, BinaryIO

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cpi.accounts.models import Account, Contact
from cpi.db import dialect_insert
from cpi.i18n.errors import field_message
from cpi.imports.csvfile import (
    MAX_ERRORS_LISTED,
    PLACES,
    WIDTH_ERROR,
    ImportFailed,
    ImportSummary,
    line_message,
    place_message,
    read_rows,
)
from cpi.imports.responses import BATCH_ROWS, import_responses
from cpi.imports.rows import COLUMNS, PARSERS, Context, Record, RowErrors
from cpi.kpis.models import KpiFigure, Target, kpi_scope_key
from cpi.outcomes.models import OUTCOME_FIELDS, Outcome
from cpi.surveys.models import Response
from cpi.timeutil import utcnow

BATCH_SIZE = 5000


def import_csv(
    session: Session,
    kind: str,
    raw: BinaryIO,
    *,
    progress: Callable[[int], None] | None = None,
    batch_rows: int | None = None,
) -> ImportSummary:
    """Import one file of ``kind``; raises ImportFailed listing every problem.
    ``batch_rows``: rows checked and written at a time (responses)."""
    if kind not in PARSERS:
        reason = _l("must be one of %(choices)s", choices=", ".join(PARSERS))
        raise ImportFailed([field_message("kind", reason)])
    context = _context(session, kind)
    if kind == "responses":
        return import_responses(
            session, raw, context, progress=progress, batch_rows=batch_rows or BATCH_ROWS
        )
    parse = PARSERS[kind]
    table = TABLES[kind]
    before = session.scalar(select(func.count()).select_from(table)) or 0
    writer = _BatchWriter(session, WRITERS[kind], context)

    errors: list[str] = []
    error_count = 0
    batch: list[Record] = []
    rows = 0
    for line, row in read_rows(raw, COLUMNS[kind]):
        rows += 1
        try:
            if WIDTH_ERROR in row:
                raise RowErrors([field_message(PLACES["row"], row[WIDTH_ERROR])])
            record = parse(row, line, context)
        except RowErrors as problem:
            error_count += len(problem.errors)
            if len(errors) < MAX_ERRORS_LISTED:
                errors.extend(line_message(line, message) for message in problem.errors)
            continue
        if error_count:
            continue  # the import will fail; only keep checking
        batch.append(record)
        if len(batch) >= BATCH_SIZE:
            writer.write(batch)
            batch.clear()
        if progress is not None and rows % 1000 == 0:
            progress(rows)
    if error_count:
        raise ImportFailed(errors[:MAX_ERRORS_LISTED], total=error_count)
    if rows == 0:
        raise ImportFailed([place_message(2, "file", _l("the file has a header but no rows"))])
    if batch:
        writer.write(batch)
    writer.finish()
    session.flush()
    after = session.scalar(select(func.count()).select_from(table)) or 0
    created = after - before
    return ImportSummary(kind=kind, rows=rows, created=created, updated=rows - created)


def _context(session: Session, kind: str) -> Context:
    accounts = {
        account_id: (pk, segment)
        for pk, account_id, segment in session.execute(
            select(Account.id, Account.account_id, Account.segment)
        )
    }
    context = Context(accounts=accounts, segments={segment for _, segment in accounts.values()})
    if kind == "responses":
        context.contacts = {
            (account_pk, email): contact_id
            for contact_id, account_pk, email in session.execute(
                select(Contact.id, Contact.account_id, Contact.email).where(
                    Contact.email.is_not(None)
                )
            )
        }
    return context


def _upsert(
    session: Session,
    model: Any,
    rows: list[dict[str, Any]],
    keys: Iterable[str],
    update: Iterable[str],
) -> None:
    """INSERT ... ON CONFLICT (keys) DO UPDATE, on SQLite and PostgreSQL alike."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    insert = dialect_insert(dialect)
    statement = insert(model)
    update = list(update)
    if update:
        statement = statement.on_conflict_do_update(
            index_elements=list(keys),
            set_={name: getattr(statement.excluded, name) for name in update},
        )
    else:
        statement = statement.on_conflict_do_nothing(index_elements=list(keys))
    session.execute(statement, rows)


def _write_contacts(session: Session, batch: list[Record], context: Context) -> None:
    accounts = {
        record["account_id"]: {
            "account_id": record["account_id"], "name": record["account_name"],
            "segment": record["segment"], "owner_email": record["owner_email"],
            "created_at": utcnow(),
        }
        for record in batch
    }  # fmt: skip
    _upsert(
        session,
        Account,
        list(accounts.values()),
        ["account_id"],
        ["name", "segment", "owner_email"],
    )
    pks = dict(
        session.execute(
            select(Account.account_id, Account.id).where(Account.account_id.in_(accounts))
        ).all()
    )
    contacts = [
        {"account_id": pks[record["account_id"]], "email": record["contact_email"],
         "name": record["contact_name"], "locale": record["locale"], "created_at": utcnow()}
        for record in batch
    ]  # fmt: skip
    _upsert(session, Contact, contacts, ["account_id", "email"], ["name", "locale"])
    for account_id, pk in pks.items():
        context.accounts[account_id] = (pk, accounts[account_id]["segment"])  # type: ignore[index]


def _write_kpis(session: Session, batch: list[Record], _context: Context) -> None:
    rows = [
        {"indicator": r["indicator"], "period": r["period"],
         "scope_key": kpi_scope_key(r["account_id"], r["segment"]),
         "account_id": r["account_pk"], "segment": r["segment"], "value": r["value"],
         "numerator": r["numerator"], "denominator": r["denominator"]}
        for r in batch
    ]  # fmt: skip
    _upsert(
        session,
        KpiFigure,
        rows,
        ["indicator", "period", "scope_key"],
        ["value", "numerator", "denominator", "account_id", "segment"],
    )


def _write_targets(session: Session, batch: list[Record], _context: Context) -> None:
    _upsert(session, Target, batch, ["indicator", "period", "segment_key"], ["target", "tolerance"])


@dataclass
class _BatchWriter:
    session: Session
    write_batch: Callable[[Session, list[Record], Context], None]
    context: Context

    def write(self, batch: list[Record]) -> None:
        self.write_batch(self.session, batch, self.context)

    def finish(self) -> None:
        pass


def _write_outcomes(session: Session, batch: list[Record], _context: Context) -> None:
    # A blank cell means "not known": it never wipes a figure an earlier file gave.
    for record in batch:
        given = [name for name in OUTCOME_FIELDS if record[name] is not None]
        keys = {"account_id": record["account_id"], "period": record["period"]}
        _upsert(session, Outcome, [{**keys, **{n: record[n] for n in given}}],
                ["account_id", "period"], given)  # fmt: skip


WRITERS: dict[str, Callable[[Session, list[Record], Context], None]] = {
    "contacts": _write_contacts,
    "kpis": _write_kpis,
    "targets": _write_targets,
    "outcomes": _write_outcomes,
}
TABLES: dict[str, Any] = {
    "contacts": Contact,
    "kpis": KpiFigure,
    "responses": Response,
    "targets": Target,
    "outcomes": Outcome,
}
