"""Follow-ups: raised when an answer meets an alert rule, worked by staff.

Each function takes a session, flushes, never commits. ``answer_recorded`` is the one
call the survey submit makes (cpi/surveys/responses.py), in the submit's transaction:
a follow-up and its email (through the outbox) are written with the answer or not at all.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.orm import Session

from cpi.accounts.models import Account, Contact
from cpi.audit.operations import record
from cpi.auth.models import User
from cpi.followups import rules as alert_rules
from cpi.followups.models import AlertPreference, AlertRule, AlertState, FollowUp
from cpi.i18n.errors import LocalisedError
from cpi.mail.compose import InvalidAddress, build_message, parse_sender
from cpi.mail.outbox import queue_message
from cpi.rules.business_days import add_business_days
from cpi.scoring.catalogue import ANSWER_FIELDS
from cpi.timeutil import utcnow

STATUSES = ("open", "contacted", "resolved")
# Forward only: a resolved follow-up stays resolved (a new worrying answer raises a new one).
NEXT_STATUSES = {"open": ("contacted", "resolved"), "contacted": ("resolved",), "resolved": ()}
DEFAULT_DUE_DAYS = 2
NOTE_MAX = 2000


class FollowUpError(LocalisedError):
    """A change that cannot be made; the message is for the person who asked, in their
    language (:class:`cpi.i18n.errors.LocalisedError`)."""

    field_labels = {"Status": _l("Status"), "Note": _l("Note"), "Assignee": _l("Assignee")}


# A follow-up's status in the words of an error message.
STATUS_WORDS: dict[str, Any] = {
    "open": _l("open"),
    "contacted": _l("contacted"),
    "resolved": _l("resolved"),
    "": _l("blank"),
}


# --- rules -------------------------------------------------------------------------


def load_rules(session: Session) -> dict[str, alert_rules.Rule]:
    rows = session.scalars(select(AlertRule))
    return alert_rules.effective_rules(
        alert_rules.Rule(
            row.indicator,
            row.enabled,
            None if row.threshold is None else int(row.threshold),
        )
        for row in rows
    )


def save_rules(
    session: Session, wanted: Mapping[str, tuple[bool, Any]], *, actor: str
) -> list[str]:
    """Store the rules (indicator -> (enabled, threshold)); all or nothing.
    Returns what changed, for the audit log and the page."""
    current = load_rules(session)
    checked: dict[str, alert_rules.Rule] = {}
    for code in alert_rules.RULE_ORDER:
        enabled, threshold = wanted[code]
        value = None if code == "fcr" else alert_rules.checked_threshold(code, threshold)
        checked[code] = alert_rules.Rule(code, bool(enabled), value)
    changes = [
        f"{code}: {current[code].describe()}{'' if current[code].enabled else ' (off)'} -> "
        f"{rule.describe()}{'' if rule.enabled else ' (off)'}"
        for code, rule in checked.items()
        if rule != current[code]
    ]
    now = utcnow()
    for code, rule in checked.items():
        if rule == current[code]:
            continue
        row = session.get(AlertRule, code) or AlertRule(indicator=code)
        row.enabled = rule.enabled
        row.threshold = rule.threshold
        row.updated_by = actor
        row.updated_at = now
        session.add(row)
    if changes:
        record(session, actor, "alerts.rules", "; ".join(changes))
        current_app.extensions.get("cpi_alert_rules", {}).clear()
    session.flush()
    return changes


# --- raising follow-ups ----------------------------------------------------------------


def answer_recorded(
    session: Session,
    *,
    account_id: int,
    contact_id: int,
    period: str,
    answers: Mapping[str, Any],
    comment: str | None,
    name_consent: bool,
    now: datetime | None = None,
) -> FollowUp | None:
    """Raise a follow-up when these answers newly meet an alert rule (once per answer:
    sending the same answers again raises nothing; an answer changed to meet a rule it did
    not meet before does). An open follow-up of this respondent keeps their latest answers."""
    now = now or utcnow()
    matched = alert_rules.matched(answers, cached_rules(session))
    key = {"account_id": account_id, "contact_id": contact_id, "period": period}
    # Core on the session's connection: every submit runs it (the ORM's execute costs more)
    previous = session.connection().execute(_STATE_QUERY, key).scalar()
    if previous is None and not matched:
        return None  # the usual submit: one indexed read
    before = alert_rules.split(previous)
    now_matched = alert_rules.joined(matched)
    if previous is None:
        # The primary key serialises two identical first submits: the loser's insert
        # fails, the submit is retried and then finds this row (no second alert).
        session.add(AlertState(**key, matched=now_matched))
        session.flush()
    elif previous != now_matched:
        session.execute(_STATE_UPDATE, {**_b(key), "b_matched": now_matched})
    snapshot = _answers_json(answers)
    if previous is not None:  # a follow-up may be open: it shows the latest answers
        session.execute(
            _SNAPSHOT_UPDATE, {**_b(key), "b_answers": snapshot, "b_comment": comment or None}
        )
    new = matched - before
    if not new:
        return None
    return _raise(session, key, new, snapshot, comment, name_consent, now)


# Built once: every survey submit runs the first (see cpi/surveys/responses.py).
_STATE_QUERY = select(AlertState.matched).where(
    AlertState.account_id == bindparam("account_id"),
    AlertState.contact_id == bindparam("contact_id"),
    AlertState.period == bindparam("period"),
)
_STATE_UPDATE = (
    update(AlertState)
    .where(
        AlertState.account_id == bindparam("b_account_id"),
        AlertState.contact_id == bindparam("b_contact_id"),
        AlertState.period == bindparam("b_period"),
    )
    .values(matched=bindparam("b_matched"))
    .execution_options(synchronize_session=False)
)
_SNAPSHOT_UPDATE = (
    update(FollowUp)
    .where(
        FollowUp.account_id == bindparam("b_account_id"),
        FollowUp.contact_id == bindparam("b_contact_id"),
        FollowUp.period == bindparam("b_period"),
        FollowUp.status != "resolved",
    )
    .values(answers=bindparam("b_answers"), comment=bindparam("b_comment"))
    .execution_options(synchronize_session=False)
)


def _b(key: dict[str, Any]) -> dict[str, Any]:
    """Bound names of an UPDATE may not be column names."""
    return {f"b_{name}": value for name, value in key.items()}


RULES_CACHE_SECONDS = 60.0


def cached_rules(session: Session) -> dict[str, alert_rules.Rule]:
    """The rules, kept a minute per process (a submit reads them; they change rarely).
    Saving them clears this process's copy; other processes follow within the minute.
    Outside an app (a script or test writing answers), read them each time."""
    if not has_app_context():
        return load_rules(session)
    cache = current_app.extensions.setdefault("cpi_alert_rules", {})
    hit = cache.get("rules")
    if hit is not None and hit[0] > time.monotonic():
        return hit[1]  # type: ignore[no-any-return]
    rules = load_rules(session)
    cache["rules"] = (time.monotonic() + RULES_CACHE_SECONDS, rules)
    return rules


def _answers_json(answers: Mapping[str, Any]) -> str:
    return json.dumps({name: answers.get(name) for name in ANSWER_FIELDS}, sort_keys=True)


def _raise(
    session: Session,
    key: dict[str, Any],
    reasons: set[str],
    snapshot: str,
    comment: str | None,
    name_consent: bool,
    now: datetime,
) -> FollowUp:
    account = session.get(Account, key["account_id"])
    contact = session.get(Contact, key["contact_id"])
    assert account is not None
    hidden = contact is None or contact.erased_at is not None or contact.opted_out_at is not None
    owner = _active_user(session, account.owner_email)
    followup = FollowUp(
        **key,
        reasons=alert_rules.joined(reasons),
        answers=snapshot,
        comment=comment or None,
        anonymous=hidden or not name_consent,
        status="open",
        owner_email=account.owner_email,
        created_at=now,
        due_at=add_business_days(now, due_days()),
        # Alerts go to staff only: the owner when they have a staff login, else nobody
        # (enablement and admins see every follow-up in the inbox).
        notify_email=owner.email if owner else None,
    )
    session.add(followup)
    session.flush()
    if owner is not None and not wants_digest(session, owner.id):
        _queue_alert(session, followup, account, owner)
        followup.notified_at = now
    session.flush()
    return followup


def due_days() -> int:
    return int(current_app.config.get("FOLLOWUP_DUE_DAYS", DEFAULT_DUE_DAYS))


def _active_user(session: Session, email: str | None) -> User | None:
    if not email:
        return None
    return session.scalar(select(User).where(User.email == email.lower(), User.active.is_(True)))


def wants_digest(session: Session, user_id: int) -> bool:
    preference = session.get(AlertPreference, user_id)
    return bool(preference and preference.digest)


def set_digest(session: Session, user: User, digest: bool) -> None:
    preference = session.get(AlertPreference, user.id) or AlertPreference(user_id=user.id)
    preference.digest = digest
    session.add(preference)
    record(session, user.email, "alerts.preference", "daily digest" if digest else "each alert")
    session.flush()


def followup_url(followup_id: int) -> str:
    return f"{str(current_app.config['BASE_URL']).rstrip('/')}/followups/{followup_id}"


def _queue_alert(session: Session, followup: FollowUp, account: Account, owner: User) -> None:
    """One email to the staff owner: the account, what was answered, the due date and the
    link. Never the customer's name or address (the inbox shows what may be shown)."""
    items = [_mail_item(followup, account)]
    subject = f"Follow-up needed: {account.name} ({', '.join(items[0]['reasons'])})"
    _queue_staff_email(session, owner, subject, items, digest=False)


