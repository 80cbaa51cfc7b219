"""The mail feature's background work: delivering the outbox (``cpi outbox deliver``)."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import update

from cpi.db import database
from cpi.jobs.progress import TaskProgress
from cpi.jobs.tasks import TaskError, task
from cpi.jobs.turn import exclusive_turn
from cpi.mail.compose import parse_sender
from cpi.mail.models import OutboxMessage
from cpi.mail.outbox import DeliveryReport, count_due, deliver_outbox
from cpi.timeutil import utcnow


def deliver(progress: TaskProgress, *, requeue_interrupted: bool = False) -> DeliveryReport | None:
    """Deliver everything due, in rounds, until nothing is left (new mail joins a next round).

    On a worker only the holder of the delivery turn sends; the others leave it the work
    (None). ``requeue_interrupted`` sends again what a sender that died left in "sending".
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    db = database()
    _, sender = parse_sender(str(app.config["MAIL_FROM"]))
    total = DeliveryReport()
    with exclusive_turn("outbox") as turn:
        if turn is None:
            return None
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
        while True:
            due = count_due(db)
            if not due:
                break
            progress.start(due, "Delivering")

            def advance(n: int) -> None:
                progress.update(n)
                turn.extend()

            report = deliver_outbox(
                db,
                str(app.config["MAIL_URL"]),
                sender,
                requeue_interrupted=requeue_interrupted,
                timeout=float(app.config.get("MAIL_TIMEOUT", 30)),
                on_progress=advance,
            )
            requeue_interrupted = False  # done by the first round
            total.sent += report.sent
            total.retrying += report.retrying
            total.bounced += report.bounced
            total.unavailable = report.unavailable
            total.interrupted = report.interrupted
            if report.unavailable or not (report.sent or report.bounced):
                break  # no server, or everything left waits for its retry time
    return total


def delivery_line(report: DeliveryReport | None) -> str:
    if report is None:
        return "delivery: another worker is delivering the outbox; it sends these too"
    return f"delivery: {report.summary()}"


@task("deliver_outbox", label="Delivering the outbox", timeout=6 * 3600)
def deliver_outbox_task(progress: TaskProgress, requeue_interrupted: bool = False) -> str:
    """``cpi outbox deliver``: fails (exit 1) when the mail server is unavailable."""
    report = deliver(progress, requeue_interrupted=requeue_interrupted)
    if report is not None and report.unavailable:
        raise TaskError(delivery_line(report))
    return delivery_line(report)
