"""The customer's pages: the survey (``/s/<token>``) and the opt-out (``/u/<token>``).

A GET never records anything (mail scanners follow every link in an email). Any
token that does not open a live survey gets the same 404 page, whatever the
reason (unknown, malformed, erased, opted out, or its campaign closed: the thanks
and opt-out pages too); wrong tokens count against a per-client rate limit (429).
A survey POST is rate limited before its CSRF token is checked, and a POST
without a CSRF token gets the same 404 as a wrong token and counts as one.

The one-click answer in the email (``/s/<token>?fcr=no``) opens the form with that
answer chosen and a notice that it is not saved yet; ``static/js/survey.js`` then
sends the form by itself (the same CSRF-protected POST as the Send button, asking for
JSON) and the notice turns into "Saved". Sending it again updates the same response.
"""

from __future__ import annotations

import time
from contextlib import closing
from functools import lru_cache
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale, gettext
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.datastructures import LanguageAccept, MIMEAccept
from werkzeug.http import parse_accept_header
from werkzeug.wrappers import Response as WerkzeugResponse

from cpi.db import database, get_session
from cpi.extensions import csrf
from cpi.i18n import DEFAULT_LOCALE, SUPPORTED_LOCALES, normalise, use_locale
from cpi.rules.branding import logo_file
from cpi.surveys import labels
from cpi.surveys.forms import (
    FORMS_CACHE,
    QUESTIONS_CACHE,
    build_form_class,
    form_values,
    parse_submission,
    prefill,
)
from cpi.surveys.page import SurveyHeader, survey_header
from cpi.surveys.responses import (
    QuestionInfo,
    Visit,
    current_answers,
    find_visit,
    opt_out,
    record_answers,
    survey_questions,
)
from cpi.surveys.throttle import wrong_link_limit

bp = Blueprint("surveys", __name__)


def _wrong_token(response: WerkzeugResponse) -> bool:
    return response.status_code == 404 or bool(g.get("cpi_csrf_failed"))


# Only failed lookups are counted, across all token addresses; a client over the
# limit gets 429 for a while (cpi/surveys/throttle.py).
token_limit = wrong_link_limit(_wrong_token)


@bp.context_processor
def page_language() -> dict[str, Any]:
    return {
        "html_lang": g.get("cpi_locale") or "en",
        "company_logo": logo_file(current_app.config.get("COMPANY_LOGO")) is not None,
    }


def _speak(visit: Visit | None) -> None:
    chosen = normalise(visit.locale if visit else None)
    if chosen is None:  # the browser's languages only when the contact has none
        chosen = _browser_locale(request.headers.get("Accept-Language"))
    use_locale(chosen)


# The answer to an Accept or Accept-Language header depends on the header alone, and
# browsers send a handful of them: each is parsed once per process, not on every submit.
@lru_cache(maxsize=512)
def _browser_locale(accept_language: str | None) -> str:
    languages = parse_accept_header(accept_language, LanguageAccept)
    return languages.best_match(SUPPORTED_LOCALES) or DEFAULT_LOCALE


@lru_cache(maxsize=512)
def _json_asked(accept: str | None) -> bool:
    best = parse_accept_header(accept, MIMEAccept).best_match(["text/html", "application/json"])
    return best == "application/json"


def _not_found() -> tuple[str, int]:
    return render_template("surveys/unavailable.html"), 404


QUESTIONS_CACHE_SECONDS = 60.0


def _questions(survey_id: int, session: Session | None = None) -> list[QuestionInfo]:
    """The survey's questions, kept a minute per process (they change very rarely)."""
    cache = current_app.extensions.setdefault(QUESTIONS_CACHE, {})
    hit = cache.get(survey_id)
    if hit is not None and hit[0] > time.monotonic():
        return hit[1]  # type: ignore[no-any-return]
    questions = survey_questions(session or get_session(), survey_id)
    cache[survey_id] = (time.monotonic() + QUESTIONS_CACHE_SECONDS, questions)
    return questions


def _form_class(questions: list[QuestionInfo]) -> Any:
    """The form class for these questions in this request's language (built once)."""
    cache = current_app.extensions.setdefault(FORMS_CACHE, {})
    key = (g.get("cpi_locale") or "en", tuple(questions))
    if key not in cache:
        cache[key] = build_form_class(questions)
    return cache[key]


def _wants_json() -> bool:
    """The page's script sends the form asking for JSON; a browser's Send asks for HTML."""
    return _json_asked(request.headers.get("Accept"))


def _header(visit: Visit, session: Session | None = None) -> SurveyHeader:
    locale = str(get_locale() or DEFAULT_LOCALE)
    if session is not None:
        return survey_header(session, visit, locale)
    # A short read session of its own: a refused POST never takes SQLite's write lock.
    with closing(database().session()) as read_session:
        return survey_header(read_session, visit, locale)


def _answered(form: Any, questions: list[QuestionInfo]) -> int:
    return sum(1 for q in questions if q.kind != "consent" and form[q.field].data not in (None, ""))


