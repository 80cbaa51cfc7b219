"""Customer tokens: the only credential a customer has.

A campaign token is derived from a 256-bit random salt and the app's secret key:
``token = base64url(HMAC-SHA256(secret, salt))`` (43 characters, 256 bits). The
database keeps the salt and the SHA-256 hash of the token, never the token, so a
copy of the database alone gives no working link; with the secret the app can
derive the same token again for a reminder, so the link in every email of a
campaign is the same. Lookups go by hash and compare in constant time.

Links are checked by hash, so rotating the secret key leaves every link working;
what needs the key that made a link is a reminder, which derives the link again.
:func:`derive_known_token` tries the current key, then each retired one
(``CPI_SECRET_KEY_FALLBACKS``), and keeps the one whose token has the stored hash.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

TOKEN_BYTES = 32
MAX_TOKEN_LENGTH = 64
_CONTEXT = b"cpi-survey-token\x00"


@dataclass(frozen=True)
class IssuedToken:
    token: str
    token_hash: str
    salt: str


def new_token() -> tuple[str, str]:
    """Return ``(token, token_hash)`` of a purely random token (no salt to derive it again)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, hash_token(token)


def issue_token(secret: str) -> IssuedToken:
    """A new token for one invitation: store ``token_hash`` and ``salt``, mail ``token``."""
    salt = secrets.token_hex(TOKEN_BYTES)
    token = derive_token(secret, salt)
    return IssuedToken(token=token, token_hash=hash_token(token), salt=salt)


def derive_token(secret: str, salt: str) -> str:
    digest = hmac.new(secret.encode("utf-8"), _CONTEXT + salt.encode("ascii"), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode("ascii")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


# base64url, 20 to MAX_TOKEN_LENGTH characters (one regex: every submit checks it)
_PLAUSIBLE = re.compile(rf"[A-Za-z0-9_-]{{20,{MAX_TOKEN_LENGTH}}}")


def plausible(token: str) -> bool:
    """Cheap shape check before touching the database (length and alphabet)."""
    return _PLAUSIBLE.fullmatch(token) is not None


def same_hash(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def derive_known_token(keys: list[str], salt: str, token_hash: str) -> str | None:
    """The link made from ``salt`` under whichever of ``keys`` (current first) made the
    stored ``token_hash``; None when none did (the key that made it was dropped)."""
    for key in keys:
        token = derive_token(key, salt)
        if same_hash(hash_token(token), token_hash):
            return token
    return None
