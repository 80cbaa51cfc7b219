"""The figures of custom questions for a scope (company, segment, account manager's
portfolio, account) and period: counts, shares and means with their intervals
(cpi.scoring.custom), nothing but the count below ``min_n``.

Retired questions keep their figures for the periods they were answered in.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cpi.accounts.models import Account
from cpi.rules.custom_questions import YES_NO, top_box
from cpi.scoring import Period
from cpi.scoring.custom import CustomFigures, choice_figures, scale_figures
from cpi.surveys.models import CustomAnswer, Question, Response


@dataclass(frozen=True)
class QuestionFigures:
    field: str
    kind: str
    label: str
    retired: bool
    figures: CustomFigures
    # option value -> its English label (kind "options"); "yes"/"top" otherwise
    value_labels: dict[str, str]


def _scope_clauses(scope_type: str, scope_id: str | None) -> list[Any]:
    if scope_type == "account":
        return [Account.account_id == (scope_id or "")]
    if scope_type == "segment":
        return [Account.segment == (scope_id or "")]
    if scope_type == "owner":
        return [Account.owner_email == (scope_id or "").strip().lower()]
    return []


def _value_labels(question: Question) -> dict[str, str]:
    if question.kind == "yes_no":
        return {"yes": "Yes", "no": "No"}
    if question.kind == "options":
        return {
            str(o["value"]): str(o["labels"].get("en", o["value"])) for o in question.options or []
        }
    if question.kind == "scale":
        top = top_box(int(question.min_value or 0), int(question.max_value or 0))
        return {"top": "Top box (" + ", ".join(str(v) for v in top) + ")"}
    return {}


def custom_figures(
    session: Session, scope_type: str, scope_id: str | None, period: Period | str, *, min_n: int
) -> list[QuestionFigures]:
    """One entry per custom question answered in the scope and period, in form order."""
    quarters = [str(q) for q in Period.parse(period).quarters()]
    counted = session.execute(
        select(
            CustomAnswer.question_id,
            CustomAnswer.value_text,
            CustomAnswer.value_number,
            func.count(),
        )
        .join(Response, Response.id == CustomAnswer.response_id)
        .join(Account, Account.id == Response.account_id)
        .where(Response.period.in_(quarters), *_scope_clauses(scope_type, scope_id))
        .group_by(CustomAnswer.question_id, CustomAnswer.value_text, CustomAnswer.value_number)
    ).all()
    counts: dict[int, dict[Any, int]] = defaultdict(dict)
    for question_id, text, number, count in counted:
        key = number if number is not None else text
        counts[question_id][key] = counts[question_id].get(key, 0) + count
    if not counts:
        return []
    questions = session.scalars(
        select(Question)
        .where(Question.id.in_(counts))
        .order_by(Question.survey_id, Question.retired_at.is_not(None), Question.position)
    )
    found = []
    for question in questions:
        by_value = counts[question.id]
        labels = _value_labels(question)
        if question.kind == "scale":
            low, high = int(question.min_value or 0), int(question.max_value or 0)
            figures = scale_figures(by_value, top_box(low, high), min_n)
        elif question.kind == "yes_no":
            figures = choice_figures(by_value, YES_NO[:1], min_n)
        elif question.kind == "options":
            figures = choice_figures(by_value, list(labels), min_n)
        else:  # short text: how many answered (the texts are in the export)
            figures = choice_figures(by_value, (), min_n)
        found.append(
            QuestionFigures(
                question.field,
                question.kind,
                question.label,
                question.retired_at is not None,
                figures,
                labels,
            )  # fmt: skip
        )
    return found
