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

Results that read only some quarters (the pieces of cpi.scorecards.pieces, a year's
differencing audit, a quarter's comment counts) are keyed by ``quarters_fingerprint``
instead: the base generation and those quarters' own, so that they outlive writes
to other quarters.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import pickle
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from cpi import generation

T = TypeVar("T")
MAX_ENTRIES = 32
_entries: OrderedDict[Hashable, Any] = OrderedDict()
MAX_SMALL_ENTRIES = 1024
_small: OrderedDict[Hashable, Any] = OrderedDict()
# The per-period pieces of dashboards (cpi.scorecards.pieces): a quarter's rankings of
# 2,000 accounts are a few MB, and each write to the quarter leaves one stale.
MAX_PIECES = 64
_pieces: OrderedDict[Hashable, Any] = OrderedDict()
_lock = threading.Lock()
# Lookups answered from the cache (hits) and computed (misses) since the last clear(),
# in this process (whichever store answered).
stats: Counter[str] = Counter()
TTL_SECONDS = 3600
KEY_PREFIX = "cpi:dash:"
_GENERATION = "cpi_generation"
_GENERATIONS = "cpi_generations"
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


def quarters_fingerprint(session: Session, quarters: Iterable[str]) -> str:
    """What a result that reads only ``quarters`` (their answers, sums, KPIs, targets,
    invitations) and the rest of the data (accounts, users...) depends on: the database,
    the base generation and those quarters' generations (cpi.generation), read once
    per session transaction. A write to another quarter leaves it unchanged."""
    values = generation.quarter_generations(generation_rows(session), quarters)
    return f"{session.get_bind().url!r}#q{values}"


def generation_rows(session: Session) -> dict[int, int]:
    """Every generation row (``generation.generations``), read once per session transaction."""
    seen = session.info.get(_GENERATIONS)
    if seen is None or seen[0] is not session.get_transaction():
        rows = generation.generations(session)  # begins the transaction if none is open
        seen = (session.get_transaction(), rows)
        session.info[_GENERATIONS] = seen
    return dict(seen[1])


def quarter_state(session: Session, quarter: str) -> tuple[int, int]:
    """(base generation, the quarter's generation), as ``quarters_fingerprint`` reads them."""
    base, value = generation.quarter_generations(generation_rows(session), [quarter])
    return base, value


def quarters_written(then: Mapping[int, int], now: Mapping[int, int]) -> set[str] | None:
    """The quarters whose answers were written between two ``generation_rows``; None when
    anything else was (the base generation moved)."""
    base = generation.BASE_ROW_ID
    if then.get(base, 0) != now.get(base, 0):
        return None
    moved = {row for row in then.keys() | now.keys() if then.get(row, 0) != now.get(row, 0)}
    return {quarter for row in moved if (quarter := generation.row_quarter(row)) is not None}


def kept_by_quarter(
    session: Session,
    key: Hashable,
    afresh: Callable[[], T],
    patch: Callable[[T, set[str]], T],
) -> T:
    """A result kept with the generations it was computed at (``generation_rows``):
    reused while they are unchanged; after writes to some quarters' answers only,
    ``patch(result, those quarters)``; else (the base moved) ``afresh()``."""
    now = generation_rows(session)
    found, latest = peek(key, small=True)
    written = quarters_written(latest[0], now) if found else None
    if written is None:
        value = afresh()
    elif not written:
        return latest[1]  # type: ignore[no-any-return]
    else:
        value = patch(latest[1], written)
    store(key, (now, value), small=True)
    return value


# --- the change log: which accounts each move of a quarter's generation wrote ---------
MAX_REPLAY = 64  # further behind, a result is computed afresh


def _record_changes(session: Session, committed: generation.Committed) -> None:
    url = str(session.get_bind().url)
    for quarter, value, accounts in committed:
        store(("changes", url, quarter, value), accounts, small=True)


generation.on_quarters_committed(_record_changes)


def changes_since(session: Session, quarter: str, since: int, now: int) -> frozenset[int] | None:
    """The account pks whose answers in ``quarter`` were written between its generations
    ``since`` and ``now``, if this cache saw every one of those commits (else None: a
    commit in a process that does not share this cache, one of unknown accounts, an
    entry evicted)."""
    if not 0 <= now - since <= MAX_REPLAY:
        return None
    url = str(session.get_bind().url)
    changed: set[int] = set()
    for value in range(since + 1, now + 1):
        found, accounts = peek(("changes", url, quarter, value), small=True)
        if not found or accounts is None:
            return None
        changed |= accounts
    return frozenset(changed)


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


def _tier(small: bool, piece: bool) -> tuple[OrderedDict[Hashable, Any], int]:
    if piece:
        return _pieces, MAX_PIECES
    return (_small, MAX_SMALL_ENTRIES) if small else (_entries, MAX_ENTRIES)


def cached(key: Hashable, compute: Callable[[], T], *, small: bool = False) -> T:
    """``key`` must hold the data generation (``data_fingerprint``). ``small``: a small
    result (the differencing audit's, one per viewer and year) kept among many more
    entries in this process, so that it never pushes dashboards out."""
    found, value = peek(key, small=small)
    if found:
        return value  # type: ignore[no-any-return]
    value = compute()
    store(key, value, small=small)
    return value


def peek(key: Hashable, *, small: bool = False, piece: bool = False) -> tuple[bool, Any]:
    """(True, the value) if ``key`` is cached, else (False, None); counted as a hit or
    a miss (a miss is expected to be computed and ``store``d)."""
    shared = _store()
    if shared is not None:
        client, secret = shared
        found, value = _redis_get(client, secret, _redis_key(key))
    else:
        entries = _tier(small, piece)[0]
        with _lock:
            found = key in entries
            if found:
                entries.move_to_end(key)
            value = entries.get(key)
    stats["hits" if found else "misses"] += 1
    return found, value


def store(key: Hashable, value: Any, *, small: bool = False, piece: bool = False) -> None:
    shared = _store()
    if shared is not None:
        client, secret = shared
        _redis_set(client, secret, _redis_key(key), value)
        return
    entries, limit = _tier(small, piece)
    with _lock:
        entries[key] = value
        while len(entries) > limit:
            entries.popitem(last=False)


def clear() -> None:
    """Forget this process's entries and counters (Redis entries expire on their own)."""
    with _lock:
        _entries.clear()
        _small.clear()
        _pieces.clear()
        stats.clear()
