"""Flask-Login set-up: who is signed in, checked against the database on every request.

The session cookie carries ``<user id>:<session_version>``. Signing out, a password
change or a role change bumps the version, so every copy of an older cookie stops
working at once (sign-out is not only deleting the cookie in one browser).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask
from flask_login import AnonymousUserMixin, LoginManager

from cpi.auth.models import User
from cpi.db import get_session

login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "Please sign in to see that page."
login_manager.login_message_category = "info"
# "strong": a session cookie replayed from another address or browser is dropped.
login_manager.session_protection = "strong"


@dataclass(frozen=True)
class StaffUser:
    """The signed-in user as plain values (detached from any database session)."""

    id: int
    email: str
    name: str | None
    role: str
    session_version: int
    mfa: bool = False  # has a second factor (cpi.auth.mfa)
    locale: str | None = None  # the staff app's language; None: the browser's

    is_authenticated = True
    is_active = True
    is_anonymous = False

    @property
    def display_name(self) -> str:
        return self.name or self.email

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def sees_everything(self) -> bool:
        """Admins and the enablement lead see every account; account managers their own."""
        return self.role in ("admin", "enablement")

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @staticmethod
    def of(user: User) -> StaffUser:
        return StaffUser(
            user.id, user.email, user.name, user.role, user.session_version,
            mfa=user.totp_secret is not None, locale=user.locale,
        )  # fmt: skip


class Anonymous(AnonymousUserMixin):
    role = None
    is_admin = False
    sees_everything = False


login_manager.anonymous_user = Anonymous


@login_manager.user_loader
def load_user(user_id: str) -> StaffUser | None:
    pk, _, version = user_id.partition(":")
    if not pk.isdigit() or not version.isdigit():
        return None
    user = get_session().get(User, int(pk))
    if user is None or not user.active or user.session_version != int(version):
        return None
    return StaffUser.of(user)


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
