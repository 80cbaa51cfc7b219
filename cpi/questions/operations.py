"""Custom survey questions (issue 14, item 8): add, reorder, retire, and the shipped
templates. Each function takes a session, flushes, never commits; a problem raises
``QuestionError`` naming the field, and nothing is written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cpi.i18n import SUPPORTED_LOCALES
from cpi.i18n.errors import LocalisedError
from cpi.rules.comments import comment_problem
from cpi.rules.custom_questions import (
    CUSTOM_KINDS,
    LABEL_MAX_CHARS,
    MAX_OPTIONS,
    OPTION_MAX_CHARS,
    SCALES,
    field_name_problem,
)
from cpi.surveys.models import CustomAnswer, Question, Survey
from cpi.timeutil import utcnow

# Translated when shown (the staff user's language; English without a request).
KIND_LABELS = {
    "yes_no": _l("Yes / no"),
    "options": _l("Choice (one of a list)"),
    "scale": _l("Scale"),
    "short_text": _l("Short text"),
}


class QuestionError(LocalisedError):
    """Bad input for a question; the message starts with the field it is about (its
    form name, ``label_fr``), the reason in the reader's language
    (:class:`cpi.i18n.errors.LocalisedError`)."""


@dataclass(frozen=True)
class NewQuestion:
    field: str
    kind: str
    # label per language (all five)
    texts: Mapping[str, str]
    # "1-5" or "0-10" for a scale
    scale: str | None = None
    # per language, one option per line (the same number of lines in each)
    options: Mapping[str, str] | None = None


def _clean_text(name: str, text: str, limit: int) -> str:
    text = " ".join(text.split())
    if not text:
        raise QuestionError(name, _l("this cannot be empty"))
    if len(text) > limit:
        raise QuestionError(
            name,
            _l("at most %(limit)s characters (this has %(count)s)", limit=limit, count=len(text)),
        )
    if comment_problem(text) is not None:
        raise QuestionError(name, _l("contains characters that cannot be stored"))
    return text


def _options(raw: Mapping[str, str]) -> list[dict[str, Any]]:
    by_locale = {
        locale: [line.strip() for line in raw.get(locale, "").splitlines() if line.strip()]
        for locale in SUPPORTED_LOCALES
    }
    count = len(by_locale["en"])
    if not 2 <= count <= MAX_OPTIONS:
        raise QuestionError(
            "options_en", _l("give 2 to %(limit)s options, one per line", limit=MAX_OPTIONS)
        )
    for locale, lines in by_locale.items():
        if len(lines) != count:
            raise QuestionError(
                f"options_{locale}",
                _l("give %(count)s options, one per line, in the English order (this has %(has)s)",
                   count=count, has=len(lines)),
            )  # fmt: skip
        for number, line in enumerate(lines, start=1):
            _clean_text(f"options_{locale} line {number}", line, OPTION_MAX_CHARS)
    return [
        {"value": str(i + 1), "labels": {loc: by_locale[loc][i] for loc in SUPPORTED_LOCALES}}
        for i in range(count)
    ]


def add_question(session: Session, survey_id: int, new: NewQuestion) -> Question:
    """A custom question at the end of the survey's form."""
    if session.get(Survey, survey_id) is None:
        raise QuestionError("survey", _l("no such survey"))
    field = new.field.strip().lower()
    taken = set(session.scalars(select(Question.field).where(Question.survey_id == survey_id)))
    if (problem := field_name_problem(field, taken)) is not None:
        raise QuestionError(problem)
    if new.kind not in CUSTOM_KINDS:
        raise QuestionError(
            "kind", _l("choose one of %(choices)s", choices=", ".join(CUSTOM_KINDS))
        )
    texts = {
        locale: _clean_text(f"label_{locale}", new.texts.get(locale, ""), LABEL_MAX_CHARS)
        for locale in SUPPORTED_LOCALES
    }
    low = high = None
    if new.kind == "scale":
        if new.scale not in SCALES:
            raise QuestionError("scale", _l("choose one of %(choices)s", choices=", ".join(SCALES)))
        low, high = SCALES[new.scale]
    options = _options(new.options or {}) if new.kind == "options" else None
    last = session.scalar(
        select(func.max(Question.position)).where(Question.survey_id == survey_id)
    )
    question = Question(
        survey_id=survey_id, position=(last or 0) + 1, field=field, kind=new.kind,
        label=texts["en"], required=False, min_value=low, max_value=high, custom=True,
        texts=texts, options=options,
    )  # fmt: skip
    session.add(question)
    session.flush()
    return question


