"""What the initiatives feature does: create, change and read initiatives, their
participants, costs and case studies. Every function takes a session, flushes and never
commits; the command or the view commits once.

Bad input raises :class:`InitiativeError` with one line ``field: reason`` before anything
is written (functions check everything first, then write), so a failed call changes
nothing. Reading goes through :func:`list_initiatives` / :func:`get_initiative` with a
:class:`Viewer`: account managers see only the initiatives they take part in
(anything else is :class:`InitiativeNotFound`, as if it did not exist).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, BinaryIO

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from cpi.accounts.models import Account
from cpi.audit.operations import record
from cpi.auth.models import User
from cpi.i18n.errors import LocalisedError
from cpi.imports.csvfile import Columns, ImportFailed, read_rows
from cpi.initiatives.models import (
    CASE_STUDY_KINDS,
    COST_KINDS,
    KINDS,
    CaseStudy,
    Initiative,
    InitiativeCost,
    InitiativeParticipant,
)
from cpi.outcomes.models import OUTCOME_FIELDS
from cpi.rules.addresses import InvalidEmail, check_email
from cpi.scoring import CATALOGUE, INDICATORS_BY_CODE
from cpi.timeutil import utcnow

MAX_NAME = 200
MAX_DESCRIPTION = 5000
# A cost, a case-study amount or a value per unit above this is a typo, not a budget.
MAX_MONEY = 1e12
MAX_HOURS = 1e7


# Field names as people read them in error messages (English on the command line).
FIELD_LABELS: dict[str, Any] = {
    "name": _l("name"),
    "description": _l("description"),
    "kind": _l("kind"),
    "start": _l("start"),
    "end": _l("end"),
    "indicators": _l("indicators"),
    "participants": _l("participants"),
    "participant": _l("participant"),
    "email": _l("email"),
    "amount": _l("amount"),
    "fees": _l("fees"),
    "materials": _l("materials"),
    "hours": _l("hours"),
    "hourly_cost": _l("hourly_cost"),
    "hourly_rate": _l("hourly_rate"),
    "benefit_outcome": _l("benefit_outcome"),
    "benefit_value": _l("benefit_value"),
    "title": _l("title"),
    "date": _l("date"),
    "account": _l("account"),
    "before": _l("before"),
    "after": _l("after"),
    "costs.kind": _l("kind"),
    "costs.description": _l("description"),
    "cost.kind": _l("kind"),
    "cost.description": _l("description"),
    "file": _l("file"),
    "row": _l("row"),
}


class InitiativeError(LocalisedError):
    """Bad input: the message is one line, ``field: reason``, in the reader's language
    (:class:`cpi.i18n.errors.LocalisedError`)."""

    field_labels = FIELD_LABELS


def _line_error(line: int, field: str, reason: object) -> str:
    """One line of an import report, ``line N: field: reason``, in the reader's language."""
    label = FIELD_LABELS.get(field, field)
    return _("line %(line)s: %(field)s: %(reason)s", line=line, field=label, reason=reason)


class InitiativeNotFound(LookupError):
    """No such initiative (or case study), or not one this viewer may see."""


@dataclass(frozen=True)
class Viewer:
    """Who is asking. ``email`` lower case; ``role`` admin | enablement | account_manager.
    The command line reads as an administrator: ``Viewer.cli()``."""

    email: str | None
    role: str

    @classmethod
    def cli(cls) -> Viewer:
        return cls(email=None, role="admin")

    @property
    def sees_everything(self) -> bool:
        return self.role in ("admin", "enablement")

    @property
    def manages(self) -> bool:
        """May create, change and delete initiatives and approve case studies."""
        return self.role in ("admin", "enablement")


@dataclass(frozen=True)
class CostLine:
    """A cost line as given: ``amount`` for fees/materials/other, ``hours`` and
    ``hourly_cost`` for participants' time."""

    kind: str
    description: str | None = None
    amount: float | str | None = None
    hours: float | str | None = None
    hourly_cost: float | str | None = None