def _mail_item(followup: FollowUp, account: Account) -> dict[str, Any]:
    answers = json.loads(followup.answers or "{}")
    return {
        "account": account.name,
        "period": followup.period,
        "reasons": [
            describe_answer(code, answers)
            for code in alert_rules.ordered(alert_rules.split(followup.reasons))
        ],
        "due_at": followup.due_at,
        "url": followup_url(followup.id),
    }


def describe_answer(code: str, answers: Mapping[str, Any]) -> str:
    if code == "fcr":
        return "FCR: no"
    return f"{alert_rules.SHORT_NAMES[code]}: {answers.get(code)}"


def _queue_staff_email(
    session: Session, user: User, subject: str, items: list[dict[str, Any]], *, digest: bool
) -> bool:
    config = current_app.config
    sender_name, sender = parse_sender(str(config["MAIL_FROM"]))
    context = {"items": items, "digest": digest, "user": user,
               "inbox_url": f"{str(config['BASE_URL']).rstrip('/')}/followups/"}  # fmt: skip
    try:
        message = build_message(
            sender=sender,
            sender_name=sender_name or str(config.get("COMPANY_NAME") or "CPI Tracker"),
            to_addr=user.email,
            to_name=user.name,
            subject=subject,
            # Straight from the Jinja environment: page context processors (a sign-out
            # form's CSRF token in the customer's session...) do not apply to mail.
            text=current_app.jinja_env.get_template("mail/followup.txt").render(context),
            html=current_app.jinja_env.get_template("mail/followup.html").render(context),
        )
    except InvalidAddress:
        current_app.logger.warning("follow-up alert not sent: unusable staff address")
        return False
    queue_message(session, kind="followup", message=message)
    return True