def _custom(session: Session, question_id: int) -> Question:
    question = session.get(Question, question_id)
    if question is None or not question.custom:
        raise QuestionError("question", _l("no such custom question"))
    return question


def move_question(session: Session, question_id: int, direction: str) -> Question:
    """Swap a custom question with its neighbour on the form ("up" or "down")."""
    question = _custom(session, question_id)
    if question.retired_at is not None:
        raise QuestionError("question", _l("a retired question is not on the form"))
    asked = list(
        session.scalars(
            select(Question)
            .where(Question.survey_id == question.survey_id, Question.retired_at.is_(None))
            .order_by(Question.position, Question.id)
        )
    )
    for place, item in enumerate(asked, start=1):
        item.position = place  # tidy positions (ties, gaps) before swapping
    index = asked.index(question)
    other = index - 1 if direction == "up" else index + 1
    if direction not in ("up", "down") or not 0 <= other < len(asked):
        raise QuestionError(
            "direction", _l("the question cannot move %(direction)s", direction=direction)
        )
    neighbour = asked[other]
    question.position, neighbour.position = neighbour.position, question.position
    session.flush()
    return question


def retire_question(session: Session, question_id: int, now: datetime | None = None) -> Question:
    """Take a custom question off the form; its answers and figures stay."""
    question = _custom(session, question_id)
    if question.retired_at is None:
        question.retired_at = now or utcnow()
        session.flush()
    return question


def restore_question(session: Session, question_id: int) -> Question:
    """Put a retired custom question back on the form, at the end."""
    question = _custom(session, question_id)
    if question.retired_at is not None:
        last = session.scalar(
            select(func.max(Question.position)).where(Question.survey_id == question.survey_id)
        )
        question.retired_at = None
        question.position = (last or 0) + 1
        session.flush()
    return question


# The templates an admin can add with one click; labels in all five languages.
TEMPLATES: dict[str, tuple[NewQuestion, ...]] = {
    "content": (
        NewQuestion(
            field="content_value",
            kind="yes_no",
            texts={
                "en": "Did the material we shared add value?",
                "fr": "Les documents que nous avons partagés vous ont-ils apporté de la valeur ?",
                "de": "Haben die Unterlagen, die wir geteilt haben, Ihnen einen Mehrwert gebracht?",
                "hu": "Hasznosnak találta az általunk megosztott anyagokat?",
                "ru": "Были ли полезны материалы, которыми мы поделились?",
            },
        ),
        NewQuestion(
            field="content_clarity",
            kind="yes_no",
            texts={
                "en": "Did it make your buying decision clearer?",
                "fr": "Vous ont-ils aidé à y voir plus clair dans votre décision d'achat ?",
                "de": "Haben sie Ihre Kaufentscheidung klarer gemacht?",
                "hu": "Egyértelműbbé tették a vásárlási döntését?",
                "ru": "Помогли ли они вам яснее определиться с решением о покупке?",
            },
        ),
    ),
}
TEMPLATE_NAMES = {"content": _l("Content")}


def add_template(session: Session, survey_id: int, name: str) -> list[Question]:
    """Add a template's questions; those the survey already has are left as they are."""
    if name not in TEMPLATES:
        raise QuestionError(
            "template", _l("choose one of %(choices)s", choices=", ".join(TEMPLATES))
        )
    taken = set(session.scalars(select(Question.field).where(Question.survey_id == survey_id)))
    return [
        add_question(session, survey_id, new) for new in TEMPLATES[name] if new.field not in taken
    ]


@dataclass(frozen=True)
class QuestionRow:
    """A question as the admin page lists it."""

    id: int
    position: int
    field: str
    kind: str
    label: str
    custom: bool
    retired: bool
    answers: int
    scale: str | None


def question_rows(session: Session, survey_id: int) -> list[QuestionRow]:
    counts = dict(
        session.execute(
            select(CustomAnswer.question_id, func.count())
            .join(Question, Question.id == CustomAnswer.question_id)
            .where(Question.survey_id == survey_id)
            .group_by(CustomAnswer.question_id)
        ).all()
    )
    questions = session.scalars(
        select(Question)
        .where(Question.survey_id == survey_id)
        .order_by(Question.retired_at.is_not(None), Question.position, Question.id)
    )
    return [
        QuestionRow(
            q.id,
            q.position,
            q.field,
            q.kind,
            q.label,
            q.custom,
            q.retired_at is not None,
            counts.get(q.id, 0),
            f"{q.min_value:g}-{q.max_value:g}" if q.kind == "scale" and q.custom else None,
        )  # fmt: skip
        for q in questions
    ]
