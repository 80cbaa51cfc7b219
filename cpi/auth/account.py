"""A staff user's own account: password change, the optional second factor (TOTP),
the second step of signing in, and re-authentication before sensitive changes.

- ``/account/password``: the current password is required; the new one follows
  :func:`cpi.auth.operations.check_new_password` (length, common-password list).
- ``/account/mfa``: enrol an authenticator app (the key is shown as text and as an
  ``otpauth://`` URI; no QR code), or turn it off (password and code). With
  ``CPI_REQUIRE_MFA=1`` administrators must enrol before they can do anything else.
- ``/login/code``: after a right password, users with a second factor give a code;
  a wrong code counts like a wrong password (lockout), each code works once.
- ``/reauth``: admins changing roles or passwords must have given their password
  (and code) within ``CPI_REAUTH_MINUTES`` (default 15).
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from flask import (
    Blueprint,
    Flask,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user
from werkzeug.wrappers import Response

from cpi.audit.operations import record
from cpi.auth import timeouts
from cpi.auth.forms import ChangePasswordForm, CodeForm, ConfirmForm, LanguageForm
from cpi.auth.login import StaffUser
from cpi.auth.models import User
from cpi.auth.operations import (
    UserError,
    change_password,
    check_totp,
    disable_totp,
    enable_totp,
    failed_second_factor,
    new_totp_secret,
    totp_uri,
)
from cpi.auth.passwords import verify_password
from cpi.db import get_session
from cpi.extensions import limiter
from cpi.i18n import use_locale
from cpi.timeutil import utcnow

bp = Blueprint("account", __name__)

PENDING = "mfa_pending"  # session key: who gave a right password and owes a code
PENDING_SECONDS = 300
ENROL = "mfa_enrol_secret"
AUTH_AT = "auth_at"  # session key: when the password (and code) was last given
# Where an administrator without a second factor may go when CPI_REQUIRE_MFA=1.
OPEN_WHILE_ENROLLING = frozenset({"account.mfa", "auth.logout", "auth.login", "static"})


def _truthy(value: Any) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def mfa_required_for(user: Any) -> bool:
    return bool(user.is_admin) and _truthy(current_app.config.get("REQUIRE_MFA", False))


def start_session(user: User) -> None:
    """Sign ``user`` in on a brand-new session (nothing from before carries over)."""
    session.clear()
    session["sid"] = secrets.token_urlsafe(16)
    login_user(StaffUser.of(user))
    timeouts.start()
    mark_authenticated()


def mark_authenticated() -> None:
    session[AUTH_AT] = int(time.time())


def recently_authenticated() -> bool:
    minutes = float(current_app.config.get("REAUTH_MINUTES", 15))
    return time.time() - float(session.get(AUTH_AT, 0)) <= minutes * 60


def reauthenticate_first(back: str) -> Response | None:
    """None when the signed-in user confirmed their password recently, else the
    redirect to ``/reauth`` (coming back to ``back``; the change is made again)."""
    if recently_authenticated():
        return None
    flash("Please confirm your password, then make the change again.", "info")
    return redirect(url_for("account.reauth", next=_local(back)))


def _local(target: str | None) -> str:
    from cpi.auth.views import safe_next

    return safe_next(target)


def begin_second_factor(user: User, next_url: str | None) -> Response:
    """Right password, second factor to come: remember who, for a few minutes."""
    session.clear()
    session[PENDING] = {
        "id": user.id,
        "version": user.session_version,
        "at": int(time.time()),
        "next": _local(next_url),
    }
    return redirect(url_for("account.code"))


def _code_failed(response: Response) -> bool:
    return response.status_code != 302


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit("10 per 15 minutes", methods=["POST"], deduct_when=_code_failed)
def code() -> ResponseReturnValue:
    pending = session.get(PENDING)
    if not isinstance(pending, dict) or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        session.pop(PENDING, None)
        flash("Please sign in again.", "info")
        return redirect(url_for("auth.login"))
    form = CodeForm()
    if not form.validate_on_submit():
        return render_template("auth/code.html", form=form), (
            400 if request.method == "POST" else 200
        )
    db = get_session()
    user = db.get(User, int(pending["id"]))
    now = utcnow()
    usable = (
        user is not None
        and user.active
        and user.session_version == pending["version"]
        and (user.locked_until is None or user.locked_until <= now)
    )
    if user is None or not usable or not check_totp(user, form.code.data or "", time.time()):
        if user is not None:
            failed_second_factor(db, user, now)
            record(db, user.email, "login.failed", f"{request.remote_addr} (second factor)")
            db.commit()
        flash("That code is not right. Codes change every 30 seconds.", "error")
        return render_template("auth/code.html", form=form), 401
    user.failed_logins = 0
    user.last_login_at = now
    record(db, user.email, "login", f"{request.remote_addr} (with second factor)")
    db.commit()
    start_session(user)
    return redirect(pending.get("next") or url_for("scorecards.dashboard"))


@bp.route("/reauth", methods=["GET", "POST"])
@login_required
@limiter.limit("10 per 15 minutes", methods=["POST"], deduct_when=_code_failed)
def reauth() -> ResponseReturnValue:
    form = ConfirmForm()
    if form.validate_on_submit():
        db = get_session()
        user = db.get(User, current_user.id)
        ok = user is not None and verify_password(user.password_hash, form.password.data or "")
        if ok and user is not None and user.totp_secret is not None:
            ok = check_totp(user, form.code.data or "", time.time())
        if ok:
            db.commit()
            mark_authenticated()
            return redirect(_local(request.args.get("next")))
        if user is not None:
            failed_second_factor(db, user, utcnow())
            record(db, user.email, "reauth.failed", request.remote_addr)
            db.commit()
        flash("The password or code is not right.", "error")
        return render_template("auth/reauth.html", form=form), 401
    status = 400 if request.method == "POST" else 200
    return render_template("auth/reauth.html", form=form), status


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
@limiter.limit("10 per 15 minutes", methods=["POST"], deduct_when=_code_failed)
def password() -> ResponseReturnValue:
    form = ChangePasswordForm()
    errors: list[str] = []
    if form.validate_on_submit():
        if form.new_password.data != form.confirm.data:
            errors.append("confirm: the two new passwords differ")
        else:
            db = get_session()
            try:
                user = change_password(
                    db, current_user.id, form.current_password.data or "",
                    form.new_password.data or "",
                )  # fmt: skip
            except UserError as error:
                db.rollback()
                errors.append(str(error))
            else:
                record(db, user.email, "password.change", "own password; other sessions ended")
                db.commit()
                start_session(user)  # this session goes on; every other one ended
                flash("Your password was changed. Other sessions were signed out.", "success")
                return redirect(url_for("account.password"))
    elif request.method == "POST":
        errors = [f"{k}: {m}" for k, ms in form.errors.items() for m in ms]
    language = LanguageForm(formdata=None, locale=current_user.locale or "")
    return render_template(
        "auth/password.html", form=form, errors=errors, language_form=language
    ), (400 if errors else 200)


@bp.post("/account/language")
@login_required
def language() -> ResponseReturnValue:
    """The staff app's language (the profile's), audit-logged; "" for the browser's."""
    form = LanguageForm()
    if not form.validate_on_submit():
        flash(_("Language: choose one of the languages offered."), "error")
        return redirect(url_for("account.password"))
    db = get_session()
    user = db.get(User, current_user.id)
    if user is None:
        return redirect(url_for("auth.login"))
    user.locale = form.locale.data or None
    record(db, user.email, "user.locale", user.locale or "browser")
    db.commit()
    use_locale(user.locale)  # the message below already in the new language
    flash(_("Language saved."), "success")
    return redirect(url_for("account.password"))


