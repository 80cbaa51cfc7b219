"""The tasks: deliver the outbox, the schedule tick (and, wired from the features' commands,
sending, reminders, PDF batches and large imports)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from flask import current_app
from rq import get_current_job
from sqlalchemy import update

from cpi.db import database
from cpi.jobs import outbox_lock
from cpi.jobs.progress import TaskProgress
from cpi.jobs.tasks import SCHEDULE_TASK, task
from cpi.timeutil import utcnow


@contextmanager
def _delivery_turn() -> Iterator[outbox_lock.Turn | None]:
    """On a worker, the outbox lock (None: another worker is delivering); in-process, no lock."""
    redis_url = current_app.config.get("REDIS_URL")
    if not redis_url or get_current_job() is None:
        yield outbox_lock.Turn.unlocked()
        return
    # RQ names the worker that forked this horse in the environment.
    with outbox_lock.hold(redis_url, os.environ.get("RQ_WORKER_ID", "-")) as turn:
        yield turn


def deliver(progress: TaskProgress) -> str:
    """Deliver everything due, in rounds, until nothing is left (new mail joins the next round)."""
    from cpi.mail.models import OutboxMessage
    from cpi.mail.outbox import count_due, deliver_outbox

    db = database()
    with _delivery_turn() as turn:
        if turn is None:
            return "another worker is delivering the outbox; it takes these messages too"
        if turn.locked:
            # We hold the only delivery turn, so a message still marked "sending" was being
            # sent by a worker that died: the server never accepted it unless the worker
            # died in the instant between the server's "250 OK" and our commit.
            with db.transaction() as session:
                session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.status == "sending")
                    .values(status="queued", next_attempt_at=utcnow())
                    .execution_options(synchronize_session=False)
                )
        sent = retrying = bounced = 0
        notes: list[str] = []
        while True:
            due = count_due(db)
            if not due:
                break
            progress.start(due)

            def advance(n: int) -> None:
                progress.update(n)
                turn.extend()

            report = deliver_outbox(
                db,
                current_app.config["MAIL_URL"],
                current_app.config["MAIL_FROM"],
                limit=1000,
                on_progress=advance,
            )
            sent, retrying, bounced = (
                sent + report.sent,
                retrying + report.retrying,
                bounced + report.bounced,
            )
            if report.unavailable:
                notes.append(
                    f"mail server unavailable ({report.unavailable}): the rest stays queued"
                )
                break
            if not (report.sent or report.bounced):
                break  # everything left is waiting for its retry time
    summary = f"Outbox: sent {sent}, retrying later {retrying}, bounced {bounced}"
    return "; ".join([summary, *notes])


@task("deliver_outbox", label="Delivering the outbox", timeout=6 * 3600)
def deliver_outbox_task(progress: TaskProgress) -> str:
    return deliver(progress)


@task(SCHEDULE_TASK, label="Scheduled work", timeout=6 * 3600)
def schedule_tick(progress: TaskProgress) -> str:
    """Close campaigns past their closing day, queue due reminders, retry the outbox."""
    from cpi.surveys.operations import close_due_campaigns

    with database().transaction() as session:
        closed = close_due_campaigns(session)
    reminded = _queue_due_reminders()
    outbox = deliver(progress)
    return f"closed {closed} campaign(s); queued {reminded} reminder(s); {outbox}"


def _queue_due_reminders() -> int:
    return 0
