"""Cell parsers shared by the four import kinds. Each raises FieldError naming the field."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from flask_babel import lazy_gettext as _l

from cpi.i18n.errors import LocalisedError
from cpi.rules.addresses import InvalidEmail, check_email
from cpi.rules.comments import COMMENT_MAX_CHARS, comment_problem
from cpi.scoring import Period
from cpi.timeutil import utcnow

LOCALE_RE = re.compile(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})?$")
MAX_TEXT = {"account_name": 200, "segment": 100, "contact_name": 200, "account_id": 64}


class FieldError(LocalisedError):
    """A bad cell, ``column: reason``: in the reader's language on the upload page, in
    English on the command line (:class:`cpi.i18n.errors.LocalisedError`)."""


def text(field: str, value: str, *, required: bool = False) -> str | None:
    if not value:
        if required:
            raise FieldError(field, _l("is required"))
        return None
    if any(ch in value for ch in "\r\n\x00"):
        raise FieldError(field, _l("must be on one line"))
    limit = MAX_TEXT.get(field, 200)
    if len(value) > limit:
        raise FieldError(field, _l("is longer than %(limit)s characters", limit=limit))
    return value


def email(field: str, value: str, *, required: bool = False) -> str | None:
    if not value:
        if required:
            raise FieldError(field, _l("is required"))
        return None
    try:
        return check_email(value)
    except InvalidEmail as error:
        raise FieldError(field, str(error)) from None


def locale(field: str, value: str) -> str | None:
    if not value:
        return None
    if not LOCALE_RE.match(value):
        raise FieldError(
            field, _l("%(value)s is not a language code like en, fr or de-AT", value=repr(value))
        )
    return value.replace("_", "-").lower()


def period(field: str, value: str, *, quarter_only: bool = False) -> str:
    if not value:
        raise FieldError(field, _l("is required"))
    try:
        parsed = Period.parse(value)
    except ValueError:
        raise FieldError(
            field, _l("%(value)s is not a period like 2026-Q3 or 2026", value=repr(value))
        ) from None
    if quarter_only and parsed.is_year:
        raise FieldError(field, _l("%(value)s must be a quarter like 2026-Q3", value=repr(value)))
    return str(parsed)


def number(field: str, value: str, *, required: bool = False) -> float | None:
    if not value:
        if required:
            raise FieldError(field, _l("is required"))
        return None
    try:
        result = float(value)
    except ValueError:
        raise FieldError(field, _l("%(value)s is not a number", value=repr(value))) from None
    if result != result or result in (float("inf"), float("-inf")):
        raise FieldError(field, _l("%(value)s is not a number", value=repr(value)))
    return result


def timestamp(field: str, value: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise FieldError(
            field, _l("%(value)s is not an ISO 8601 date and time", value=repr(value))
        ) from None
    if parsed.tzinfo is not None:
        try:
            parsed = parsed.astimezone(UTC).replace(tzinfo=None)
        except OverflowError:  # e.g. 0001-01-01T00:00:00+01:00 is before year 1 in UTC
            raise FieldError(
                field, _l("%(value)s is out of the range of dates", value=repr(value))
            ) from None
    return parsed


def comment(field: str, value: str) -> str | None:
    if not value:
        return None
    problem = comment_problem(value)
    if problem == "too_long":
        raise FieldError(
            field, _l("is longer than %(limit)s characters", limit=f"{COMMENT_MAX_CHARS:,}")
        )
    if problem == "characters":
        raise FieldError(field, _l("contains characters we cannot store (control characters)"))
    return value


# Money figures above this are typos (a trillion in one account and quarter).
MAX_AMOUNT = 1e12


def yes_no(field: str, value: str) -> bool | None:
    if not value:
        return None
    answer = value.strip().lower()
    if answer not in ("yes", "no"):
        raise FieldError(field, _l("%(value)s must be yes or no", value=repr(value[:40])))
    return answer == "yes"


def amount(field: str, value: str) -> float | None:
    """A sum of money: a number from 0 (blank: not known)."""
    result = number(field, value)
    if result is not None and result < 0:
        raise FieldError(field, _l("must not be negative"))
    if result is not None and result > MAX_AMOUNT:
        raise FieldError(field, _l("is implausibly large"))
    return result


def count(field: str, value: str) -> int | None:
    """A whole number from 0 (blank: not known)."""
    result = number(field, value)
    if result is None:
        return None
    if result != int(result) or result < 0 or result > 1_000_000:
        raise FieldError(field, _l("%(value)s must be a whole number from 0", value=repr(value)))
    return int(result)


def future_quarter_problem(period: str) -> str | None:
    """Outcomes are facts: a quarter that has not started yet cannot have any."""
    today = utcnow().date()
    current = f"{today.year:04d}-Q{(today.month - 1) // 3 + 1}"
    if period > current:
        return f"{period!r} has not started yet"
    return None
