"""Customer tokens: the only credential a customer has.

A token is 32 random bytes (256 bits), URL-safe. Only its SHA-256 hash is stored,
so a copy of the database gives no working link; lookups compare hashes in
constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

TOKEN_BYTES = 32
MAX_TOKEN_LENGTH = 64


def new_token() -> tuple[str, str]:
    """Return ``(token, token_hash)``; give out the token, store the hash."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, hash_token(token)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def plausible(token: str) -> bool:
    """Cheap shape check before touching the database (length and alphabet)."""
    return 20 <= len(token) <= MAX_TOKEN_LENGTH and all(
        ch.isascii() and (ch.isalnum() or ch in "-_") for ch in token
    )


def same_hash(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
