"""Helpers for the survey and mail tests: contacts, campaigns and links from real email."""

from __future__ import annotations

import email
import re
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from flask import Flask
from support import csrf_token

CONTACTS = (
    "account_id,account_name,segment,contact_email,contact_name,locale\n"
    "ACME-001,Acme Industrial,Healthcare,ann@acme.test,Ann Smith,fr\n"
    "ACME-001,Acme Industrial,Healthcare,bob@acme.test,Bob Jones,\n"
    "GLOBEX-1,Globex,Healthcare,cara@globex.test,Cara Diaz,de\n"
    "INITECH,Initech,Retail,dan@initech.test,Dan Lee,hu\n"
)
LINK = re.compile(r"https?://[^/\s\"<>]+/s/([A-Za-z0-9_-]+)")


def setup_campaign(runner: Any, write_csv: Any, *extra: str, contacts: str = CONTACTS) -> int:
    result = runner.invoke("import", "contacts", str(write_csv("contacts.csv", contacts)))
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        "campaign", "create", "--name", "Q3 pulse", "--period", "2026-Q3",
        "--segment", "Healthcare", *extra,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return int(result.stdout.strip().splitlines()[0])


def read_eml(path: Path) -> EmailMessage:
    return email.message_from_bytes(path.read_bytes(), policy=policy.default)  # type: ignore[return-value]


def parts(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    return text.get_content(), html.get_content()


def token_of(message: EmailMessage) -> str:
    text, _ = parts(message)
    match = LINK.search(text)
    assert match, text
    return match.group(1)


def outbox_messages(app: Flask) -> list[EmailMessage]:
    folder = Path(app.config["MAIL_URL"].removeprefix("file://"))
    return [read_eml(path) for path in sorted(folder.glob("*.eml"))]


def tokens_by_email(app: Flask) -> dict[str, str]:
    found: dict[str, str] = {}
    for message in outbox_messages(app):
        found.setdefault(message["To"].addresses[0].addr_spec, token_of(message))
    return found


def invite(app: Flask, runner: Any, write_csv: Any) -> dict[str, str]:
    """A campaign created and sent: each invited contact's token by email address."""
    result = runner.invoke("send", str(setup_campaign(runner, write_csv)))
    assert result.exit_code == 0, result.output
    return tokens_by_email(app)


def open_form(client: Any, token: str) -> str:
    response = client.get(f"/s/{token}")
    assert response.status_code == 200, response.status_code
    return csrf_token(response.get_data(as_text=True))


GOOD_ANSWERS = {
    "fcr": "yes",
    "contacts_total": "4",
    "contacts_value_added": "3",
    "quote_turnaround_days": "2.5",
    "csat": "5",
    "nps": "9",
    "ces": "6",
    "comment": "Quick and friendly.",
}


def is_checked(html: str, name: str, value: str) -> bool:
    """Whether the page's radio/checkbox ``name`` with ``value`` is checked."""
    for tag in re.findall(r"<input[^>]*>", html):
        if f'name="{name}"' in tag and f'value="{value}"' in tag:
            return re.search(r"\schecked(\s|>|=)", tag) is not None
    return False
