"""Downloads for staff: the scorecards of the accounts they may see, and (admins and
enablement) the period's answers and comments, as CSV."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from flask import Blueprint, Response, abort, current_app, request
from flask.typing import ResponseReturnValue
from flask_login import current_user

from cpi.audit.operations import audit_export
from cpi.auth import access
from cpi.db import Database, database, get_session
from cpi.exports.custom_answers import CUSTOM_HEADER, custom_answer_rows
from cpi.exports.operations import (
    RESPONSE_HEADER,
    csv_lines,
    load_accounts,
    neutralise,
    response_rows,
    scorecard_rows,
)
from cpi.followups import figures as loop
from cpi.rules.addresses import normalise_email
from cpi.scorecards.disclosure import Disclosure
from cpi.scorecards.operations import AccountInfo, load_scoring_data, report_period
from cpi.scorecards.viewing import viewer, visible_account_or_404
from cpi.scoring import Period

bp = Blueprint("exports", __name__, url_prefix="/exports")
access.require_staff(bp)


def _period() -> Period:
    try:
        return report_period(request.args.get("period", ""))
    except ValueError:
        abort(404, description="Give a period like 2026-Q3 or 2026.")


def _in_scope(accounts: Iterable[AccountInfo]) -> list[AccountInfo]:
    """The visible accounts that ``?segment=``, ``?owner=`` and ``?account=`` select."""
    segment = request.args.get("segment")
    owner = request.args.get("owner")
    account = request.args.get("account")
    if owner is not None:
        owner = normalise_email(owner)
    if account is not None:
        visible_account_or_404(account)  # 404 (and a security event when not theirs)
    chosen = [
        a
        for a in access.visible(accounts)
        if (segment is None or a.segment == segment)
        and (owner is None or (a.owner_email or "") == owner)
        and (account is None or a.account_id == account)
    ]
    if (account is not None or owner is not None or segment is not None) and not chosen:
        abort(404)
    return chosen


def _download(lines: Iterable[str], filename: str) -> Response:
    # The rows stream after the view returns (and are read from memory or a session of
    # their own): end the request's read transaction now, not when the client finishes
    # or abandons the download, so that no transaction idles open meanwhile.
    get_session().close()
    return Response(
        lines,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.get("/scorecards.csv")
def scorecards_csv() -> ResponseReturnValue:
    """One row per visible account and indicator; ``?segment=``, ``?owner=`` or
    ``?account=`` narrow it to that scope's accounts."""
    period = _period()
    data = load_scoring_data(get_session(), period)
    accounts = _in_scope(data.accounts.values())
    audit_export("export.csv", f"{len(accounts)} accounts {period}")
    min_n = int(current_app.config["MIN_N"])
    disclosure = Disclosure(get_session(), viewer(), min_n).preload(period)
    # Built here, while the request's session is open (the audit may read the period
    # before); one row per account and indicator fits in memory.
    rows = list(
        scorecard_rows(data, [a.account_id for a in accounts], min_n=min_n, disclosure=disclosure)
    )
    return _download(csv_lines(rows), f"cpi-scorecards-{period}.csv")


@bp.get("/responses.csv")
def responses_csv() -> ResponseReturnValue:
    """The period's answers and comments in scope, one row per response: admins and
    enablement only. Anonymous (a name only with consent); accounts with fewer than
    ``min_n`` answers in the period are left out."""
    access.company_wide_only()
    period = _period()
    session = get_session()
    accounts = _in_scope(load_accounts(session))
    min_n = int(current_app.config["MIN_N"])
    audit_export("export.responses", f"{len(accounts)} accounts {period}")
    ids = [a.account_id for a in accounts]
    return _download(
        _streamed_responses(database(), ids, period, min_n), f"cpi-responses-{period}.csv"
    )


def _streamed_responses(
    db: Database, account_ids: list[str], period: Period, min_n: int
) -> Iterator[str]:
    """The answers CSV, read while it streams (after the request has ended) through a
    session of its own, closed when the download ends or is abandoned."""
    session = db.session()
    try:
        yield from csv_lines(
            response_rows(session, account_ids, period, min_n=min_n), RESPONSE_HEADER
        )
    finally:
        session.close()


@bp.get("/custom-answers.csv")
def custom_answers_csv() -> ResponseReturnValue:
    """The period's answers to custom survey questions in scope, one row per answer:
    admins and enablement only, anonymous; accounts below ``min_n`` left out."""
    access.company_wide_only()
    period = _period()
    session = get_session()
    accounts = _in_scope(load_accounts(session))
    min_n = int(current_app.config["MIN_N"])
    audit_export("export.custom_answers", f"{len(accounts)} accounts {period}")
    rows = list(custom_answer_rows(session, [a.account_id for a in accounts], period, min_n=min_n))
    return _download(csv_lines(rows, CUSTOM_HEADER), f"cpi-custom-answers-{period}.csv")


@bp.get("/followups.csv")
def followups_csv() -> ResponseReturnValue:
    """Closed-loop figures (follow-ups opened, closed, median time to close, share closed
    within 2 business days) per account manager and in total, for ``?owner=``,
    ``?segment=`` or ``?account=``; an account manager's are always their own portfolio's."""
    period = _period()
    scope = {"owner_email": request.args.get("owner"), "segment": request.args.get("segment"),
             "account_id": request.args.get("account")}  # fmt: skip
    if scope["account_id"] is not None:
        visible_account_or_404(scope["account_id"])
    if scope["owner_email"] is not None:
        scope["owner_email"] = normalise_email(scope["owner_email"])
    if not current_user.sees_everything:
        scope["owner_email"] = current_user.email
    total, rows = loop.scope_figures(get_session(), period=str(period), **scope)
    lines = [[neutralise(cell) for cell in loop.csv_row(str(period), f)] for f in [*rows, total]]
    audit_export("export.followups", f"{period}")
    return _download(csv_lines(lines, loop.CSV_HEADER), f"cpi-closed-loop-{period}.csv")
