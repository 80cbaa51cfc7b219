"""Flask extensions shared by several features, created unbound and set up in create_app."""

from __future__ import annotations

from flask import Flask
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
    csrf.init_app(app)