def _survey_page(
    visit: Visit,
    form: Any,
    errors: dict[str, str],
    status: int,
    one_click: bool = False,
    session: Session | None = None,
) -> Any:
    if errors and _wants_json():
        return jsonify(saved=False, errors=errors), status
    questions = _questions(visit.survey_id, session)
    return (
        render_template(
            "surveys/survey.html",
            form=form,
            questions=questions,
            errors=errors,
            visit=visit,
            header=_header(visit, session),
            one_click=one_click,
            answered=_answered(form, questions),
            countable=sum(1 for q in questions if q.kind != "consent"),
            scale_anchors=labels.SCALE_ANCHORS,
        ),
        status,
    )


def _saved(token: str) -> Any:
    if _wants_json():
        return jsonify(saved=True)
    return redirect(url_for("surveys.thanks", token=token), code=303)


@bp.get("/s/", defaults={"token": ""})
@bp.get("/s/<path:token>")
@token_limit
def survey(token: str) -> Any:
    session = get_session()
    visit = find_visit(session, token)
    _speak(visit)
    if visit is not None and visit.opted_out:
        # Only a valid link of a person who opted out gets here (a 256-bit credential,
        # so this tells a guesser nothing); unknown links still get the one 404 page.
        return render_template("surveys/opted_out.html", token=token), 200
    if visit is None or not visit.taking_answers:
        return _not_found()
    questions = _questions(visit.survey_id)
    data = form_values(current_answers(session, visit))
    one_click = prefill(request.args, questions)
    data.update(one_click)
    form = _form_class(questions)(formdata=None, data=data)
    return _survey_page(visit, form, {}, 200, one_click=bool(one_click))


@bp.post("/s/", defaults={"token": ""})
@bp.post("/s/<path:token>")
@csrf.exempt
@token_limit
def submit(token: str) -> Any:
    # CSRF is checked here, after the rate limit (the app-wide check would run before
    # it): guessing tokens with CSRF-less POSTs is throttled like any wrong link.
    if current_app.config.get("WTF_CSRF_ENABLED", True):
        csrf.protect()
    # One connection and one transaction: the lookup, the upsert and the invitation
    # update (on SQLite the request's write session began IMMEDIATE, so a submit
    # never fails late on a lock; a form with errors rolls back, holding it briefly).
    session = get_session()
    visit = find_visit(session, token)
    _speak(visit)
    if visit is None or not visit.taking_answers or visit.opted_out:
        return _not_found()
    questions = _questions(visit.survey_id, session)
    submission, errors = parse_submission(request.form, questions)
    if submission is None:
        return _survey_page(visit, _form_class(questions)(), errors, 400, session=session)
    for attempt in (1, 2):
        try:
            record_answers(
                session,
                visit,
                submission.answers,
                comment=submission.comment,
                name_consent=submission.name_consent,
                custom=submission.custom,
            )
            session.commit()
            break
        except IntegrityError:
            # A concurrent first insert won the race; the upsert now finds its row.
            session.rollback()
            if attempt == 2:
                raise
    return _saved(token)


@bp.get("/s/<path:token>/thanks")
@token_limit
def thanks(token: str) -> Any:
    visit = find_visit(get_session(), token)
    _speak(visit)
    if visit is None or not visit.taking_answers or visit.opted_out:
        return _not_found()
    return render_template("surveys/thanks.html", token=token, visit=visit, header=_header(visit))


@bp.get("/u/", defaults={"token": ""})
@bp.get("/u/<path:token>")
@token_limit
def unsubscribe(token: str) -> Any:
    visit = find_visit(get_session(), token)
    _speak(visit)
    if visit is None or not visit.taking_answers:
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
    visit = find_visit(session, token)
    _speak(visit)
    if visit is None or not visit.taking_answers:
        return _not_found()
    opt_out(session, visit)
    session.commit()
    return render_template("surveys/unsubscribe.html", token=token, done=True)


@bp.errorhandler(CSRFError)
def csrf_failed(_error: CSRFError) -> Any:
    """A stale or missing CSRF token: nothing recorded; show the form again to resubmit.

    Counted as a wrong link. No CSRF token at all (no browser showing our form sends
    that) gets the wrong-link page whatever the token, so it tells nothing either.
    """
    g.cpi_csrf_failed = True
    # A read session: a request that is refused never takes SQLite's write lock.
    with closing(database().session()) as session:
        visit = find_visit(session, (request.view_args or {}).get("token", ""))
        _speak(visit)
        if "csrf_token" not in request.form:
            return _not_found()
        if visit is None or not visit.taking_answers or visit.opted_out:
            return _not_found()
        if _wants_json():
            return jsonify(saved=False), 400
        questions = _questions(visit.survey_id, session)
    form = _form_class(questions)(formdata=request.form)
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


@bp.get("/brand/logo")
def company_logo() -> Any:
    """The configured logo (CPI_COMPANY_LOGO) for the survey pages' header.

    Only that one file, typed by its suffix; an SVG opened on its own runs no script
    and loads nothing (its own Content-Security-Policy, sandboxed).
    """
    found = logo_file(current_app.config.get("COMPANY_LOGO"))
    if found is None:
        abort(404)
    path, media_type = found
    response = current_app.response_class(path.read_bytes(), mimetype=media_type)
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    )
    response.headers["Content-Disposition"] = "inline"
    return response
