"""One delivery turn at a time across every worker.

Holding the turn is what lets a worker put back messages left in ``sending`` by a worker
that died: no other sender can be in the middle of one. The turn is a Redis key holding
the worker's name, with an expiry extended as messages go out; a turn whose worker is
gone (see :func:`cpi.jobs.worker.worker_gone`) is taken over at once.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask import current_app

if TYPE_CHECKING:  # the redis extra is needed only on a worker, where hold() runs
    from redis import Redis

KEY = "cpi:outbox:turn"
TTL_SECONDS = 300
EXTEND_EVERY = 5.0

_RELEASE = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"
)
_EXTEND = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then "
    "return redis.call('expire', KEYS[1], ARGV[2]) end return 0"
)
_TAKE_OVER = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then "
    "return redis.call('set', KEYS[1], ARGV[2], 'EX', ARGV[3]) end return false"
)


@dataclass
class Turn:
    connection: Redis | None
    owner: str
    locked: bool
    _extended_at: float = 0.0

    @classmethod
    def unlocked(cls) -> Turn:
        return cls(connection=None, owner="-", locked=False)

    def extend(self) -> None:
        if self.connection is None:
            return
        now = time.monotonic()
        if now - self._extended_at >= EXTEND_EVERY:
            self.connection.eval(_EXTEND, 1, KEY, self.owner, TTL_SECONDS)
            self._extended_at = now


@contextmanager
def hold(redis_url: str, owner: str) -> Iterator[Turn | None]:
    from cpi.jobs import queue as job_queue
    from cpi.jobs.worker import worker_gone

    connection = job_queue.connect(redis_url)
    acquired = bool(connection.set(KEY, owner, nx=True, ex=TTL_SECONDS))
    if not acquired:
        holder = connection.get(KEY)
        holder_name = holder.decode() if holder else ""
        if holder_name and worker_gone(connection, holder_name, me=owner):
            acquired = bool(connection.eval(_TAKE_OVER, 1, KEY, holder_name, owner, TTL_SECONDS))
    if not acquired:
        yield None
        return
    try:
        yield Turn(connection=connection, owner=owner, locked=True, _extended_at=time.monotonic())
    finally:
        connection.eval(_RELEASE, 1, KEY, owner)


@contextmanager
def delivery_turn() -> Iterator[Turn | None]:
    """On a worker, the delivery turn (None: another worker is delivering); in-process, no lock."""
    redis_url = current_app.config.get("REDIS_URL")
    if not redis_url or not _on_a_worker():
        yield Turn.unlocked()
        return
    # RQ names the worker that forked this horse in the environment.
    with hold(redis_url, os.environ.get("RQ_WORKER_ID", "-")) as turn:
        yield turn


def _on_a_worker() -> bool:
    try:
        from rq import get_current_job
    except ImportError:  # without the redis extra nothing runs on a worker
        return False
    return get_current_job() is not None
