"""Blueprints, error pages and request-wide settings, registered in one place."""

from __future__ import annotations

from flask import Flask, g, render_template
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

# No inline script anywhere; styles and images from this site only (inline SVG charts
# are markup, not script). frame-ancestors: no clickjacking. no-referrer: a survey
# link never leaks to another site through the Referer header.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def _security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def init_app(app: Flask) -> None:
    from cpi import extensions, i18n
    from cpi.admin import views as admin_views
    from cpi.api import views as api_views
    from cpi.auth import account, login
    from cpi.auth import views as auth_views
    from cpi.exports import views as export_views
    from cpi.health import views as health_views
    from cpi.ops import logs
    from cpi.scorecards import views as scorecard_views
    from cpi.surveys import views as survey_views

    logs.init_app(app)
    extensions.init_app(app)
    i18n.init_app(app)
    login.init_app(app)
    account.init_app(app)
    app.after_request(_security_headers)
    app.register_blueprint(health_views.bp)
    app.register_blueprint(auth_views.bp)
    app.register_blueprint(scorecard_views.bp)
    app.register_blueprint(admin_views.bp)
    app.register_blueprint(export_views.bp)
    app.register_blueprint(api_views.bp)
    app.register_blueprint(survey_views.bp)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[str, int]:
        return render_template("error.html", error=error), error.code or 500

    @app.errorhandler(OperationalError)
    @app.errorhandler(PoolTimeout)
    def database_unavailable(error: Exception) -> tuple[str, int, dict[str, str]]:
        # The database is down, locked, read-only, full, stalled (cpi.db.Timeouts) or
        # every pooled connection is busy: a page asking to try again (sending the same
        # answers twice never records them twice), never a traceback.
        orig = getattr(error, "orig", None) or error
        reason = (str(orig).strip().splitlines() or [type(orig).__name__])[0][:200]
        app.logger.error("database unavailable: %s", reason)
        # The page must not touch the database again: rendering it would load the
        # signed-in user (Flask-Login's template context), fail the same way and turn
        # the 503 into a bare 500. Render it as for a visitor.
        if "_login_user" not in g:
            g._login_user = login.login_manager.anonymous_user()
        return render_template("ops/unavailable.html"), 503, {"Retry-After": "30"}

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception) -> tuple[str, int]:
        # Logged with its traceback; the user sees a plain page, never the traceback.
        app.logger.exception("unhandled error")
        return render_template("error.html", error=None), 500