@bp.route("/account/mfa", methods=["GET", "POST"])
@login_required
@limiter.limit("10 per 15 minutes", methods=["POST"], deduct_when=_code_failed)
def mfa() -> ResponseReturnValue:
    form = ConfirmForm()
    errors: list[str] = []
    db = get_session()
    enabled = current_user.mfa
    secret = None if enabled else session.setdefault(ENROL, new_totp_secret())
    if form.validate_on_submit():
        try:
            if enabled:
                if mfa_required_for(current_user):
                    raise UserError("code: administrators must keep a second factor here")
                user = disable_totp(
                    db, current_user.id, form.password.data or "", form.code.data or "",
                    time.time(),
                )  # fmt: skip
                action, message = "mfa.disable", "Second factor turned off."
            else:
                user = enable_totp(
                    db, current_user.id, form.password.data or "", str(secret),
                    form.code.data or "", time.time(),
                )  # fmt: skip
                action, message = "mfa.enable", "Second factor turned on."
        except UserError as error:
            db.rollback()
            errors.append(str(error))
        else:
            record(db, user.email, action)
            db.commit()
            session.pop(ENROL, None)
            start_session(user)
            flash(message, "success")
            return redirect(url_for("account.mfa"))
    elif request.method == "POST":
        errors = [f"{k}: {m}" for k, ms in form.errors.items() for m in ms]
    issuer = str(current_app.config.get("COMPANY_NAME") or "CPI Tracker")
    return render_template(
        "auth/mfa.html",
        form=form,
        errors=errors,
        enabled=enabled,
        secret=secret,
        uri=totp_uri(secret, current_user.email, issuer) if secret else None,
        required=mfa_required_for(current_user),
    ), (400 if errors else 200)


def _enforce_mfa() -> Response | None:
    """CPI_REQUIRE_MFA=1: an administrator without a second factor enrols first."""
    if not _truthy(current_app.config.get("REQUIRE_MFA", False)):
        return None
    if request.endpoint in OPEN_WHILE_ENROLLING or request.endpoint is None:
        return None
    if current_user.is_authenticated and current_user.is_admin and not current_user.mfa:
        flash("Administrators must set up a second factor first.", "info")
        return redirect(url_for("account.mfa"))
    return None


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.before_request(_enforce_mfa)
