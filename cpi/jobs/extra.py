"""The job queue needs the ``redis`` extra; without it, one line says how to install it.

``pip install .`` gives everything but the queue: commands run their work in-process.
Only ``cpi worker`` and ``CPI_REDIS_URL`` need Redis and RQ, so every module that uses
them imports them through :func:`require_redis` (or lazily), never at the top of a
module the app or the commands import anyway.
"""

from __future__ import annotations

import click

INSTALL = "pip install 'cpi-tracker[redis]'"


class RedisExtraMissing(click.ClickException, ImportError):
    """Redis or RQ is not installed. A ``ClickException`` so that a command prints one line,
    an ``ImportError`` so that code probing for optional modules treats it as one."""

    def __init__(self, missing: str) -> None:
        click.ClickException.__init__(
            self,
            "the job queue (cpi worker, CPI_REDIS_URL) needs the redis extra, "
            f"and {missing} is not installed: {INSTALL}",
        )
        self.name = missing


def require_redis() -> None:
    """Raise :class:`RedisExtraMissing` unless ``redis`` and ``rq`` can be imported."""
    try:
        import redis  # noqa: F401
        import rq  # noqa: F401
    except ImportError as error:
        raise RedisExtraMissing(error.name or "redis") from None


class QueueUnavailable(click.ClickException):
    """Redis could not be reached; nothing was queued."""
