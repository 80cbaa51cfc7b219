"""Campaign pages for staff. Admins and the enablement lead create, preview, send,
remind and close campaigns and manage recurring schedules; account managers follow the
live campaigns of their own accounts (who was invited, who answered: never what)."""

from __future__ import annotations

import re

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import Session
from wtforms import SelectChoice

from cpi.audit.operations import audit_export, record
from cpi.auth import access
from cpi.auth.forms import ActionForm
from cpi.campaigns import operations as ops
from cpi.campaigns.charts import rate_chart
from cpi.campaigns.forms import CampaignForm, RemindForm, ScheduleForm
from cpi.campaigns.preview import preview_emails
from cpi.db import database, get_session
from cpi.exports.operations import csv_lines
from cpi.jobs.extra import QueueUnavailable, RedisExtraMissing
from cpi.jobs.status import job_state, start_task
from cpi.jobs.tasks import TaskError
from cpi.rules.campaign_periods import askable_periods, quarter_end, quarter_of
from cpi.surveys import schedules
from cpi.surveys.campaigns import (
    CampaignError,
    any_due_campaigns,
    close_campaign,
    close_due_campaigns,
    is_taking_answers,
)
from cpi.surveys.invitations import count_uninvited
from cpi.surveys.models import Campaign
from cpi.timeutil import utcnow

bp = Blueprint("campaigns", __name__, url_prefix="/campaigns")
access.require_staff(bp)
JOB_ID = re.compile(r"^[A-Za-z0-9-]{1,64}$")


@bp.app_context_processor
def _account_panel() -> dict[str, object]:
    """The account page's "Campaigns" panel (issue 14 item 3) asks this feature, by name,
    who was invited and who answered: the scorecards feature never imports campaigns."""

    def open_campaigns_at(account_id: str) -> list[tuple[Campaign, list[ops.Invitee]]]:
        return ops.account_campaigns(get_session(), account_id)

    return {"open_campaigns_at": open_campaigns_at}


def _senders_only() -> None:
    """Creating, sending and scheduling: admins and the enablement lead (403 otherwise)."""
    if not current_user.sees_everything:
        access.deny(403, description="Only administrators and sales enablement can do this.")


def _portfolio() -> str | None:
    """None for who sees everything; an account manager's email limits every figure."""
    return None if current_user.sees_everything else current_user.email


def _campaign_or_404(campaign_id: int) -> Campaign:
    session = get_session()
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        access.deny(404)
    owner = _portfolio()
    if owner is not None and campaign not in ops.campaigns_for(session, owner):
        access.deny(404)  # not one of theirs: as if it did not exist
    return campaign


def _close_due(session: Session) -> None:
    """Close the campaigns past their closing day before a page shows them.

    A page is a GET, read in a deferred transaction; SQLite cannot turn that into a
    write once another connection (the worker, a submit) has committed since it began:
    it fails at once with "database is locked" instead of waiting. So the closing runs
    in a write transaction of its own, and only when a campaign is due; the read
    session then starts a fresh snapshot that sees it.
    """
    if any_due_campaigns(session):
        with database().transaction() as writer:
            close_due_campaigns(writer)
        session.commit()


@bp.get("/")
def index() -> ResponseReturnValue:
    session = get_session()
    _close_due(session)
    owner = _portfolio()
    campaigns = ops.campaigns_for(session, owner)
    stats = {c.id: ops.stats_for(session, c.id, owner) for c in campaigns}
    return render_template("campaigns/index.html", campaigns=campaigns, stats=stats)


def _fill_choices(form: CampaignForm | ScheduleForm, *, optional: bool) -> None:
    found = ops.choices(get_session())
    empty = [SelectChoice("", "—")] if optional else []
    form.segment.choices = empty + [SelectChoice(s, s) for s in found["segments"]]
    form.owner_email.choices = empty + [SelectChoice(o, o) for o in found["owners"]]
    form.survey.choices = [SelectChoice(s, s) for s in found["surveys"]]


