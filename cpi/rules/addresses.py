"""The one check of an email address, for users, contacts (imports) and mail headers.

Syntax only, with email-validator: no DNS lookup (``check_deliverability=False``),
no quoted local parts, no IP-literal domains, ASCII local parts only (SMTPUTF8 is not
assumed of the relay). An internationalised domain is stored in its ASCII (IDNA) form
so that it can go into a header. ``.test`` domains are accepted (the demo and the
tests use them); other special-use names (``.local``, ``.invalid``...) are refused,
except that our own sender may be a one-label host such as ``surveys@localhost``.
"""

from __future__ import annotations

import re

from email_validator import EmailNotValidError, validate_email

MAX_EMAIL_LENGTH = 254
_HOST_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


class InvalidEmail(ValueError):
    """Not an email address; the message quotes the value."""


def normalise_email(email: str) -> str:
    """How an address is compared and stored: trimmed, lower case."""
    return email.strip().lower()


def check_email(value: str, *, local_host: bool = False) -> str:
    """The address, normalised, or :class:`InvalidEmail` ("'x' is not an email address").

    ``local_host`` also accepts a one-label domain (``surveys@localhost``): only for
    the sender address, which is the operator's setting, never a customer's.
    """
    address = normalise_email(value)
    local, _, domain = address.rpartition("@")
    checked = address
    if local_host and _HOST_LABEL.match(domain):
        checked = f"{local}@{domain}.test"  # the same local-part rules, any host name
    try:
        result = validate_email(
            checked,
            check_deliverability=False,
            allow_smtputf8=False,
            allow_quoted_local=False,
            allow_domain_literal=False,
            test_environment=True,
        )
    except EmailNotValidError:
        raise InvalidEmail(f"{address[:80]!r} is not an email address") from None
    if len(address) > MAX_EMAIL_LENGTH or "." not in domain and not local_host:
        raise InvalidEmail(f"{address[:80]!r} is not an email address")
    return address if checked != address else result.ascii_email.lower()
