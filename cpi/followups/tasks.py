"""The follow-ups feature's background work: the alert digest (periodic on the worker)."""

from __future__ import annotations

from flask import current_app

from cpi.db import database
from cpi.followups.operations import send_digests
from cpi.jobs.progress import TaskProgress
from cpi.jobs.tasks import task
from cpi.mail.tasks import deliver, delivery_line
from cpi.timeutil import utcnow

DEFAULT_DIGEST_HOUR = 7  # UTC: digests go out on the first run from this hour on


@task("followup_digest", label="Follow-up alert digests", timeout=3600, periodic=True)
def followup_digest(progress: TaskProgress, force: bool = False) -> str:
    """Queue each staff user's pending alerts (a daily digest for who chose it, from
    CPI_FOLLOWUP_DIGEST_HOUR on; ``force`` ignores the hour), then deliver the outbox."""
    now = utcnow()
    hour = int(current_app.config.get("FOLLOWUP_DIGEST_HOUR", DEFAULT_DIGEST_HOUR))
    if not force and now.hour < hour:
        return f"digests: not before {hour:02d}:00 UTC"
    with database().transaction() as session:
        report = send_digests(session, now)
    return (
        f"digests: {report.emails} email(s) with {report.followups} follow-up(s); "
        f"{delivery_line(deliver(progress))}"
    )
