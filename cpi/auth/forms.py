from __future__ import annotations

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
    email = EmailField("Email", validators=[DataRequired(), Length(max=254), no_nul])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])


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
        "Current password", validators=[DataRequired(), Length(max=1024)]
    )
    new_password = PasswordField("New password", validators=[DataRequired(), Length(max=1024)])
    confirm = PasswordField("New password again", validators=[DataRequired(), Length(max=1024)])


class CodeForm(FlaskForm):
    """The six-digit code of an authenticator app (TOTP)."""

    code = StringField("Code from your authenticator app", validators=[Length(max=16), no_nul])


class ConfirmForm(FlaskForm):
    """Password (and code, when the user has a second factor): enrol, disable, re-auth."""

    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])
    code = StringField("Code from your authenticator app", validators=[Length(max=16), no_nul])
