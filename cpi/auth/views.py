"""Sign in and out. Failed sign-ins are slowed per email + client and per client
(Flask-Limiter), so that nobody can lock another person out, and lock the account
after a long run of failures from everywhere (cpi.auth.operations.authenticate)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user, logout_user
from werkzeug.wrappers import Response

from cpi.audit.operations import record
from cpi.auth.account import begin_second_factor, start_session
from cpi.auth.forms import ActionForm, LoginForm
from cpi.auth.models import User
from cpi.auth.operations import authenticate, end_sessions, login_audit_name
from cpi.db import get_session
from cpi.extensions import limiter
from cpi.rules.addresses import normalise_email
from cpi.timeutil import utcnow

bp = Blueprint("auth", __name__)

FAILED = "The email or password is not right."


def _failed_login(response: Response) -> bool:
    # Only failed attempts count against the limits; a success redirects (302).
    return response.status_code != 302


def _submitted_email() -> str:
    """The email as the login form reads it: from a form body or a JSON body."""
    email = request.form.get("email")
    if email is None and request.is_json:
        body = request.get_json(silent=True)
        email = body.get("email") if isinstance(body, dict) else None
    return normalise_email(email if isinstance(email, str) else "")[:254]


def _email_key() -> str:
    # Per email *and* client: failures from one client never throttle the owner of
    # the email at another (REMOTE_ADDR is the client behind a trusted proxy).
    return f"login-email:{_submitted_email()}|{request.remote_addr}"


def safe_next(target: str | None) -> str:
    """A ``next=`` address on this site only: a path, never another host (no open redirect)."""
    if not target or "\\" in target or any(ord(c) < 32 for c in target):
        return url_for("scorecards.dashboard")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("scorecards.dashboard")
    return target


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("20 per 15 minutes", methods=["POST"], deduct_when=_failed_login)
@limiter.limit("5 per 15 minutes", methods=["POST"], key_func=_email_key, deduct_when=_failed_login)
def login() -> ResponseReturnValue:
    if current_user.is_authenticated and request.method == "GET":
        return redirect(safe_next(request.args.get("next")))
    form = LoginForm()
    if not form.validate_on_submit():
        status = 400 if request.method == "POST" else 200
        if request.method == "POST" and not form.errors.get("csrf_token"):
            flash(FAILED, "error")
        return render_template("auth/login.html", form=form), status
    db = get_session()
    user = authenticate(db, form.email.data or "", form.password.data or "", utcnow())
    if user is None:
        typed = form.email.data if isinstance(form.email.data, str) else ""
        actor = login_audit_name(db, typed, current_app.config["SECRET_KEY"])
        record(db, actor, "login.failed", request.remote_addr)
        db.commit()
        flash(FAILED, "error")
        return render_template("auth/login.html", form=form), 401
    if user.totp_secret is not None:  # second step: a code (cpi.auth.account)
        db.commit()
        return begin_second_factor(user, request.args.get("next"))
    record(db, user.email, "login", request.remote_addr)
    db.commit()
    # A new session at sign-in: nothing from before (a planted cookie) carries over.
    start_session(user)
    return redirect(safe_next(request.args.get("next")))


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    form = ActionForm()
    if not form.validate_on_submit():
        return redirect(url_for("auth.login"))
    if current_user.is_authenticated:
        db = get_session()
        user = db.get(User, current_user.id)
        if user is not None:
            end_sessions(user)
            record(db, user.email, "logout")
            db.commit()
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))
