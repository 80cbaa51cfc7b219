"""The rules of custom survey questions, written once for the admin page, the survey
form, the CLI and the figures.

A custom question is data (a ``questions`` row with ``custom`` set): its field name
must never collide with a built-in answer field, a form attribute or another
question, and its answers are checked by the same parsers as the built-in fields
(``cpi.scoring.catalogue`` for whole numbers, ``cpi.rules.comments`` for text).
"""

from __future__ import annotations

import re
from typing import Literal

from flask_babel import gettext

from cpi.i18n.errors import field_message
from cpi.rules.comments import comment_problem
from cpi.scoring.catalogue import ANSWER_FIELDS, parse_whole_in_range

CustomKind = Literal["yes_no", "options", "scale", "short_text"]
CUSTOM_KINDS: tuple[str, ...] = ("yes_no", "options", "scale", "short_text")
# The two scales an admin may choose: 1-5 and 0-10 (top box: 5, and 9-10).
SCALES: dict[str, tuple[int, int]] = {"1-5": (1, 5), "0-10": (0, 10)}
YES_NO: tuple[str, ...] = ("yes", "no")
SHORT_TEXT_MAX_CHARS = 200
MAX_OPTIONS = 10
OPTION_MAX_CHARS = 200
LABEL_MAX_CHARS = 500

# Names the survey form or its page already use: the built-in fields, the comment and
# consent boxes, the CSRF token, the page's error anchor, and attributes of a WTForms
# form that a field of that name would shadow.
BUILT_IN_NAMES = frozenset(
    {*ANSWER_FIELDS, "comment", "name_consent", "csrf_token", "form", "meta", "data",
     "errors", "validate", "process", "populate_obj", "hidden_tag", "submit",
     "is_submitted", "validate_on_submit", "form_errors", "extra_validators"}
)  # fmt: skip
_NAME = re.compile(r"[a-z][a-z0-9_]{1,39}")


def field_name_problem(name: str, taken: set[str] | frozenset[str] = frozenset()) -> str | None:
    """Why ``name`` cannot be a custom question's field name (``field: reason``, in the
    reader's language), or None when it can."""
    if not _NAME.fullmatch(name):
        reason = gettext(
            "use 2 to 40 lowercase letters, digits or underscores, starting with a letter"
        )
    elif name in BUILT_IN_NAMES or name.startswith("_"):
        reason = gettext(
            "%(name)s is a built-in field of the survey; choose another name", name=repr(name)
        )
    elif name in taken:
        reason = gettext("this survey already has a question named %(name)s", name=repr(name))
    else:
        return None
    return field_message("field", reason)


def top_box(low: int, high: int) -> tuple[int, ...]:
    """The answers counted as "top box": 5 on 1-5, 9 and 10 on 0-10."""
    return (high - 1, high) if high - low >= 10 else (high,)


def parse_custom_answer(
    field: str,
    kind: str,
    value: object,
    *,
    low: int | None = None,
    high: int | None = None,
    options: tuple[str, ...] = (),
) -> str | int | None:
    """A custom answer as stored (None when blank); ValueError naming the field."""
    if value is None or (isinstance(value, str) and value.strip() == ""):
        return None
    if kind == "yes_no":
        text = value.strip().lower() if isinstance(value, str) else None
        if text not in YES_NO:
            raise ValueError(f"{field}: must be yes or no")
        return text
    if kind == "options":
        text = value.strip() if isinstance(value, str) else None
        if text not in options:
            raise ValueError(f"{field}: must be one of {', '.join(options)}")
        return text
    if kind == "scale":
        return parse_whole_in_range(field, value, int(low or 0), int(high or 0))
    if kind == "short_text":
        text = value.strip() if isinstance(value, str) else ""
        if len(text) > SHORT_TEXT_MAX_CHARS:
            raise ValueError(f"{field}: at most {SHORT_TEXT_MAX_CHARS} characters")
        if comment_problem(text) is not None:
            raise ValueError(f"{field}: contains characters that cannot be stored")
        return text
    raise ValueError(f"{field}: unknown question kind {kind!r}")
