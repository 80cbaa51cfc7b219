"""What the signed-in viewer asks for and may see: the request's period, the viewer's
universe for the differencing audit, an account they may open. Shared by the staff
pages, the exports and the API (one feature's views never import another's)."""

from __future__ import annotations

from flask import abort, request
from flask_login import current_user

from cpi.accounts.info import AccountInfo
from cpi.accounts.models import Account
from cpi.auth import access
from cpi.db import get_session
from cpi.scorecards.differencing import Universe
from cpi.scorecards.operations import latest_period, report_period
from cpi.scorecards.reports import account_exists
from cpi.scoring import Period


def requested_period(default: Period | None = None) -> Period | None:
    """The ``?period=`` of the request (404 when malformed), else ``default``, else
    the latest quarter with answers."""
    text = request.args.get("period", "").strip()
    if text:
        try:
            return report_period(text)
        except ValueError:
            abort(404, description=f"{text[:40]!r} is not a period like 2026-Q3 or 2026.")
    return default or latest_period(get_session())


def viewer() -> Universe | None:
    """What the signed-in user can see, for the differencing audit (cpi.scorecards.disclosure);
    None for administrators, who see every figure as computed (as in ``cpi score``)."""
    if current_user.is_admin:
        return None
    return Universe(None if current_user.sees_everything else current_user.email)


def visible_account_or_404(account_id: str) -> Account:
    account = account_exists(get_session(), account_id)
    if account is None:
        abort(404)
    if not access.can_see(
        AccountInfo(account.account_id, account.name, account.segment, account.owner_email)
    ):
        access.deny(404)  # exists, but not theirs: the same 404, and a security event
    return account