# -- checks (each raises InitiativeError naming the field) ---------------------------


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def check_name(value: str | None, field: str = "name") -> str:
    if _blank(value):
        raise InitiativeError(field, _l("is required"))
    text = str(value).strip()
    if any(ch in text for ch in "\r\n\x00"):
        raise InitiativeError(field, _l("must be on one line"))
    if len(text) > MAX_NAME:
        raise InitiativeError(field, _l("is longer than %(limit)s characters", limit=MAX_NAME))
    return text


def check_description(value: str | None, field: str = "description") -> str | None:
    if _blank(value):
        return None
    text = str(value).strip()
    if "\x00" in text:
        raise InitiativeError(field, _l("contains a NUL byte"))
    if len(text) > MAX_DESCRIPTION:
        raise InitiativeError(
            field, _l("is longer than %(limit)s characters", limit=MAX_DESCRIPTION)
        )
    return text


def check_kind(value: str | None) -> str:
    text = (value or "").strip().lower()
    if text not in KINDS:
        raise InitiativeError("kind", _l("must be one of %(choices)s", choices=", ".join(KINDS)))
    return text


def check_date(field: str, value: date | str | None) -> date:
    if isinstance(value, date):
        return value
    if _blank(value):
        raise InitiativeError(field, _l("is required"))
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise InitiativeError(
            field, _l("%(value)s is not a date like 2026-03-31", value=repr(str(value)[:40]))
        ) from None


def check_dates(start: date | str | None, end: date | str | None) -> tuple[date, date]:
    first, last = check_date("start", start), check_date("end", end)
    if first > last:
        raise InitiativeError(
            "end", _l("%(end)s is before the start %(start)s", end=last, start=first)
        )
    return first, last


def check_indicators(value: str | Iterable[str] | None) -> list[str]:
    """Catalogue codes from ``"fcr,csat"`` or a list; in catalogue order, no repeats."""
    if isinstance(value, str):
        value = value.split(",")
    codes = {code.strip().lower() for code in (value or []) if code and code.strip()}
    if not codes:
        raise InitiativeError("indicators", _l("give at least one indicator code"))
    unknown = sorted(codes - INDICATORS_BY_CODE.keys())
    if unknown:
        raise InitiativeError(
            "indicators",
            _l(
                "%(value)s is not one of %(choices)s",
                value=repr(unknown[0]),
                choices=", ".join(INDICATORS_BY_CODE),
            ),  # fmt: skip
        )
    return [indicator.code for indicator in CATALOGUE if indicator.code in codes]


def known_account_managers(session: Session) -> set[str]:
    """Who can take part: account owners (they may have no login yet) and account
    manager logins, lower case."""
    owners = session.scalars(
        select(func.lower(Account.owner_email)).where(Account.owner_email.is_not(None)).distinct()
    )
    logins = session.scalars(
        select(func.lower(User.email)).where(User.role == "account_manager", User.active)
    )
    return set(owners) | set(logins)


def check_participants(
    session: Session, value: str | Iterable[str] | None, field: str = "participants"
) -> list[str]:
    """Known account managers' emails from ``"a@x,b@x"`` or a list, sorted, no repeats."""
    if isinstance(value, str):
        value = value.split(",")
    emails: set[str] = set()
    for raw in value or []:
        if _blank(raw):
            continue
        try:
            emails.add(check_email(raw))
        except InvalidEmail as error:
            raise InitiativeError(field, str(error)) from None
    if not emails:
        raise InitiativeError(field, _l("give at least one account manager's email"))
    unknown = sorted(emails - known_account_managers(session))
    if unknown:
        raise InitiativeError(
            field, _l("%(email)s is not an account manager", email=repr(unknown[0]))
        )
    untreated = session.scalar(
        select(func.count())
        .select_from(Account)
        .where(func.lower(func.coalesce(Account.owner_email, "")).not_in(emails))
    )
    if not untreated:
        raise InitiativeError(
            field, _l("every account belongs to a participant: no untreated accounts are left")
        )
    return sorted(emails)