@bp.route("/new", methods=["GET", "POST"])
def new() -> ResponseReturnValue:
    _senders_only()
    today = utcnow().date()
    form = CampaignForm()
    _fill_choices(form, optional=False)
    if request.method == "GET":
        current = quarter_of(today)
        form.period.data = str(current)
        form.closes_on.data = quarter_end(current)
        form.survey.data = "cpi-pulse"
    errors: list[str] = []
    if form.validate_on_submit():
        session = get_session()
        try:
            campaign = ops.create_from_app(session, form.wanted(), today)
        except CampaignError as error:
            session.rollback()
            errors.append(str(error))
        else:
            record(session, current_user.email, "campaign.create",
                   f"{campaign.id} {campaign.name} {campaign.period}")  # fmt: skip
            session.commit()
            flash(_("Campaign created as a draft: check the email, then send it."), "success")
            return redirect(url_for("campaigns.show", campaign_id=campaign.id))
    else:
        errors += [f"{form[name].label.text}: {m}" for name, ms in form.errors.items() for m in ms]
    status = 400 if request.method == "POST" else 200
    previous, current = askable_periods(today)
    return render_template("campaigns/new.html", form=form, errors=errors,
                           periods=(previous, current)), status  # fmt: skip


@bp.get("/<int:campaign_id>")
def show(campaign_id: int) -> ResponseReturnValue:
    session = get_session()
    _close_due(session)
    campaign = _campaign_or_404(campaign_id)
    owner = _portfolio()
    stats = ops.stats_for(session, campaign_id, owner)
    sent = ops.first_sent(session, campaign_id)
    end = min(utcnow().date(), campaign.closes_on or utcnow().date())
    job_id = request.args.get("job", "")
    return render_template(
        "campaigns/show.html",
        campaign=campaign,
        scope=ops.scope_text(session, campaign),
        stats=stats,
        owner=owner,
        breakdowns=[
            (title, ops.rates_by(session, campaign_id, by, owner))
            for by, title in (
                ("segment", "Segment"),
                ("owner", "Account manager"),
                ("account", "Account"),
            )
        ],  # fmt: skip
        chart=rate_chart(
            ops.answers_over_time(session, campaign_id, owner),
            stats.invited,
            sent.date() if sent else None,
            end,
            campaign.closes_on,
        ),
        not_answered=ops.invitees(session, campaign_id, owner, unanswered_only=True, limit=500),
        invitees=ops.invitees(session, campaign_id, owner) if owner else [],
        to_invite=count_uninvited(session, campaign) if owner is None else 0,
        taking_answers=is_taking_answers(campaign),
        job_id=job_id if JOB_ID.match(job_id) else "",
        action_form=ActionForm(),
        remind_form=RemindForm(after_days=campaign.remind_after_days or 5),
    )


@bp.get("/<int:campaign_id>/preview")
def preview(campaign_id: int) -> ResponseReturnValue:
    _senders_only()
    campaign = _campaign_or_404(campaign_id)
    emails = preview_emails(current_app.config, get_session(), campaign)
    return render_template("campaigns/preview.html", campaign=campaign, emails=emails)


def _run(name: str, campaign_id: int, action: str, **kwargs: object) -> ResponseReturnValue:
    """Start a surveys task (the one ``cpi send``/``cpi remind`` run) for this campaign."""
    session = get_session()
    record(session, current_user.email, action, str(campaign_id))
    session.commit()
    try:
        started = start_task(name, campaign_id=campaign_id, **kwargs)
    except TaskError as error:
        flash(ops.app_message(error), "error")
        return redirect(url_for("campaigns.show", campaign_id=campaign_id))
    except (QueueUnavailable, RedisExtraMissing) as error:
        flash(error.format_message(), "error")
        return redirect(url_for("campaigns.show", campaign_id=campaign_id))
    if started.job_id is None:
        flash(started.message.splitlines()[0] + ".", "success")
        return redirect(url_for("campaigns.show", campaign_id=campaign_id))
    return redirect(url_for("campaigns.show", campaign_id=campaign_id, job=started.job_id))


@bp.post("/<int:campaign_id>/send")
def send(campaign_id: int) -> ResponseReturnValue:
    _senders_only()
    campaign = _campaign_or_404(campaign_id)
    if not ActionForm().validate_on_submit():
        access.deny(400)
    if campaign.status == "closed":
        flash(_("This campaign is closed: nobody was invited."), "error")
        return redirect(url_for("campaigns.show", campaign_id=campaign_id))
    return _run("send_campaign", campaign_id, "campaign.send")


