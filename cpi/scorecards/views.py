from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request

from cpi.db import get_session
from cpi.scorecards import display
from cpi.scorecards.operations import (
    has_data,
    latest_period,
    load_scoring_data,
    resolve_scope,
    score,
)
from cpi.scoring import Period

bp = Blueprint("scorecards", __name__)


def requested_period() -> Period | None:
    """The ``?period=`` of the request (404 when malformed), else the latest with answers."""
    text = request.args.get("period", "").strip()
    if text:
        try:
            return Period.parse(text)
        except ValueError:
            abort(404, description=f"{text!r} is not a period like 2026-Q3 or 2026.")
    return latest_period(get_session())


@bp.get("/")
def dashboard() -> str:
    session = get_session()
    period = requested_period()
    card = None
    if period is not None and has_data(session, period):
        data = load_scoring_data(session, period)
        card = score(data, resolve_scope(data, "company", None), min_n=current_app.config["MIN_N"])
    return render_template(
        "scorecards/dashboard.html",
        period=period,
        card=card,
        fmt=display,
        min_n=current_app.config["MIN_N"],
    )
