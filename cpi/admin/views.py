"""Admin pages: CSV uploads (same rules as ``cpi import``), users and roles, targets,
the audit log. Every route is for administrators only (403 for other staff)."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from cpi.admin import csv_help
from cpi.admin.forms import TargetForm, UploadForm
from cpi.admin.operations import (
    AdminError,
    audit_page,
    delete_target,
    set_target,
    targets_for,
)
from cpi.audit.operations import record
from cpi.auth.access import admin_only, reads_own_body, require_staff
from cpi.auth.account import reauthenticate_first
from cpi.auth.forms import ROLE_LABELS, ActionForm, EditUserForm, NewUserForm
from cpi.auth.models import User
from cpi.auth.operations import UserError, create_user, update_user
from cpi.db import get_session
from cpi.extensions import csrf
from cpi.i18n.errors import field_message
from cpi.i18n.indicators import indicator_label
from cpi.imports.csvfile import ImportFailed
from cpi.imports.operations import import_csv
from cpi.imports.rows import KINDS
from cpi.kpis.models import Target
from cpi.scoring import INDICATORS_BY_CODE

bp = Blueprint("admin", __name__, url_prefix="/admin")
require_staff(bp)


@bp.before_request
@admin_only
def _admins_only() -> None:
    return None


@bp.get("/")
def index() -> ResponseReturnValue:
    return render_template("admin/index.html")


# CSRF is checked by the form itself (UploadForm is a FlaskForm): the global check would
# read the body under the 1 MB request limit before this view can raise it for uploads.
@bp.route("/uploads", methods=["GET", "POST"])
@csrf.exempt
@reads_own_body
def uploads() -> ResponseReturnValue:
    request.max_content_length = int(current_app.config["UPLOAD_MAX_BYTES"])
    form = UploadForm()
    if not form.validate_on_submit():
        errors = [message for messages in form.errors.values() for message in messages]
        status = 400 if request.method == "POST" else 200
        return _uploads_page(form, errors), status
    kind = form.kind.data or ""
    upload = form.file.data
    session = get_session()
    try:
        summary = import_csv(session, kind, upload.stream)
    except ImportFailed as failure:
        session.rollback()
        lines = failure.errors + (
            [_("... and %(count)s more", count=failure.total - len(failure.errors))]
            if failure.total > len(failure.errors)
            else []
        )
        return _uploads_page(form, lines, failed=True), 400
    name = (upload.filename or "upload.csv")[:200]
    record(session, current_user.email, f"import.{kind}", f"{name}: {summary.rows} rows")
    session.commit()
    flash(
        _(
            "Imported %(rows)s %(kind)s rows from %(name)s (%(created)s new, "
            "%(updated)s updated or unchanged).",
            rows=summary.rows,
            kind=kind,
            name=name,
            created=summary.created,
            updated=summary.updated,
        ),  # fmt: skip
        "success",
    )
    return redirect(url_for("admin.uploads"))


def _uploads_page(form: UploadForm, errors: list[str], *, failed: bool = False) -> str:
    return render_template(
        "admin/uploads.html",
        form=form,
        errors=errors,
        failed=failed,
        limit=csv_help.size_text(int(current_app.config["UPLOAD_MAX_BYTES"])),
        kinds=[(kind, csv_help.KIND_LABELS[kind], csv_help.KIND_HELP[kind],
                csv_help.columns(kind)) for kind in KINDS],
    )  # fmt: skip


@bp.errorhandler(413)
def upload_too_large(_error: Exception) -> ResponseReturnValue:
    """A file over the upload limit: the upload page again, saying so (the body is not read)."""
    limit = csv_help.size_text(int(current_app.config["UPLOAD_MAX_BYTES"]))
    message = (
        f"file: the file is larger than the {limit} upload limit. "
        "Split it, or import it on the server with cpi import."
    )
    return _uploads_page(UploadForm(formdata=None), [message], failed=True), 413


@bp.get("/uploads/<kind>-template.csv")
def upload_template(kind: str) -> ResponseReturnValue:
    """A CSV template of one import kind: its header and one example row."""
    if kind not in KINDS:
        abort(404)
    return Response(
        csv_help.template_csv(kind),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="cpi-{kind}-template.csv"'},
    )


@bp.get("/users")
def users() -> ResponseReturnValue:
    return _users_page(NewUserForm())


def _users_page(form: NewUserForm, errors: list[str] | None = None) -> ResponseReturnValue:
    people = get_session().scalars(select(User).order_by(User.email)).all()
    return render_template(
        "admin/users.html",
        form=form,
        users=people,
        roles=ROLE_LABELS,
        edit_form=EditUserForm,
        errors=errors or [],
    ), (400 if errors else 200)


@bp.post("/users")
def create_user_view() -> ResponseReturnValue:
    if (confirm := reauthenticate_first(url_for("admin.users"))) is not None:
        return confirm
    form = NewUserForm()
    if not form.validate_on_submit():
        return _users_page(form, _form_errors(form))
    session = get_session()
    try:
        user = create_user(
            session,
            email=form.email.data or "",
            role=form.role.data or "",
            password=form.password.data or "",
            name=(form.name.data or "").strip() or None,
        )
    except UserError as error:
        session.rollback()
        return _users_page(form, [str(error)])
    record(session, current_user.email, "user.create", f"{user.email} as {user.role}")
    session.commit()
    flash(_("Created %(email)s.", email=user.email), "success")
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>")
def edit_user(user_id: int) -> ResponseReturnValue:
    if (confirm := reauthenticate_first(url_for("admin.users"))) is not None:
        return confirm
    form = EditUserForm()
    if not form.validate_on_submit():
        return _users_page(NewUserForm(formdata=None), ["The form expired; please try again."])
    session = get_session()
    if user_id == current_user.id and (form.role.data != "admin" or form.active.data != "1"):
        return _users_page(
            NewUserForm(formdata=None), ["role: you cannot demote or disable yourself"]
        )
    try:
        user = update_user(
            session, user_id, role=form.role.data, active=form.active.data == "1",
            password=form.password.data or None,
        )  # fmt: skip
    except UserError as error:
        session.rollback()
        return _users_page(NewUserForm(formdata=None), [str(error)])
    changes = f"{user.email}: role {user.role}, {'active' if user.active else 'disabled'}"
    if form.password.data:
        changes += ", password reset"
    record(session, current_user.email, "user.update", changes)
    session.commit()
    flash(_("Updated %(email)s; their sessions were signed out.", email=user.email), "success")
    return redirect(url_for("admin.users"))


def _number(field: str, value: object) -> float:
    """A form's Decimal as a float; NaN, sNaN and infinities are refused naming the field."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (ValueError, OverflowError):  # float(Decimal("sNaN")) raises
        raise AdminError(field_message(field, _("must be a finite number"))) from None
    if number != number or number in (float("inf"), float("-inf")):
        raise AdminError(field_message(field, _("must be a finite number")))
    return number


