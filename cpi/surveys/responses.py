"""The customer's side: what a token opens (a visit), the questions, the answers and
opting out. Each function takes a session, flushes, never commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from cpi.accounts.models import Contact
from cpi.db import dialect_insert
from cpi.mail.models import OutboxMessage
from cpi.scoring import Answers
from cpi.scoring.catalogue import ANSWER_FIELDS
from cpi.surveys.campaigns import taking_answers
from cpi.surveys.models import Campaign, Invitation, Question, Response
from cpi.surveys.sums import replace_answers
from cpi.surveys.tokens import hash_token, plausible, same_hash
from cpi.timeutil import utcnow


@dataclass(frozen=True)
class Visit:
    """What a valid token opens: one contact's invitation to one campaign."""

    invitation_id: int
    campaign_id: int
    contact_id: int
    account_id: int
    period: str
    survey_id: int
    locale: str | None
    taking_answers: bool
    opted_out: bool


# Built once: a submit runs these on every request, and building SQLAlchemy
# statements costs more than running them (see benchmarks/bench_submits.py).
_VISIT_QUERY = (
    select(
        Invitation.id,
        Invitation.token_hash,
        Invitation.campaign_id,
        Invitation.contact_id,
        Contact.account_id,
        Contact.locale,
        Contact.opted_out_at,
        Contact.erased_at,
        Campaign.period,
        Campaign.survey_id,
        Campaign.status,
        Campaign.closes_on,
    )
    .join(Campaign, Campaign.id == Invitation.campaign_id)
    .join(Contact, Contact.id == Invitation.contact_id)
    .where(Invitation.token_hash == bindparam("token_hash"))
)


def find_visit(session: Session, token: str, today: date | None = None) -> Visit | None:
    """The invitation a token belongs to, or None for anything unknown or malformed."""
    if not isinstance(token, str) or not plausible(token):
        return None
    token_hash = hash_token(token)
    row = session.execute(_VISIT_QUERY, {"token_hash": token_hash}).first()
    if row is None or not same_hash(row.token_hash, token_hash) or row.erased_at is not None:
        return None
    return Visit(
        invitation_id=row.id,
        campaign_id=row.campaign_id,
        contact_id=row.contact_id,
        account_id=row.account_id,
        period=row.period,
        survey_id=row.survey_id,
        locale=row.locale,
        taking_answers=taking_answers(row.status, row.closes_on, today),
        opted_out=row.opted_out_at is not None,
    )


@dataclass(frozen=True)
class QuestionInfo:
    """A question as plain values (cached between requests)."""

    field: str
    kind: str
    label: str
    required: bool
    min_value: float | None
    max_value: float | None


def survey_questions(session: Session, survey_id: int) -> list[QuestionInfo]:
    return [
        QuestionInfo(q.field, q.kind, q.label, q.required, q.min_value, q.max_value)
        for q in session.scalars(
            select(Question).where(Question.survey_id == survey_id).order_by(Question.position)
        )
    ]


def current_answers(session: Session, visit: Visit) -> dict[str, Any]:
    """The respondent's answers for this period so far (to show when they come back)."""
    response = session.scalar(
        select(Response).where(
            Response.account_id == visit.account_id,
            Response.contact_id == visit.contact_id,
            Response.period == visit.period,
        )
    )
    if response is None:
        return {}
    values: dict[str, Any] = {name: getattr(response, name) for name in ANSWER_FIELDS}
    values["comment"] = response.comment
    values["name_consent"] = response.name_consent
    return {name: value for name, value in values.items() if value not in (None, "")}


def record_answers(
    session: Session,
    visit: Visit,
    answers: Answers,
    *,
    comment: str | None,
    name_consent: bool,
    now: datetime | None = None,
) -> None:
    """Insert or update the one response of this contact, account and period.

    The response is one ``INSERT ... ON CONFLICT (account_id, contact_id, period) DO
    UPDATE``: the database's unique constraint, not a lock in Python, makes fifty
    identical submits at once end as one row (a second statement then marks the
    invitation answered). An imported response for the same
    person and quarter is updated in place.
    """
    now = now or utcnow()
    params: dict[str, Any] = {name: getattr(answers, name) for name in ANSWER_FIELDS}
    params.update(
        comment=comment,
        name_consent=name_consent,
        account_id=visit.account_id,
        contact_id=visit.contact_id,
        period=visit.period,
        invitation_id=visit.invitation_id,
        source="survey",
        submitted_at=now,
        # to the microsecond: the dashboard cache notices every re-answer by it
        updated_at=datetime.now(UTC).replace(tzinfo=None),
    )
    # The answer sums change with the answers, in this transaction (cpi/surveys/sums.py).
    replace_answers(session, visit.account_id, visit.contact_id, visit.period, answers)
    upsert, mark_answered = _answer_statements(session.get_bind().dialect.name)
    session.execute(upsert, params)
    session.execute(mark_answered, {"invitation_id": visit.invitation_id, "now": now})


@cache
def _answer_statements(dialect: str) -> tuple[Any, Any]:
    insert = dialect_insert(dialect)
    statement = insert(Response)
    excluded = statement.excluded
    answer_columns = (*ANSWER_FIELDS, "comment", "name_consent")
    upsert = statement.on_conflict_do_update(
        index_elements=["account_id", "contact_id", "period"],
        set_={
            **{name: excluded[name] for name in answer_columns},
            "invitation_id": excluded.invitation_id,
            "source": excluded.source,
            "updated_at": excluded.updated_at,
            "submitted_at": func.coalesce(Response.submitted_at, excluded.submitted_at),
        },
    )
    mark_answered = (
        update(Invitation)
        .where(Invitation.id == bindparam("invitation_id"))
        .values(answered_at=func.coalesce(Invitation.answered_at, bindparam("now")))
        .execution_options(synchronize_session=False)
    )
    return upsert, mark_answered


def opt_out(session: Session, visit: Visit, now: datetime | None = None) -> None:
    """Stop all survey email to this contact, in this and every later campaign."""
    session.execute(
        update(Contact)
        .where(Contact.id == visit.contact_id, Contact.opted_out_at.is_(None))
        .values(opted_out_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )
    # Nothing still queued for this person goes out after they said stop.
    session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.status == "queued",
            OutboxMessage.invitation_id.in_(
                select(Invitation.id).where(Invitation.contact_id == visit.contact_id)
            ),
        )
        .values(status="cancelled", last_error="contact opted out")
        .execution_options(synchronize_session=False)
    )
