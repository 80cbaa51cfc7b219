from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

import pyotp
from sqlalchemy import select
from sqlalchemy.orm import Session

from cpi.auth.models import ROLES, User
from cpi.auth.passwords import hash_password, is_common, password_needs_rehash, verify_password
from cpi.rules.addresses import InvalidEmail, check_email, normalise_email

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024


class UserError(ValueError):
    """Bad input for a user; the message names the field."""


def create_user(
    session: Session, *, email: str, role: str, password: str, name: str | None = None
) -> User:
    try:
        email = check_email(email)
    except InvalidEmail as error:
        raise UserError(f"email: {error}") from None
    if role not in ROLES:
        raise UserError(f"role: must be one of {', '.join(ROLES)}")
    check_new_password(password, email)
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise UserError(f"email: a user {email} already exists")
    user = User(email=email, role=role, name=name, password_hash=hash_password(password))
    session.add(user)
    session.flush()
    return user


def check_new_password(password: str, email: str, field: str = "password") -> None:
    """The rule for every new password (creation, reset, change): long enough, not on
    the list of common passwords, not the email address (ASVS 5.0 V6.2)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"{field}: must be at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise UserError(f"{field}: must be at most {MAX_PASSWORD_LENGTH} characters")
    if is_common(password):
        raise UserError(f"{field}: this password is too common; choose another")
    lowered = password.strip().lower()
    if lowered == normalise_email(email) or lowered == normalise_email(email).split("@")[0]:
        raise UserError(f"{field}: must not be your email address")


def _confirmed_user(session: Session, user_id: int, password: str, field: str = "password") -> User:
    """The user, when ``password`` is their current one (a change to their own account)."""
    user = session.get(User, user_id)
    if user is None or not verify_password(user.password_hash, password):
        raise UserError(f"{field}: this is not your current password")
    return user


def change_password(session: Session, user_id: int, current: str, new: str) -> User:
    """A user changes their own password: the current one is required. Every other
    session of theirs ends (the caller signs this one in again)."""
    user = _confirmed_user(session, user_id, current, field="current_password")
    if verify_password(user.password_hash, new):
        raise UserError("new_password: must differ from the current password")
    check_new_password(new, user.email, field="new_password")
    user.password_hash = hash_password(new)
    end_sessions(user)
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
        check_new_password(password, user.email)
        user.password_hash = hash_password(password)
        user.failed_logins = 0
        user.locked_until = None
    if name is not None:
        user.name = name.strip() or None
    end_sessions(user)
    session.flush()
    return user


# --- second factor (RFC 6238 TOTP) -------------------------------------------------

TOTP_STEP_SECONDS = 30


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(secret: str, email: str, issuer: str) -> str:
    """The ``otpauth://`` URI an authenticator app takes (typed or pasted; no QR code)."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=issuer)


def _matching_step(secret: str, code: str, now: float, after: int | None) -> int | None:
    """The time step (now, or one either side for clock drift) whose code this is, if
    it is later than ``after`` (a code is accepted once)."""
    code = code.replace(" ", "").strip()
    if len(code) != 6 or not code.isascii() or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = int(now // TOTP_STEP_SECONDS)
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code) and step > (after or -1):
            return step
    return None


def check_totp(user: User, code: str, now: float) -> bool:
    """Accept ``code`` for the user's second factor once; flush nothing (the caller does)."""
    if user.totp_secret is None:
        return False
    step = _matching_step(user.totp_secret, code, now, user.totp_last_step)
    if step is None:
        return False
    user.totp_last_step = step
    return True


def enable_totp(
    session: Session, user_id: int, password: str, secret: str, code: str, now: float
) -> User:
    user = _confirmed_user(session, user_id, password)
    step = _matching_step(secret, code, now, None)
    if step is None:
        raise UserError("code: not the current code for this key; check the phone's clock")
    user.totp_secret = secret
    user.totp_last_step = step
    end_sessions(user)
    session.flush()
    return user


def disable_totp(session: Session, user_id: int, password: str, code: str, now: float) -> User:
    user = _confirmed_user(session, user_id, password)
    if not check_totp(user, code, now):
        raise UserError("code: not the current code")
    user.totp_secret = None
    user.totp_last_step = None
    end_sessions(user)
    session.flush()
    return user


def failed_second_factor(session: Session, user: User, now: datetime) -> None:
    """A wrong code counts like a wrong password (and locks the account the same way)."""
    user.failed_logins += 1
    if user.failed_logins >= MAX_FAILED_LOGINS:
        user.locked_until = now + timedelta(minutes=LOCK_MINUTES)
        user.failed_logins = 0
    session.flush()