@bp.route("/targets", methods=["GET", "POST"])
def targets() -> ResponseReturnValue:
    form = TargetForm()
    session = get_session()
    errors: list[str] = []
    if form.validate_on_submit():
        try:
            row = set_target(
                session,
                indicator=form.indicator.data or "",
                period=form.period.data or "",
                segment=form.segment.data,
                target=_number("target", form.target.data or 0),
                tolerance=(
                    _number("tolerance", form.tolerance.data)
                    if form.tolerance.data is not None
                    else None
                ),
            )
        except AdminError as error:
            session.rollback()
            errors.append(str(error))
        else:
            detail = f"{row.indicator} {row.period} {row.segment_key or 'company'} = {row.target:g}"
            record(session, current_user.email, "target.set", detail)
            session.commit()
            saved = _("Target saved: %(target)s = %(value)s.", target=_target_words(row),
                      value=f"{row.target:g}")  # fmt: skip
            flash(saved, "success")
            return redirect(url_for("admin.targets", period=row.period))
    elif request.method == "POST":
        errors = _form_errors(form)
    period = request.args.get("period", "").strip()[:7] or None
    return render_template(
        "admin/targets.html",
        indicators=INDICATORS_BY_CODE,
        form=form,
        targets=targets_for(session, period),
        period=period,
        errors=errors,
        delete_form=ActionForm(),
    ), (400 if errors else 200)


def _form_errors(form: Any) -> list[str]:
    """``field: message`` lines; WTForms' own messages come in the reader's language
    (Flask-WTF loads WTForms' catalogues for Flask-Babel's locale)."""
    return [field_message(name, message) for name, ms in form.errors.items() for message in ms]


def _target_words(row: Target) -> str:
    """A target for people: the indicator's name, not its code (the audit log keeps codes)."""
    where = (
        _("segment %(segment)s", segment=row.segment_key) if row.segment_key else _("company-wide")
    )
    return f"{indicator_label(row.indicator)}, {row.period}, {where}"


@bp.post("/targets/<int:target_id>/delete")
def remove_target(target_id: int) -> ResponseReturnValue:
    form = ActionForm()
    session = get_session()
    if form.validate_on_submit():
        try:
            row = delete_target(session, target_id)
        except AdminError as error:
            flash(str(error), "error")
        else:
            detail = f"{row.indicator} {row.period} {row.segment_key or 'company'}"
            record(session, current_user.email, "target.delete", detail)
            session.commit()
            flash(_("Target removed: %(target)s.", target=_target_words(row)), "success")
    return redirect(url_for("admin.targets"))


def _page_number(text: str) -> int:
    """``?page=``: ASCII digits only ('²' is a digit to str.isdigit, not to int)."""
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 9 else 1


@bp.get("/audit")
def audit() -> ResponseReturnValue:
    page = request.args.get("page", "1")
    actor = request.args.get("actor", "").strip()[:254] or None
    return render_template(
        "admin/audit.html",
        audit=audit_page(get_session(), _page_number(page), actor),
        actor=actor,
    )
