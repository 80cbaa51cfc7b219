"""What a valid row of each import kind is: columns, parsing and cross-row checks.

``parse_<kind>`` turns one CSV row into a plain record or raises RowErrors with
every problem of the row, each naming its field.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l

from cpi.i18n.errors import field_message
from cpi.imports import fields
from cpi.imports.csvfile import PLACES, Columns
from cpi.imports.fields import FieldError
from cpi.rules.targets import range_problem, tolerance_problem
from cpi.scoring import INDICATORS_BY_CODE, validate_answers

Record = dict[str, Any]

COLUMNS: dict[str, Columns] = {
    "contacts": Columns(
        required=("account_id", "account_name", "segment", "contact_email"),
        optional=("owner_email", "contact_name", "locale"),
    ),
    "kpis": Columns(
        required=("indicator", "period"),
        optional=("account_id", "segment", "value", "numerator", "denominator"),
    ),
    "responses": Columns(
        required=("account_id", "contact_email", "period"),
        optional=(
            "submitted_at", "fcr", "contacts_total", "contacts_value_added",
            "quote_turnaround_days", "csat", "nps", "ces", "comment",
        ),
    ),
    "targets": Columns(
        required=("indicator", "period", "target"),
        optional=("segment", "tolerance"),
    ),
    "outcomes": Columns(
        required=("account_id", "period"),
        optional=(
            "renewed", "churned", "revenue", "expansion_revenue", "referrals", "cost_to_serve",
        ),
    ),
}  # fmt: skip

KINDS = tuple(COLUMNS)


class RowErrors(Exception):
    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


@dataclass
class Context:
    """What rows are checked against: the accounts in the database and earlier rows."""

    accounts: Mapping[str, tuple[int, str]]  # account_id -> (pk, segment)
    segments: set[str]
    seen: dict[str, int] = field(default_factory=dict)  # row_key -> first line
    file_accounts: dict[str, tuple[int, str, str, str | None]] = field(default_factory=dict)
    # (account pk, email) -> id of the contacts in the database (responses imports):
    # their addresses were checked when they were stored.
    contacts: dict[tuple[int, str], int] = field(default_factory=dict)
    # Valid cells seen before in this file, parsed once: (field, cell) -> value.
    parsed: dict[tuple[str, str], Any] = field(default_factory=dict)

    def remembered(self, parse: Callable[..., Any], name: str, value: str, **kw: Any) -> Any:
        """``parse(name, value, **kw)``, once per distinct cell (a contact answers in
        many quarters; a file holds a few periods)."""
        key = (name, value)
        result = self.parsed.get(key)
        if result is None:
            result = parse(name, value, **kw)  # a FieldError is raised, not remembered
            if len(self.parsed) < 1_000_000:
                self.parsed[key] = result
        return result


class _Collector:
    """Runs field parsers and keeps every error instead of stopping at the first."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def __call__(self, parse: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return parse(*args, **kwargs)
        except FieldError as error:
            self.errors.append(str(error))
            return None

    def add(self, field_name: str, reason: object) -> None:
        self.errors.append(field_message(field_name, reason))

    def raise_if_any(self) -> None:
        if self.errors:
            raise RowErrors(self.errors)


# The answer rules (cpi.scoring, which knows no language) word their errors in English;
# the upload page shows them in the reader's language.
_ANSWER_RULES = (
    (re.compile(r"(\w+): must be a whole number from (-?\d+) to (-?\d+)"),
     lambda m: _l("must be a whole number from %(low)s to %(high)s", low=m[2], high=m[3])),
    (re.compile(r"(\w+): must be a number of days from (\d+) to (\d+)"),
     lambda m: _l("must be a number of days from %(low)s to %(high)s", low=m[2], high=m[3])),
    (re.compile(r"(\w+): must be yes, no or na"), lambda m: _l("must be yes, no or na")),
    (re.compile(r"(\w+): must not be more than (\w+)"),
     lambda m: _l("must not be more than %(field)s", field=m[2])),
)  # fmt: skip


def answer_message(message: str) -> str:
    """An answer rule's ``field: reason`` in the active locale (English as given)."""
    for pattern, reason in _ANSWER_RULES:
        match = pattern.fullmatch(message)
        if match:
            return field_message(match[1], reason(match))
    return message