def check_money(field: str, value: float | str | None, *, required: bool = False) -> float | None:
    """A finite, non-negative number (money or hours); None for blank unless required."""
    if _blank(value):
        if required:
            raise InitiativeError(field, _l("is required"))
        return None
    if isinstance(value, bool):
        raise InitiativeError(field, _l("%(value)s is not a number", value=repr(value)))
    try:
        number = float(str(value).strip()) if isinstance(value, str) else float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InitiativeError(
            field, _l("%(value)s is not a number", value=repr(str(value)[:40]))
        ) from None
    if not math.isfinite(number):
        raise InitiativeError(field, _l("%(value)s is not a number", value=repr(str(value)[:40])))
    if number < 0:
        raise InitiativeError(field, _l("must not be negative"))
    if number > (MAX_HOURS if "hours" in field else MAX_MONEY):
        raise InitiativeError(field, _l("is implausibly large"))
    return number


def check_cost(line: CostLine, field: str = "costs") -> dict[str, Any]:
    """The columns of an InitiativeCost row for ``line``; InitiativeError otherwise."""
    kind = (line.kind or "").strip().lower()
    if kind not in COST_KINDS:
        raise InitiativeError(
            f"{field}.kind", _l("must be one of %(choices)s", choices=", ".join(COST_KINDS))
        )
    description = None
    if not _blank(line.description):
        description = check_name(line.description, f"{field}.description")
    if kind == "hours":
        hours = check_money("hours", line.hours, required=True)
        hourly_cost = check_money("hourly_cost", line.hourly_cost, required=True)
        if not _blank(line.amount):
            raise InitiativeError("amount", _l("give hours and hourly_cost for participants' time"))
        return {"kind": kind, "description": description, "amount": None,
                "hours": hours, "hourly_cost": hourly_cost}  # fmt: skip
    amount = check_money("amount", line.amount, required=True)
    if not _blank(line.hours) or not _blank(line.hourly_cost):
        raise InitiativeError("hours", _l("only a cost of kind 'hours' has hours and hourly_cost"))
    return {"kind": kind, "description": description, "amount": amount,
            "hours": None, "hourly_cost": None}  # fmt: skip


def cli_cost_lines(
    fees: float | str | None, hours: float | str | None, hourly_cost: float | str | None
) -> list[CostLine]:
    """The cost lines of ``--fees X --hours H --hourly-cost C`` (hours need both)."""
    check_money("fees", fees)
    check_money("hours", hours)
    check_money("hourly_cost", hourly_cost)
    lines: list[CostLine] = []
    if not _blank(fees):
        lines.append(CostLine("fees", "Fees", amount=fees))
    if _blank(hours) != _blank(hourly_cost):
        missing = "hourly_cost" if _blank(hourly_cost) else "hours"
        raise InitiativeError(missing, _l("give both --hours and --hourly-cost"))
    if not _blank(hours):
        lines.append(CostLine("hours", "Participants' time", hours=hours, hourly_cost=hourly_cost))
    return lines


def check_benefit(
    outcome: str | None, value: float | str | None
) -> tuple[str | None, float | None]:
    """The measured benefit setting: an outcome name and a money value per unit, or neither."""
    if _blank(outcome) and _blank(value):
        return None, None
    name = (outcome or "").strip().lower()
    if name not in OUTCOME_FIELDS:
        raise InitiativeError(
            "benefit_outcome", _l("must be one of %(choices)s", choices=", ".join(OUTCOME_FIELDS))
        )
    amount = check_money("benefit_value", value, required=True)
    return name, amount


# -- writing ----------------------------------------------------------------------


def create_initiative(
    session: Session,
    *,
    actor: str,
    name: str,
    kind: str,
    start: date | str,
    end: date | str,
    indicators: str | Iterable[str],
    participants: str | Iterable[str],
    description: str | None = None,
    costs: Sequence[CostLine] = (),
    benefit_outcome: str | None = None,
    benefit_value: float | str | None = None,
) -> Initiative:
    """Create an initiative with its participants and cost lines; audit-logged."""
    values = _checked(
        session, name=name, kind=kind, start=start, end=end, indicators=indicators,
        description=description, benefit_outcome=benefit_outcome, benefit_value=benefit_value,
    )  # fmt: skip
    emails = check_participants(session, participants)
    cost_rows = [check_cost(line, f"costs[{i + 1}]") for i, line in enumerate(costs)]
    initiative = Initiative(created_by=actor, **values)
    initiative.participants = [InitiativeParticipant(email=email) for email in emails]
    initiative.costs = [InitiativeCost(**row) for row in cost_rows]
    session.add(initiative)
    session.flush()
    record(session, actor, "initiative.create", f"{initiative.id}: {initiative.name}")
    return initiative


