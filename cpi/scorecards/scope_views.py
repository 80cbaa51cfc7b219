"""Company, segment and portfolio PDFs from the app, and the batch ZIP of a segment's
or a portfolio's account PDFs (run through the job queue, its progress on a page).

Enablement and administrators: any scope; an account manager: only their own
portfolio (anything else answers 404, or 403 for company-wide scopes). The scope PDFs
are the internal edition (the customer edition is an account's, on its QBR page)."""

from __future__ import annotations

from io import BytesIO

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from cpi.accounts.models import Account
from cpi.audit.operations import audit_export
from cpi.auth import access
from cpi.auth.forms import ActionForm
from cpi.db import get_session
from cpi.jobs.extra import QueueUnavailable, RedisExtraMissing
from cpi.jobs.status import JobState, job_state, start_task
from cpi.jobs.tasks import TaskError
from cpi.scorecards import batches
from cpi.scorecards.operations import ScopeNotFound
from cpi.scorecards.pdf import PdfError
from cpi.scorecards.rendering import pdf_filename, report_pdf
from cpi.scorecards.reports import build_report
from cpi.scorecards.viewing import requested_period, viewer

bp = Blueprint("scopepdfs", __name__, url_prefix="/scorecards")
access.require_staff(bp)
PDF_COMMENTS = 6


def _scope_or_deny(scope_type: str, scope_id: str) -> str | None:
    """The scope's id as stored (owner emails in lower case), once the viewer may see it."""
    if scope_type == "company":
        if not current_user.sees_everything:
            access.deny(403, description=_("Only administrators and sales enablement can do this."))
        return None
    scope_id = scope_id.strip()
    if scope_type == "owner":
        scope_id = scope_id.lower()
        if not current_user.sees_everything and scope_id != current_user.email:
            access.deny(404)
        column = Account.owner_email
    else:
        if not current_user.sees_everything:
            access.deny(403, description=_("Only administrators and sales enablement can do this."))
        column = Account.segment
    if (
        not scope_id
        or get_session().scalar(select(Account.id).where(column == scope_id).limit(1)) is None
    ):
        abort(404)
    return scope_id


@bp.get("/<any(company, segment, owner):scope_type>.pdf")
def scope_pdf(scope_type: str) -> ResponseReturnValue:
    """The internal edition of the company's, a segment's or a portfolio's scorecard."""
    scope_id = _scope_or_deny(scope_type, request.args.get("id", "")[:254])
    period = requested_period()
    if period is None:
        abort(404, description=_("There is no period with answers yet."))
    min_n = int(current_app.config["MIN_N"])
    try:
        report = build_report(
            get_session(), scope_type, scope_id, period, min_n=min_n, comment_limit=PDF_COMMENTS,
            viewer=viewer(), comment_min_answers=0 if current_user.is_admin else min_n,
        )  # fmt: skip
        pdf = report_pdf(report)
    except ScopeNotFound:
        abort(404)
    except PdfError as error:
        current_app.logger.error("PDF for %s %s %s failed: %s", scope_type, scope_id, period, error)
        abort(503, description=_("The PDF could not be produced right now. Please try again."))
    audit_export("export.pdf", f"{scope_type} {scope_id or ''} {period}".replace("  ", " "))
    return send_file(
        BytesIO(pdf),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=pdf_filename(scope_id, str(period)),
        max_age=0,
    )


@bp.post("/<any(segment, owner):scope_type>.zip")
def start_batch(scope_type: str) -> ResponseReturnValue:
    """Start the ZIP of the scope's account PDFs (the ``render_scorecards`` task)."""
    if not ActionForm().validate_on_submit():
        access.deny(400)
    scope_id = _scope_or_deny(scope_type, request.form.get("id", "")[:254]) or ""
    period = requested_period()
    if period is None:
        abort(404, description=_("There is no period with answers yet."))
    batch = batches.new_batch(current_user.email, scope_type, scope_id, str(period))
    get_session().rollback()  # end the read: the audit line writes in its own transaction
    audit_export("export.pdf_batch", f"{scope_type} {scope_id} {period}")
    try:
        started = start_task(
            "render_scorecards", period=str(period), output=str(batch.zip_path),
            **{"segment" if scope_type == "segment" else "owner": scope_id},
        )  # fmt: skip
    except TaskError as error:
        batch.message = str(error).splitlines()[-1]
    except (QueueUnavailable, RedisExtraMissing) as error:
        flash(error.format_message(), "error")
        return redirect(request.referrer or url_for("scorecards.dashboard"))
    else:
        batch.job_id = started.job_id
        batch.message = started.message.splitlines()[-1] if started.job_id is None else ""
    batch.save()
    return redirect(url_for("scopepdfs.batch_page", token=batch.token))


def _batch_or_404(token: str) -> batches.Batch:
    batch = batches.load(token)
    if batch is None:
        abort(404)
    if batch.requested_by != current_user.email and not current_user.sees_everything:
        access.deny(404)
    return batch


def _state(batch: batches.Batch) -> JobState:
    if batch.ready:
        return JobState("finished", message=batch.message)
    if batch.job_id is None:  # ran in the request, and failed
        return JobState("failed", message=batch.message or _("The ZIP could not be produced."))
    return job_state(batch.job_id)


@bp.get("/batches/<token>")
def batch_page(token: str) -> ResponseReturnValue:
    batch = _batch_or_404(token)
    return render_template("scorecards/batch.html", batch=batch, state=_state(batch))


@bp.get("/batches/<token>/progress")
def batch_progress(token: str) -> ResponseReturnValue:
    """The batch's progress, for the page's script (cpi/jobs/status.py)."""
    return jsonify(_state(_batch_or_404(token)).as_dict())


@bp.get("/batches/<token>/download")
def batch_download(token: str) -> ResponseReturnValue:
    batch = _batch_or_404(token)
    if not batch.ready:
        abort(404)
    audit_export("export.pdf_batch_download", f"{batch.scope_type} {batch.scope_id} {batch.period}")
    return send_file(
        batch.zip_path,
        mimetype="application/zip",
        as_attachment=True,
        download_name=batch.download_name,
        max_age=0,
    )
