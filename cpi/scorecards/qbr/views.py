"""Preparing and downloading an account's QBR (account manager of the account and above)."""

from __future__ import annotations

from io import BytesIO

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from cpi.accounts.models import Account
from cpi.audit.operations import audit_export
from cpi.auth import access
from cpi.db import get_session
from cpi.scorecards.operations import report_period
from cpi.scorecards.pdf import PdfError
from cpi.scorecards.qbr import documents, operations, picture, slides
from cpi.scorecards.qbr.edition import CustomerEdition
from cpi.scorecards.qbr.forms import BrandingForm, QbrFormBase, qbr_form
from cpi.scorecards.viewing import requested_period, viewer, visible_account_or_404
from cpi.scoring import Period

bp = Blueprint("qbr", __name__)
access.require_staff(bp)


def _comment_min_answers() -> int:
    return 0 if current_user.is_admin else int(current_app.config["MIN_N"])


def _period() -> Period:
    period = requested_period()
    if period is None:
        abort(404, description="There is no period with answers yet.")
    return period


def _offered(account: Account, period: Period) -> list[operations.AccountComment]:
    return operations.account_comments(
        get_session(), account, period, min_answers=_comment_min_answers()
    )


@bp.get("/accounts/<account_id>/qbr")
def prepare(account_id: str) -> ResponseReturnValue:
    account = visible_account_or_404(account_id)
    period = _period()
    session = get_session()
    offered = _offered(account, period)
    saved = operations.choices(session, account, period)
    return _page(account, period, qbr_form(offered, saved, str(period)), offered, [])


def _page(
    account: Account,
    period: Period,
    form: QbrFormBase,
    offered: list[operations.AccountComment],
    errors: list[str],
) -> str:
    session = get_session()
    found = operations.branding(session, account)
    branding = BrandingForm(data={"language": (found.locale if found else None) or ""})
    return render_template(
        "qbr/prepare.html",
        account=account,
        period=period,
        form=form,
        branding=branding,
        offered=offered,
        errors=errors,
        language=operations.account_language(session, account),
        has_logo=bool(found and found.logo),
    )


@bp.post("/accounts/<account_id>/qbr")
def save(account_id: str) -> ResponseReturnValue:
    account = visible_account_or_404(account_id)
    try:
        period = report_period(request.form.get("period", ""))
    except ValueError:
        abort(400, description="period: not a period like 2026-Q3")
    session = get_session()
    offered = _offered(account, period)
    form = qbr_form(offered, operations.choices(session, account, period), str(period))
    errors = (
        [m for messages in form.errors.values() for m in messages] if not form.validate() else []
    )
    if not errors:
        try:
            chosen = operations.check_choices(form.choices(offered), offered)
            operations.save_choices(session, account, period, chosen, current_user.email)
        except operations.QbrError as error:
            errors = [str(error)]
    if errors:
        session.rollback()
        return _page(account, period, form, offered, errors), 400
    session.commit()
    flash(_("The QBR choices are saved."), "success")
    return redirect(url_for("qbr.prepare", account_id=account.account_id, period=str(period)))


@bp.post("/accounts/<account_id>/qbr/branding")
def branding(account_id: str) -> ResponseReturnValue:
    account = visible_account_or_404(account_id)
    form = BrandingForm()
    session = get_session()
    try:
        if not form.validate():
            raise operations.QbrError("; ".join(m for ms in form.errors.values() for m in ms))
        operations.set_language(session, account, form.language.data or None, current_user.email)
        upload = form.logo.data
        if form.remove_logo.data:
            operations.save_logo(session, account, None, current_user.email)
        elif upload is not None and getattr(upload, "filename", ""):
            data = upload.read(operations.LOGO_MAX_BYTES + 1)
            operations.save_logo(session, account, data, current_user.email)
    except operations.QbrError as error:
        session.rollback()
        flash(str(error), "error")
        return redirect(url_for("qbr.prepare", account_id=account.account_id,
                                period=request.args.get("period")))  # fmt: skip
    session.commit()
    flash(_("The account's language and logo are saved."), "success")
    return redirect(url_for("qbr.prepare", account_id=account.account_id,
                            period=request.args.get("period")))  # fmt: skip


