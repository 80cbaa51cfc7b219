"""Sending campaigns and reminders: plain functions a command or a worker job calls.

``send_campaign(app, campaign_id)`` queues one invitation per reachable contact in
scope who has none yet, in batches (each batch's invitations and outbox rows in
one transaction, so an interrupted send resumes where it stopped and never
invites anyone twice), then delivers the outbox. ``remind_campaign`` does the
same for reminders; ``deliver(app)`` only delivers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from typing import Any

from flask import Flask, current_app
from flask_babel import force_locale, gettext
from sqlalchemy.exc import IntegrityError

from cpi.accounts.models import Account, Contact
from cpi.db import database
from cpi.i18n import DEFAULT_LOCALE, normalise
from cpi.mail.compose import InvalidAddress, build_message, parse_sender
from cpi.mail.outbox import DeliveryReport, deliver_outbox, queue_message
from cpi.surveys import labels
from cpi.surveys.campaigns import (
    CampaignError,
    close_due_campaigns,
    get_campaign,
    is_taking_answers,
)
from cpi.surveys.invitations import add_invitation, due_reminders, uninvited_contacts
from cpi.surveys.models import Campaign, Invitation
from cpi.surveys.responses import question_info
from cpi.surveys.tokens import derive_known_token, issue_token
from cpi.timeutil import utcnow

BATCH_SIZE = 200


@dataclass
class SendReport:
    queued: int = 0
    skipped: list[str] = field(default_factory=list)
    delivery: DeliveryReport | None = None


def custom_question_texts(campaign: Campaign, locale: str) -> list[str]:
    """The custom questions the survey asks now, in the contact's language (listed in
    the email so the respondent knows; escaped by the HTML template like any text)."""
    survey = campaign.survey
    if survey is None:
        return []
    return [
        question_info(q).text_in(locale)
        for q in survey.questions
        if q.custom and q.retired_at is None
    ]


def compose_survey_email(
    config: Any, *, kind: str, contact: Contact, account: Account, campaign: Campaign, token: str
) -> EmailMessage:
    """The invitation or reminder, in the contact's language, text and HTML."""
    base = str(config["BASE_URL"]).rstrip("/")
    survey_url = f"{base}/s/{token}"
    unsubscribe_url = f"{base}/u/{token}"
    sender_name, sender = parse_sender(str(config["MAIL_FROM"]))
    company = str(config.get("COMPANY_NAME") or "CPI Tracker")
    locale = normalise(contact.locale) or DEFAULT_LOCALE
    with force_locale(locale):
        context = {
            "html_lang": locale,
            "reminder": kind == "reminder",
            "contact_name": contact.name,
            "account_name": account.name,
            "company": company,
            "period": campaign.period,
            "closes_on": campaign.closes_on,
            "survey_url": survey_url,
            "unsubscribe_url": unsubscribe_url,
            "first_question": gettext(
                "Was your most recent request fully resolved at the first contact?"
            ),
            "custom_questions": custom_question_texts(campaign, locale),
            "answer_links": [
                (str(label), f"{survey_url}?fcr={value}") for value, label in labels.FCR_CHOICES
            ],
        }
        if kind == "reminder":
            subject = gettext("Reminder: %(company)s would value your opinion", company=company)
        else:
            subject = gettext("%(company)s: how did we do this quarter?", company=company)
        # Straight from the Jinja environment: page context processors do not apply to mail.
        text = current_app.jinja_env.get_template("mail/survey.txt").render(context)
        html = current_app.jinja_env.get_template("mail/survey.html").render(context)
    return build_message(
        sender=sender,
        sender_name=sender_name or company,
        to_addr=contact.email or "",
        to_name=contact.name,
        subject=subject,
        text=text,
        html=html,
        extra_headers={
            "List-Unsubscribe": f"<{unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )


def _queue_batch(app: Flask, campaign_id: int, after_id: int, report: SendReport) -> int | None:
    """Invite the next batch of contacts; the last contact id seen, or None when done."""
    db = database(app)
    with db.transaction() as session:
        campaign = get_campaign(session, campaign_id)
        contacts = uninvited_contacts(session, campaign, BATCH_SIZE, after_id)
        if not contacts:
            return None
        for contact in contacts:
            issued = issue_token(app.config["SECRET_KEY"])
            try:
                message = compose_survey_email(
                    app.config,
                    kind="invitation",
                    contact=contact,
                    account=contact.account,
                    campaign=campaign,
                    token=issued.token,
                )
            except InvalidAddress as error:
                report.skipped.append(f"contact {contact.id}: {error}")
                continue
            invitation = add_invitation(session, campaign, contact, issued.token_hash, issued.salt)
            queue_message(session, kind="invitation", message=message, invitation_id=invitation.id)
            report.queued += 1
        return contacts[-1].id


def send_campaign(
    app: Flask,
    campaign_id: int,
    *,
    deliver_now: bool = True,
    on_progress: Callable[[int], None] | None = None,
) -> SendReport:
    """Queue the campaign's invitations (idempotent), open it, deliver the outbox."""
    report = SendReport()
    db = database(app)
    with app.app_context():
        with db.transaction() as session:
            close_due_campaigns(session)
            campaign = get_campaign(session, campaign_id)
            if campaign.status == "closed":
                raise CampaignError(f"campaign {campaign_id} is closed")
            if campaign.status == "draft":
                campaign.status = "sending"
        after_id: int | None = 0
        retries = 0
        while after_id is not None:
            before = report.queued
            try:
                after_id = _queue_batch(app, campaign_id, after_id, report)
            except IntegrityError:
                # Another sender invited some of these contacts first: take the batch again.
                report.queued = before
                retries += 1
                if retries > 5:
                    raise
                continue
            if on_progress and after_id is not None:
                on_progress(report.queued - before)
        with db.transaction() as session:
            campaign = get_campaign(session, campaign_id)
            if campaign.status == "sending":
                campaign.status = "open"
        if deliver_now:
            report.delivery = deliver(app)
    return report


def remind_campaign(
    app: Flask,
    campaign_id: int,
    *,
    after_days: int = 5,
    now: datetime | None = None,
    deliver_now: bool = True,
) -> SendReport:
    """Queue a reminder to each invitee who has not answered (at most two each)."""
    report = SendReport()
    now = now or utcnow()
    db = database(app)
    with app.app_context():
        with db.transaction() as session:
            close_due_campaigns(session)
            campaign = get_campaign(session, campaign_id)
            if not is_taking_answers(campaign, now.date()):
                raise CampaignError(f"campaign {campaign_id} is {campaign.status}: no reminders")
            for invitation in due_reminders(session, campaign, after_days, now):
                _queue_reminder(app, session, campaign, invitation, now, report)
        if deliver_now:
            report.delivery = deliver(app)
    return report


def _queue_reminder(
    app: Flask,
    session: Any,
    campaign: Campaign,
    invitation: Invitation,
    now: datetime,
    report: SendReport,
) -> None:
    contact = session.get(Contact, invitation.contact_id)
    if invitation.token_salt is None:
        report.skipped.append(f"invitation {invitation.id}: no link to remind with")
        return
    keys = [app.config["SECRET_KEY"], *app.config.get("SECRET_KEY_FALLBACKS", [])]
    token = derive_known_token(keys, invitation.token_salt, invitation.token_hash)
    if token is None:
        report.skipped.append(
            f"invitation {invitation.id}: its link was made with a secret key no longer "
            "configured (add it to CPI_SECRET_KEY_FALLBACKS)"
        )
        return
    try:
        message = compose_survey_email(
            app.config,
            kind="reminder",
            contact=contact,
            account=contact.account,
            campaign=campaign,
            token=token,
        )
    except InvalidAddress as error:
        report.skipped.append(f"contact {contact.id}: {error}")
        return
    queue_message(session, kind="reminder", message=message, invitation_id=invitation.id)
    invitation.reminders_sent += 1
    invitation.last_reminded_at = now
    report.queued += 1


def deliver(
    app: Flask,
    *,
    now: datetime | None = None,
    requeue_interrupted: bool = False,
    on_progress: Callable[[int], None] | None = None,
) -> DeliveryReport:
    """Deliver what is due in the outbox through ``CPI_MAIL_URL``."""
    _, sender = parse_sender(str(app.config["MAIL_FROM"]))
    return deliver_outbox(
        database(app),
        str(app.config["MAIL_URL"]),
        sender,
        now=now,
        requeue_interrupted=requeue_interrupted,
        timeout=float(app.config.get("MAIL_TIMEOUT", 30)),
        on_progress=on_progress,
    )
