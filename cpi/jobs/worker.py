"""``cpi worker``: an RQ worker, a schedule, and recovery of work a dead worker left behind.

Each job runs in a forked work horse (RQ's default): a job that leaks memory or hangs
dies with its horse, and ``job_timeout`` is enforced by killing it. Our horse also asks
the kernel to kill it when its worker dies, so a worker killed with SIGKILL never leaves
an orphan still working beside the job's second run.

Recovery: a worker is named ``<host>.<pid>.<nonce>``. On start, and before every
schedule tick, jobs still marked as started by a worker that is gone (its registration
expired, or it ran on this host and its process no longer exists) are put back on the
queue. RQ alone would notice only after the job's heartbeat expires and its cleanup runs.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import socket
import threading
import uuid
from typing import Any

from cpi.jobs import tasks
from cpi.jobs.extra import RedisExtraMissing

try:
    from redis import Redis
    from redis.exceptions import RedisError
    from rq import Queue
    from rq.exceptions import NoSuchJobError
    from rq.executions import Execution
    from rq.job import Job, JobStatus
    from rq.worker import Worker
except ImportError as error:
    raise RedisExtraMissing(error.name or "redis") from None

from cpi.jobs import queue as job_queue

log = logging.getLogger("cpi.worker")

PR_SET_PDEATHSIG = 1


def worker_name() -> str:
    return f"{socket.gethostname()}.{os.getpid()}.{uuid.uuid4().hex[:8]}"


def _die_with_parent() -> None:
    """Linux: SIGKILL this process when the worker that forked it dies."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        return  # not Linux: a worker killed mid-job may leave its horse to finish alone


class CpiWorker(Worker):
    def main_work_horse(self, job: Job, queue: Queue) -> None:
        parent = os.getppid()
        _die_with_parent()
        if os.getppid() != parent:  # the worker died between fork and prctl
            os._exit(1)
        super().main_work_horse(job, queue)


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
    host, _, rest = name.partition(".")
    pid_text = rest.split(".", 1)[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False  # another machine: wait for its registration to expire
    pid = int(pid_text)
    # Our own pid under another name is a previous life of this process (a container
    # restarted with the same pid).
    return pid == os.getpid() or not process_alive(pid)


def requeue_abandoned(queue: Queue, *, me: str | None = None) -> list[str]:
    """Put back on the queue every started job whose worker is gone; return their ids."""
    connection = queue.connection
    # Several workers check at once; only one of them may requeue, or a job would run twice.
    if not connection.set("cpi:recovery", me or "-", nx=True, ex=30):
        return []
    try:
        return _requeue_abandoned(queue, connection, me)
    finally:
        connection.delete("cpi:recovery")


def _requeue_abandoned(queue: Queue, connection: Redis, me: str | None) -> list[str]:
    registry = queue.started_job_registry
    requeued = []
    for job_id, execution_id in registry.get_job_and_execution_ids(cleanup=False):
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
            execution.delete(job=job, pipeline=pipeline)
            if job.get_status(refresh=False) == JobStatus.STARTED:
                queue._enqueue_job(job, pipeline=pipeline, at_front=True)
            pipeline.execute()
        requeued.append(job_id)
        log.warning(
            "requeued job %s (%s): its worker %s is gone",
            job_id,
            job.description,
            execution.worker_name,
        )
    return requeued


class Schedule(threading.Thread):
    """Every ``interval`` seconds, one worker among all of them queues the schedule tick.

    The tick itself (close campaigns, reminders, outbox) is an ordinary idempotent job,
    so it runs in a horse with the same timeouts and recovery as any other.
    """

    def __init__(self, redis_url: str, name: str, interval: float) -> None:
        super().__init__(name="cpi-schedule", daemon=True)
        self.redis_url = redis_url
        self.worker = name
        self.interval = interval
        self.stopped = threading.Event()

    def run(self) -> None:
        connection = job_queue.connect(self.redis_url)
        queue = Queue(job_queue.QUEUE_NAME, connection=connection)
        while True:
            try:
                self.tick(connection, queue)
            except RedisError as error:
                log.warning("schedule: Redis unavailable (%s); trying again", error)
            if self.stopped.wait(self.interval):
                return

    def tick(self, connection: Redis, queue: Queue) -> None:
        requeue_abandoned(queue, me=self.worker)
        # One tick per interval across every worker; the key expires just before the next.
        expiry = max(int(self.interval) - 1, 1)
        if connection.set("cpi:schedule:tick", self.worker, nx=True, ex=expiry):
            job_queue.enqueue(
                self.redis_url,
                tasks.SCHEDULE_TASK,
                {},
                timeout=int(max(self.interval * 10, 600)),
                label="Scheduled work",
            )


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
    requeue_abandoned(queue, me=name)
    scheduler = Schedule(redis_url, name, interval) if schedule else None
    worker = CpiWorker([queue], connection=connection, name=name, maintenance_interval=60)
    if scheduler is not None:
        scheduler.start()
    try:
        options: dict[str, Any] = {"burst": burst, "logging_level": "INFO"}
        if max_jobs:
            options["max_jobs"] = max_jobs
        return bool(worker.work(**options))
    finally:
        if scheduler is not None:
            scheduler.stopped.set()
