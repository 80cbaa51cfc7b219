"""The invitation email as each contact would get it, in every language, before sending."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cpi.accounts.models import Account, Contact
from cpi.i18n import SUPPORTED_LOCALES
from cpi.surveys.invitations import uninvited_contacts
from cpi.surveys.models import Campaign, Invitation
from cpi.surveys.sending import compose_survey_email

LANGUAGE_NAMES = {"en": "English", "fr": "Français", "de": "Deutsch", "hu": "Magyar",
                  "ru": "Русский"}  # fmt: skip
PREVIEW_TOKEN = "preview-link-not-valid"  # noqa: S105 - a placeholder, not a secret


@dataclass(frozen=True)
class EmailPreview:
    locale: str
    language: str
    subject: str
    text: str


def _example_account(session: Session, campaign: Campaign) -> Account:
    contacts = uninvited_contacts(session, campaign, 1)
    if contacts:
        return contacts[0].account
    account = session.scalar(
        select(Account)
        .join(Contact, Contact.account_id == Account.id)
        .join(Invitation, Invitation.contact_id == Contact.id)
        .where(Invitation.campaign_id == campaign.id)
        .limit(1)
    )
    return account or Account(account_id="EXAMPLE", name="Example account", segment="-")


def preview_emails(config: Any, session: Session, campaign: Campaign) -> list[EmailPreview]:
    """The invitation in each language, for an example contact at an account in scope
    (composed by the very function that sends it; the link in it is not a real one)."""
    account = _example_account(session, campaign)
    previews = []
    for locale in SUPPORTED_LOCALES:
        contact = Contact(name="Alex Example", email="alex@example.test", locale=locale)
        message = compose_survey_email(
            config, kind="invitation", contact=contact, account=account, campaign=campaign,
            token=PREVIEW_TOKEN,
        )  # fmt: skip
        body = message.get_body(("plain",))
        text = body.get_content() if body is not None else ""  # type: ignore[attr-defined]
        previews.append(
            EmailPreview(locale, LANGUAGE_NAMES.get(locale, locale), str(message["Subject"]), text)
        )
    return previews
