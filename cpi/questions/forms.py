from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import Length

from cpi.questions.operations import KIND_LABELS, TEMPLATE_NAMES
from cpi.rules.custom_questions import CUSTOM_KINDS, LABEL_MAX_CHARS, SCALES

LANGUAGES = {"en": "English", "fr": "French", "de": "German", "hu": "Hungarian", "ru": "Russian"}


class QuestionForm(FlaskForm):
    """A new custom question; the checks that matter are in cpi.questions.operations."""

    field = StringField(
        _l("Field name (lowercase, e.g. content_value)"), validators=[Length(max=40)]
    )
    kind = SelectField(_l("Kind"), choices=[SelectChoice(k, KIND_LABELS[k]) for k in CUSTOM_KINDS])
    scale = SelectField(
        _l("Scale (for a scale question)"), choices=[SelectChoice(s, s) for s in SCALES]
    )
    label_en = StringField(_l("Question in English"), validators=[Length(max=LABEL_MAX_CHARS)])
    label_fr = StringField(_l("Question in French"), validators=[Length(max=LABEL_MAX_CHARS)])
    label_de = StringField(_l("Question in German"), validators=[Length(max=LABEL_MAX_CHARS)])
    label_hu = StringField(_l("Question in Hungarian"), validators=[Length(max=LABEL_MAX_CHARS)])
    label_ru = StringField(_l("Question in Russian"), validators=[Length(max=LABEL_MAX_CHARS)])
    options_en = TextAreaField(_l("Options in English, one per line (for a choice)"))
    options_fr = TextAreaField(_l("Options in French, same order"))
    options_de = TextAreaField(_l("Options in German, same order"))
    options_hu = TextAreaField(_l("Options in Hungarian, same order"))
    options_ru = TextAreaField(_l("Options in Russian, same order"))


class TemplateForm(FlaskForm):
    template = SelectField(
        _l("Template"), choices=[SelectChoice(k, v) for k, v in TEMPLATE_NAMES.items()]
    )


class MoveForm(FlaskForm):
    direction = SelectField(
        _l("Direction"), choices=[SelectChoice("up", "up"), SelectChoice("down", "down")]
    )
