"""Staff pages: dashboards, drill-downs, account pages and their PDFs (sign-in required)."""

from __future__ import annotations

from io import BytesIO

from flask import (
    Blueprint,
    abort,
    current_app,
    render_template,
    request,
    send_file,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, or_, select

from cpi.accounts.models import Account
from cpi.audit.operations import audit_export
from cpi.auth import access
from cpi.db import get_session
from cpi.questions.figures import QuestionFigures, custom_figures
from cpi.scorecards import localised
from cpi.scorecards.operations import ScopeNotFound
from cpi.scorecards.overview import PeriodMenu, cached_overview, cached_period_menu
from cpi.scorecards.pdf import PdfError
from cpi.scorecards.qbr.documents import account_report
from cpi.scorecards.qbr.operations import choices as qbr_choices
from cpi.scorecards.rendering import pdf_filename, report_pdf
from cpi.scorecards.reports import build_report, owner_names
from cpi.scorecards.viewing import requested_period, viewer, visible_account_or_404
from cpi.scoring import Period

bp = Blueprint("scorecards", __name__)
access.require_staff(bp)


def _scope_period(scope_type: str, scope_id: str | None) -> tuple[Period | None, PeriodMenu]:
    """The requested period, else the scope's default (its latest scorable quarter)."""
    menu = cached_period_menu(get_session(), scope_type, scope_id, min_n=_min_n())
    return requested_period(menu.default), menu


def _comment_min_answers() -> int:
    """Administrators see every comment; others not those of accounts with too few answers."""
    return 0 if current_user.is_admin else _min_n()


def _min_n() -> int:
    return int(current_app.config["MIN_N"])


def _custom(scope_type: str, scope_id: str | None, period: Period | None) -> list[QuestionFigures]:
    """The scope's custom-question figures (nothing but counts below min_n)."""
    if period is None:
        return []
    return custom_figures(get_session(), scope_type, scope_id, period, min_n=_min_n())


def _overview_page(scope_type: str, scope_id: str | None, heading: str) -> ResponseReturnValue:
    session = get_session()
    period, menu = _scope_period(scope_type, scope_id)
    overview = None
    if period is not None:
        try:
            overview = cached_overview(
                session, scope_type, scope_id, period,
                request.args.get("indicator", "fcr"), min_n=_min_n(), viewer=viewer(),
                comment_min_answers=_comment_min_answers(),
            )  # fmt: skip
        except ScopeNotFound:
            if scope_type != "owner" or scope_id != current_user.email:
                abort(404)
    return render_template(
        "scorecards/dashboard.html",
        heading=heading,
        scope_type=scope_type,
        scope_id=scope_id,
        period=period,
        periods=menu.choices,
        overview=overview,
        fresh_install=period is None and not session.scalar(select(Account.id).limit(1)),
        report=overview.report if overview else None,
        fmt=localised,
        min_n=_min_n(),
        custom_questions=_custom(scope_type, scope_id, period) if overview else [],
    )


@bp.get("/")
def dashboard() -> ResponseReturnValue:
    if current_user.sees_everything:
        return _overview_page("company", None, _("Company"))
    return _overview_page("owner", current_user.email, _("My accounts"))


@bp.get("/segments/<path:segment>")
def segment(segment: str) -> ResponseReturnValue:
    access.company_wide_only()
    return _overview_page("segment", segment, "")


@bp.get("/owners/<path:email>")
def owner(email: str) -> ResponseReturnValue:
    email = email.strip().lower()
    if not current_user.sees_everything and email != current_user.email:
        access.deny(404)
    return _overview_page("owner", email, "" if current_user.sees_everything else _("My accounts"))


@bp.get("/accounts")
def accounts() -> ResponseReturnValue:
    query = request.args.get("q", "").strip()[:100]
    statement = select(Account).order_by(func.lower(Account.name)).limit(200)
    if query:
        # autoescape: "_", "%" and "\\" in the query match themselves, not any character
        statement = statement.where(
            or_(
                Account.name.icontains(query, autoescape=True),
                Account.account_id.icontains(query, autoescape=True),
            )
        )
    if not current_user.sees_everything:
        statement = statement.where(Account.owner_email == current_user.email)
    session = get_session()
    found = session.scalars(statement).all()
    return render_template(
        "scorecards/accounts.html", accounts=found, query=query, managers=owner_names(session)
    )


@bp.get("/accounts/<account_id>")
def account(account_id: str) -> ResponseReturnValue:
    found = visible_account_or_404(account_id)
    session = get_session()
    period, menu = _scope_period("account", account_id)
    report = None
    if period is not None:
        report = build_report(
            session, "account", account_id, period, min_n=_min_n(), viewer=viewer(),
            comment_min_answers=_comment_min_answers(), with_benchmarks=True,
        )  # fmt: skip
    return render_template(
        "scorecards/account.html",
        account_id=account_id,
        account_name=found.name,
        period=period,
        periods=menu.choices,
        report=report,
        card=report.card if report else None,
        fmt=localised,
        min_n=_min_n(),
    )


@bp.get("/accounts/<account_id>/scorecard.pdf")
def account_pdf(account_id: str) -> ResponseReturnValue:
    found = visible_account_or_404(account_id)
    session = get_session()
    period, _menu = _scope_period("account", account_id)
    if period is None:
        abort(404, description="There is no period with answers yet.")
    # without the comments hidden on the QBR page: a hidden comment never prints
    report = account_report(
        session, found, period, viewer=viewer(), comment_min_answers=_comment_min_answers(),
        hidden=qbr_choices(session, found, period).hidden,
    )  # fmt: skip
    try:
        pdf = report_pdf(report)
    except PdfError as error:
        current_app.logger.error("PDF for %s %s failed: %s", account_id, period, error)
        abort(503, description="The PDF could not be produced right now. Please try again.")
    audit_export("export.pdf", f"{account_id} {period}")
    return send_file(
        BytesIO(pdf),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=pdf_filename(account_id, str(period)),
        max_age=0,
    )


@bp.get("/branding/logo")
def logo() -> ResponseReturnValue:
    from cpi.scorecards.rendering import logo_path

    path = logo_path()
    if path is None:
        return current_app.send_static_file("img/logo.svg")
    return send_file(path, max_age=300)
