"""The wrong-link limit of the customer's pages (``CPI_SURVEY_TOKEN_RATE_LIMIT``).

Only failed look-ups count (a 404, or a POST whose CSRF token failed), across all token
addresses, per client; a client over the limit gets 429 for a while. The counts live in
the app's rate-limit storage (:data:`cpi.extensions.limiter`: Redis when configured,
each process in memory while Redis is down) under the same keys as Flask-Limiter's
``shared_limit(scope="survey-token")`` used before.

Written out rather than declared with Flask-Limiter because a customer's submit is the
hottest request of the app: the generic decorator resolved and parsed the limits,
tested them and read a window's state again for the ``X-RateLimit-*`` headers on every
request (about a tenth of a submit's CPU; with Redis, four round trips). Here a valid
link costs one ``test`` per limit; the headers go on the answers that the limit is
about: a counted wrong link and the 429.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import lru_cache, wraps
from typing import Any, TypeVar

from flask import after_this_request, current_app
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, parse_many
from werkzeug.exceptions import TooManyRequests
from werkzeug.wrappers import Response

from cpi.extensions import OWN_LIMIT, limiter

SCOPE = "survey-token"
DEFAULT_WRONG_LINK_LIMIT = "30 per minute;300 per hour"

View = TypeVar("View", bound=Callable[..., Any])


@lru_cache(maxsize=8)
def _parsed(text: str) -> tuple[RateLimitItem, ...]:
    # Shortest window first, as Flask-Limiter tests them.
    return tuple(sorted(parse_many(text)))


def _limits() -> tuple[RateLimitItem, ...]:
    return _parsed(str(current_app.config.get("SURVEY_TOKEN_RATE_LIMIT", DEFAULT_WRONG_LINK_LIMIT)))


def _identifiers() -> list[str]:
    prefix = current_app.config.get("RATELIMIT_KEY_PREFIX") or ""
    return [prefix, get_remote_address(), SCOPE] if prefix else [get_remote_address(), SCOPE]


def _storage(operation: str, *args: Any) -> Any:
    """``limiter.limiter.<operation>(*args)``; when the storage fails, fall back to memory
    as Flask-Limiter's own checks do (the same flag: its request hook notices the storage
    recovering, /healthz reports it); else allow and log."""
    try:
        return getattr(limiter.limiter, operation)(*args)
    except Exception:
        if limiter._in_memory_fallback_enabled and not limiter._storage_dead:
            limiter.logger.warning(
                "Rate limit storage unreachable - falling back to in-memory storage"
            )
            limiter._storage_dead = True
            return _storage(operation, *args)
        limiter.logger.exception("Failed to rate limit. Swallowing error")
        return None


def _add_headers(response: Response, item: RateLimitItem, identifiers: list[str]) -> None:
    if not current_app.config.get("RATELIMIT_HEADERS_ENABLED"):
        return
    stats = _storage("get_window_stats", item, *identifiers)
    if stats is None:
        return
    reset_at = int(stats.reset_time + 1)
    response.headers["X-RateLimit-Limit"] = str(item.amount)
    response.headers["X-RateLimit-Remaining"] = str(stats.remaining)
    response.headers["X-RateLimit-Reset"] = str(reset_at)
    response.headers["Retry-After"] = str(max(0, int(reset_at - time.time())))


def wrong_link_limit(wrong: Callable[[Response], bool]) -> Callable[[View], View]:
    """Refuse a client over the limit (429) before the view; count the request when
    ``wrong(response)`` says its answer was a wrong link."""

    def decorate(view: View) -> View:
        @wraps(view)
        def limited(*args: Any, **kwargs: Any) -> Any:
            if not limiter.enabled:
                return view(*args, **kwargs)
            items = _limits()
            identifiers = _identifiers()
            for item in items:
                if _storage("test", item, *identifiers) is False:
                    limiter.logger.info(
                        "ratelimit %s (%s) exceeded at endpoint: %s", item, identifiers[-2], SCOPE
                    )
                    _refused(item, identifiers)

            @after_this_request
            def count_wrong_link(response: Response) -> Response:
                if wrong(response):
                    for item in items:
                        _storage("hit", item, *identifiers)
                    _add_headers(response, items[0], identifiers)
                return response

            return view(*args, **kwargs)

        setattr(limited, OWN_LIMIT, True)  # Flask-Limiter's app-wide hooks skip it
        return limited  # type: ignore[return-value]

    return decorate


def _refused(item: RateLimitItem, identifiers: list[str]) -> None:
    @after_this_request
    def headers(response: Response) -> Response:
        _add_headers(response, item, identifiers)
        return response

    raise TooManyRequests(description=str(item))
