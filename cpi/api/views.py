"""The JSON scorecard over HTTP: the shape of ``cpi score --format json``.

Staff see what their role allows (the same checks as the pages). The privacy rule
of indicators.md holds here too: for anyone but an administrator, a figure built on
fewer than ``min_n`` answers is null, never a bare number.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from flask_login import current_user

from cpi.audit.operations import audit_export
from cpi.auth import access
from cpi.db import get_session
from cpi.scorecards import display
from cpi.scorecards.disclosure import rounded
from cpi.scorecards.operations import ScopeNotFound
from cpi.scorecards.reports import Report, build_report
from cpi.scorecards.viewing import requested_period, viewer, visible_account_or_404
from cpi.scoring import CATALOGUE

bp = Blueprint("api", __name__, url_prefix="/api")
access.require_staff(bp)

SCOPE_ARGS = ("account", "segment", "owner")
THIN_FIELDS = ("value", "ci_low", "ci_high", "gap", "previous", "delta", "delta_low", "delta_high")


def _requested_scope() -> tuple[str, str | None]:
    given = [(name, request.args[name].strip()) for name in SCOPE_ARGS if request.args.get(name)]
    if len(given) > 1:
        abort(400, description="Give at most one of account, segment, owner.")
    if not given:
        access.company_wide_only()
        return "company", None
    scope_type, scope_id = given[0]
    if scope_type == "account":
        visible_account_or_404(scope_id)
    elif scope_type == "segment":
        access.company_wide_only()
    elif not current_user.sees_everything and scope_id.lower() != current_user.email:
        access.deny(404)
    return scope_type, scope_id


def without_thin_figures(report: Report) -> dict[str, Any]:
    """The scorecard with every figure from fewer than min_n answers (or withheld against
    differencing) set to null, and the rest at display precision."""
    payload = report.card.to_dict()
    for indicator in payload["indicators"]:
        if indicator["status"] == "insufficient":
            indicator.update(
                dict.fromkeys(THIN_FIELDS), gap_significant=False, delta_significant=False
            )
        elif indicator["code"] in report.previous_hidden:
            indicator.update(previous=None, delta=None, delta_low=None, delta_high=None)
    return rounded(payload, {i.code: display.decimals(i.code) for i in CATALOGUE})


@bp.get("/scorecard")
def scorecard() -> ResponseReturnValue:
    scope_type, scope_id = _requested_scope()
    period = requested_period()
    if period is None:
        abort(404, description="There is no period with answers yet.")
    try:
        report = build_report(
            get_session(), scope_type, scope_id, period, min_n=int(current_app.config["MIN_N"]),
            viewer=viewer(),
        )  # fmt: skip
    except ScopeNotFound:
        abort(404)
    audit_export("export.json", f"{scope_type} {scope_id or ''} {period}".strip())
    if current_user.is_admin:
        return jsonify(report.card.to_dict())
    return jsonify(without_thin_figures(report))
