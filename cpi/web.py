"""Blueprints, error pages and request-wide settings, registered in one place."""

from __future__ import annotations

import io
import ipaddress
from collections.abc import Iterable
from typing import IO, Any
from urllib.parse import urlsplit

from flask import Flask, g, redirect, render_template, request
from flask.wrappers import Request
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.formparser import FormDataParser
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import RequestRedirect
from werkzeug.wrappers import Response

# No inline script anywhere; styles and images from this site only (inline SVG charts
# are markup, not script). frame-ancestors: no clickjacking. Referrer-Policy
# same-origin: a survey link (its token) never leaks to another site through the
# Referer header, while this site's own forms keep the same-origin Referer that
# CSRF protection demands over HTTPS (Flask-WTF's WTF_CSRF_SSL_STRICT).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


# Browsers remember HTTPS for a year once they saw it over HTTPS (never sent over HTTP).
HSTS = "max-age=31536000; includeSubDomains"


_SECURITY_HEADER_KEYS = [(name.lower(), name, value) for name, value in SECURITY_HEADERS.items()]


def _security_headers(response: Response) -> Response:
    # Every response passes here: one look at the headers already set, then appends
    # (Werkzeug's setdefault scans the whole list once per header).
    headers = response.headers
    present = {name.lower() for name, _ in headers.items()}
    missing = [(name, value) for key, name, value in _SECURITY_HEADER_KEYS if key not in present]
    if request.is_secure and "strict-transport-security" not in present:
        missing.append(("Strict-Transport-Security", HSTS))
    # Staff pages, CSV, PDFs, the API and survey pages hold personal data or a
    # customer's token: no browser or proxy keeps a copy. Static files stay cacheable.
    if request.endpoint != "static":
        if "cache-control" in present or "expires" in present:
            headers.remove("Cache-Control")
            headers.remove("Expires")
        missing.append(("Cache-Control", "no-store"))
    headers.extend(missing)
    return response


def _relative_redirect() -> Response | None:
    """Werkzeug's own redirects (``//x`` -> ``/x``, ``/admin`` -> ``/admin/``) name
    the host from the request's Host header; answer them with a path instead."""
    error = request.routing_exception
    if not isinstance(error, RequestRedirect):
        return None
    parts = urlsplit(error.new_url)
    location = "/" + parts.path.lstrip("/\\")
    if parts.query:
        location += "?" + parts.query
    return redirect(location, error.code)


class _CappedFormParser(FormDataParser):
    """Werkzeug caps multipart parts (``MAX_FORM_PARTS``); this caps urlencoded fields too."""

    def _parse_urlencoded(
        self, stream: IO[bytes], mimetype: str, content_length: int | None, options: Any
    ) -> Any:
        if self.max_form_parts is None:
            return super()._parse_urlencoded(stream, mimetype, content_length, options)
        data = stream.read()
        if data.count(b"&") >= self.max_form_parts:
            raise RequestEntityTooLarge()
        return super()._parse_urlencoded(io.BytesIO(data), mimetype, len(data), options)


class CpiRequest(Request):
    form_data_parser_class = _CappedFormParser


class TrustedProxies:
    """``X-Forwarded-For``/``-Proto`` from a trusted proxy (``CPI_TRUSTED_PROXIES``,
    addresses or networks) give the client's address and scheme (one proxy hop,
    Werkzeug's ProxyFix); from anyone else they are ignored."""

    def __init__(self, wsgi_app: Any, networks: Iterable[str]) -> None:
        self.plain = wsgi_app
        self.fixed = ProxyFix(wsgi_app, x_for=1, x_proto=1)
        self.networks = []
        for item in networks:
            try:
                self.networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                raise RuntimeError(
                    f"CPI_TRUSTED_PROXIES: {item!r} is not an IP address or network"
                ) from None

    def _trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.networks)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if self._trusted(environ.get("REMOTE_ADDR", "")):
            return self.fixed(environ, start_response)
        return self.plain(environ, start_response)


def trusted_proxies(app: Flask) -> list[str]:
    value = app.config.get("TRUSTED_PROXIES") or ""
    items = value if isinstance(value, list | tuple) else str(value).split(",")
    return [item.strip() for item in items if item.strip()]


def _page_context() -> dict[str, object]:
    """What every page (and every PDF, which renders the same partials) may use: the
    indicator catalogue, and the sign-out form of the staff pages' header."""
    from flask import has_request_context

    from cpi.auth.forms import ActionForm
    from cpi.scoring import CATALOGUE

    if not has_request_context():  # a PDF rendered by a command or a worker
        return {"catalogue": CATALOGUE}
    from flask_babel import get_locale

    return {
        "logout_form": ActionForm(formdata=None),
        "catalogue": CATALOGUE,
        "ui_lang": str(get_locale() or "en"),
    }


def init_app(app: Flask) -> None:
    from cpi import extensions, i18n, logs
    from cpi.admin import views as admin_views
    from cpi.api import views as api_views
    from cpi.auth import account, login, passwords, timeouts
    from cpi.auth import views as auth_views
    from cpi.campaigns import views as campaign_views
    from cpi.exports import views as export_views
    from cpi.followups import views as followup_views
    from cpi.health import views as health_views
    from cpi.initiatives import views as initiative_views
    from cpi.questions import views as question_views
    from cpi.scorecards import scope_views
    from cpi.scorecards import views as scorecard_views
    from cpi.scorecards.qbr import views as qbr_views
    from cpi.surveys import views as survey_views

    app.request_class = CpiRequest
    proxies = trusted_proxies(app)
    if proxies:
        app.wsgi_app = TrustedProxies(app.wsgi_app, proxies)  # type: ignore[method-assign]
    logs.init_app(app)
    extensions.init_app(app)
    i18n.init_app(app)
    login.init_app(app)
    passwords.init_app(app)
    timeouts.init_app(app)
    app.before_request(_relative_redirect)  # after the request id is set: logged too
    account.init_app(app)
    app.after_request(_security_headers)
    app.context_processor(_page_context)
    app.register_blueprint(health_views.bp)
    app.register_blueprint(auth_views.bp)
    app.register_blueprint(scorecard_views.bp)
    app.register_blueprint(qbr_views.bp)
    app.register_blueprint(scope_views.bp)
    app.register_blueprint(admin_views.bp)
    app.register_blueprint(export_views.bp)
    app.register_blueprint(api_views.bp)
    app.register_blueprint(survey_views.bp)
    app.register_blueprint(campaign_views.bp)
    app.register_blueprint(initiative_views.bp)
    app.register_blueprint(question_views.bp)
    app.register_blueprint(followup_views.bp)

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