def update_initiative(
    session: Session,
    initiative: Initiative,
    *,
    actor: str,
    name: str,
    kind: str,
    start: date | str,
    end: date | str,
    indicators: str | Iterable[str],
    participants: str | Iterable[str],
    description: str | None = None,
    benefit_outcome: str | None = None,
    benefit_value: float | str | None = None,
) -> Initiative:
    """Change an initiative's fields and participants (cost lines: add_cost/remove_cost)."""
    values = _checked(
        session, name=name, kind=kind, start=start, end=end, indicators=indicators,
        description=description, benefit_outcome=benefit_outcome, benefit_value=benefit_value,
    )  # fmt: skip
    emails = check_participants(session, participants)
    for key, value in values.items():
        setattr(initiative, key, value)
    _replace_participants(initiative, emails)
    session.flush()
    record(session, actor, "initiative.update", f"{initiative.id}: {initiative.name}")
    return initiative


def delete_initiative(session: Session, initiative: Initiative, *, actor: str) -> None:
    """Delete an initiative with its participants, costs and case studies."""
    record(session, actor, "initiative.delete", f"{initiative.id}: {initiative.name}")
    session.delete(initiative)
    session.flush()


def add_cost(
    session: Session, initiative: Initiative, line: CostLine, *, actor: str
) -> InitiativeCost:
    cost = InitiativeCost(**check_cost(line))
    initiative.costs.append(cost)
    session.flush()
    record(session, actor, "initiative.cost.add", f"{initiative.id}: {cost.kind} {cost.total:.2f}")
    return cost


def remove_cost(session: Session, initiative: Initiative, cost_id: int, *, actor: str) -> None:
    cost = next((c for c in initiative.costs if c.id == cost_id), None)
    if cost is None:
        raise InitiativeNotFound(f"cost {cost_id}")
    initiative.costs.remove(cost)
    session.flush()
    record(session, actor, "initiative.cost.remove", f"{initiative.id}: {cost.kind}")


PARTICIPANT_COLUMNS = Columns(required=("email",))
COST_COLUMNS = Columns(
    required=("kind",), optional=("description", "amount", "hours", "hourly_cost")
)


def import_participants(
    session: Session, initiative: Initiative, raw: BinaryIO, *, actor: str
) -> int:
    """Add the participants of a CSV (column ``email``); all rows or none.

    Raises ImportFailed with ``line N: field: reason`` lines. Returns how many were new."""
    errors: list[str] = []
    emails: list[str] = []
    known = known_account_managers(session)
    for line, row in read_rows(raw, PARTICIPANT_COLUMNS):
        if "__row__" in row:
            errors.append(_line_error(line, "row", row["__row__"]))
            continue
        try:
            email = check_email(row["email"]) if row["email"] else ""
        except InvalidEmail as error:
            errors.append(_line_error(line, "email", error))
            continue
        if not email:
            errors.append(_line_error(line, "email", _("is required")))
        elif email not in known:
            errors.append(
                _line_error(
                    line, "email", _("%(email)s is not an account manager", email=repr(email))
                )
            )
        else:
            emails.append(email)
    if not errors and not emails:
        errors.append(_line_error(2, "file", _("the file has a header but no rows")))
    if errors:
        raise ImportFailed(errors)
    current = set(initiative.participant_emails)
    merged = sorted(current | set(emails))
    try:
        check_participants(session, merged)
    except InitiativeError as error:
        raise ImportFailed([_line_error(2, "email", error.reason)]) from None
    _replace_participants(initiative, merged)
    session.flush()
    added = len(set(merged) - current)
    record(session, actor, "initiative.participants.import", f"{initiative.id}: {added} added")
    return added


