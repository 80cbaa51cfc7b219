from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import Length

from cpi.questions.operations import KIND_LABELS, TEMPLATE_NAMES
from cpi.rules.custom_questions import CUSTOM_KINDS, LABEL_MAX_CHARS, SCALES

LANGUAGES = {"en": "English", "fr": "French", "de": "German", "hu": "Hungarian", "ru": "Russian"}


class QuestionForm(FlaskForm):
    """A new custom question; the checks that matter are in cpi.questions.operations."""

    field = StringField("Field name (lowercase, e.g. content_value)", validators=[Length(max=40)])
    kind = SelectField("Kind", choices=[SelectChoice(k, KIND_LABELS[k]) for k in CUSTOM_KINDS])
    scale = SelectField(
        "Scale (for a scale question)", choices=[SelectChoice(s, s) for s in SCALES]
    )
    label_en = StringField("Question in English", validators=[Length(max=LABEL_MAX_CHARS)])
    label_fr = StringField("Question in French", validators=[Length(max=LABEL_MAX_CHARS)])
    label_de = StringField("Question in German", validators=[Length(max=LABEL_MAX_CHARS)])
    label_hu = StringField("Question in Hungarian", validators=[Length(max=LABEL_MAX_CHARS)])
    label_ru = StringField("Question in Russian", validators=[Length(max=LABEL_MAX_CHARS)])
    options_en = TextAreaField("Options in English, one per line (for a choice)")
    options_fr = TextAreaField("Options in French, same order")
    options_de = TextAreaField("Options in German, same order")
    options_hu = TextAreaField("Options in Hungarian, same order")
    options_ru = TextAreaField("Options in Russian, same order")


class TemplateForm(FlaskForm):
    template = SelectField(
        "Template", choices=[SelectChoice(k, v) for k, v in TEMPLATE_NAMES.items()]
    )


class MoveForm(FlaskForm):
    direction = SelectField(
        "Direction", choices=[SelectChoice("up", "up"), SelectChoice("down", "down")]
    )