def _indicator(check: _Collector, value: str) -> str | None:
    if not value:
        check.add("indicator", _l("is required"))
        return None
    if value not in INDICATORS_BY_CODE:
        choices = ", ".join(INDICATORS_BY_CODE)
        check.add(
            "indicator",
            _l("%(value)s is not one of %(choices)s", value=repr(value), choices=choices),
        )
        return None
    return value


def row_key(parts: tuple[Any, ...]) -> str:
    """A row's key, exact and compact: the parts' reprs (which escape NUL and tell None
    from "None") joined by NUL. Unlike ``hash(key)`` two keys never meet by accident;
    one string takes about half the memory of a tuple of strings (1M responses: 160 MB
    against 320 MB; hashes took 110 MB)."""
    return "\x00".join(map(repr, parts))


def duplicate_message(first: int) -> str:
    """``row: duplicate of line N`` in the active locale (English on the command line)."""
    return field_message(PLACES["row"], _l("duplicate of line %(line)s", line=first))


def _duplicate(context: Context, key: tuple[Any, ...], line: int) -> None:
    first = context.seen.setdefault(row_key(key), line)
    if first != line:
        raise RowErrors([duplicate_message(first)])


def parse_contacts(row: Mapping[str, str], line: int, context: Context) -> Record:
    check = _Collector()
    account_id = check(fields.text, "account_id", row["account_id"], required=True)
    name = check(fields.text, "account_name", row["account_name"], required=True)
    segment = check(fields.text, "segment", row["segment"], required=True)
    contact_email = check(fields.email, "contact_email", row["contact_email"], required=True)
    owner = check(fields.email, "owner_email", row.get("owner_email", ""))
    contact_name = check(fields.text, "contact_name", row.get("contact_name", ""))
    locale = check(fields.locale, "locale", row.get("locale", ""))
    check.raise_if_any()
    _duplicate(context, ("contact", account_id, contact_email), line)
    earlier = context.file_accounts.setdefault(account_id, (line, name, segment, owner))
    if earlier[1:] != (name, segment, owner):
        reason = _l(
            "%(account)s has another account_name, segment or owner_email on line %(line)s",
            account=repr(account_id),
            line=earlier[0],
        )
        raise RowErrors([field_message("account_id", reason)])
    return {
        "account_id": account_id, "account_name": name, "segment": segment,
        "owner_email": owner, "contact_email": contact_email, "contact_name": contact_name,
        "locale": locale,
    }  # fmt: skip


def _account(check: _Collector, context: Context, value: str, *, required: bool) -> int | None:
    if not value:
        if required:
            check.add("account_id", _l("is required"))
        return None
    known = context.accounts.get(value)
    if known is None:
        reason = _l("no account %(value)s; import it with the contacts first", value=repr(value))
        check.add("account_id", reason)
        return None
    return known[0]


def _segment(check: _Collector, context: Context, value: str) -> str | None:
    if value and value not in context.segments:
        check.add("segment", _l("no account is in segment %(value)s", value=repr(value)))
        return None
    return value or None


def parse_kpis(row: Mapping[str, str], line: int, context: Context) -> Record:
    check = _Collector()
    indicator = _indicator(check, row["indicator"])
    period = check(fields.period, "period", row["period"])
    account_pk = _account(check, context, row.get("account_id", ""), required=False)
    segment = _segment(check, context, row.get("segment", ""))
    value = check(fields.number, "value", row.get("value", ""))
    numerator = check(fields.number, "numerator", row.get("numerator", ""))
    denominator = check(fields.number, "denominator", row.get("denominator", ""))
    check.raise_if_any()
    if account_pk is not None and segment is not None:
        account_segment = context.accounts[row["account_id"]][1]
        if segment != account_segment:
            reason = _l(
                "account %(account)s is in segment %(segment)s",
                account=repr(row["account_id"]),
                segment=repr(account_segment),
            )
            check.add("segment", reason)
    indicator_def = INDICATORS_BY_CODE[indicator]
    if (numerator is None) != (denominator is None):
        check.add(
            "denominator" if denominator is None else "numerator",
            _l("give both numerator and denominator, or neither"),
        )
    elif denominator is not None and denominator <= 0:
        check.add("denominator", _l("must be greater than 0"))
    elif numerator is not None and numerator < 0:
        check.add("numerator", _l("must not be negative"))
    if value is None and denominator and numerator is not None and not check.errors:
        value = numerator / denominator * (100 if indicator_def.is_percent else 1)
    if value is None and not check.errors:
        check.add("value", _l("is required (or give numerator and denominator)"))
    elif value is not None and (problem := range_problem(indicator_def, value)):
        check.add("value", problem)
    check.raise_if_any()
    account_id = row.get("account_id") or None
    scope_segment = None if account_id else segment
    _duplicate(context, ("kpi", indicator, period, account_id, scope_segment), line)
    return {
        "indicator": indicator, "period": period, "account_pk": account_pk,
        "account_id": account_id, "segment": scope_segment, "value": value,
        "numerator": numerator, "denominator": denominator,
    }  # fmt: skip


