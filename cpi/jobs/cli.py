"""``cpi worker``."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from cpi.core_cli import configure_logging, require_schema


@click.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty (for tests and cron).")
@click.option(
    "--no-schedule", is_flag=True, help="Run jobs only; another worker runs the schedule."
)
@click.option(
    "--interval",
    type=float,
    default=None,
    help="Seconds between schedule ticks (default CPI_SCHEDULE_INTERVAL or 60).",
)
@click.option("--log-format", type=click.Choice(["json", "text"]), default=None)
@with_appcontext
def worker_command(
    burst: bool, no_schedule: bool, interval: float | None, log_format: str | None
) -> None:
    """Run background jobs and the schedule from the Redis queue named by CPI_REDIS_URL."""
    from cpi.jobs.extra import require_redis

    require_redis()  # one line naming the redis extra when it is not installed
    from cpi.jobs import queue as job_queue
    from cpi.jobs.worker import run_worker

    redis_url = current_app.config.get("REDIS_URL")
    if not redis_url:
        raise click.ClickException(
            "CPI_REDIS_URL is not set: without a queue, commands run their work themselves "
            "and `cpi outbox deliver` retries the outbox"
        )
    interval = interval or float(current_app.config.get("SCHEDULE_INTERVAL") or 60)
    try:
        job_queue.connect(redis_url).ping()
    except Exception as error:  # noqa: BLE001 - any failure here is "cannot reach Redis"
        raise click.ClickException(
            f"cannot reach the job queue at {job_queue.describe(redis_url)} ({error})"
        ) from None
    require_schema()
    configure_logging(log_format)
    run_worker(redis_url, burst=burst, schedule=not no_schedule, interval=interval)
