"""The schedule and the delivery turn on a real (private) Redis, through RQ's public API."""

from __future__ import annotations

import os
import socket
import threading

import pytest

pytestmark = pytest.mark.slow


@pytest.fixture
def queue(app, redis_server):  # type: ignore[no-untyped-def]
    from rq import Queue

    from cpi.jobs import queue as job_queue

    return Queue(job_queue.QUEUE_NAME, connection=job_queue.connect(redis_server.url))


def test_workers_starting_together_start_the_schedule_once(queue) -> None:  # type: ignore[no-untyped-def]
    from rq.job import Job, JobStatus

    from cpi.jobs.worker import ensure_schedule, periodic_job_id

    started: list[list[str]] = []
    barrier = threading.Barrier(4)

    def start_a_worker() -> None:
        barrier.wait()
        started.append(ensure_schedule(queue, 60))

    threads = [threading.Thread(target=start_a_worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    periodic = ["schedule_tick", "followup_digest"]
    assert sorted(started) == [[], [], [], periodic]
    assert sorted(queue.job_ids) == sorted(periodic_job_id(name) for name in periodic)
    job = Job.fetch(periodic_job_id("schedule_tick"), connection=queue.connection)
    assert job.get_status() == JobStatus.QUEUED
    assert job.repeat_intervals == [60] and job.repeats_left and job.repeats_left > 1000

    # A worker started with another interval replaces the waiting job: still one.
    assert ensure_schedule(queue, 5) == periodic
    assert sorted(queue.job_ids) == sorted(periodic_job_id(name) for name in periodic)
    assert Job.fetch(queue.job_ids[0], connection=queue.connection).repeat_intervals == [5]


def test_the_delivery_turn_is_taken_over_from_a_dead_worker_only(redis_server) -> None:  # type: ignore[no-untyped-def]
    from cpi.jobs import queue as job_queue
    from cpi.jobs.turn import hold

    connection = job_queue.connect(redis_server.url)
    host = socket.gethostname()
    alive = f"{host}.{os.getppid()}.alive000"  # a running process, registered as a worker
    connection.set(f"rq:worker:{alive}", "1")
    dead = f"{host}.999999999.dead0000"  # no such process, no registration
    key = "cpi:turn:outbox"

    with hold(redis_server.url, key, alive) as turn:
        assert turn is not None and turn.locked
        with hold(redis_server.url, key, f"{host}.{os.getpid()}.other000") as other:
            assert other is None  # its holder is alive
        assert connection.get(key) == alive.encode()
    assert connection.get(key) is None  # released

    connection.set(key, dead, ex=300)
    with hold(redis_server.url, key, alive) as turn:
        assert turn is not None  # the dead worker's turn is taken over at once
        assert connection.get(key) == alive.encode()
        turn.extend()
        assert connection.ttl(key) > 200
