"""What RQ calls on a worker: build the app once per process, then run one task."""

from __future__ import annotations

from typing import Any

from flask import Flask

from cpi.jobs import tasks
from cpi.jobs.extra import RedisExtraMissing
from cpi.jobs.progress import JobProgress
from cpi.ops.logs import request_id_var

try:
    from rq import get_current_job
except ImportError as error:
    raise RedisExtraMissing(error.name or "rq") from None

_app: Flask | None = None


def worker_app() -> Flask:
    """The app of this process, from the environment (CPI_*), created on first use.

    The work horse is a fresh fork for each job, so its database connections are
    never shared with the parent worker or with another job.
    """
    global _app
    if _app is None:
        from cpi import create_app

        _app = create_app()
    return _app


def run_task(name: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    """Run a task; a :class:`TaskError` becomes ``{"ok": False, "error": ...}`` (not retried)."""
    job = get_current_job()
    request_id_var.set(f"job-{job.id}" if job else "job")
    progress = JobProgress(job) if job is not None else None
    with worker_app().app_context():
        try:
            message = tasks.run(name, progress or _NoProgress(), kwargs)
        except tasks.TaskError as error:
            return {"ok": False, "error": str(error)}
    return {"ok": True, "message": message}


class _NoProgress:
    def start(self, total: int, label: str | None = None) -> None:
        pass

    def update(self, n_steps: int) -> None:
        pass

    def remember(self, key: str, value: Any) -> Any:
        return value
