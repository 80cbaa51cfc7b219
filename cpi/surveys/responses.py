"""The customer's side: what a token opens (a visit), the questions, the answers and
opting out. Each function takes a session, flushes, never commits."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from typing import Any

from sqlalchemy import Connection, Table, bindparam, delete, func, select, update
from sqlalchemy.orm import Session

from cpi.accounts.models import Contact
from cpi.db import dialect_insert
from cpi.followups.operations import answer_recorded
from cpi.generation import note_answers
from cpi.mail.models import OutboxMessage
from cpi.scoring import Answers
from cpi.scoring.catalogue import ANSWER_FIELDS
from cpi.surveys.campaigns import taking_answers
from cpi.surveys.models import Campaign, CustomAnswer, Invitation, Question, Response
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
    # On the session's connection (its transaction), past the ORM's statement handling.
    row = session.connection().execute(_VISIT_QUERY, {"token_hash": token_hash}).first()
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
    """A question as plain values (cached between requests, hashable)."""

    field: str
    kind: str
    label: str
    required: bool
    min_value: float | None
    max_value: float | None
    # Custom questions only: the row's id, its label per language and its options
    # as (value, ((locale, label), ...)).
    question_id: int | None = None
    texts: tuple[tuple[str, str], ...] = ()
    options: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()

    @property
    def custom(self) -> bool:
        return self.question_id is not None

    def text_in(self, locale: str) -> str:
        """The custom label in ``locale``, else in English, else as stored."""
        texts = dict(self.texts)
        return texts.get(locale) or texts.get("en") or self.label

    def option_labels(self, locale: str) -> list[tuple[str, str]]:
        return [
            (value, dict(labels).get(locale) or dict(labels).get("en") or value)
            for value, labels in self.options
        ]


def question_info(q: Question) -> QuestionInfo:
    if not q.custom:
        return QuestionInfo(q.field, q.kind, q.label, q.required, q.min_value, q.max_value)
    options = tuple(
        (str(o["value"]), tuple(sorted((str(k), str(v)) for k, v in o["labels"].items())))
        for o in q.options or []
    )
    return QuestionInfo(
        q.field, q.kind, q.label, q.required, q.min_value, q.max_value,
        question_id=q.id, texts=tuple(sorted((q.texts or {}).items())), options=options,
    )  # fmt: skip


def survey_questions(session: Session, survey_id: int) -> list[QuestionInfo]:
    """The questions the form asks now (retired ones left out), in order."""
    return [
        question_info(q)
        for q in session.scalars(
            select(Question)
            .where(Question.survey_id == survey_id, Question.retired_at.is_(None))
            .order_by(Question.position, Question.id)
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
    custom = session.execute(
        select(Question.field, CustomAnswer.value_text, CustomAnswer.value_number)
        .join(Question, Question.id == CustomAnswer.question_id)
        .where(CustomAnswer.response_id == response.id, Question.retired_at.is_(None))
    )
    for field, text, number in custom:
        values.setdefault(field, number if number is not None else text)
    return {name: value for name, value in values.items() if value not in (None, "")}


def record_answers(
    session: Session,
    visit: Visit,
    answers: Answers,
    *,
    comment: str | None,
    name_consent: bool,
    custom: Mapping[int, str | int | None] | None = None,
    now: datetime | None = None,
) -> None:
    """Insert or update the one response of this contact, account and period.

    The response is one ``INSERT ... ON CONFLICT (account_id, contact_id, period) DO
    UPDATE``: the database's unique constraint, not a lock in Python, makes fifty
    identical submits at once end as one row (a second statement then marks the
    invitation answered). An imported response for the same
    person and quarter is updated in place. Answers that meet an alert rule raise a
    follow-up (cpi.followups) in the same transaction.
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
    # Core statements on the session's connection (its one transaction): no ORM
    # unit of work, no objects; all or nothing with the caller's commit.
    write_answers(session.connection(), params, now)
    # Core on the connection: tell the dashboard cache (cpi.generation). The response is
    # the quarter's; the invitation's answered_at is read by no dashboard.
    note_answers(session, [(visit.account_id, visit.period)])
    if custom:
        record_custom_answers(session, visit, custom)

    # Closing the loop: a worrying answer raises a follow-up for the account's owner,
    # in this same transaction (cpi/followups).
    answer_recorded(
        session,
        account_id=visit.account_id,
        contact_id=visit.contact_id,
        period=visit.period,
        answers=params,
        comment=comment,
        name_consent=name_consent,
        now=now,
    )


