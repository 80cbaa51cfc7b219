from __future__ import annotations

import hashlib
import hmac
import re
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from cpi.auth.models import ROLES, User
from cpi.auth.passwords import hash_password, password_needs_rehash, verify_password

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


# Sign-in: the limiter (views) stops a client after 5 failures for one email and 20
# in all (15 minutes), so one client cannot lock anyone out. This lock is the slower
# back-off across all clients: after this many failures in a row (a distributed
# attack) the account is locked for LOCK_MINUTES.
MAX_FAILED_LOGINS = 50
LOCK_MINUTES = 15


def login_audit_name(session: Session, email: str, secret: str) -> str:
    """What the audit log keeps of a failed sign-in's email: the address of a known
    user, else a keyed hash (what was typed may be a password typed in the wrong box)."""
    email = normalise_email(email)[:254]
    if email and session.scalar(select(User.id).where(User.email == email)) is not None:
        return email
    digest = hmac.new(secret.encode(), email.encode(), hashlib.sha256).hexdigest()[:12]
    return f"(unknown email #{digest})"


def authenticate(session: Session, email: str, password: str, now: datetime) -> User | None:
    """The active user with this email and password, else None (``now``: naive UTC).

    An unknown email, a wrong password, a locked or disabled account all return
    None after the same argon2 verification, so the answer and its timing match.
    """
    user = session.scalar(select(User).where(User.email == normalise_email(email)))
    ok = verify_password(user.password_hash if user else None, password)
    if user is None:
        return None
    locked = user.locked_until is not None and user.locked_until > now
    if ok and user.active and not locked:
        user.failed_logins = 0
        user.locked_until = None
        user.last_login_at = now
        if password_needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        session.flush()
        return user
    if not ok:
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.locked_until = now + timedelta(minutes=LOCK_MINUTES)
            user.failed_logins = 0
        session.flush()
    return None


def end_sessions(user: User) -> None:
    """Invalidate every session of the user (sign-out, password or role change)."""
    user.session_version += 1


def update_user(
    session: Session,
    user_id: int,
    *,
    role: str | None = None,
    active: bool | None = None,
    password: str | None = None,
    name: str | None = None,
) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise UserError(f"user: no user {user_id}")
    if role is not None:
        if role not in ROLES:
            raise UserError(f"role: must be one of {', '.join(ROLES)}")
        user.role = role
    if active is not None:
        user.active = active
    if password:
        if len(password) < MIN_PASSWORD_LENGTH:
            raise UserError(f"password: must be at least {MIN_PASSWORD_LENGTH} characters")
        user.password_hash = hash_password(password)
        user.failed_logins = 0
        user.locked_until = None
    if name is not None:
        user.name = name.strip() or None
    end_sessions(user)
    session.flush()
    return user
