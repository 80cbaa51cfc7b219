"""Staff pages of enablement initiatives: the list, create/edit/delete, costs and CSV
uploads, case studies and their review, the report (page, PDF, JSON), coaching focus and
the outcomes driver view.

Enablement and administrators manage initiatives; an account manager sees only the
initiatives they take part in (anything else is 404), with their own accounts as the
treated group, their own case studies, and no initiative-wide money figures. min_n
withholds every thin figure for everyone (the report does that)."""

from __future__ import annotations

import json
from io import BytesIO
from typing import Any

from flask import (
    Blueprint,
    Response,
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
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from cpi.audit.operations import audit_export
from cpi.auth.access import deny, reads_own_body, require_staff
from cpi.auth.forms import ActionForm
from cpi.db import get_session
from cpi.extensions import csrf
from cpi.i18n.errors import field_message
from cpi.imports.csvfile import ImportFailed
from cpi.initiatives import operations as ops
from cpi.initiatives import presentation
from cpi.initiatives.forms import (
    CaseStudyForm,
    CostForm,
    CsvUploadForm,
    InitiativeForm,
    NewInitiativeForm,
    ReportOptionsForm,
)
from cpi.initiatives.models import Initiative
from cpi.initiatives.report import build_report
from cpi.outcomes.drivers import driver_view
from cpi.scorecards.pdf import LOGO_URL, PdfError, asset_url, render_pdf
from cpi.scorecards.rendering import logo_path, page_size

bp = Blueprint("initiatives", __name__, url_prefix="/initiatives")
require_staff(bp)


def _viewer() -> ops.Viewer:
    return ops.Viewer(email=current_user.email, role=current_user.role)


def _min_n() -> int:
    return int(current_app.config["MIN_N"])


def _managers_only() -> None:
    if not _viewer().manages:
        deny(403, description=_("Only sales enablement and administrators can do this."))


def _initiative(initiative_id: int) -> Initiative:
    try:
        return ops.get_initiative(get_session(), initiative_id, _viewer())
    except ops.InitiativeNotFound:
        deny(404)


def _form_errors(form: Any) -> list[str]:
    return [
        field_message(ops.FIELD_LABELS.get(field, form[field].label.text), text)
        for field, messages in form.errors.items()
        for text in messages
    ]


@bp.get("/")
def index() -> ResponseReturnValue:
    initiatives = ops.list_initiatives(get_session(), _viewer())
    return render_template(
        "initiatives/index.html",
        initiatives=initiatives,
        costs={i.id: ops.cost_summary(i)["total"] for i in initiatives},
        manages=_viewer().manages,
        money=presentation.money,
        kind_name=presentation.initiative_kind,
    )


# -- create, edit, delete ----------------------------------------------------------------


def _participants_text(value: str | None) -> str:
    return ",".join((value or "").replace(";", ",").split())


def _cost_lines(form: NewInitiativeForm) -> list[ops.CostLine]:
    """The cost lines of the creation form (blank ones left out); InitiativeError names
    the field of a bad one."""
    lines = []
    for field, description in (("fees", "Fees"), ("materials", "Materials")):
        value = getattr(form, field).data
        if ops.check_money(field, value) is not None:
            lines.append(ops.CostLine(field, description, amount=value))
    hours, rate = form.hours.data, form.hourly_cost.data
    ops.check_money("hours", hours)
    ops.check_money("hourly_cost", rate)
    if bool((hours or "").strip()) != bool((rate or "").strip()):
        raise ops.InitiativeError("hours" if not (hours or "").strip() else "hourly_cost",
                                  _l("give both the hours and the hourly cost"))  # fmt: skip
    if (hours or "").strip():
        lines.append(ops.CostLine("hours", "Participants' time", hours=hours, hourly_cost=rate))
    return lines


def _fields(form: InitiativeForm) -> dict[str, Any]:
    return {
        "name": form.name.data or "", "kind": form.kind.data or "",
        "start": form.start.data or "", "end": form.end.data or "",
        "indicators": form.indicators.data or [],
        "participants": _participants_text(form.participants.data),
        "description": form.description.data,
        "benefit_outcome": form.benefit_outcome.data or None,
        "benefit_value": form.benefit_value.data,
    }  # fmt: skip


@bp.route("/new", methods=["GET", "POST"])
def create() -> ResponseReturnValue:
    _managers_only()
    form = NewInitiativeForm()
    if request.method == "GET":  # coaching focus links here pre-filled
        form.participants.data = "\n".join(request.args.get("participants", "")[:2000].split(","))
        form.indicators.data = request.args.get("indicators", "")[:200].split(",")
    errors: list[str] = []
    if form.validate_on_submit():
        session = get_session()
        try:
            initiative = ops.create_initiative(
                session, actor=current_user.email, costs=_cost_lines(form), **_fields(form)
            )
        except ops.InitiativeError as error:
            session.rollback()
            errors.append(str(error))
        else:
            session.commit()
            flash(_("Created the initiative %(name)s.", name=initiative.name), "success")
            return redirect(url_for("initiatives.report", initiative_id=initiative.id))
    elif request.method == "POST":
        errors = _form_errors(form)
    return render_template("initiatives/edit.html", form=form, errors=errors, initiative=None), (
        400 if errors else 200
    )


@bp.route("/<int:initiative_id>/edit", methods=["GET", "POST"])
def edit(initiative_id: int) -> ResponseReturnValue:
    _managers_only()
    initiative = _initiative(initiative_id)
    form = InitiativeForm(obj=None if request.method == "POST" else initiative)
    if request.method == "GET":
        form.start.data, form.end.data = str(initiative.start_date), str(initiative.end_date)
        form.indicators.data = initiative.indicator_codes
        form.participants.data = "\n".join(initiative.participant_emails)
        form.benefit_outcome.data = initiative.benefit_outcome or ""
        value = initiative.benefit_value
        form.benefit_value.data = "" if value is None else f"{value:g}"
    errors: list[str] = []
    if form.validate_on_submit():
        session = get_session()
        try:
            ops.update_initiative(session, initiative, actor=current_user.email, **_fields(form))
        except ops.InitiativeError as error:
            session.rollback()
            errors.append(str(error))
        else:
            session.commit()
            flash(_("Saved the initiative."), "success")
            return redirect(url_for("initiatives.report", initiative_id=initiative_id))
    elif request.method == "POST":
        errors = _form_errors(form)
    return render_template(
        "initiatives/edit.html", form=form, errors=errors, initiative=initiative,
        delete_form=ActionForm(),
    ), (400 if errors else 200)  # fmt: skip


@bp.post("/<int:initiative_id>/delete")
def delete(initiative_id: int) -> ResponseReturnValue:
    _managers_only()
    initiative = _initiative(initiative_id)
    if not ActionForm().validate_on_submit():
        deny(400, description=_("The form expired; please try again."))
    name = initiative.name
    session = get_session()
    ops.delete_initiative(session, initiative, actor=current_user.email)
    session.commit()
    flash(_("Deleted the initiative %(name)s.", name=name), "success")
    return redirect(url_for("initiatives.index"))


# -- costs and CSV uploads ------------------------------------------------------------------


def _costs_page(
    initiative: Initiative, form: CostForm, upload: CsvUploadForm, errors: list[str]
) -> ResponseReturnValue:
    return render_template(
        "initiatives/costs.html", initiative=initiative, form=form, upload=upload,
        errors=errors, costs=ops.cost_summary(initiative), action_form=ActionForm(),
        lines=presentation.cost_lines(ops.cost_summary(initiative)),
        kinds=presentation.KIND_LABELS, money=presentation.money, hours=presentation.hours,
    ), (400 if errors else 200)  # fmt: skip


@bp.route("/<int:initiative_id>/costs", methods=["GET", "POST"])
def costs(initiative_id: int) -> ResponseReturnValue:
    _managers_only()
    initiative = _initiative(initiative_id)
    form = CostForm()
    errors: list[str] = []
    if form.validate_on_submit():
        session = get_session()
        line = ops.CostLine(form.kind.data or "", form.description.data, form.amount.data,
                            form.hours.data, form.hourly_cost.data)  # fmt: skip
        try:
            ops.add_cost(session, initiative, line, actor=current_user.email)
        except ops.InitiativeError as error:
            session.rollback()
            errors.append(str(error))
        else:
            session.commit()
            flash(_("Added the cost line."), "success")
            return redirect(url_for("initiatives.costs", initiative_id=initiative_id))
    elif request.method == "POST":
        errors = _form_errors(form)
    return _costs_page(initiative, form, CsvUploadForm(formdata=None), errors)


@bp.post("/<int:initiative_id>/costs/<int:cost_id>/remove")
def remove_cost(initiative_id: int, cost_id: int) -> ResponseReturnValue:
    _managers_only()
    initiative = _initiative(initiative_id)
    if not ActionForm().validate_on_submit():
        deny(400, description=_("The form expired; please try again."))
    session = get_session()
    try:
        ops.remove_cost(session, initiative, cost_id, actor=current_user.email)
    except ops.InitiativeNotFound:
        deny(404)
    session.commit()
    flash(_("Removed the cost line."), "success")
    return redirect(url_for("initiatives.costs", initiative_id=initiative_id))


# CSRF is checked by the form itself, as on Admin › Upload data (the body may be large).
@bp.post("/<int:initiative_id>/upload")
@csrf.exempt
@reads_own_body
def upload(initiative_id: int) -> ResponseReturnValue:
    _managers_only()
    request.max_content_length = int(current_app.config["UPLOAD_MAX_BYTES"])
    initiative = _initiative(initiative_id)
    form = CsvUploadForm()
    if not form.validate_on_submit():
        return _costs_page(initiative, CostForm(formdata=None), form, _form_errors(form))
    session = get_session()
    importer = ops.import_participants if form.what.data == "participants" else ops.import_costs
    try:
        added = importer(session, initiative, form.file.data.stream, actor=current_user.email)
    except ImportFailed as failure:
        session.rollback()
        lines = failure.report().splitlines() + [_("Nothing was imported.")]
        return _costs_page(initiative, CostForm(formdata=None), form, lines)
    session.commit()
    if form.what.data == "participants":
        flash(_("Imported %(count)s new participants from the file.", count=added), "success")
    else:
        flash(_("Imported %(count)s new costs from the file.", count=added), "success")
    return redirect(url_for("initiatives.costs", initiative_id=initiative_id))


# -- case studies -----------------------------------------------------------------------------


@bp.route("/<int:initiative_id>/case-studies/new", methods=["GET", "POST"])
def new_case_study(initiative_id: int) -> ResponseReturnValue:
    initiative = _initiative(initiative_id)
    viewer = _viewer()
    form = CaseStudyForm()
    people = initiative.participant_emails if viewer.manages else [current_user.email]
    form.participant.choices = [(email, email) for email in people]
    errors: list[str] = []
    if form.validate_on_submit():
        session = get_session()
        try:
            ops.record_case_study(
                session, initiative, actor=current_user.email,
                participant_email=form.participant.data or "", title=form.title.data or "",
                happened_on=form.happened_on.data or "", kind=form.kind.data or "",
                amount=form.amount.data, hours=form.hours.data,
                hourly_rate=form.hourly_rate.data, account_id=form.account.data,
                description=form.description.data, viewer=viewer,
            )  # fmt: skip
        except ops.InitiativeError as error:
            session.rollback()
            errors.append(str(error))
        else:
            session.commit()
            flash(_("Recorded the case study; it counts once enablement approves it."), "success")
            return redirect(url_for("initiatives.report", initiative_id=initiative_id))
    elif request.method == "POST":
        errors = _form_errors(form)
    return render_template(
        "initiatives/case_study.html", initiative=initiative, form=form, errors=errors
    ), (400 if errors else 200)


@bp.post("/<int:initiative_id>/case-studies/<int:study_id>/review")
def review_case_study(initiative_id: int, study_id: int) -> ResponseReturnValue:
    _managers_only()
    initiative = _initiative(initiative_id)
    decision = request.form.get("decision")
    if not ActionForm().validate_on_submit() or decision not in ("approve", "reject"):
        deny(400, description=_("The form expired; please try again."))
    session = get_session()
    try:
        study = ops.get_case_study(session, initiative, study_id)
    except ops.InitiativeNotFound:
        deny(404)
    ops.review_case_study(session, study, actor=current_user.email, approve=decision == "approve")
    session.commit()
    if study.status == "approved":
        flash(_("Case study %(title)s: approved.", title=study.title), "success")
    else:
        flash(_("Case study %(title)s: rejected.", title=study.title), "success")
    return redirect(url_for("initiatives.report", initiative_id=initiative_id) + "#case-studies")


# -- the report -----------------------------------------------------------------------------------


def _report(initiative: Initiative) -> tuple[ReportOptionsForm, dict[str, Any] | None, list[str]]:
    """The report for the signed-in viewer, with the windows and the measured-benefit
    choice of the query string (the same defaults as ``cpi initiative report``)."""
    form = ReportOptionsForm(request.args)
    chosen = "before" in request.args or "after" in request.args
    include_measured = bool(form.measured.data) if chosen else None
    if not chosen:
        form.measured.data = initiative.benefit_outcome is not None
    counts = {}
    for field in ("before", "after"):
        try:
            counts[field] = int(request.args.get(field, "2"))
        except ValueError:
            return form, None, [f"{field}: must be a number of quarters from 1 to 8"]
    before, after = counts["before"], counts["after"]
    form.before.data, form.after.data = str(before), str(after)
    viewer = _viewer()
    try:
        report = build_report(
            get_session(), initiative, viewer=viewer, min_n=_min_n(), before=before,
            after=after, include_measured=include_measured,
        )  # fmt: skip
    except ops.InitiativeError as error:
        return form, None, [str(error)]
    if not viewer.sees_everything:
        report = presentation.participant_edition(report, current_user.email)
    return form, report, []


def _report_context(initiative: Initiative, report: dict[str, Any]) -> dict[str, Any]:
    return {
        "initiative": initiative,
        "report": report,
        "charts": presentation.trend_charts(report),
        "roi_lines": presentation.roi_lines(report) if "costs" in report else [],
        "cost_lines": presentation.cost_lines(report["costs"]) if "costs" in report else [],
        "p": presentation,
    }


@bp.get("/<int:initiative_id>")
def report(initiative_id: int) -> ResponseReturnValue:
    initiative = _initiative(initiative_id)
    form, built, errors = _report(initiative)
    context = _report_context(initiative, built) if built else {"initiative": initiative}
    return render_template(
        "initiatives/report.html", form=form, errors=errors, manages=_viewer().manages,
        action_form=ActionForm(), query=request.query_string.decode()[:200], **context,
    ), (400 if errors else 200)  # fmt: skip


@bp.get("/<int:initiative_id>/report.json")
def report_json(initiative_id: int) -> ResponseReturnValue:
    initiative = _initiative(initiative_id)
    _form, built, errors = _report(initiative)
    if built is None:
        return Response(json.dumps({"error": errors[0]}), 400, mimetype="application/json")
    audit_export("export.initiative.json", str(initiative_id))
    return Response(
        json.dumps(built, indent=2),
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="initiative-{initiative_id}.json"'},
    )


@bp.get("/<int:initiative_id>/report.pdf")
def report_pdf(initiative_id: int) -> ResponseReturnValue:
    initiative = _initiative(initiative_id)
    _form, built, errors = _report(initiative)
    if built is None:
        deny(400, description=errors[0])
    html = render_template(
        "initiatives/pdf.html", page_size=page_size(), asset=asset_url,
        logo_url=LOGO_URL if logo_path() else asset_url("img/logo.svg"),
        company_name=current_app.config.get("COMPANY_NAME", "CPI Tracker"),
        **_report_context(initiative, built),
    )  # fmt: skip
    try:
        pdf = render_pdf(html, current_app.static_folder or "", logo_path())
    except PdfError as error:
        current_app.logger.error("PDF of initiative %s failed: %s", initiative_id, error)
        deny(503, description=_("The PDF could not be produced right now. Please try again."))
    audit_export("export.initiative.pdf", str(initiative_id))
    return send_file(
        BytesIO(pdf), mimetype="application/pdf", as_attachment=True,
        download_name=f"initiative-{initiative_id}.pdf", max_age=0,
    )  # fmt: skip


# -- coaching focus and the driver view ------------------------------------------------------------


@bp.get("/coaching")
def coaching() -> ResponseReturnValue:
    from cpi.initiatives.coaching import coaching_focus

    focus = coaching_focus(get_session(), viewer=_viewer(), min_n=_min_n())
    return render_template(
        "initiatives/coaching.html", focus=focus, manages=_viewer().manages, p=presentation
    )


@bp.get("/drivers")
def drivers() -> ResponseReturnValue:
    viewer = _viewer()
    view = driver_view(
        get_session(), min_n=_min_n(), owner=None if viewer.sees_everything else viewer.email
    )
    return render_template("initiatives/drivers.html", view=view, p=presentation)
