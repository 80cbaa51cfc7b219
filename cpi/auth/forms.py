from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, Field, PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from cpi.auth.models import ROLES

ROLE_LABELS = {
    "admin": "Administrator",
    "enablement": "Sales enablement",
    "account_manager": "Account manager",
}


def no_nul(_form: object, field: Field) -> None:
    """A NUL byte is never part of an email or name (and PostgreSQL refuses it)."""
    if "\x00" in (field.data or ""):
        raise ValidationError("contains a NUL character")


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254), no_nul])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)])


class ActionForm(FlaskForm):
    """A form with nothing but its CSRF token (sign-out, one-button admin actions)."""


class NewUserForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    name = StringField("Name", validators=[Optional(), Length(max=200)])
    role = SelectField("Role", choices=[SelectChoice(role, ROLE_LABELS[role]) for role in ROLES])
    password = PasswordField("Initial password", validators=[DataRequired(), Length(max=1024)])


class EditUserForm(FlaskForm):
    role = SelectField("Role", choices=[SelectChoice(role, ROLE_LABELS[role]) for role in ROLES])
    active = SelectField(
        "Status", choices=[SelectChoice("1", "Active"), SelectChoice("0", "Disabled")]
    )
    password = PasswordField("New password", validators=[Optional(), Length(max=1024)])


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        _l("Current password"), validators=[DataRequired(), Length(max=1024)]
    )
    new_password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=1024)])
    confirm = PasswordField(_l("New password again"), validators=[DataRequired(), Length(max=1024)])


class CodeForm(FlaskForm):
    """The six-digit code of an authenticator app (TOTP)."""

    code = StringField(_l("Code from your authenticator app"), validators=[Length(max=16), no_nul])


class ConfirmForm(FlaskForm):
    """Password (and code, when the user has a second factor): enrol, disable, re-auth."""

    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)])
    code = StringField(_l("Code from your authenticator app"), validators=[Length(max=16), no_nul])


LANGUAGES = (
    SelectChoice("", _l("The browser's language")),
    SelectChoice("en", "English"),
    SelectChoice("fr", "Français"),
    SelectChoice("de", "Deutsch"),
    SelectChoice("hu", "Magyar"),
    SelectChoice("ru", "Русский"),
)


class LanguageForm(FlaskForm):
    """The staff app's language, in the user's profile (names in their own language)."""

    locale = SelectField(_l("Language of the app"), choices=list(LANGUAGES), default="")
