"""Texts of the default survey that come from data, marked here for translation.

Question labels are stored in English in the ``questions`` table (seeded by the
first migration); pages and email look them up in the catalogue, so a label not
listed here (a custom survey's) is shown as stored.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

QUESTION_LABELS = (
    _l("Was your most recent request fully resolved at the first contact?"),
    _l("How many contacts did you have with us this quarter?"),
    _l("How many of those contacts brought you something of value?"),
    _l("How many business days passed from your request to a final quote?"),
    _l("Overall, how satisfied are you with our service?"),
    _l("How likely are you to recommend us to a colleague?"),
    _l("How easy was it to work with us?"),
    _l("Anything you would like to tell us?"),
    _l("You may show my name with my comment."),
)

FCR_CHOICES = (
    ("yes", _l("Yes")),
    ("no", _l("No")),
    ("na", _l("Not applicable")),
)

# the answers of a custom yes/no question (cpi/rules/custom_questions.py: YES_NO)
YES_NO_CHOICES = (
    ("yes", _l("Yes")),
    ("no", _l("No")),
)

# field -> (meaning of the lowest value, meaning of the highest)
SCALE_ANCHORS = {
    "csat": (_l("Very dissatisfied"), _l("Very satisfied")),
    "nps": (_l("Not at all likely"), _l("Extremely likely")),
    "ces": (_l("Very hard"), _l("Very easy")),
}

HINTS = {
    "contacts_total": _l("Calls, emails, meetings: a whole number."),
    "contacts_value_added": _l("No more than the number above."),
    "quote_turnaround_days": _l(
        "Business days; decimals are fine. Leave empty if you did not request a quote."
    ),
    "comment": _l("Optional, up to 5,000 characters."),
}
