"""Downloads for staff: the scorecards of the accounts they may see, as CSV."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, request
from flask.typing import ResponseReturnValue

from cpi.audit.operations import audit_export
from cpi.auth import access
from cpi.db import get_session
from cpi.exports.operations import csv_lines, scorecard_rows
from cpi.scorecards.disclosure import Disclosure
from cpi.scorecards.operations import load_scoring_data, report_period
from cpi.scorecards.views import viewer, visible_account_or_404

bp = Blueprint("exports", __name__, url_prefix="/exports")
access.require_staff(bp)


@bp.get("/scorecards.csv")
def scorecards_csv() -> ResponseReturnValue:
    """One row per visible account and indicator; ``?segment=`` or ``?account=`` narrow it."""
    try:
        period = report_period(request.args.get("period", ""))
    except ValueError:
        abort(404, description="Give a period like 2026-Q3 or 2026.")
    segment = request.args.get("segment")
    account = request.args.get("account")
    if account is not None:
        visible_account_or_404(account)  # 404 (and a security event when not theirs)
    data = load_scoring_data(get_session(), period)
    accounts = [
        a
        for a in access.visible(data.accounts.values())
        if (segment is None or a.segment == segment)
        and (account is None or a.account_id == account)
    ]
    if account is not None and not accounts:
        abort(404)
    audit_export("export.csv", f"{len(accounts)} accounts {period}")
    min_n = int(current_app.config["MIN_N"])
    disclosure = Disclosure(get_session(), viewer(), min_n).preload(period)
    rows = scorecard_rows(
        data, [a.account_id for a in accounts], min_n=min_n, disclosure=disclosure
    )
    filename = f"cpi-scorecards-{period}.csv"
    return Response(
        csv_lines(rows),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
