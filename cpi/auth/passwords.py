"""Password hashing with argon2id.

The parameters are RFC 9106's low-memory profile (argon2-cffi's defaults: 3 passes over
64 MiB, 4 lanes). ``PASSWORD_HASH_PROFILE = "CHEAPEST"`` (argon2-cffi's profile for
tests) is accepted only with ``TESTING``: the test suite hashes hundreds of passwords.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from flask import Flask

from cpi.config import ConfigError

PRODUCTION_PROFILE = "RFC_9106_LOW_MEMORY"
PROFILES = {PRODUCTION_PROFILE: profiles.RFC_9106_LOW_MEMORY, "CHEAPEST": profiles.CHEAPEST}

_profile = PRODUCTION_PROFILE
_hasher = PasswordHasher.from_parameters(PROFILES[_profile])


def init_app(app: Flask) -> None:
    """Hash with the app's ``PASSWORD_HASH_PROFILE`` in this process from now on."""
    global _profile, _hasher
    name = app.config.get("PASSWORD_HASH_PROFILE") or PRODUCTION_PROFILE
    if name not in PROFILES:
        raise ConfigError(f"CPI_PASSWORD_HASH_PROFILE must be one of {', '.join(PROFILES)}")
    if name != PRODUCTION_PROFILE and not app.config.get("TESTING"):
        raise ConfigError(f"CPI_PASSWORD_HASH_PROFILE={name} is for the test suite (TESTING) only")
    _profile, _hasher = name, PasswordHasher.from_parameters(PROFILES[name])


@cache
def _dummy_hash(profile: str) -> str:
    """Verified against when the email is unknown, so both cases take the same time.

    Computed on first use (a hash costs about 0.1 s), not when the app starts."""
    return PasswordHasher.from_parameters(PROFILES[profile]).hash("not-a-real-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    # Also computed when the email is known, so that a process's first login costs the
    # same whichever case it is.
    dummy = _dummy_hash(_profile)
    try:
        return _hasher.verify(password_hash or dummy, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def password_needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


@cache
def _common_passwords() -> frozenset[str]:
    # one password a line; "# " starts a comment (no listed password starts so)
    text = resources.files("cpi.auth").joinpath("common_passwords.txt").read_text("utf-8")
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line and not line.startswith("# ")
    )


def is_common(password: str) -> bool:
    """On the list of common passwords shipped with the app (case does not matter)."""
    return password.strip().lower() in _common_passwords()
