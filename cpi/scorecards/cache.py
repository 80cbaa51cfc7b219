"""The dashboard cache, shared by every worker and invalidated by the writes.

Scoring a company dashboard reads a quarter's sums for every account; the data
behind it changes only when something is imported, answered or edited. Every such
write moves the data generation on in its own transaction (:mod:`cpi.generation`),
and a result is cached under the generation it was computed at: the next request
after a write reads the new generation (one primary-key look-up, no polling of the
data) and computes afresh; every older entry simply goes unused and expires.

Where: in Redis when ``CPI_REDIS_URL`` is set, so that every gunicorn worker (and
every host) shares one copy, else in this process (an LRU of a few entries).
Entries in Redis are pickled and signed with the app's ``SECRET_KEY`` (a value
that does not verify is ignored and computed afresh) and expire after
``TTL_SECONDS``. When Redis does not answer, pages are computed without the cache
(a warning is logged once a minute), never an error.

The generation is read before the data (in the same session), so a result is
never older than the generation it is cached under; a write that commits in
between only makes the entry fresher than its key.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import pickle
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from cpi import generation

T = TypeVar("T")
MAX_ENTRIES = 32
_entries: OrderedDict[Hashable, Any] = OrderedDict()
MAX_SMALL_ENTRIES = 1024
_small: OrderedDict[Hashable, Any] = OrderedDict()
_lock = threading.Lock()
# Lookups answered from the cache (hits) and computed (misses) since the last clear(),
# in this process (whichever store answered).
stats: Counter[str] = Counter()
TTL_SECONDS = 3600
KEY_PREFIX = "cpi:dash:"
_GENERATION = "cpi_generation"
log = logging.getLogger(__name__)
_clients: dict[str, Any] = {}
_last_warning = 0.0


def data_generation(session: Session) -> int:
    """The data generation, read once per session transaction (a request)."""
    seen = session.info.get(_GENERATION)
    if seen is None or seen[0] is not session.get_transaction():
        value = generation.current(session)  # begins the transaction if none is open
        seen = (session.get_transaction(), value)
        session.info[_GENERATION] = seen
    return int(seen[1])


def data_fingerprint(session: Session, quarters: Any = ()) -> str:
    """What a cached result depends on: the database and its data generation."""
    return f"{session.get_bind().url!r}#{data_generation(session)}"


def _store() -> tuple[Any, bytes] | None:
    """The Redis client and signing key when ``CPI_REDIS_URL`` is configured."""
    try:
        from flask import current_app, has_app_context
    except ImportError:  # pragma: no cover - flask is a core dependency
        return None
    if not has_app_context():
        return None
    url = current_app.config.get("REDIS_URL")
    if not url:
        return None
    client = _clients.get(url)
    if client is None:
        try:
            from redis import Redis
        except ImportError:
            _warn("the redis extra is not installed: dashboards are cached per process")
            return None
        client = Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
        _clients[url] = client
    secret = str(current_app.config.get("SECRET_KEY") or "").encode()
    return client, secret


def _warn(message: str) -> None:
    global _last_warning
    now = time.monotonic()
    if now - _last_warning > 60:
        _last_warning = now
        log.warning(message)


def _redis_key(key: Hashable) -> str:
    return KEY_PREFIX + hashlib.sha256(repr(key).encode()).hexdigest()


def _redis_get(client: Any, secret: bytes, name: str) -> tuple[bool, Any]:
    from redis.exceptions import RedisError

    try:
        blob = client.get(name)
    except RedisError as error:
        _warn(f"dashboard cache: Redis did not answer ({type(error).__name__})")
        return False, None
    if not blob or len(blob) < 32:
        return False, None
    signature, payload = blob[:32], blob[32:]
    if not hmac.compare_digest(signature, hmac.new(secret, payload, "sha256").digest()):
        return False, None
    return True, pickle.loads(payload)  # noqa: S301 - signed by this app's SECRET_KEY


def _redis_set(client: Any, secret: bytes, name: str, value: Any) -> None:
    from redis.exceptions import RedisError

    payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    blob = hmac.new(secret, payload, "sha256").digest() + payload
    try:
        client.set(name, blob, ex=TTL_SECONDS)
    except RedisError as error:
        _warn(f"dashboard cache: Redis did not answer ({type(error).__name__})")


def cached(key: Hashable, compute: Callable[[], T], *, small: bool = False) -> T:
    """``key`` must hold the data generation (``data_fingerprint``). ``small``: a small
    result (the differencing audit's, one per viewer and year) kept among many more
    entries in this process, so that it never pushes dashboards out."""
    shared = _store()
    if shared is not None:
        client, secret = shared
        name = _redis_key(key)
        found, value = _redis_get(client, secret, name)
        if found:
            stats["hits"] += 1
            return value  # type: ignore[no-any-return]
        stats["misses"] += 1
        value = compute()
        _redis_set(client, secret, name, value)
        return value
    entries, limit = (_small, MAX_SMALL_ENTRIES) if small else (_entries, MAX_ENTRIES)
    with _lock:
        if key in entries:
            entries.move_to_end(key)
            stats["hits"] += 1
            return entries[key]  # type: ignore[no-any-return]
        stats["misses"] += 1
    value = compute()
    with _lock:
        entries[key] = value
        while len(entries) > limit:
            entries.popitem(last=False)
    return value


def clear() -> None:
    """Forget this process's entries and counters (Redis entries expire on their own)."""
    with _lock:
        _entries.clear()
        _small.clear()
        stats.clear()
