"""The initiative pages' forms. Fields are plain text where the operations check the
value (dates, money, emails), so that bad input gets the operations' one message naming
the field, the same as on the command line."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
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

from cpi.i18n.indicators import indicator_choices
from cpi.initiatives.models import CASE_STUDY_KINDS, COST_KINDS, KINDS
from cpi.initiatives.presentation import INITIATIVE_KIND_LABELS, KIND_LABELS, OUTCOME_LABELS


class CheckboxesField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()

    def pre_validate(self, form: object) -> None:
        """Unknown codes are left to the operations (their message names the field)."""


def _date(label: Any) -> StringField:
    return StringField(label, render_kw={"type": "date"})


def _money(label: Any) -> StringField:
    return StringField(label, render_kw={"inputmode": "decimal", "autocomplete": "off"})


class InitiativeForm(FlaskForm):
    name = StringField(_l("Name"), validators=[Length(max=300)])
    kind = SelectField(
        _l("Kind"), choices=[SelectChoice(k, INITIATIVE_KIND_LABELS[k]) for k in KINDS]
    )
    description = TextAreaField(_l("Description"), validators=[Length(max=6000)])
    start = _date(_l("Start date"))
    end = _date(_l("End date"))
    indicators = CheckboxesField(
        _l("Target indicators"),
        choices=[SelectChoice(code, name) for code, name in indicator_choices()],
    )
    participants = TextAreaField(
        _l("Participants (account managers' emails, one a line or comma-separated)"),
        validators=[Length(max=20000)],
    )
    benefit_outcome = SelectField(
        _l("Measured benefit: outcome (blank: none)"),
        choices=[SelectChoice("", _l("None"))]
        + [SelectChoice(k, v) for k, v in OUTCOME_LABELS.items()],
    )
    benefit_value = _money(
        _l("Measured benefit: money per unit (e.g. revenue per retained account)")
    )


class NewInitiativeForm(InitiativeForm):
    fees = _money(_l("Fees"))
    materials = _money(_l("Materials"))
    hours = _money(_l("Participants' hours, in total"))
    hourly_cost = _money(_l("Cost of one hour of their time"))


class CostForm(FlaskForm):
    kind = SelectField(_l("Kind"), choices=[SelectChoice(k, KIND_LABELS[k]) for k in COST_KINDS])
    description = StringField(_l("Description"), validators=[Length(max=300)])
    amount = _money(_l("Amount (fees, materials, other)"))
    hours = _money(_l("Hours (participants' time)"))
    hourly_cost = _money(_l("Hourly cost (participants' time)"))


class CsvUploadForm(FlaskForm):
    what = SelectField(
        _l("What the file holds"),
        choices=[
            SelectChoice("participants", _l("Participants (column email)")),
            SelectChoice(
                "costs", _l("Costs (columns kind, description, amount, hours, hourly_cost)")
            ),
        ],
    )
    file = FileField(
        _l("CSV file"), validators=[FileRequired(_l("file: choose a CSV file to upload"))]
    )


class CaseStudyForm(FlaskForm):
    participant = SelectField(_l("Participant"), choices=[])
    title = StringField(_l("Title"), validators=[Length(max=300)])
    description = TextAreaField(_l("What happened"), validators=[Length(max=6000)])
    happened_on = _date(_l("Date"))
    account = StringField(_l("Account id (optional)"), validators=[Length(max=100)])
    kind = SelectField(
        _l("Kind of return"), choices=[SelectChoice(k, KIND_LABELS[k]) for k in CASE_STUDY_KINDS]
    )
    amount = _money(_l("Amount (not for hours avoided)"))
    hours = _money(_l("Hours avoided"))
    hourly_rate = _money(_l("Hourly rate"))


class ReportOptionsForm(FlaskForm):
    """The report's windows and whether to count the measured benefit (a GET form)."""

    class Meta:
        csrf = False

    before = SelectField(_l("Quarters before the start"), choices=[str(n) for n in range(1, 9)])
    after = SelectField(_l("Quarters after the end"), choices=[str(n) for n in range(1, 9)])
    measured = BooleanField(_l("Count the measured benefit"))
