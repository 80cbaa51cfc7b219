"""Who may see what. Account managers see only the accounts they own, everywhere;
anything else answers 404, exactly as if it did not exist."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any, NoReturn, TypeVar

from flask import Blueprint, abort, current_app, request
from flask_login import current_user

from cpi.accounts.info import AccountInfo
from cpi.auth.login import login_manager

F = TypeVar("F", bound=Callable[..., Any])

# Security events (denied access) go to their own logger, one structured line each,
# so that alerting can follow them apart from the request log.
security_log = logging.getLogger("cpi.security")


def deny(status: int = 404, description: str | None = None) -> NoReturn:
    """Refuse a signed-in user (404: as if it did not exist; 403: not their role) and
    log it as a security event: who, what, from where."""
    user = current_user if current_user.is_authenticated else None
    security_log.warning(
        "access denied: %s %s for %s",
        request.method,
        request.path,
        user.email if user else "anonymous",
        extra={
            "event": "access.denied",
            "status": status,
            "user": user.email if user else None,
            "role": user.role if user else None,
            "method": request.method,
            "path": request.path,
            "remote_addr": request.remote_addr,
        },
    )
    abort(status, description=description)


def require_staff(blueprint: Blueprint) -> None:
    """Every route of the blueprint needs a signed-in staff user."""

    @blueprint.before_request
    def _signed_in() -> Any:
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        # A NUL byte is never part of an id, period or name (and PostgreSQL refuses it).
        if "\x00" in request.path or any("\x00" in v for v in request.args.values()):
            abort(404)
        # Form fields, urlencoded or multipart. Upload views read their own body under
        # their own size limit (and the importer checks the file), so they are skipped.
        form = request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data")
        view = current_app.view_functions.get(request.endpoint or "")
        checked = form and not getattr(view, "reads_own_body", False)
        if checked and any("\x00" in v for v in request.form.values()):
            abort(400, description="A field contains a NUL byte.")
        return None


def reads_own_body(view: F) -> F:
    """Mark an upload view: the NUL check above leaves its (large) body to the view."""
    view.reads_own_body = True  # type: ignore[attr-defined]
    return view


def admin_only(view: F) -> F:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if not current_user.is_admin:
            deny(403, description="Only administrators can do this.")
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def company_wide_only() -> None:
    """Segment pages and other people's portfolios: 404 for account managers."""
    if not current_user.sees_everything:
        deny(404)


def can_see(account: AccountInfo) -> bool:
    if current_user.sees_everything:
        return True
    return (account.owner_email or "").lower() == current_user.email


def visible(accounts: Iterable[AccountInfo]) -> list[AccountInfo]:
    return [account for account in accounts if can_see(account)]
