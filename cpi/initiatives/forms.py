"""The initiative pages' forms. Fields are plain text where the operations check the
value (dates, money, emails), so that bad input gets the operations' one message naming
the field, the same as on the command line."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.validators import Length

from cpi.initiatives.models import CASE_STUDY_KINDS, COST_KINDS, KINDS
from cpi.initiatives.presentation import KIND_LABELS, OUTCOME_LABELS
from cpi.scoring import CATALOGUE


class CheckboxesField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()

    def pre_validate(self, form: object) -> None:
        """Unknown codes are left to the operations (their message names the field)."""


def _date(label: str) -> StringField:
    return StringField(label, render_kw={"type": "date"})


def _money(label: str) -> StringField:
    return StringField(label, render_kw={"inputmode": "decimal", "autocomplete": "off"})


class InitiativeForm(FlaskForm):
    name = StringField("Name", validators=[Length(max=300)])
    kind = SelectField("Kind", choices=[SelectChoice(k, k.capitalize()) for k in KINDS])
    description = TextAreaField("Description", validators=[Length(max=6000)])
    start = _date("Start date")
    end = _date("End date")
    indicators = CheckboxesField(
        "Target indicators", choices=[SelectChoice(i.code, i.name) for i in CATALOGUE]
    )
    participants = TextAreaField(
        "Participants (account managers' emails, one a line or comma-separated)",
        validators=[Length(max=20000)],
    )
    benefit_outcome = SelectField(
        "Measured benefit: outcome (blank: none)",
        choices=[SelectChoice("", "None")]
        + [SelectChoice(k, v) for k, v in OUTCOME_LABELS.items()],
    )
    benefit_value = _money("Measured benefit: money per unit (e.g. revenue per retained account)")


class NewInitiativeForm(InitiativeForm):
    fees = _money("Fees")
    materials = _money("Materials")
    hours = _money("Participants' hours, in total")
    hourly_cost = _money("Cost of one hour of their time")


class CostForm(FlaskForm):
    kind = SelectField("Kind", choices=[SelectChoice(k, KIND_LABELS[k]) for k in COST_KINDS])
    description = StringField("Description", validators=[Length(max=300)])
    amount = _money("Amount (fees, materials, other)")
    hours = _money("Hours (participants' time)")
    hourly_cost = _money("Hourly cost (participants' time)")


class CsvUploadForm(FlaskForm):
    what = SelectField(
        "What the file holds",
        choices=[
            SelectChoice("participants", "Participants (column email)"),
            SelectChoice("costs", "Costs (columns kind, description, amount, hours, hourly_cost)"),
        ],
    )
    file = FileField("CSV file", validators=[FileRequired("file: choose a CSV file to upload")])


class CaseStudyForm(FlaskForm):
    participant = SelectField("Participant", choices=[])
    title = StringField("Title", validators=[Length(max=300)])
    description = TextAreaField("What happened", validators=[Length(max=6000)])
    happened_on = _date("Date")
    account = StringField("Account id (optional)", validators=[Length(max=100)])
    kind = SelectField(
        "Kind of return", choices=[SelectChoice(k, KIND_LABELS[k]) for k in CASE_STUDY_KINDS]
    )
    amount = _money("Amount (not for hours avoided)")
    hours = _money("Hours avoided")
    hourly_rate = _money("Hourly rate")


class ReportOptionsForm(FlaskForm):
    """The report's windows and whether to count the measured benefit (a GET form)."""

    class Meta:
        csrf = False

    before = SelectField("Quarters before the start", choices=[str(n) for n in range(1, 9)])
    after = SelectField("Quarters after the end", choices=[str(n) for n in range(1, 9)])
    measured = BooleanField("Count the measured benefit")
