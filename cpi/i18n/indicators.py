"""The catalogue indicators' names in the reader's language: one place for every page,
PDF and deck (the catalogue in :mod:`cpi.scoring` keeps its English names, which the
command line and the JSON use).

Lazy (``lazy_gettext``): a label is translated when shown, so a module-level use
(form choices) follows each request's locale, and the command line, which has no
request, prints English.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from cpi.scoring import CATALOGUE

INDICATOR_LABELS: dict[str, Any] = {
    "fcr": _l("First-contact resolution"),
    "value_added_calls": _l("Value-added contacts"),
    "value_added_share": _l("Value-added share of contacts"),
    "quote_turnaround": _l("Quote turnaround"),
    "csat": _l("Customer satisfaction"),
    "nps": _l("Net Promoter Score"),
    "ces": _l("Customer effort score"),
}


def indicator_label(code: str) -> str:
    """``fcr`` -> "First-contact resolution" in the active locale; an unknown code stays."""
    if not isinstance(code, str):  # a template's typo (Jinja's Undefined) must not pass silently
        raise TypeError(f"an indicator code is a string, not {type(code).__name__}")
    label = INDICATOR_LABELS.get(code)
    return code if label is None else str(label)


def indicator_choices() -> list[tuple[str, Any]]:
    """(code, lazy name) pairs in catalogue order, for select and checkbox fields."""
    return [(indicator.code, INDICATOR_LABELS[indicator.code]) for indicator in CATALOGUE]
