from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from cpi.auth.forms import no_nul


class StatusForm(FlaskForm):
    status = SelectField(_l("New status"), choices=[])
    note = TextAreaField(
        _l("Note (how it was resolved)"), validators=[Optional(), Length(max=2000), no_nul]
    )


class AssignForm(FlaskForm):
    assignee = SelectField(_l("Assigned to"), choices=[])


DIGEST_CHOICES = {"each": _l("An email for each alert"), "digest": _l("One daily digest")}


class PreferenceForm(FlaskForm):
    digest = SelectField(
        _l("Alert emails"),
        choices=[SelectChoice(k, v) for k, v in DIGEST_CHOICES.items()],
    )


class RulesForm(FlaskForm):
    fcr_enabled = BooleanField(_l("Alert when first-contact resolution is answered “no”"))
    nps_enabled = BooleanField(_l("Alert on likelihood to recommend (0–10)"))
    nps_threshold = StringField(_l("at or below"), validators=[Length(max=3), no_nul])
    csat_enabled = BooleanField(_l("Alert on overall satisfaction (1–5)"))
    csat_threshold = StringField(_l("at or below"), validators=[Length(max=3), no_nul])
    ces_enabled = BooleanField(_l("Alert on ease of working with us (1–7)"))
    ces_threshold = StringField(_l("at or below"), validators=[Length(max=3), no_nul])
