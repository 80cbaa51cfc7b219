"""Flask extensions shared by several features, created unbound and set up in create_app."""

from __future__ import annotations

from functools import partial
from typing import Any

from flask import Flask, Response, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()
# Rate limits are declared where they apply (survey tokens, login); storage is Redis
# when CPI_REDIS_URL is set, so that every web process shares the counts. Redis down:
# each process counts in memory until Redis answers again (never a 500; /healthz says
# "degraded"). The client address is REMOTE_ADDR, which cpi.web.TrustedProxies sets from
# X-Forwarded-For only for requests that come through a trusted proxy.
limiter = Limiter(
    key_func=get_remote_address,
    default_limits=[],
    in_memory_fallback_enabled=True,
    swallow_errors=True,
)


# Flask-Limiter's request hooks serve app-wide limits (default, application, meta: none
# configured here) and notice a dead storage coming back. A view that limits itself (marked
# ``OWN_LIMIT``: the customer's pages, cpi/surveys/throttle.py) skips them while the
# storage is up and no app-wide limit is configured: on a survey submit they cost as much
# as the limit itself.
OWN_LIMIT = "cpi_own_limit"
APP_WIDE_LIMITS = ("RATELIMIT_DEFAULT", "RATELIMIT_APPLICATION", "RATELIMIT_META")


def _limits_itself() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, OWN_LIMIT, False)) and not limiter._storage_dead


def _skip_app_wide_hooks(app: Flask) -> None:
    """Wrap Flask-Limiter's before/after request hooks so that they skip self-limited
    views (left as they are if this Flask-Limiter registers them differently)."""
    if any(app.config.get(name) for name in APP_WIDE_LIMITS):
        return
    before: list[Any] = app.before_request_funcs.get(None, [])
    for i, hook in enumerate(before):
        if hook == limiter._check_request_limit:

            def check(hook: Any = hook) -> None:
                if not _limits_itself():
                    hook()

            before[i] = check
    after: list[Any] = app.after_request_funcs.get(None, [])
    for i, hook in enumerate(after):
        if isinstance(hook, partial) and hook.args == (limiter,):

            def inject(response: Response, hook: Any = hook) -> Response:
                return response if _limits_itself() else hook(response)

            after[i] = inject


def init_app(app: Flask) -> None:
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config.get("REDIS_URL") or "memory://")
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    if app.config.get("REDIS_URL"):
        # Fail fast when Redis is down instead of hanging a request.
        app.config.setdefault(
            "RATELIMIT_STORAGE_OPTIONS", {"socket_connect_timeout": 1, "socket_timeout": 1}
        )
    limiter.init_app(app)
    # The limiter object is shared by every app made in this process (tests make many):
    # a new app starts on its own storage, not on a fallback an earlier app fell into.
    limiter._storage_dead = False
    _skip_app_wide_hooks(app)
    csrf.init_app(app)