# --- the daily digest --------------------------------------------------------------------


@dataclass(frozen=True)
class DigestReport:
    emails: int
    followups: int


def has_pending(session: Session) -> bool:
    """Is any staff user still to be told of a follow-up?"""
    query = select(FollowUp.id).where(
        FollowUp.notified_at.is_(None), FollowUp.notify_email.is_not(None)
    )
    return session.scalar(query.limit(1)) is not None


def send_digests(session: Session, now: datetime | None = None) -> DigestReport:
    """Queue one email per staff user with follow-ups not yet told: at once for who
    wants each alert, once a day for who chose the digest (flushed, not committed)."""
    now = now or utcnow()
    today = now.date()
    pending = list(
        session.execute(
            select(FollowUp, Account)
            .join(Account, Account.id == FollowUp.account_id)
            .where(FollowUp.notified_at.is_(None), FollowUp.notify_email.is_not(None))
            .order_by(FollowUp.notify_email, FollowUp.id)
        )
    )
    by_user: dict[str, list[tuple[FollowUp, Account]]] = {}
    for followup, account in pending:
        by_user.setdefault(followup.notify_email or "", []).append((followup, account))
    emails = told = 0
    for email, rows in by_user.items():
        user = _active_user(session, email)
        if user is None:
            continue
        preference = session.get(AlertPreference, user.id)
        if preference and preference.digest and preference.last_digest_on == today:
            continue  # today's digest went out; these wait for tomorrow's
        open_rows = [(f, a) for f, a in rows if f.status != "resolved"]
        if open_rows:
            items = [_mail_item(f, a) for f, a in open_rows]
            subject = f"Follow-ups: {len(items)} new customer answer(s) to act on"
            if _queue_staff_email(session, user, subject, items, digest=True):
                emails += 1
                told += len(items)
        for followup, _account in rows:
            followup.notified_at = now
        if preference and preference.digest:
            preference.last_digest_on = today
    session.flush()
    return DigestReport(emails=emails, followups=told)


