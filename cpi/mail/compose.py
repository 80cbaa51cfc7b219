"""Build an email as RFC 5322 text that cannot carry injected headers.

Every header goes through ``email.message.EmailMessage`` with the SMTP policy:
display names with quotes, angle brackets or non-ASCII letters are quoted or
encoded (RFC 2047), and CR/LF never reaches a header because names and subjects
are cleaned first and addresses are checked strictly.
"""

from __future__ import annotations

import re
from datetime import UTC
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, make_msgid

from cpi.rules.addresses import InvalidEmail, check_email
from cpi.timeutil import utcnow

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]+")


_UNFOLDED = policy.SMTP.clone(max_line_length=998)


class InvalidAddress(ValueError):
    """An email address that cannot be used safely in a header."""


def clean_text(value: str | None) -> str:
    """One line of header text: control characters (CR, LF, NUL...) become spaces."""
    return " ".join(_CONTROL.sub(" ", value or "").split())


def checked_address(value: str | None, *, local_host: bool = False) -> str:
    """A plain ASCII addr-spec (the one email rule, cpi.rules.addresses); anything odder
    is refused rather than risk a malformed header."""
    addr = (value or "").strip()
    try:
        return check_email(addr, local_host=local_host)
    except InvalidEmail:
        raise InvalidAddress(f"not a usable email address: {addr[:80]!r}") from None


def parse_sender(value: str) -> tuple[str, str]:
    """``"Name <addr>"`` or ``addr`` (CPI_MAIL_FROM) as (display name, address)."""
    pairs = getaddresses([value])
    name, addr = pairs[0] if pairs else ("", value)
    return clean_text(name), checked_address(addr, local_host=True)


def build_message(
    *,
    sender: str,
    sender_name: str,
    to_addr: str,
    to_name: str | None,
    subject: str,
    text: str,
    html: str,
    extra_headers: dict[str, str] | None = None,
) -> EmailMessage:
    """A multipart/alternative message (text first, HTML second)."""
    domain = sender.rpartition("@")[2]
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = Address(display_name=clean_text(sender_name), addr_spec=sender)
    message["To"] = Address(display_name=clean_text(to_name), addr_spec=checked_address(to_addr))
    message["Subject"] = clean_text(subject)
    message["Date"] = format_datetime(utcnow().replace(tzinfo=UTC))
    message["Message-ID"] = make_msgid(domain=domain)
    for name, value in (extra_headers or {}).items():
        message[name] = clean_text(value)
    message.set_content(text, subtype="plain", charset="utf-8")
    message.add_alternative(html, subtype="html", charset="utf-8")
    return message


def as_text(message: EmailMessage) -> str:
    """The message as stored in the outbox: ASCII, CRLF line ends (headers are encoded).

    Headers are not folded below 998 characters, so that a long ``List-Unsubscribe``
    address stays on one line (some receivers mishandle folded URLs); bodies were
    already encoded in 78-character lines when they were set.
    """
    return message.as_bytes(policy=_UNFOLDED).decode("ascii")
