"""``cpi worker``: an RQ worker with RQ's scheduler, and recovery of work a dead worker left.

Each job runs in a forked work horse (RQ's default): a job that leaks memory or hangs
dies with its horse, and ``job_timeout`` is enforced by killing it. The horse asks the
kernel to kill it when its worker dies (:func:`cpi.jobs.runner.die_with_worker`), so a
worker killed with SIGKILL never leaves an orphan still working beside the job's second
run.

The schedule: each periodic task is one RQ job repeated every ``interval`` seconds
(``Repeat``), moved onto the queue by RQ's scheduler (``work(with_scheduler=True)``),
which runs in whichever worker holds RQ's scheduler lock. A worker starting makes sure
each periodic job exists, under a redis-py ``Lock`` so that two starting together
create it once.

Recovery: a worker is named ``<host>.<pid>.<nonce>``. When a worker starts, and at
every run of a periodic task, jobs still marked as started by a worker that is gone
(its registration expired, or it ran on this host and its process no longer exists)
are put back on the queue. RQ alone would notice only after the job's heartbeat
expires and its cleanup runs.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from typing import Any

from cpi.jobs import tasks
from cpi.jobs.extra import RedisExtraMissing

try:
    from redis import Redis
    from rq import Queue, Repeat
    from rq.exceptions import NoSuchJobError
    from rq.executions import Execution
    from rq.job import Job, JobStatus
    from rq.worker import Worker
except ImportError as error:
    raise RedisExtraMissing(error.name or "redis") from None

from cpi.jobs import queue as job_queue

log = logging.getLogger("cpi.worker")

# A periodic job repeats this many times (RQ needs a number): years at one a minute;
# a worker starting after the last one starts it again.
REPEATS = 10_000_000
ALIVE = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.SCHEDULED, JobStatus.DEFERRED}


def worker_name() -> str:
    return f"{socket.gethostname()}.{os.getpid()}.{uuid.uuid4().hex[:8]}"


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def worker_gone(connection: Redis, name: str, *, me: str | None = None) -> bool:
    """True when the worker called ``name`` is certainly not running any more."""
    if not name or name == me:
        return False
    if not connection.exists(f"rq:worker:{name}"):
        return True
    host, pid_text, _nonce = (name.rsplit(".", 2) + ["", ""])[:3]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False  # another machine: wait for its registration to expire
    pid = int(pid_text)
    # Our own pid under another name is a previous life of this process (a container
    # restarted with the same pid).
    return pid == os.getpid() or not process_alive(pid)


def requeue_abandoned(connection: Redis, queue_name: str, *, me: str | None = None) -> list[str]:
    """Put back on the queue every started job whose worker is gone; return their ids."""
    # Several workers check at once; only one of them may requeue, or a job would run twice.
    lock = connection.lock("cpi:recovery", timeout=30, blocking=False)
    if not lock.acquire():
        return []
    try:
        return _requeue_abandoned(Queue(queue_name, connection=connection), me)
    finally:
        lock.release()


def _requeue_abandoned(queue: Queue, me: str | None) -> list[str]:
    connection = queue.connection
    requeued = []
    for job_id, execution_id in queue.started_job_registry.get_job_and_execution_ids(cleanup=False):
        try:
            execution = Execution.fetch(execution_id, job_id, connection)
        except ValueError:
            continue  # the execution expired: RQ's own cleanup handles the entry
        if not worker_gone(connection, execution.worker_name, me=me):
            continue
        try:
            job = Job.fetch(job_id, connection=connection)
        except NoSuchJobError:
            continue
        with connection.pipeline() as pipeline:
            pipeline.multi()  # one transaction: forget the dead execution, queue the job again
            execution.delete(job=job, pipeline=pipeline)
            if job.get_status(refresh=False) == JobStatus.STARTED:
                queue.enqueue_job(job, pipeline=pipeline, at_front=True)
            pipeline.execute()
        requeued.append(job_id)
        log.warning(
            "requeued job %s (%s): its worker %s is gone",
            job_id,
            job.description,
            execution.worker_name,
        )
    return requeued


def periodic_job_id(name: str) -> str:
    return f"cpi-every-{name}"


def ensure_schedule(queue: Queue, interval: float) -> list[str]:
    """Start the repetition of each periodic task that is not already repeating.

    Returns the names of the tasks started.
    """
    started = []
    seconds = max(int(interval), 1)
    with queue.connection.lock("cpi:schedule", timeout=30, blocking_timeout=30):
        for spec in tasks.periodic():
            job_id = periodic_job_id(spec.name)
            try:
                job = Job.fetch(job_id, connection=queue.connection)
            except NoSuchJobError:
                job = None
            if job is not None and job.get_status() in ALIVE:
                if job.repeat_intervals == [seconds] or job.get_status() == JobStatus.STARTED:
                    continue  # repeating (a running one keeps its interval until it ends)
                job.delete()  # another interval was asked for: this one replaces it
            queue.enqueue(
                job_queue.RUNNER,
                args=(spec.name, {}),
                job_id=job_id,
                job_timeout=int(max(interval * 10, 600)),
                result_ttl=int(max(interval * 10, 600)),
                failure_ttl=job_queue.RESULT_TTL,
                repeat=Repeat(times=REPEATS, interval=seconds),
                description=spec.label,
            )
            started.append(spec.name)
    return started


def run_worker(
    redis_url: str,
    *,
    burst: bool = False,
    schedule: bool = True,
    interval: float = 60.0,
    max_jobs: int | None = None,
) -> bool:
    """Run until stopped (SIGTERM/SIGINT finish the current job first); return True if it worked."""
    connection = job_queue.connect(redis_url, for_worker=True)
    queue = Queue(job_queue.QUEUE_NAME, connection=connection)
    name = worker_name()
    requeue_abandoned(connection, queue.name, me=name)
    if schedule:
        ensure_schedule(queue, interval)
    worker = Worker(
        [queue],
        connection=connection,
        name=name,
        maintenance_interval=60,
    )
    options: dict[str, Any] = {
        "burst": burst,
        "logging_level": "INFO",
        "with_scheduler": schedule,
    }
    if max_jobs:
        options["max_jobs"] = max_jobs
    return bool(worker.work(**options))
