"""Errors for people in their language, with one text: the message is a msgid
(``lazy_gettext`` with named ``%(x)s`` params) and the field a code with a translated
label, so ``str(error)`` renders in the active locale when shown.

A page shows the user's language; the command line, which has no request, prints the
English msgid itself: the same words it always printed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from flask_babel import gettext


def field_message(field: object, reason: object) -> str:
    """``field: reason`` in the active locale (French puts a space before the colon)."""
    return gettext("%(field)s: %(reason)s", field=field, reason=reason)


class LocalisedError(ValueError):
    """Bad input as one line, ``field: reason``; both parts translated when shown."""

    field_labels: ClassVar[Mapping[str, Any]] = {}

    def __init__(self, field: str, reason: Any) -> None:
        super().__init__(field, reason)
        self.field = field
        self._reason = reason

    @property
    def reason(self) -> str:
        return str(self._reason)

    @property
    def field_label(self) -> str:
        label = self.field_labels.get(self.field)
        return self.field if label is None else str(label)

    def __str__(self) -> str:
        return field_message(self.field_label, self.reason)
