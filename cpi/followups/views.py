"""Follow-up pages for staff: the inbox, one follow-up (status, note, assignee), the
alert rules (admins and the enablement lead) and the closed-loop figures (CSV too).
Account managers see only their accounts' follow-ups; anything else answers 404."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import SelectChoice

from cpi.auth import access
from cpi.db import get_session
from cpi.followups import figures as loop
from cpi.followups import operations as ops
from cpi.followups import rules as alert_rules
from cpi.followups.forms import AssignForm, PreferenceForm, RulesForm, StatusForm
from cpi.followups.models import FollowUp
from cpi.timeutil import utcnow

bp = Blueprint("followups", __name__, url_prefix="/followups")
access.require_staff(bp)
FILTERS = {"active": _l("Open and contacted"), "open": _l("Open"), "contacted": _l("Contacted"),
           "resolved": _l("Resolved"), "all": _l("All")}  # fmt: skip
# What the pages call a status and an alert rule, in the user's language.
STATUS_NAMES = {"open": _l("Open"), "contacted": _l("Contacted"), "resolved": _l("Resolved")}
RULE_NAMES = {
    "fcr": _l("First-contact resolution answered “no”"),
    "nps": _l("Likelihood to recommend (0–10) at or below"),
    "csat": _l("Overall satisfaction (1–5) at or below"),
    "ces": _l("Ease of working with us (1–7) at or below"),
}


def _followup_or_404(followup_id: int) -> tuple[FollowUp, Any]:
    found = ops.get_visible(get_session(), current_user, followup_id)
    if found is None:
        access.deny(404)
    return found


@bp.get("/")
def inbox() -> ResponseReturnValue:
    status = request.args.get("status", "active")
    status = status if status in FILTERS else "active"
    mine = request.args.get("mine") == "1"
    session = get_session()
    form = PreferenceForm(formdata=None)
    form.digest.data = "digest" if ops.wants_digest(session, current_user.id) else "each"
    return render_template(
        "followups/inbox.html",
        rows=ops.inbox(session, current_user, status=status, mine=mine),
        status=status, mine=mine, filters=FILTERS, now=utcnow(), form=form,
        reasons=_reason_names, labels=STATUS_NAMES,
    )  # fmt: skip


@bp.post("/preference")
def preference() -> ResponseReturnValue:
    form = PreferenceForm()
    if not form.validate_on_submit():
        flash(_("Alert emails: choose one of the options."), "error")
        return redirect(url_for("followups.inbox"))
    session = get_session()
    ops.set_digest(session, current_user, form.digest.data == "digest")
    session.commit()
    if form.digest.data == "digest":
        flash(_("Saved: one daily digest."), "success")
    else:
        flash(_("Saved: an email for each alert."), "success")
    return redirect(url_for("followups.inbox"))


def _reason_names(text: str) -> list[str]:
    return [alert_rules.SHORT_NAMES[c] for c in alert_rules.ordered(alert_rules.split(text))]


def _detail_page(followup: FollowUp, account: Any, errors: list[str], status: int) -> Any:
    session = get_session()
    status_form = StatusForm(formdata=None) if not errors else StatusForm()
    status_form.status.choices = [
        SelectChoice(s, STATUS_NAMES[s]) for s in ops.NEXT_STATUSES[followup.status]
    ]
    assign_form = AssignForm(formdata=None)
    assign_form.assignee.choices = [SelectChoice("", _("Nobody (the account manager)"))] + [
        SelectChoice(u.email, f"{u.name} ({u.email})" if u.name else u.email)
        for u in ops.assignable_users(session, account)
    ]
    assign_form.assignee.data = followup.assignee_email or ""
    answers = json.loads(followup.answers or "{}")
    return render_template(
        "followups/show.html",
        followup=followup, account=account, answers=answers,
        name=ops.respondent_name(session, followup), reasons=_reason_names(followup.reasons),
        status_form=status_form, assign_form=assign_form, errors=errors,
        overdue=_overdue(followup, utcnow()), labels=STATUS_NAMES,
    ), status  # fmt: skip


def _overdue(followup: FollowUp, now: datetime) -> bool:
    return followup.status != "resolved" and followup.due_at < now


@bp.get("/<int:followup_id>")
def show(followup_id: int) -> ResponseReturnValue:
    followup, account = _followup_or_404(followup_id)
    return _detail_page(followup, account, [], 200)


@bp.post("/<int:followup_id>/status")
def change_status(followup_id: int) -> ResponseReturnValue:
    followup, account = _followup_or_404(followup_id)
    form = StatusForm()
    form.status.choices = [SelectChoice(s, STATUS_NAMES[s]) for s in ops.STATUSES]
    session = get_session()
    try:
        if not form.validate_on_submit():
            raise ops.FollowUpError(
                "; ".join(f"{form[n].label.text}: {m[0]}" for n, m in form.errors.items())
            )
        ops.change_status(
            session, followup, form.status.data or "", form.note.data, actor=current_user.email
        )
    except ops.FollowUpError as error:
        session.rollback()
        followup, account = _followup_or_404(followup_id)
        return _detail_page(followup, account, [str(error)], 400)
    session.commit()
    if followup.status == "resolved":
        flash(_("Follow-up marked resolved."), "success")
    else:
        flash(_("Follow-up marked contacted."), "success")
    return redirect(url_for("followups.show", followup_id=followup_id))


@bp.post("/<int:followup_id>/assign")
def assign(followup_id: int) -> ResponseReturnValue:
    followup, account = _followup_or_404(followup_id)
    form = AssignForm()
    session = get_session()
    form.assignee.choices = [SelectChoice("", "")] + [
        SelectChoice(u.email, u.email) for u in ops.assignable_users(session, account)
    ]
    try:
        if not form.validate_on_submit():
            raise ops.FollowUpError(_("Assignee: choose a staff member who may see this account."))
        ops.assign(session, followup, account, form.assignee.data or "", actor=current_user.email)
    except ops.FollowUpError as error:
        session.rollback()
        followup, account = _followup_or_404(followup_id)
        return _detail_page(followup, account, [str(error)], 400)
    session.commit()
    flash(_("Assignee saved."), "success")
    return redirect(url_for("followups.show", followup_id=followup_id))


@bp.route("/rules", methods=["GET", "POST"])
def rules() -> ResponseReturnValue:
    if not current_user.sees_everything:
        access.deny(
            403, description=_("Only administrators and sales enablement can change alert rules.")
        )
    session = get_session()
    current = ops.load_rules(session)
    form = RulesForm()
    errors: list[str] = []
    if request.method == "GET":
        for code, rule in current.items():
            form[f"{code}_enabled"].data = rule.enabled
            if code != "fcr":
                form[f"{code}_threshold"].data = str(rule.threshold)
    elif form.validate_on_submit():
        wanted = {code: (form[f"{code}_enabled"].data,
                         None if code == "fcr" else form[f"{code}_threshold"].data)
                  for code in alert_rules.RULE_ORDER}  # fmt: skip
        try:
            changes = ops.save_rules(session, wanted, actor=current_user.email)
        except alert_rules.RuleError as error:
            session.rollback()
            errors.append(str(error))
        else:
            session.commit()
            flash(_("Alert rules saved.") if changes else _("Nothing changed."), "success")
            return redirect(url_for("followups.rules"))
    else:
        errors += [f"{form[n].label.text}: {m[0]}" for n, m in form.errors.items()]
    status = 400 if errors else 200
    return render_template("followups/rules.html", form=form, errors=errors,
                           names=RULE_NAMES), status  # fmt: skip


@bp.app_context_processor
def closed_loop_helper() -> dict[str, Any]:
    """``closed_loop(scope_type, scope_id, period)`` for the dashboard and account pages."""

    def closed_loop(scope_type: str, scope_id: str | None, period: Any) -> Any:
        if period is None or not current_user.is_authenticated:
            return None
        scope: dict[str, str | None] = {"owner_email": None, "segment": None, "account_id": None}
        key = {"owner": "owner_email", "segment": "segment", "account": "account_id"}.get(
            scope_type
        )
        if key:
            scope[key] = scope_id
        if not current_user.sees_everything:
            scope["owner_email"] = current_user.email
        total, rows = loop.scope_figures(get_session(), period=str(period), **scope)
        return {"total": total, "rows": rows, "period": str(period),
                "csv_args": {k.split("_")[0]: v for k, v in scope.items() if v}}  # fmt: skip

    return {"closed_loop": closed_loop}
