"""Signed-in sessions end ``CPI_SESSION_MAX_HOURS`` (default 8) after sign-in and after
``CPI_SESSION_IDLE_MINUTES`` (default 60) without a request, whatever the cookie says.

The session cookie is signed, so the two times it carries cannot be changed by the
browser; a copy of an old cookie stops working like the original.
"""

from __future__ import annotations

import time

from flask import Flask, current_app, flash, session

SIGNED_IN_AT = "signed_in_at"
SEEN_AT = "seen_at"
DEFAULT_MAX_HOURS = 8
DEFAULT_IDLE_MINUTES = 60
# The last-seen time is rewritten at most this often (each rewrite sends a new cookie).
SEEN_RESOLUTION_SECONDS = 30


def start() -> None:
    """Call at sign-in."""
    now = int(time.time())
    session[SIGNED_IN_AT] = now
    session[SEEN_AT] = now


def _limits() -> tuple[float, float]:
    config = current_app.config
    max_age = float(config.get("SESSION_MAX_HOURS", DEFAULT_MAX_HOURS)) * 3600
    idle = float(config.get("SESSION_IDLE_MINUTES", DEFAULT_IDLE_MINUTES)) * 60
    return max_age, idle


def check() -> None:
    """Before each request: end a signed-in session that is too old or was idle too long."""
    if "_user_id" not in session:
        return
    now = int(time.time())
    max_age, idle = _limits()
    signed_in_at = session.get(SIGNED_IN_AT)
    seen_at = session.get(SEEN_AT)
    if (
        not isinstance(signed_in_at, int)
        or not isinstance(seen_at, int)
        or now - signed_in_at > max_age
        or now - seen_at > idle
    ):
        session.clear()
        flash("Your session has ended. Please sign in again.", "info")
        return
    if now - seen_at >= SEEN_RESOLUTION_SECONDS:
        session[SEEN_AT] = now


def init_app(app: Flask) -> None:
    app.config.setdefault("SESSION_MAX_HOURS", DEFAULT_MAX_HOURS)
    app.config.setdefault("SESSION_IDLE_MINUTES", DEFAULT_IDLE_MINUTES)
    app.before_request(check)
