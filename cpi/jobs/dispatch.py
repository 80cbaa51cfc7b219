"""Run a task for a command: on a worker when ``CPI_REDIS_URL`` is set, else right here.

With a queue, the command enqueues the task, shows the worker's progress and prints
its result, exactly as if it had run in-process. If Redis cannot be reached the
command stops with one line and nothing has been queued or changed (tasks do all
their work on the worker, none before enqueueing).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click
from flask import current_app

from cpi.jobs import tasks
from cpi.jobs.extra import QueueUnavailable, RedisExtraMissing
from cpi.jobs.progress import TerminalProgress

if TYPE_CHECKING:  # Redis and RQ (the redis extra) are imported only when a queue is used
    from rq.job import Job, JobStatus

POLL_SECONDS = 0.25


def dispatch(
    name: str,
    /,
    *,
    wait: bool = True,
    here: bool = False,
    not_queued: Callable[[], None] | None = None,
    **kwargs: Any,
) -> str:
    """Run task ``name`` and return its summary line; raise ``click.ClickException`` on failure.

    ``here`` runs it in this process even with a queue (work too small to hand over).
    ``not_queued`` undoes what the command prepared for the worker when Redis is down
    (or when the redis extra is not installed).
    """
    try:
        spec = tasks.get(name)
    except tasks.TaskError as error:
        raise click.ClickException(str(error)) from None
    redis_url = current_app.config.get("REDIS_URL")
    if here or not redis_url:
        return _run_here(spec, kwargs)
    try:
        from cpi.jobs import queue

        job = queue.enqueue(redis_url, name, kwargs, timeout=spec.timeout, label=spec.label)
    except (RedisExtraMissing, QueueUnavailable) as error:
        if not_queued is not None:
            not_queued()
        raise click.ClickException(error.format_message()) from None
    if not wait:
        return f"{spec.label}: queued as job {job.id}"
    return _wait_for(job, spec, current_app.config.get("JOBS_WAIT_SECONDS"))


def _run_here(spec: tasks.TaskSpec, kwargs: dict[str, Any]) -> str:
    progress = TerminalProgress(spec.label)
    try:
        return spec.func(progress, **kwargs)
    except tasks.TaskError as error:
        raise click.ClickException(str(error)) from None
    finally:
        progress.close()


def _wait_for(job: Job, spec: tasks.TaskSpec, limit: float | str | None) -> str:
    """Follow the job until it ends (or ``CPI_JOBS_WAIT_SECONDS`` pass; the job goes on)."""
    from redis.exceptions import RedisError
    from rq.job import JobStatus

    waiting = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.SCHEDULED, JobStatus.DEFERRED}
    click.echo(f"{spec.label}: queued as job {job.id}", err=True)
    deadline = time.monotonic() + float(limit) if limit else None
    _warn_without_workers(job)
    progress = TerminalProgress(spec.label)
    stage = shown = 0
    try:
        while True:
            try:
                status = job.get_status(refresh=True)
                job.refresh()
            except RedisError as error:
                raise click.ClickException(
                    f"lost the job queue while waiting ({error}); job {job.id} "
                    "continues on the worker when Redis is back"
                ) from None
            info = job.meta.get("progress") or {}
            if info.get("stage", 0) != stage:
                stage, shown = info["stage"], 0
                progress.start(int(info.get("total") or 0), info.get("label"))
            done = int(info.get("done") or 0)
            if done > shown:
                progress.update(done - shown)
                shown = done
            if status == JobStatus.FINISHED:
                return _result(job)
            if status not in waiting:
                raise click.ClickException(_failure(job, status))
            if deadline is not None and time.monotonic() > deadline:
                raise click.ClickException(
                    f"stopped waiting after {limit} s; job {job.id} is {status.value} "
                    "and continues on the worker"
                )
            time.sleep(POLL_SECONDS)
    except KeyboardInterrupt:
        click.echo(f"\nStopped waiting; job {job.id} continues on the worker.", err=True)
        sys.exit(130)
    finally:
        progress.close()


def _warn_without_workers(job: Job) -> None:
    from redis.exceptions import RedisError
    from rq import Queue
    from rq.worker import Worker

    try:
        if Worker.count(queue=Queue(job.origin, connection=job.connection)) == 0:
            click.echo("No worker is running yet: start one with `cpi worker`.", err=True)
    except RedisError:
        pass


def _result(job: Job) -> str:
    result = job.return_value() or {}
    if not result.get("ok"):
        raise click.ClickException(result.get("error") or f"job {job.id} failed")
    return str(result.get("message", ""))


def _failure(job: Job, status: JobStatus) -> str:
    latest = job.latest_result()
    detail = ""
    if latest is not None and latest.exc_string:
        detail = ": " + latest.exc_string.strip().splitlines()[-1]
    return f"job {job.id} {status.value} on the worker{detail}"