# --- seeing and working follow-ups ------------------------------------------------------


def visible_query(user: Any) -> Any:
    """Follow-ups the user may see: all for admins and enablement, their accounts' for
    account managers (by the account's current owner)."""
    query = select(FollowUp, Account).join(Account, Account.id == FollowUp.account_id)
    if not user.sees_everything:
        query = query.where(Account.owner_email == user.email)
    return query


def inbox(
    session: Session, user: Any, *, status: str = "active", mine: bool = False, limit: int = 200
) -> list[tuple[FollowUp, Account]]:
    query = visible_query(user)
    if status == "active":
        query = query.where(FollowUp.status != "resolved")
    elif status in STATUSES:
        query = query.where(FollowUp.status == status)
    if mine:
        query = query.where(
            or_(
                FollowUp.assignee_email == user.email,
                (FollowUp.assignee_email.is_(None)) & (Account.owner_email == user.email),
            )
        )
    query = query.order_by(FollowUp.status == "resolved", FollowUp.due_at, FollowUp.id).limit(limit)
    return [(row[0], row[1]) for row in session.execute(query)]


def get_visible(session: Session, user: Any, followup_id: int) -> tuple[FollowUp, Account] | None:
    row = session.execute(visible_query(user).where(FollowUp.id == followup_id)).first()
    return None if row is None else (row[0], row[1])


def respondent_name(session: Session, followup: FollowUp) -> str | None:
    """The customer's name, only with their consent and while they are neither erased nor
    opted out (checked now: an erasure after the alert hides it too)."""
    if followup.anonymous or followup.contact_id is None:
        return None
    contact = session.get(Contact, followup.contact_id)
    if contact is None or contact.erased_at is not None or contact.opted_out_at is not None:
        return None
    return contact.name or None


def assignable_users(session: Session, account: Account) -> list[User]:
    """Admins, the enablement lead and the account's owner: nobody else may see it."""
    return list(
        session.scalars(
            select(User)
            .where(
                User.active.is_(True),
                or_(
                    User.role.in_(("admin", "enablement")),
                    User.email == (account.owner_email or ""),
                ),
            )
            .order_by(User.email)
        )
    )


def change_status(
    session: Session,
    followup: FollowUp,
    new_status: str,
    note: str | None,
    *,
    actor: str,
    now: datetime | None = None,
) -> None:
    now = now or utcnow()
    note = (note or "").strip()
    if new_status not in NEXT_STATUSES.get(followup.status, ()):
        raise FollowUpError(
            "Status",
            _l("a follow-up that is %(current)s cannot become %(new)s.",
               current=STATUS_WORDS.get(followup.status, followup.status),
               new=STATUS_WORDS.get(new_status or "", new_status)),
        )  # fmt: skip
    if len(note) > NOTE_MAX:
        raise FollowUpError("Note", _l("at most %(limit)s characters.", limit=NOTE_MAX))
    if new_status == "resolved" and not note:
        raise FollowUpError("Note", _l("say how it was resolved."))
    if new_status == "contacted" or (new_status == "resolved" and followup.contacted_at is None):
        followup.contacted_at = now
    if new_status == "resolved":
        followup.resolved_at = now
        followup.resolved_by = actor
        followup.resolution_note = note
    followup.status = new_status
    record(session, actor, f"followup.{new_status}", f"{followup.id}")
    session.flush()


def assign(
    session: Session, followup: FollowUp, account: Account, email: str, *, actor: str
) -> None:
    email = (email or "").strip().lower()
    if email and email not in {u.email for u in assignable_users(session, account)}:
        raise FollowUpError("Assignee", _l("choose a staff member who may see this account."))
    followup.assignee_email = email or None
    record(session, actor, "followup.assign", f"{followup.id} -> {email or 'nobody'}")
    session.flush()


def erase_comments(session: Session, contact_ids: list[int]) -> int:
    """``cpi contact forget``: the copies of their comments go, and never their name again."""
    if not contact_ids:
        return 0
    return (
        session.execute(
            update(FollowUp)
            .where(FollowUp.contact_id.in_(contact_ids))
            .values(comment=None, anonymous=True)
            .execution_options(synchronize_session=False)
        ).rowcount
        or 0
    )  # type: ignore[attr-defined]