def import_costs(session: Session, initiative: Initiative, raw: BinaryIO, *, actor: str) -> int:
    """Add the cost lines of a CSV (``kind, description, amount, hours, hourly_cost``);
    all rows or none. Raises ImportFailed with ``line N: field: reason`` lines."""
    errors: list[str] = []
    rows: list[dict[str, Any]] = []
    for line, row in read_rows(raw, COST_COLUMNS):
        if "__row__" in row:
            errors.append(_line_error(line, "row", row["__row__"]))
            continue
        try:
            rows.append(
                check_cost(
                    CostLine(
                        row["kind"],
                        row.get("description"),
                        row.get("amount"),
                        row.get("hours"),
                        row.get("hourly_cost"),
                    ),
                    "cost",
                )  # fmt: skip
            )
        except InitiativeError as error:
            errors.append(_line_error(line, error.field.removeprefix("cost."), error.reason))
    if not errors and not rows:
        errors.append(_line_error(2, "file", _("the file has a header but no rows")))
    if errors:
        raise ImportFailed(errors)
    initiative.costs.extend(InitiativeCost(**row) for row in rows)
    session.flush()
    record(session, actor, "initiative.costs.import", f"{initiative.id}: {len(rows)} lines")
    return len(rows)


def record_case_study(
    session: Session,
    initiative: Initiative,
    *,
    actor: str,
    participant_email: str,
    title: str,
    happened_on: date | str,
    kind: str,
    amount: float | str | None = None,
    hours: float | str | None = None,
    hourly_rate: float | str | None = None,
    account_id: str | None = None,
    description: str | None = None,
    viewer: Viewer | None = None,
) -> CaseStudy:
    """Record a quantified return (pending until approved). ``account_id`` is the CRM id.

    ``hours_avoided``: give ``hours`` and ``hourly_rate`` (amount = their product);
    the other kinds: ``amount``. The participant must take part in the initiative; an
    account manager (``viewer``) records only their own, and only for their accounts."""
    try:
        email = check_email(participant_email or "")
    except InvalidEmail as error:
        raise InitiativeError("participant", str(error)) from None
    if viewer is not None and not viewer.manages and email != (viewer.email or "").lower():
        raise InitiativeError("participant", _l("you can record only your own case studies"))
    if email not in initiative.participant_emails:
        raise InitiativeError(
            "participant",
            _l("%(email)s does not take part in this initiative", email=repr(email)),
        )
    checked_title = check_name(title, "title")
    text = check_description(description)
    day = check_date("date", happened_on)
    kind_code = (kind or "").strip().lower()
    if kind_code not in CASE_STUDY_KINDS:
        raise InitiativeError(
            "kind", _l("must be one of %(choices)s", choices=", ".join(CASE_STUDY_KINDS))
        )
    if kind_code == "hours_avoided":
        hours_value = check_money("hours", hours, required=True)
        rate = check_money("hourly_rate", hourly_rate, required=True)
        assert hours_value is not None and rate is not None
        money = hours_value * rate
    else:
        hours_value, rate = None, None
        money = check_money("amount", amount, required=True) or 0.0
    account_pk = None
    if not _blank(account_id):
        account_pk = session.scalar(
            select(Account.id).where(Account.account_id == str(account_id).strip())
        )
        owner = session.scalar(
            select(func.lower(Account.owner_email)).where(Account.id == account_pk)
        )
        if account_pk is None or (viewer is not None and not viewer.manages and owner != email):
            raise InitiativeError(
                "account", _l("no account %(account)s", account=repr(str(account_id)[:64]))
            )
    study = CaseStudy(
        participant_email=email, account_id=account_pk, title=checked_title, description=text,
        happened_on=day, kind=kind_code, amount=money, hours=hours_value, hourly_rate=rate,
        status="pending", recorded_by=actor,
    )  # fmt: skip
    initiative.case_studies.append(study)
    session.flush()
    record(session, actor, "initiative.case_study.record", f"{initiative.id}: {study.id}")
    return study


def review_case_study(
    session: Session, study: CaseStudy, *, actor: str, approve: bool
) -> CaseStudy:
    """Approve (it then counts as a benefit) or reject a case study. Only enablement and
    administrators may: the view checks ``Viewer.manages``."""
    study.status = "approved" if approve else "rejected"
    study.reviewed_by = actor
    study.reviewed_at = utcnow()
    session.flush()
    record(session, actor, f"initiative.case_study.{study.status}", f"{study.id}")
    return study


