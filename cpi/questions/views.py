"""The admin page of survey questions (``/admin/questions``): add custom questions in
the five languages, reorder and retire them, add a template. Administrators only; every
change is audit-logged and takes effect on the survey form at once in this process."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from cpi.audit.operations import record
from cpi.auth.access import admin_only, require_staff
from cpi.auth.forms import ActionForm
from cpi.db import get_session
from cpi.i18n import SUPPORTED_LOCALES
from cpi.questions.forms import LANGUAGES, MoveForm, QuestionForm, TemplateForm
from cpi.questions.operations import (
    KIND_LABELS,
    NewQuestion,
    QuestionError,
    add_question,
    add_template,
    move_question,
    question_rows,
    restore_question,
    retire_question,
)
from cpi.surveys.forms import forget_cached_questions
from cpi.surveys.models import Survey

bp = Blueprint("questions", __name__, url_prefix="/admin/questions")
require_staff(bp)


@bp.before_request
@admin_only
def _admins_only() -> None:
    return None


def _survey() -> Survey:
    session = get_session()
    raw = request.values.get("survey", "")
    if raw:
        survey = session.get(Survey, int(raw)) if raw.isdigit() else None
    else:
        survey = session.scalar(select(Survey).order_by(Survey.id).limit(1))
    if survey is None:
        abort(404)
    return survey


def _page(survey: Survey, form: QuestionForm, errors: list[str]) -> ResponseReturnValue:
    session = get_session()
    return render_template(
        "admin/questions.html",
        survey=survey,
        surveys=session.scalars(select(Survey).order_by(Survey.id)).all(),
        rows=question_rows(session, survey.id),
        form=form,
        template_form=TemplateForm(formdata=None),
        move_form=MoveForm(formdata=None),
        action_form=ActionForm(formdata=None),
        languages=LANGUAGES,
        kinds=KIND_LABELS,
        errors=errors,
    ), (400 if errors else 200)


def _back(survey_id: int) -> ResponseReturnValue:
    return redirect(url_for("questions.index", survey=survey_id))


@bp.get("/")
def index() -> ResponseReturnValue:
    return _page(_survey(), QuestionForm(formdata=None), [])


@bp.post("/")
def create() -> ResponseReturnValue:
    survey = _survey()
    form = QuestionForm()
    if not form.validate_on_submit():
        return _page(survey, form, [f"{k}: {m}" for k, ms in form.errors.items() for m in ms])
    data = request.form
    new = NewQuestion(
        field=form.field.data or "",
        kind=form.kind.data or "",
        texts={loc: data.get(f"label_{loc}", "") for loc in SUPPORTED_LOCALES},
        scale=form.scale.data,
        options={loc: data.get(f"options_{loc}", "") for loc in SUPPORTED_LOCALES},
    )
    session = get_session()
    try:
        question = add_question(session, survey.id, new)
    except QuestionError as error:
        session.rollback()
        return _page(survey, form, [str(error)])
    record(session, current_user.email, "question.create", f"{survey.code}: {question.field}")
    session.commit()
    forget_cached_questions()
    flash(_("Added the question %(field)s.", field=question.field), "success")
    return _back(survey.id)


@bp.post("/template")
def template() -> ResponseReturnValue:
    survey = _survey()
    form = TemplateForm()
    if not form.validate_on_submit():
        return _page(survey, QuestionForm(formdata=None), [_("template: choose a template")])
    session = get_session()
    added = add_template(session, survey.id, form.template.data or "")
    names = ", ".join(q.field for q in added) or _("nothing new")
    record(session, current_user.email, "question.template", f"{survey.code}: {names}")
    session.commit()
    forget_cached_questions()
    flash(_("Template added: %(names)s.", names=names), "success")
    return _back(survey.id)


def _change(question_id: int, action: str) -> ResponseReturnValue:
    survey = _survey()
    form = MoveForm() if action == "move" else ActionForm()
    if not form.validate_on_submit():
        return _page(survey, QuestionForm(formdata=None), ["The form expired; please try again."])
    session = get_session()
    try:
        if action == "move":
            question = move_question(session, question_id, form.direction.data or "")
        elif action == "retire":
            question = retire_question(session, question_id)
        else:
            question = restore_question(session, question_id)
    except QuestionError as error:
        session.rollback()
        return _page(survey, QuestionForm(formdata=None), [str(error)])
    if question.survey_id != survey.id:
        session.rollback()
        abort(404)
    record(session, current_user.email, f"question.{action}", f"{survey.code}: {question.field}")
    session.commit()
    forget_cached_questions()
    return _back(survey.id)


@bp.post("/<int:question_id>/move")
def move(question_id: int) -> ResponseReturnValue:
    return _change(question_id, "move")


@bp.post("/<int:question_id>/retire")
def retire(question_id: int) -> ResponseReturnValue:
    return _change(question_id, "retire")


@bp.post("/<int:question_id>/restore")
def restore(question_id: int) -> ResponseReturnValue:
    return _change(question_id, "restore")
