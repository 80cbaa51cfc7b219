from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DecimalField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from cpi.admin.csv_help import KIND_LABELS
from cpi.i18n.indicators import indicator_choices
from cpi.imports.rows import KINDS


class UploadForm(FlaskForm):
    kind = SelectField(
        _l("What the file holds"), choices=[SelectChoice(kind, KIND_LABELS[kind]) for kind in KINDS]
    )
    file = FileField(_l("CSV file"), validators=[FileRequired("file: choose a CSV file to upload")])


class TargetForm(FlaskForm):
    indicator = SelectField(
        _l("Indicator"), choices=[SelectChoice(code, name) for code, name in indicator_choices()]
    )
    period = StringField(_l("Period"), validators=[DataRequired(), Length(max=7)])
    segment = StringField(
        _l("Segment (blank: company-wide)"), validators=[Optional(), Length(max=100)]
    )
    target = DecimalField(_l("Target"), validators=[InputRequired()], places=None)
    tolerance = DecimalField(
        _l("Tolerance (blank: 10%)"), validators=[Optional(), NumberRange(min=0)], places=None
    )
