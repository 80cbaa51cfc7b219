"""Blueprints, error pages and request-wide settings, registered in one place."""

from __future__ import annotations

from flask import Flask, render_template
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException


def init_app(app: Flask) -> None:
    from cpi import extensions, i18n
    from cpi.health import views as health_views
    from cpi.ops import logs
    from cpi.scorecards import views as scorecard_views
    from cpi.surveys import views as survey_views

    logs.init_app(app)
    extensions.init_app(app)
    i18n.init_app(app)
    app.register_blueprint(health_views.bp)
    app.register_blueprint(scorecard_views.bp)
    app.register_blueprint(survey_views.bp)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[str, int]:
        return render_template("error.html", error=error), error.code or 500

    @app.errorhandler(OperationalError)
    def database_unavailable(error: OperationalError) -> tuple[str, int, dict[str, str]]:
        # The database is down, locked, read-only or full: a page asking to try again
        # (sending the same answers twice never records them twice), never a traceback.
        reason = str(error.orig or error).strip().splitlines()[0][:200]
        app.logger.error("database unavailable: %s", reason)
        return render_template("ops/unavailable.html"), 503, {"Retry-After": "30"}

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception) -> tuple[str, int]:
        # Logged with its traceback; the user sees a plain page, never the traceback.
        app.logger.exception("unhandled error")
        return render_template("error.html", error=None), 500