# -- reading ----------------------------------------------------------------------


def list_initiatives(session: Session, viewer: Viewer) -> list[Initiative]:
    """Initiatives the viewer may see, newest start first."""
    query = (
        select(Initiative)
        .options(selectinload(Initiative.participants), selectinload(Initiative.costs))
        .order_by(Initiative.start_date.desc(), Initiative.id.desc())
    )
    if not viewer.sees_everything:
        query = query.where(
            Initiative.id.in_(
                select(InitiativeParticipant.initiative_id).where(
                    InitiativeParticipant.email == (viewer.email or "").lower()
                )
            )
        )
    return list(session.scalars(query))


def get_initiative(session: Session, initiative_id: int | str, viewer: Viewer) -> Initiative:
    """The initiative, or InitiativeNotFound (also when the viewer may not see it)."""
    try:
        key = int(initiative_id)
    except (TypeError, ValueError):
        raise InitiativeNotFound(f"no initiative {initiative_id!r}") from None
    initiative = session.get(Initiative, key)
    if initiative is None or not can_see(initiative, viewer):
        raise InitiativeNotFound(f"no initiative {initiative_id!r}")
    return initiative


def can_see(initiative: Initiative, viewer: Viewer) -> bool:
    return viewer.sees_everything or (viewer.email or "").lower() in initiative.participant_emails


def get_case_study(session: Session, initiative: Initiative, study_id: int | str) -> CaseStudy:
    study = next((s for s in initiative.case_studies if str(s.id) == str(study_id)), None)
    if study is None:
        raise InitiativeNotFound(f"no case study {study_id!r}")
    return study


def visible_case_studies(initiative: Initiative, viewer: Viewer) -> list[CaseStudy]:
    """Enablement and admins see every case study; a participant sees their own."""
    if viewer.sees_everything:
        return list(initiative.case_studies)
    me = (viewer.email or "").lower()
    return [s for s in initiative.case_studies if s.participant_email == me]


def cost_summary(initiative: Initiative) -> dict[str, Any]:
    """``fees`` (every amount line: fees, materials, other), ``hours``, ``hourly_cost``
    (the hours-weighted mean; None without hours), ``total`` and every ``items`` line."""
    items = [
        {"id": c.id, "kind": c.kind, "description": c.description, "amount": c.amount,
         "hours": c.hours, "hourly_cost": c.hourly_cost, "total": c.total}
        for c in initiative.costs
    ]  # fmt: skip
    fees = sum(c.total for c in initiative.costs if c.kind != "hours")
    hour_lines = [c for c in initiative.costs if c.kind == "hours"]
    hours = sum(c.hours or 0.0 for c in hour_lines)
    time_cost = sum(c.total for c in hour_lines)
    return {
        "fees": fees,
        "hours": hours,
        "hourly_cost": time_cost / hours if hours else None,
        "time_cost": time_cost,
        "total": fees + time_cost,
        "items": items,
    }


# -- helpers ------------------------------------------------------------------------


def _checked(
    session: Session,
    *,
    name: str,
    kind: str,
    start: date | str,
    end: date | str,
    indicators: str | Iterable[str],
    description: str | None,
    benefit_outcome: str | None,
    benefit_value: float | str | None,
) -> dict[str, Any]:
    first, last = check_dates(start, end)
    outcome, value = check_benefit(benefit_outcome, benefit_value)
    return {
        "name": check_name(name),
        "kind": check_kind(kind),
        "description": check_description(description),
        "start_date": first,
        "end_date": last,
        "indicators": ",".join(check_indicators(indicators)),
        "benefit_outcome": outcome,
        "benefit_value": value,
    }


def _replace_participants(initiative: Initiative, emails: Sequence[str]) -> None:
    wanted = set(emails)
    for participant in list(initiative.participants):
        if participant.email not in wanted:
            initiative.participants.remove(participant)
    have = set(initiative.participant_emails)
    for email in sorted(wanted - have):
        initiative.participants.append(InitiativeParticipant(email=email))
