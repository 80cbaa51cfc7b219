"""One worker at a time for a kind of work (delivering the outbox): a redis-py ``Lock``.

Holding the outbox's turn is what lets a worker put back messages left in ``sending`` by
a worker that died: no other sender can be in the middle of one. The lock's token is the worker's
name and its expiry is extended as messages go out; a turn whose worker is gone (see
:func:`cpi.jobs.worker.worker_gone`) is taken over at once instead of after its expiry.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask import current_app

if TYPE_CHECKING:  # the redis extra is needed only on a worker, where hold() runs
    from redis.lock import Lock

TTL_SECONDS = 300
EXTEND_EVERY = 5.0

# Free the turn only if the (dead) worker we looked at still holds it.
_FREE_IF_HELD_BY = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"
)


@dataclass
class Turn:
    lock: Lock | None
    locked: bool
    _extended_at: float = 0.0

    @classmethod
    def unlocked(cls) -> Turn:
        return cls(lock=None, locked=False)

    def extend(self) -> None:
        if self.lock is None:
            return
        now = time.monotonic()
        if now - self._extended_at >= EXTEND_EVERY:
            self.lock.extend(TTL_SECONDS, replace_ttl=True)
            self._extended_at = now


@contextmanager
def hold(redis_url: str, key: str, owner: str) -> Iterator[Turn | None]:
    """The turn ``key`` for ``owner`` (a worker name), or None while a live worker holds it."""
    # Imported here: features import this module, with or without the redis extra.
    from redis.exceptions import LockError

    from cpi.jobs import queue as job_queue
    from cpi.jobs.worker import worker_gone

    connection = job_queue.connect(redis_url)
    lock = connection.lock(key, timeout=TTL_SECONDS, blocking=False)
    acquired = lock.acquire(token=owner)
    if not acquired:
        holder = connection.get(key)
        holder_name = holder.decode() if holder else ""
        if holder_name and worker_gone(connection, holder_name, me=owner):
            connection.eval(_FREE_IF_HELD_BY, 1, key, holder_name)
            acquired = lock.acquire(token=owner)
    if not acquired:
        yield None
        return
    try:
        yield Turn(lock=lock, locked=True, _extended_at=time.monotonic())
    finally:
        with contextlib.suppress(LockError):  # expired and taken over: nothing to release
            lock.release()


@contextmanager
def exclusive_turn(name: str) -> Iterator[Turn | None]:
    """On a worker, the turn ``name`` (None: another worker has it); in-process, no lock."""
    redis_url = current_app.config.get("REDIS_URL")
    if not redis_url or not _on_a_worker():
        yield Turn.unlocked()
        return
    # RQ names the worker that forked this horse in the environment.
    with hold(redis_url, f"cpi:turn:{name}", os.environ.get("RQ_WORKER_ID", "-")) as turn:
        yield turn


def _on_a_worker() -> bool:
    try:
        from rq import get_current_job
    except ImportError:  # without the redis extra nothing runs on a worker
        return False
    return get_current_job() is not None
