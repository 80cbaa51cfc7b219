"""The survey form, built from the survey's ``Question`` rows (a new question is data).

WTForms renders the fields and checks the CSRF token; the answers themselves are
checked by ``cpi.scoring.validate_answers``, the same gate as the CSV import, and
the checks here add only what a web form has on top (unknown or repeated fields,
the comment's length and characters, the consent box).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from flask_babel import get_locale, gettext
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import BooleanField, Field, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import NumberInput

from cpi.rules.comments import COMMENT_MAX_CHARS, comment_problem
from cpi.rules.custom_questions import SHORT_TEXT_MAX_CHARS, parse_custom_answer
from cpi.scoring import Answers, validate_answers
from cpi.scoring.catalogue import ANSWER_FIELDS, DAYS_RANGE, INTEGER_RANGES
from cpi.surveys import labels
from cpi.surveys.responses import QuestionInfo

# Per-process caches of the survey views (questions by survey, form classes by
# locale and questions); an admin's change to the questions empties them.
QUESTIONS_CACHE = "cpi_survey_questions"
FORMS_CACHE = "cpi_survey_forms"


def forget_cached_questions() -> None:
    """After the questions changed: this process asks the database again at once (other
    processes within ``QUESTIONS_CACHE_SECONDS``)."""
    current_app.extensions.pop(QUESTIONS_CACHE, None)
    current_app.extensions.pop(FORMS_CACHE, None)


CONSENT_VALUES = ("y", "yes", "on", "1", "true")
FORM_FIELDS = frozenset(ANSWER_FIELDS) | {"comment", "name_consent"}


def _range(question: QuestionInfo) -> tuple[float, float]:
    if question.field in INTEGER_RANGES:
        return INTEGER_RANGES[question.field]
    if question.field == "quote_turnaround_days":
        return DAYS_RANGE
    return (question.min_value or 0, question.max_value or 0)


def _choices(pairs: Iterable[tuple[str, Any]]) -> list[Any]:
    return [SelectChoice(value, str(label)) for value, label in pairs]


def _locale() -> str:
    return str(get_locale() or "en")


def make_custom_field(question: QuestionInfo) -> Field:
    """A custom question's field; its label and options in the page's language."""
    locale = _locale()
    label = question.text_in(locale)
    if question.kind == "yes_no":
        return RadioField(label, choices=_choices(labels.YES_NO_CHOICES), validate_choice=False)
    if question.kind == "options":
        return RadioField(
            label, choices=_choices(question.option_labels(locale)), validate_choice=False
        )
    if question.kind == "scale":
        low, high = int(question.min_value or 0), int(question.max_value or 0)
        choices = _choices((str(n), str(n)) for n in range(low, high + 1))
        return RadioField(label, choices=choices, validate_choice=False)
    if question.kind == "short_text":
        return StringField(label, render_kw={"maxlength": SHORT_TEXT_MAX_CHARS})
    raise ValueError(f"question {question.field}: unknown kind {question.kind!r}")


def make_field(question: QuestionInfo) -> Field:
    if question.custom:
        return make_custom_field(question)
    label = gettext(question.label)
    hint = labels.HINTS.get(question.field, "")
    low, high = _range(question)
    if question.kind == "choice":
        return RadioField(label, choices=_choices(labels.FCR_CHOICES), validate_choice=False)
    if question.kind == "scale":
        choices = _choices((str(n), str(n)) for n in range(int(low), int(high) + 1))
        return RadioField(label, choices=choices, validate_choice=False)
    if question.kind in ("integer", "decimal"):
        step = "1" if question.kind == "integer" else "0.5"
        return StringField(
            label,
            description=hint,
            widget=NumberInput(step=step, min=int(low), max=int(high)),
            render_kw={"inputmode": "numeric" if question.kind == "integer" else "decimal"},
        )
    if question.kind == "text":
        return TextAreaField(
            label, description=hint, render_kw={"maxlength": COMMENT_MAX_CHARS, "rows": 5}
        )
    if question.kind == "consent":
        return BooleanField(label, false_values=(False, "false", ""))
    raise ValueError(f"question {question.field}: unknown kind {question.kind!r}")


def build_form_class(questions: Iterable[QuestionInfo]) -> type[FlaskForm]:
    """A FlaskForm subclass with one field per question, in question order."""
    attrs: dict[str, Any] = {q.field: make_field(q) for q in questions}
    return type("SurveyForm", (FlaskForm,), attrs)


@dataclass(frozen=True)
class Submission:
    answers: Answers
    comment: str | None
    name_consent: bool
    # {question id: value or None} for the form's custom questions
    custom: dict[int, str | int | None] = field(default_factory=dict)


def _custom_message(question: QuestionInfo) -> str:
    if question.kind == "yes_no":
        return gettext("Choose yes or no.")
    if question.kind == "options":
        return gettext("Choose one of the answers.")
    if question.kind == "scale":
        low, high = int(question.min_value or 0), int(question.max_value or 0)
        return gettext("Choose a number from %(low)d to %(high)d.", low=low, high=high)
    return gettext(
        "Please keep this to %(limit)s characters of ordinary text.",
        limit=SHORT_TEXT_MAX_CHARS,
    )


def parse_custom(
    form: MultiDict[str, str], questions: list[QuestionInfo]
) -> tuple[dict[int, str | int | None], dict[str, str]]:
    """The custom answers by question id, or ``{field: message}`` for the wrong ones."""
    answers: dict[int, str | int | None] = {}
    errors: dict[str, str] = {}
    for question in questions:
        if question.question_id is None:
            continue
        try:
            answers[question.question_id] = parse_custom_answer(
                question.field, question.kind, form.get(question.field),
                low=int(question.min_value or 0), high=int(question.max_value or 0),
                options=tuple(value for value, _ in question.options),
            )  # fmt: skip
        except ValueError:
            errors[question.field] = _custom_message(question)
    return answers, errors


def _message(question: QuestionInfo, problem: str) -> str:
    low, high = _range(question)
    if problem == "more_than_total":
        return gettext("This cannot be more than your number of contacts.")
    if question.kind == "choice":
        return gettext("Choose one of the answers.")
    if question.kind == "scale":
        return gettext("Choose a number from %(low)d to %(high)d.", low=low, high=high)
    if question.kind == "integer":
        return gettext("Enter a whole number from %(low)d to %(high)d.", low=low, high=high)
    return gettext("Enter a number of days from 0 to 365, or leave it empty.")


def parse_submission(
    form: MultiDict[str, str], questions: list[QuestionInfo]
) -> tuple[Submission | None, dict[str, str]]:
    """The submission, or ``{field: message}`` naming every field that is wrong."""
    by_field = {q.field: q for q in questions}
    errors: dict[str, str] = {}
    for name in form:
        if name == "csrf_token":
            continue
        if name not in by_field:
            errors[name[:64]] = gettext("This form has no field with this name.")
        elif len(form.getlist(name)) > 1:
            errors[name] = gettext("This question was answered more than once in one form.")
    custom, custom_errors = parse_custom(form, questions)
    for name, message in custom_errors.items():
        errors.setdefault(name, message)
    answer_fields = {name: form.get(name) for name in ANSWER_FIELDS if name in by_field}
    answers, problems = validate_answers(answer_fields)
    for name, problem in problems.items():
        kind = "more_than_total" if "more than" in problem else "range"
        errors.setdefault(name, _message(by_field[name], kind))

    comment = form.get("comment", "") if "comment" in by_field else ""
    problem = comment_problem(comment)
    if problem == "too_long":
        errors["comment"] = gettext(
            "Your comment is %(length)s characters long; please keep it to %(limit)s.",
            length=f"{len(comment):,}",
            limit=f"{COMMENT_MAX_CHARS:,}",
        )
    elif problem == "characters":
        errors["comment"] = gettext("This text contains characters we cannot store.")
    consent_raw = form.get("name_consent", "")
    if consent_raw and consent_raw.lower() not in CONSENT_VALUES:
        errors["name_consent"] = gettext("Tick the box or leave it empty.")
    comment = comment.strip()
    nothing = all(getattr(answers, n) is None for n in ANSWER_FIELDS) and all(
        value is None for value in custom.values()
    )
    if not errors and not comment and nothing:
        errors["form"] = gettext("Please answer at least one question.")
    if errors:
        return None, errors
    return Submission(answers, comment or None, bool(consent_raw), custom), {}


def prefill(query: Mapping[str, str], questions: list[QuestionInfo]) -> dict[str, Any]:
    """Answers from a link's query string that would be accepted; the rest is ignored."""
    fields = {q.field for q in questions}
    answers, problems = validate_answers({k: query.get(k) for k in ANSWER_FIELDS if k in fields})
    return {
        name: _as_form_value(getattr(answers, name))
        for name in ANSWER_FIELDS
        if name in fields and name not in problems and getattr(answers, name) is not None
    }


def _as_form_value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def form_values(stored: Mapping[str, Any]) -> dict[str, Any]:
    """A stored response as form data (numbers as the strings the fields show)."""
    return {
        name: value if isinstance(value, bool) else _as_form_value(value)
        for name, value in stored.items()
    }
