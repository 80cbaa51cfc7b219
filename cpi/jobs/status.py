"""Tasks started from a web page: queued with their job id (the page follows the
job's progress), or run in the request when there is no queue.

The same registry and the same task functions as :func:`cpi.jobs.dispatch.dispatch`
(one road per job); only how the person waits differs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app

from cpi.jobs import tasks
from cpi.jobs.progress import QuietProgress


@dataclass(frozen=True)
class Started:
    job_id: str | None  # None: the task already ran in this request
    message: str


@dataclass(frozen=True)
class JobState:
    state: str  # queued | running | finished | failed | unknown
    done: int = 0
    total: int = 0
    label: str | None = None
    message: str = ""

    @property
    def over(self) -> bool:
        return self.state in ("finished", "failed", "unknown")

    def as_dict(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "done": self.done,
            "total": self.total,
            "label": self.label,
            "message": self.message,
            "over": self.over,
        }


def start_task(name: str, /, **kwargs: Any) -> Started:
    """Queue task ``name`` (CPI_REDIS_URL) and return its job id, or run it here.

    Raises :class:`cpi.jobs.tasks.TaskError` when the task refuses the request, and
    ``QueueUnavailable``/``RedisExtraMissing`` (``format_message()``) when nothing was queued.
    """
    spec = tasks.get(name)
    redis_url = current_app.config.get("REDIS_URL")
    if not redis_url:
        return Started(None, spec.func(QuietProgress(), **kwargs))
    from cpi.jobs import queue

    job = queue.enqueue(redis_url, name, kwargs, timeout=spec.timeout, label=spec.label)
    return Started(job.id, f"{spec.label}: queued as job {job.id}")


def job_state(job_id: str) -> JobState:
    """Where a queued job is: its stage's progress, and its result once it ended."""
    redis_url = current_app.config.get("REDIS_URL")
    if not redis_url:
        return JobState("unknown")
    from redis.exceptions import RedisError
    from rq.exceptions import NoSuchJobError
    from rq.job import Job, JobStatus

    from cpi.jobs import queue

    try:
        job = Job.fetch(job_id, connection=queue.connect(redis_url))
        status = job.get_status(refresh=True)
    except (NoSuchJobError, RedisError, ValueError):
        return JobState("unknown")
    info = job.meta.get("progress") or {}
    progress = {
        "done": int(info.get("done") or 0),
        "total": int(info.get("total") or 0),
        "label": info.get("label"),
    }
    if status == JobStatus.FINISHED:
        result = job.return_value() or {}
        if result.get("ok"):
            return JobState("finished", message=str(result.get("message", "")), **progress)
        return JobState("failed", message=str(result.get("error") or "failed"), **progress)
    if status in (JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED):
        return JobState("queued", **progress)
    if status == JobStatus.STARTED:
        return JobState("running", **progress)
    return JobState("failed", message=f"the job {status.value} on the worker", **progress)
