"""The follow-ups feature's background work: the alert digest (periodic on the worker)."""

from __future__ import annotations

from flask import current_app

from cpi.db import database
from cpi.followups.operations import has_pending, send_digests
from cpi.jobs.progress import TaskProgress
from cpi.jobs.tasks import task
from cpi.mail.tasks import deliver, delivery_line
from cpi.timeutil import utcnow

DEFAULT_DIGEST_HOUR = 7  # UTC: digests go out on the first run from this hour on


@task("followup_digest", label="Follow-up alert digests", timeout=3600, periodic=True)
def followup_digest(progress: TaskProgress, force: bool = False) -> str:
    """Queue each staff user's pending alerts (a daily digest for who chose it, from
    CPI_FOLLOWUP_DIGEST_HOUR on; ``force`` ignores the hour), then deliver them."""
    now = utcnow()
    hour = int(current_app.config.get("FOLLOWUP_DIGEST_HOUR", DEFAULT_DIGEST_HOUR))
    if not force and now.hour < hour:
        return f"digests: not before {hour:02d}:00 UTC"
    db = database()
    reader = db.session()
    try:
        waiting = has_pending(reader)
    finally:
        reader.close()
    if not waiting:  # the usual tick: one read, no write lock taken
        return "digests: nothing waiting"
    with db.transaction() as session:
        report = send_digests(session, now)
    # Immediate alerts are delivered by whatever delivers the outbox (the schedule tick,
    # `cpi outbox deliver`); digests are delivered here once queued.
    delivery = delivery_line(deliver(progress)) if report.emails else "nothing to deliver"
    return f"digests: {report.emails} email(s) with {report.followups} follow-up(s); {delivery}"