@bp.get("/accounts/<account_id>/qbr/logo.png")
def logo_image(account_id: str) -> ResponseReturnValue:
    account = visible_account_or_404(account_id)
    logo = operations.account_logo(get_session(), account)
    if logo is None:
        abort(404)
    response = send_file(BytesIO(logo), mimetype="image/png", max_age=0)
    response.headers["Content-Security-Policy"] = "default-src 'none'"
    return response


def _edition(account: Account, period: Period) -> tuple[CustomerEdition, str]:
    """The customer edition as chosen, in the ``?lang=`` override if any, and the edition."""
    session = get_session()
    saved = operations.choices(session, account, period)
    language = request.args.get("lang") or None
    if language is not None and language not in ("en", "fr", "de", "hu", "ru"):
        abort(404, description="lang: one of en, fr, de, hu, ru")
    edition = request.args.get("edition") or saved.edition
    if edition not in operations.EDITIONS:
        abort(404, description="edition: customer or internal")
    qbr = documents.customer_edition(
        session, account, period, choices=saved, viewer=viewer(),
        comment_min_answers=_comment_min_answers(), language=language,
        internal=True if edition == "internal" else None,
    )  # fmt: skip
    return qbr, edition


@bp.get("/accounts/<account_id>/qbr/preview")
def preview(account_id: str) -> ResponseReturnValue:
    account = visible_account_or_404(account_id)
    qbr, _edition_name = _edition(account, _period())
    has_logo = operations.account_logo(get_session(), account) is not None
    return documents.customer_html(
        qbr,
        asset=lambda path: url_for("static", filename=path),
        our_logo=url_for("scorecards.logo"),
        customer_logo=url_for("qbr.logo_image", account_id=account.account_id)
        if has_logo
        else None,
    )


@bp.get("/accounts/<account_id>/qbr.pdf")
def pdf(account_id: str) -> ResponseReturnValue:
    account = visible_account_or_404(account_id)
    period = _period()
    session = get_session()
    qbr, edition = _edition(account, period)
    try:
        if edition == "internal":
            hidden = operations.choices(session, account, period).hidden
            report = documents.account_report(
                session, account, period, viewer=viewer(), hidden=hidden,
                comment_min_answers=_comment_min_answers(),
            )  # fmt: skip
            data = documents.internal_pdf(report)
        else:
            data = documents.customer_pdf(qbr, operations.account_logo(session, account))
    except PdfError as error:
        current_app.logger.error("QBR PDF for %s %s failed: %s", account_id, period, error)
        abort(503, description="The PDF could not be produced right now. Please try again.")
    audit_export("export.qbr_pdf", f"{account_id} {period} {edition} {qbr.locale}")
    return _download(data, "application/pdf",
                     documents.filename(account_id, str(period), "pdf", edition))  # fmt: skip


@bp.get("/accounts/<account_id>/qbr.pptx")
def pptx(account_id: str) -> ResponseReturnValue:
    account = visible_account_or_404(account_id)
    period = _period()
    qbr, edition = _edition(account, period)
    data = slides.deck(qbr, operations.account_logo(get_session(), account))
    audit_export("export.qbr_pptx", f"{account_id} {period} {edition} {qbr.locale}")
    mime = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
    return _download(data, mime, documents.filename(account_id, str(period), "pptx", edition))


@bp.get("/accounts/<account_id>/qbr/charts/<code>.<kind>")
def chart(account_id: str, code: str, kind: str) -> ResponseReturnValue:
    account = visible_account_or_404(account_id)
    period = _period()
    if kind not in ("png", "svg"):
        abort(404)
    qbr, _edition_name = _edition(account, period)
    found = next((c for c in qbr.charts if c.chart.code == code), None)
    if found is None:
        abort(404)
    name = documents.filename(account_id, str(period), kind).replace("-QBR.", f"-{code}.")
    if kind == "png":
        return _download(picture.chart_png(found), "image/png", name)
    return _download(documents.chart_svg(found).encode(), "image/svg+xml", name)


def _download(data: bytes, mimetype: str, name: str) -> ResponseReturnValue:
    response = send_file(BytesIO(data), mimetype=mimetype, as_attachment=True,
                         download_name=name, max_age=0)  # fmt: skip
    response.headers["Content-Security-Policy"] = "default-src 'none'"
    return response
