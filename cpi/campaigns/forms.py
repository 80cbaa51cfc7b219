"""Forms of the campaign pages (every POST carries a CSRF token: Flask-WTF)."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from cpi.auth.forms import no_nul
from cpi.campaigns.operations import CampaignRequest

SCOPE_CHOICES = [
    SelectChoice("company", _l("All accounts (company)")),
    SelectChoice("segment", _l("A segment")),
    SelectChoice("owner", _l("An account manager's portfolio")),
    SelectChoice("accounts", _l("Chosen accounts")),
]


class CampaignForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200), no_nul])
    period = StringField(
        _l("Quarter asked about"), validators=[DataRequired(), Length(max=7), no_nul]
    )
    scope = SelectField(_l("Who is asked"), choices=SCOPE_CHOICES, default="company")
    segment = SelectField(_l("Segment"), choices=[], validate_choice=False)
    owner_email = SelectField(_l("Account manager"), choices=[], validate_choice=False)
    account_ids = TextAreaField(
        _l("Account ids (one per line or separated by commas)"),
        validators=[Optional(), Length(max=20_000), no_nul],
    )
    closes_on = DateField(_l("Last day answers are taken"), validators=[InputRequired()])
    remind_after_days = IntegerField(
        _l("Remind non-respondents after (days; again as many days later, at most 2 reminders)"),
        validators=[Optional(), NumberRange(min=1, max=30)],
    )
    survey = SelectField(_l("Survey"), choices=[], validate_choice=False)

    def wanted(self) -> CampaignRequest:
        """What the validated form asks for, as plain values for the operation."""
        assert self.closes_on.data is not None  # InputRequired
        return CampaignRequest(
            name=self.name.data or "",
            period=self.period.data or "",
            scope=self.scope.data or "",
            closes_on=self.closes_on.data,
            segment=self.segment.data or None,
            owner_email=self.owner_email.data or None,
            account_ids=tuple(a for a in re.split(r"[\s,;]+", self.account_ids.data or "") if a),
            remind_after_days=self.remind_after_days.data,
            survey_code=self.survey.data or "cpi-pulse",
        )


class RemindForm(FlaskForm):
    after_days = IntegerField(
        _l("Remind those invited at least this many days ago"),
        default=5,
        validators=[InputRequired(), NumberRange(min=0, max=90)],
    )


class ScheduleForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=190), no_nul])
    segment = SelectField(_l("Segment (all when empty)"), choices=[], validate_choice=False)
    owner_email = SelectField(
        _l("Account manager's portfolio (all when empty)"), choices=[], validate_choice=False
    )
    lead_days = IntegerField(
        _l("Start this many days before the quarter's end"),
        default=21,
        validators=[InputRequired(), NumberRange(min=1, max=80)],
    )
    remind_after_days = IntegerField(
        _l("Remind non-respondents after (days; again as many days later)"),
        default=5,
        validators=[Optional(), NumberRange(min=1, max=30)],
    )
    survey = SelectField(_l("Survey"), choices=[], validate_choice=False)