@bp.post("/<int:campaign_id>/remind")
def remind(campaign_id: int) -> ResponseReturnValue:
    _senders_only()
    _campaign_or_404(campaign_id)
    form = RemindForm()
    if not form.validate_on_submit():
        flash(_("after days: give a number of days from 0 to 90."), "error")
        return redirect(url_for("campaigns.show", campaign_id=campaign_id))
    return _run("remind_campaign", campaign_id, "campaign.remind", after_days=form.after_days.data)


@bp.post("/<int:campaign_id>/close")
def close(campaign_id: int) -> ResponseReturnValue:
    _senders_only()
    _campaign_or_404(campaign_id)
    if not ActionForm().validate_on_submit():
        access.deny(400)
    session = get_session()
    close_campaign(session, campaign_id)
    record(session, current_user.email, "campaign.close", str(campaign_id))
    session.commit()
    flash(_("Campaign closed: its links no longer take answers."), "success")
    return redirect(url_for("campaigns.show", campaign_id=campaign_id))


@bp.get("/<int:campaign_id>/not-answered.csv")
def not_answered_csv(campaign_id: int) -> ResponseReturnValue:
    campaign = _campaign_or_404(campaign_id)
    items = ops.invitees(get_session(), campaign_id, _portfolio(), unanswered_only=True)
    audit_export("export.not_answered", f"campaign {campaign.id}: {len(items)} contacts")
    return Response(
        "".join(csv_lines(ops.not_answered_rows(items), ops.NOT_ANSWERED_HEADER)),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="campaign-{campaign.id}-not-answered.csv"'
        },
    )


@bp.get("/jobs/<job_id>")
def job(job_id: str) -> ResponseReturnValue:
    """A running send's progress, for the campaign page's script."""
    _senders_only()
    if not JOB_ID.match(job_id):
        access.deny(404)
    return jsonify(job_state(job_id).as_dict())


@bp.route("/schedules", methods=["GET", "POST"])
def schedule_list() -> ResponseReturnValue:
    _senders_only()
    session = get_session()
    form = ScheduleForm()
    _fill_choices(form, optional=True)
    errors: list[str] = []
    if request.method == "GET":
        form.survey.data = "cpi-pulse"
    elif form.validate_on_submit():
        try:
            schedule = schedules.create_schedule(
                session,
                name=form.name.data or "",
                lead_days=int(form.lead_days.data or 0),
                segment=form.segment.data or None,
                owner_email=form.owner_email.data or None,
                remind_after_days=form.remind_after_days.data,
                survey_code=form.survey.data or "cpi-pulse",
                created_by=current_user.email,
            )
        except schedules.ScheduleError as error:
            session.rollback()
            errors.append(str(error))
        else:
            record(session, current_user.email, "schedule.create", f"{schedule.id} {schedule.name}")
            session.commit()
            flash(_("Schedule saved: the worker starts its campaigns by itself."), "success")
            return redirect(url_for("campaigns.schedule_list"))
    else:
        errors += [f"{form[name].label.text}: {m}" for name, ms in form.errors.items() for m in ms]
    today = utcnow().date()
    items = schedules.list_schedules(session)
    return render_template(
        "campaigns/schedules.html",
        form=form,
        errors=errors,
        schedules=items,
        next_start={s.id: schedules.next_start(s, today) for s in items},
        made=schedules.campaigns_by_schedule(session),
        action_form=ActionForm(),
    ), (400 if errors else 200)


@bp.post("/schedules/<int:schedule_id>/<any(pause, resume):action>")
def pause_schedule(schedule_id: int, action: str) -> ResponseReturnValue:
    _senders_only()
    if not ActionForm().validate_on_submit():
        access.deny(400)
    session = get_session()
    try:
        schedule = schedules.get_schedule(session, schedule_id)
    except schedules.ScheduleError:
        access.deny(404)
    schedule.paused = action == "pause"
    record(session, current_user.email, f"schedule.{action}", str(schedule_id))
    session.commit()
    flash(_("Schedule paused.") if schedule.paused else _("Schedule resumed."), "success")
    return redirect(url_for("campaigns.schedule_list"))
