"""The Redis connection and the RQ queue, and putting a task on it."""

from __future__ import annotations

from typing import Any

from cpi.jobs.extra import QueueUnavailable, RedisExtraMissing
from cpi.logcontext import redact

try:
    from redis import Redis
    from redis.exceptions import RedisError
    from rq import Queue, Retry
    from rq.job import Job
except ImportError as error:
    raise RedisExtraMissing(error.name or "redis") from None

QUEUE_NAME = "cpi"
RUNNER = "cpi.jobs.runner.run_task"
# A job that raises (the database was down, the SMTP server hung up) is tried again
# later; every job is idempotent, so a retry only finishes what is left.
RETRY = Retry(max=3, interval=[15, 60, 300])
RESULT_TTL = 7 * 24 * 3600


def connect(url: str, *, for_worker: bool = False) -> Redis:
    # A worker blocks on the queue for minutes at a time, so only clients get a read timeout.
    timeouts: dict[str, Any] = {"socket_connect_timeout": 5}
    if not for_worker:
        timeouts["socket_timeout"] = 10
    return Redis.from_url(url, health_check_interval=30, **timeouts)


def open_queue(url: str) -> Queue:
    return Queue(QUEUE_NAME, connection=connect(url))


def describe(url: str) -> str:
    return redact(url)


def enqueue(url: str, task: str, kwargs: dict[str, Any], *, timeout: int, label: str) -> Job:
    """Queue ``task`` with ``kwargs``; raise :class:`QueueUnavailable` if Redis does not answer."""
    try:
        queue = open_queue(url)
        return queue.enqueue(
            RUNNER,
            args=(task, kwargs),
            job_timeout=timeout,
            result_ttl=RESULT_TTL,
            failure_ttl=RESULT_TTL,
            retry=RETRY,
            description=label,
        )
    except RedisError as error:
        raise QueueUnavailable(
            f"cannot reach the job queue at {describe(url)} ({error}); nothing was queued"
        ) from None
