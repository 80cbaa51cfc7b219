from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DecimalField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from cpi.admin.csv_help import KIND_LABELS
from cpi.imports.rows import KINDS
from cpi.scoring import CATALOGUE


class UploadForm(FlaskForm):
    kind = SelectField(
        "What the file holds", choices=[SelectChoice(kind, KIND_LABELS[kind]) for kind in KINDS]
    )
    file = FileField("CSV file", validators=[FileRequired("file: choose a CSV file to upload")])


class TargetForm(FlaskForm):
    indicator = SelectField("Indicator", choices=[SelectChoice(i.code, i.name) for i in CATALOGUE])
    period = StringField("Period", validators=[DataRequired(), Length(max=7)])
    segment = StringField("Segment (blank: company-wide)", validators=[Optional(), Length(max=100)])
    target = DecimalField("Target", validators=[InputRequired()], places=None)
    tolerance = DecimalField(
        "Tolerance (blank: 10%)", validators=[Optional(), NumberRange(min=0)], places=None
    )