def parse_targets(row: Mapping[str, str], line: int, context: Context) -> Record:
    check = _Collector()
    indicator = _indicator(check, row["indicator"])
    period = check(fields.period, "period", row["period"])
    segment = _segment(check, context, row.get("segment", ""))
    target = check(fields.number, "target", row["target"], required=True)
    tolerance = check(fields.number, "tolerance", row.get("tolerance", ""))
    if tolerance is not None and (problem := tolerance_problem(tolerance)):
        check.add("tolerance", problem)
    check.raise_if_any()
    if problem := range_problem(INDICATORS_BY_CODE[indicator], target):
        check.add("target", problem)
    check.raise_if_any()
    _duplicate(context, ("target", indicator, period, segment), line)
    return {
        "indicator": indicator, "period": period, "segment_key": segment or "",
        "target": target, "tolerance": tolerance,
    }  # fmt: skip


def parse_responses(row: Mapping[str, str], line: int, context: Context) -> Record:
    check = _Collector()
    account_pk = _account(check, context, row["account_id"], required=True)
    remembered = context.remembered
    contact_email = row["contact_email"]
    if (account_pk, contact_email) not in context.contacts:
        contact_email = check(remembered, fields.email, "contact_email", contact_email,
                              required=True)  # fmt: skip
    period = check(remembered, fields.period, "period", row["period"], quarter_only=True)
    submitted_at = check(fields.timestamp, "submitted_at", row.get("submitted_at", ""))
    comment = check(fields.comment, "comment", row.get("comment", ""))
    answers, answer_errors = validate_answers(row)
    check.errors.extend(map(answer_message, answer_errors.values()))
    check.raise_if_any()
    _duplicate(context, ("response", account_pk, contact_email, period), line)
    return {
        "account_pk": account_pk, "contact_email": contact_email, "period": period,
        "submitted_at": submitted_at, "comment": comment,
        "fcr": answers.fcr, "contacts_total": answers.contacts_total,
        "contacts_value_added": answers.contacts_value_added,
        "quote_turnaround_days": answers.quote_turnaround_days,
        "csat": answers.csat, "nps": answers.nps, "ces": answers.ces, "answers": answers,
    }  # fmt: skip


def parse_outcomes(row: Mapping[str, str], line: int, context: Context) -> Record:
    check = _Collector()
    account_pk = _account(check, context, row["account_id"], required=True)
    period = check(fields.period, "period", row["period"], quarter_only=True)
    if period is not None and (problem := fields.future_quarter_problem(period)):
        check.add("period", problem)
    record: Record = {"account_id": account_pk, "period": period}
    for name in ("renewed", "churned"):
        record[name] = check(fields.yes_no, name, row.get(name, ""))
    for name in ("revenue", "expansion_revenue", "cost_to_serve"):
        record[name] = check(fields.amount, name, row.get(name, ""))
    record["referrals"] = check(fields.count, "referrals", row.get("referrals", ""))
    check.raise_if_any()
    _duplicate(context, ("outcome", account_pk, period), line)
    return record


PARSERS: dict[str, Callable[[Mapping[str, str], int, Context], Record]] = {
    "contacts": parse_contacts,
    "kpis": parse_kpis,
    "responses": parse_responses,
    "targets": parse_targets,
    "outcomes": parse_outcomes,
}
