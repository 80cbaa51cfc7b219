"""What RQ calls on a worker: build the app once per process, then run one task."""

from __future__ import annotations

import ctypes
import logging
import os
import signal
from typing import Any

from flask import Flask

from cpi.jobs import tasks
from cpi.jobs.extra import RedisExtraMissing
from cpi.jobs.progress import JobProgress
from cpi.jobs.worker import requeue_abandoned
from cpi.logcontext import request_id_var

try:
    from rq import get_current_job
except ImportError as error:
    raise RedisExtraMissing(error.name or "rq") from None

log = logging.getLogger("cpi.worker")
PR_SET_PDEATHSIG = 1
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


def worker_pid(name: str) -> int | None:
    """The process id in a worker name ``<host>.<pid>.<nonce>`` (the host may hold dots)."""
    parts = name.rsplit(".", 2)
    return int(parts[1]) if len(parts) == 3 and parts[1].isdigit() else None


def die_with_worker() -> None:
    """In a work horse: be SIGKILLed when the worker that forked it dies (Linux).

    A worker killed with SIGKILL (the OOM killer, a lost machine) then never leaves its
    horse working on beside the job's second run. RQ names the worker in the horse's
    environment; if it died before we asked, the horse's parent is already another
    process, and the horse stops at once.
    """
    expected = worker_pid(os.environ.get("RQ_WORKER_ID", ""))
    if expected is None:
        return  # not in a work horse forked by `cpi worker`
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        return  # not Linux: a worker killed mid-job may leave its horse to finish alone
    if os.getppid() != expected:
        os._exit(1)


def run_task(name: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    """Run a task; a :class:`TaskError` becomes ``{"ok": False, "error": ...}`` (not retried).

    A periodic task never fails in RQ's eyes: its next run is its retry, and a failed
    job would end its repetition.
    """
    die_with_worker()
    job = get_current_job()
    request_id_var.set(f"job-{job.id}" if job else "job")
    progress = JobProgress(job) if job is not None else None
    with worker_app().app_context():
        try:
            spec = tasks.get(name)
        except tasks.TaskError as error:  # queued by another version of the code
            return {"ok": False, "error": str(error)}
        try:
            if spec.periodic and job is not None:
                requeue_abandoned(job.connection, job.origin, me=os.environ.get("RQ_WORKER_ID"))
            message = spec.func(progress or _NoProgress(), **kwargs)
        except tasks.TaskError as error:
            return {"ok": False, "error": str(error)}
        except Exception as error:
            if not spec.periodic:
                raise
            log.exception("%s failed; it runs again at the next tick", spec.label)
            return {"ok": False, "error": str(error)}
    return {"ok": True, "message": message}


class _NoProgress:
    def start(self, total: int, label: str | None = None) -> None:
        pass

    def update(self, n_steps: int) -> None:
        pass

    def remember(self, key: str, value: Any) -> Any:
        return value