def record_custom_answers(
    session: Session, visit: Visit, custom: Mapping[int, str | int | None]
) -> None:
    """Replace this response's answers to the form's custom questions (``{question id:
    value}``, None for a blank one), in the response's transaction. Answers to questions
    not on the form (retired since) stay as they were."""
    response_id = session.scalar(
        select(Response.id).where(
            Response.account_id == visit.account_id,
            Response.contact_id == visit.contact_id,
            Response.period == visit.period,
        )
    )
    blank = [question_id for question_id, value in custom.items() if value is None]
    if blank:
        session.execute(
            delete(CustomAnswer)
            .where(CustomAnswer.response_id == response_id, CustomAnswer.question_id.in_(blank))
            .execution_options(synchronize_session=False)
        )
    rows = [
        {
            "response_id": response_id,
            "question_id": question_id,
            "value_number": value if isinstance(value, int) else None,
            "value_text": value if isinstance(value, str) else None,
        }
        for question_id, value in custom.items()
        if value is not None
    ]
    if rows:
        session.execute(_custom_upsert(session.get_bind().dialect.name), rows)


@cache
def _custom_upsert(dialect: str) -> Any:
    statement = dialect_insert(dialect)(CustomAnswer)
    return statement.on_conflict_do_update(
        index_elements=["response_id", "question_id"],
        set_={
            "value_text": statement.excluded.value_text,
            "value_number": statement.excluded.value_number,
        },
    )


# What ``write_answers`` writes of a response (its parameters' names).
RESPONSE_COLUMNS = (
    *ANSWER_FIELDS, "comment", "name_consent", "account_id", "contact_id", "period",
    "invitation_id", "source", "submitted_at", "updated_at",
)  # fmt: skip


def write_answers(connection: Connection, params: dict[str, Any], now: datetime) -> None:
    """The response upsert (``params``: its ``RESPONSE_COLUMNS``) and the invitation
    marked answered at ``now`` (kept if it was already): one statement on PostgreSQL (the
    invitation's UPDATE in a CTE of the upsert), two on SQLite (no data-modifying CTEs)."""
    upsert, mark_answered = _answer_statements(connection.dialect.name)
    if mark_answered is None:
        values = {f"r_{name}": params[name] for name in RESPONSE_COLUMNS}
        values.update(answered_invitation=params["invitation_id"], answered_now=now)
        connection.execute(upsert, values)
        return
    connection.execute(upsert, params)
    connection.execute(mark_answered, {"invitation_id": params["invitation_id"], "now": now})


@cache
def _answer_statements(dialect: str) -> tuple[Any, Any]:
    """The response upsert and the invitation's UPDATE; on PostgreSQL the UPDATE is a CTE
    of the upsert (one statement, one round trip) and the second is None. Both write in
    the statement's one snapshot; they touch different tables, and the upsert's foreign
    key check on the invitation row (KEY SHARE) does not conflict with the UPDATE's lock
    (it changes no key) in the same transaction."""
    responses: Table = Response.__table__  # type: ignore[assignment]
    invitations: Table = Invitation.__table__  # type: ignore[assignment]
    statement = dialect_insert(dialect)(responses)
    if dialect == "postgresql":
        # Every value a named parameter that is no column's name: parameters named like
        # columns would also be SET by the UPDATE in the CTE (invitations.contact_id).
        statement = statement.values({name: bindparam(f"r_{name}") for name in RESPONSE_COLUMNS})
    excluded = statement.excluded
    answer_columns = (*ANSWER_FIELDS, "comment", "name_consent")
    upsert = statement.on_conflict_do_update(
        index_elements=["account_id", "contact_id", "period"],
        set_={
            **{name: excluded[name] for name in answer_columns},
            "invitation_id": excluded.invitation_id,
            "source": excluded.source,
            "updated_at": excluded.updated_at,
            "submitted_at": func.coalesce(responses.c.submitted_at, excluded.submitted_at),
        },
    )
    if dialect == "postgresql":
        answered = (
            update(invitations)
            .where(invitations.c.id == bindparam("answered_invitation"))
            .values(answered_at=func.coalesce(invitations.c.answered_at, bindparam("answered_now")))
            .returning(invitations.c.id)
            .cte("answered")
        )
        return upsert.add_cte(answered), None
    mark_answered = (
        update(invitations)
        .where(invitations.c.id == bindparam("invitation_id"))
        .values(answered_at=func.coalesce(invitations.c.answered_at, bindparam("now")))
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
