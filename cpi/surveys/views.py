"""The customer's pages: the survey (``/s/<token>``) and the opt-out (``/u/<token>``).

A GET never records anything (mail scanners follow every link in an email). Any
token that does not open a live survey gets the same 404 page, whatever the
reason; wrong tokens count against a per-client rate limit (429).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, g, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response as WerkzeugResponse

from cpi.db import get_session
from cpi.extensions import csrf, limiter
from cpi.i18n import normalise, use_locale
from cpi.surveys import labels, operations
from cpi.surveys.forms import build_form_class, form_values, parse_submission, prefill

bp = Blueprint("surveys", __name__)

DEFAULT_WRONG_LINK_LIMIT = "30 per minute;300 per hour"


def _token_limit() -> str:
    return str(current_app.config.get("SURVEY_TOKEN_RATE_LIMIT", DEFAULT_WRONG_LINK_LIMIT))


def _wrong_token(response: WerkzeugResponse) -> bool:
    return response.status_code == 404


# Only failed lookups are counted, across all token addresses; a client over the
# limit gets 429 for a while.
token_limit = limiter.shared_limit(_token_limit, scope="survey-token", deduct_when=_wrong_token)


@bp.context_processor
def page_language() -> dict[str, str]:
    return {"html_lang": g.get("cpi_locale") or "en"}


def _speak(visit: operations.Visit | None) -> None:
    best = request.accept_languages.best_match(("en", "fr", "de", "hu", "ru"))
    use_locale(normalise(visit.locale if visit else None) or best or "en")


def _not_found() -> tuple[str, int]:
    return render_template("surveys/unavailable.html"), 404


def _survey_page(visit: operations.Visit, form: Any, errors: dict[str, str], status: int) -> Any:
    questions = operations.survey_questions(get_session(), visit.survey_id)
    return (
        render_template(
            "surveys/survey.html",
            form=form,
            questions=questions,
            errors=errors,
            visit=visit,
            scale_anchors=labels.SCALE_ANCHORS,
        ),
        status,
    )


@bp.get("/s/", defaults={"token": ""})
@bp.get("/s/<path:token>")
@token_limit
def survey(token: str) -> Any:
    session = get_session()
    visit = operations.find_visit(session, token)
    _speak(visit)
    if visit is None or not visit.taking_answers or visit.opted_out:
        return _not_found()
    questions = operations.survey_questions(session, visit.survey_id)
    data = form_values(operations.current_answers(session, visit))
    data.update(prefill(request.args, questions))
    form = build_form_class(questions)(formdata=None, data=data)
    return _survey_page(visit, form, {}, 200)


@bp.post("/s/", defaults={"token": ""})
@bp.post("/s/<path:token>")
@token_limit
def submit(token: str) -> Any:
    session = get_session()
    visit = operations.find_visit(session, token)
    _speak(visit)
    if visit is None or not visit.taking_answers or visit.opted_out:
        return _not_found()
    questions = operations.survey_questions(session, visit.survey_id)
    form = build_form_class(questions)()
    submission, errors = parse_submission(request.form, questions)
    if submission is None:
        return _survey_page(visit, form, errors, 400)
    try:
        operations.record_answers(
            session,
            visit,
            submission.answers,
            comment=submission.comment,
            name_consent=submission.name_consent,
        )
        session.commit()
    except IntegrityError:
        # A concurrent first insert won the race; the upsert now finds its row.
        session.rollback()
        operations.record_answers(
            session,
            visit,
            submission.answers,
            comment=submission.comment,
            name_consent=submission.name_consent,
        )
        session.commit()
    return redirect(url_for("surveys.thanks", token=token), code=303)


@bp.get("/s/<path:token>/thanks")
@token_limit
def thanks(token: str) -> Any:
    visit = operations.find_visit(get_session(), token)
    _speak(visit)
    if visit is None or visit.opted_out:
        return _not_found()
    return render_template("surveys/thanks.html", token=token, visit=visit)


@bp.get("/u/", defaults={"token": ""})
@bp.get("/u/<path:token>")
@token_limit
def unsubscribe(token: str) -> Any:
    visit = operations.find_visit(get_session(), token)
    _speak(visit)
    if visit is None:
        return _not_found()
    return render_template("surveys/unsubscribe.html", token=token, done=visit.opted_out)


# One-click unsubscribe (RFC 8058): mail clients POST without cookies or a CSRF
# token; the token in the address is the credential, so CSRF protection adds nothing.
@bp.post("/u/", defaults={"token": ""})
@bp.post("/u/<path:token>")
@csrf.exempt
@token_limit
def unsubscribe_confirm(token: str) -> Any:
    session = get_session()
    visit = operations.find_visit(session, token)
    _speak(visit)
    if visit is None:
        return _not_found()
    operations.opt_out(session, visit)
    session.commit()
    return render_template("surveys/unsubscribe.html", token=token, done=True)


@bp.errorhandler(CSRFError)
def csrf_failed(_error: CSRFError) -> Any:
    """A stale or missing CSRF token: nothing recorded; show the form again to resubmit."""
    visit = operations.find_visit(get_session(), (request.view_args or {}).get("token", ""))
    _speak(visit)
    if visit is None or not visit.taking_answers or visit.opted_out:
        return _not_found()
    questions = operations.survey_questions(get_session(), visit.survey_id)
    form = build_form_class(questions)(formdata=request.form)
    errors = {
        "form": gettext(
            "Your answers were not saved because the page had expired. "
            "Please check them and send them again."
        )
    }
    return _survey_page(visit, form, errors, 400)


@bp.errorhandler(413)
def too_large(_error: Exception) -> Any:
    """A body over MAX_CONTENT_LENGTH: refused before it is read; nothing recorded.

    Rendered straight from the Jinja environment: app-wide context processors may
    read the (refused) form body again.
    """
    _speak(None)
    page = current_app.jinja_env.get_template("surveys/too_large.html")
    return page.render(html_lang=g.get("cpi_locale") or "en"), 413
