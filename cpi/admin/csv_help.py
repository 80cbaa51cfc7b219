"""What each column of each CSV import kind means, with an example value: the upload
page's column help and the downloadable templates. The columns themselves come from
``cpi.imports.rows.COLUMNS`` (one definition); this adds words for people."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l

from cpi.imports.rows import COLUMNS
from cpi.scoring import CATALOGUE

# Words for people, translated when shown (lazy): the upload page in the user's language.
KIND_LABELS: dict[str, Any] = {
    "contacts": _l("Contacts"),
    "kpis": _l("KPIs"),
    "responses": _l("Responses"),
    "targets": _l("Targets"),
    "outcomes": _l("Outcomes"),
}
KIND_HELP: dict[str, Any] = {
    "contacts": _l(
        "Accounts and the people to survey. Import these first: the other kinds "
        "refer to their account ids."
    ),
    "kpis": _l(
        "The internal KPIs to compare with what customers say: per account, per segment, "
        "or company-wide (leave account_id and segment blank)."
    ),
    "responses": _l("Survey answers collected elsewhere: one row per person, account and quarter."),
    "targets": _l("Targets per indicator and period, company-wide or per segment."),
    "outcomes": _l(
        "Business outcomes per account and quarter (renewal, churn, revenue …): "
        "compared before and after enablement initiatives, and beside the CPIs."
    ),
}
INDICATOR_CODES = ", ".join(f"{i.code} ({i.name})" for i in CATALOGUE)

# column -> (meaning, example); the same column means the same in every kind
# unless KIND_COLUMN_HELP says otherwise.
COLUMN_HELP: dict[str, tuple[str, str]] = {
    "account_id": ("Your id of the customer account (at most 64 characters).", "ACC-001"),
    "account_name": ("The account's name as staff know it.", "Example Ltd"),
    "segment": ("The account's segment (market, region …).", "Retail"),
    "contact_email": ("The person's email address.", "jane.doe@example.com"),
    "owner_email": (
        "The account manager's email; they see this account (must match their sign-in).",
        "manager@example.com",
    ),
    "contact_name": ("The person's name (shown with a comment only if they agree).", "Jane Doe"),
    "locale": ("The survey language: en, fr, de, hu or ru (blank: English).", "en"),
    "indicator": (f"The indicator's code: {INDICATOR_CODES}.", "fcr"),
    "period": ("A quarter like 2026-Q3 (KPIs and targets also take a year like 2026).", "2026-Q3"),
    "value": (
        "The figure, in the indicator's unit (percent as 0–100). Or give numerator and "
        "denominator instead.",
        "",
    ),
    "numerator": ("With denominator: the value is numerator ÷ denominator (× 100 for %).", "912"),
    "denominator": ("With numerator: must be greater than 0.", "1000"),
    "submitted_at": ("When the answer was given: ISO date or date-time, UTC.", "2026-08-14"),
    "fcr": ("Was the issue resolved at first contact: yes, no or na (not applicable).", "yes"),
    "contacts_total": ("How many times they contacted you in the quarter (0 or more).", "4"),
    "contacts_value_added": (
        "How many of those contacts added value (at most contacts_total).",
        "3",
    ),
    "quote_turnaround_days": ("Business days from request to quote.", "2"),
    "csat": ("Satisfaction, 1 (very dissatisfied) to 5 (very satisfied).", "4"),
    "nps": ("Likelihood to recommend, 0 to 10.", "9"),
    "ces": ("Effort, 1 (very hard) to 7 (very easy).", "6"),
    "comment": ("Free text, at most 5,000 characters.", "Quick and friendly help."),
    "target": ("The target, in the indicator's unit.", "80"),
    "renewed": ("Did the account renew in the quarter: yes or no (blank: not known).", "yes"),
    "churned": ("Did the account leave in the quarter: yes or no.", "no"),
    "revenue": ("The account's revenue in the quarter (0 or more).", "125000"),
    "expansion_revenue": ("Revenue from upsell and cross-sell in the quarter.", "15000"),
    "referrals": ("How many referrals the account gave in the quarter (whole number).", "1"),
    "cost_to_serve": ("What serving the account cost in the quarter.", "8000"),
    "tolerance": (
        "How far from the target still counts as near it (blank: 10% of the target).",
        "5",
    ),
}
KIND_COLUMN_HELP: dict[tuple[str, str], tuple[str, str]] = {
    ("kpis", "account_id"): ("The account the KPI is about (blank: segment or company).", ""),
    ("kpis", "segment"): ("The segment the KPI is about (blank: company-wide).", ""),
    ("kpis", "period"): COLUMN_HELP["period"],
    ("targets", "segment"): ("The segment the target is for (blank: company-wide).", ""),
    ("outcomes", "period"): ("A quarter like 2026-Q3 that has started.", "2026-Q3"),
}


@dataclass(frozen=True)
class ColumnHelp:
    name: str
    required: bool
    meaning: str
    example: str


def columns(kind: str) -> list[ColumnHelp]:
    spec = COLUMNS[kind]
    found = []
    for name in (*spec.required, *spec.optional):
        meaning, example = KIND_COLUMN_HELP.get((kind, name), COLUMN_HELP[name])
        found.append(ColumnHelp(name, name in spec.required, meaning, example))
    return found


def template_csv(kind: str) -> str:
    """A CSV with the kind's header and one example row (replace it with yours)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    help_rows = columns(kind)
    writer.writerow([c.name for c in help_rows])
    writer.writerow([c.example for c in help_rows])
    return buffer.getvalue()


def size_text(limit: int) -> str:
    """A byte limit as people read it: 20971520 -> "20 MB" (1 MB = 1,048,576 bytes)."""
    mebibytes = limit / 2**20
    if mebibytes >= 1:
        return f"{mebibytes:.0f} MB" if mebibytes == round(mebibytes) else f"{mebibytes:.1f} MB"
    return f"{limit / 1024:.0f} kB"
