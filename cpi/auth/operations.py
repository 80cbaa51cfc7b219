from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from cpi.auth.models import ROLES, User
from cpi.auth.passwords import hash_password

EMAIL_RE = re.compile(r"^[^@\s\"<>,;]+@[^@\s\"<>,;]+\.[^@\s\"<>,;]+$")
MIN_PASSWORD_LENGTH = 10


class UserError(ValueError):
    """Bad input for a user; the message names the field."""


def normalise_email(email: str) -> str:
    return email.strip().lower()


def create_user(
    session: Session, *, email: str, role: str, password: str, name: str | None = None
) -> User:
    email = normalise_email(email)
    if not EMAIL_RE.match(email):
        raise UserError(f"email: {email!r} is not an email address")
    if role not in ROLES:
        raise UserError(f"role: must be one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"password: must be at least {MIN_PASSWORD_LENGTH} characters")
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise UserError(f"email: a user {email} already exists")
    user = User(email=email, role=role, name=name, password_hash=hash_password(password))
    session.add(user)
    session.flush()
    return user
