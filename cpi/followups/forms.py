from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from cpi.auth.forms import no_nul


class StatusForm(FlaskForm):
    status = SelectField("New status", choices=[])
    note = TextAreaField(
        "Note (how it was resolved)", validators=[Optional(), Length(max=2000), no_nul]
    )


class AssignForm(FlaskForm):
    assignee = SelectField("Assigned to", choices=[])


DIGEST_CHOICES = {"each": "An email for each alert", "digest": "One daily digest"}


class PreferenceForm(FlaskForm):
    digest = SelectField(
        "Alert emails",
        choices=[SelectChoice(k, v) for k, v in DIGEST_CHOICES.items()],
    )


class RulesForm(FlaskForm):
    fcr_enabled = BooleanField("Alert when first-contact resolution is answered “no”")
    nps_enabled = BooleanField("Alert on likelihood to recommend (0–10)")
    nps_threshold = StringField("at or below", validators=[Length(max=3), no_nul])
    csat_enabled = BooleanField("Alert on overall satisfaction (1–5)")
    csat_threshold = StringField("at or below", validators=[Length(max=3), no_nul])
    ces_enabled = BooleanField("Alert on ease of working with us (1–7)")
    ces_threshold = StringField("at or below", validators=[Length(max=3), no_nul])
