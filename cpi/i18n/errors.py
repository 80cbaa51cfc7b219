"""Errors for people in their language, with one text: the reason is a msgid
(``lazy_gettext`` with named ``%(x)s`` params) and the field a code with a translated
label, so ``str(error)`` renders in the active locale when shown.

A page shows the user's language and the field's label; the command line, which has no
request, prints the English msgid and the field as given (an option such as
``--period``): the same words it always printed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from flask import has_request_context
from flask_babel import gettext


def field_message(field: object, reason: object) -> str:
    """``field: reason`` in the active locale (French puts a space before the colon)."""
    return str(gettext("%(field)s: %(reason)s", field=field, reason=reason))


class LocalisedError(ValueError):
    """Bad input as one line, ``field: reason`` (or a ``reason`` alone when ``field`` is
    empty); both parts translated when shown."""

    field_labels: ClassVar[Mapping[str, Any]] = {}

    def __init__(self, field: str, reason: Any = None) -> None:
        if reason is None:  # a message that names no field
            field, reason = "", field
        super().__init__(field, reason)
        self.field = field
        self._reason = reason

    @property
    def reason(self) -> str:
        return str(self._reason)

    @property
    def field_label(self) -> str:
        """The field as the reader knows it: its label on a page, as given on the command line."""
        label = self.field_labels.get(self.field)
        if label is None or not has_request_context():
            return self.field
        return str(label)

    def __str__(self) -> str:
        if not self.field:
            return self.reason
        return field_message(self.field_label, self.reason)
