"""The tasks: deliver the outbox, the schedule tick (and, wired from the features' commands,
sending, reminders, PDF batches and large imports)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import current_app
from sqlalchemy import update

from cpi.db import database, get_session
from cpi.jobs import outbox_lock
from cpi.jobs.progress import TaskProgress
from cpi.jobs.tasks import SCHEDULE_TASK, TaskError, task
from cpi.timeutil import utcnow


@contextmanager
def _delivery_turn() -> Iterator[outbox_lock.Turn | None]:
    """On a worker, the outbox lock (None: another worker is delivering); in-process, no lock."""
    redis_url = current_app.config.get("REDIS_URL")
    if not redis_url or not _on_a_worker():
        yield outbox_lock.Turn.unlocked()
        return
    # RQ names the worker that forked this horse in the environment.
    with outbox_lock.hold(redis_url, os.environ.get("RQ_WORKER_ID", "-")) as turn:
        yield turn


def _on_a_worker() -> bool:
    try:
        from rq import get_current_job
    except ImportError:  # without the redis extra nothing runs on a worker
        return False
    return get_current_job() is not None


def deliver(progress: TaskProgress) -> str:
    return deliver_report(progress)[0]


def deliver_report(progress: TaskProgress) -> tuple[str, bool]:
    """Deliver everything due, in rounds, until nothing is left (new mail joins a next round).

    Returns the summary line and whether the mail server was unavailable.
    """
    from cpi.mail.models import OutboxMessage
    from cpi.mail.outbox import DeliveryReport, count_due
    from cpi.surveys import sending

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    db = database()
    total = DeliveryReport()
    with _delivery_turn() as turn:
        if turn is None:
            return "delivery: another worker is delivering the outbox; it sends these too", False
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

            report = sending.deliver(app, on_progress=advance)
            total.sent += report.sent
            total.retrying += report.retrying
            total.bounced += report.bounced
            total.unavailable = report.unavailable
            if report.unavailable or not (report.sent or report.bounced):
                break  # no server, or everything left waits for its retry time
    return f"delivery: {total.summary()}", total.unavailable is not None


def _campaign_error(error: Exception) -> TaskError:
    return TaskError(str(error))


@task("send_campaign", label="Sending the campaign", timeout=12 * 3600)
def send_campaign(progress: TaskProgress, campaign_id: int) -> str:
    """``cpi send`` on a worker: queue the invitations (resumable), then deliver them."""
    from cpi.surveys import sending
    from cpi.surveys.campaigns import CampaignError, get_campaign
    from cpi.surveys.invitations import count_uninvited

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        with database().transaction() as session:
            campaign = get_campaign(session, campaign_id)
            progress.start(count_uninvited(session, campaign), "Queueing invitations")
        report = sending.send_campaign(
            app, campaign_id, deliver_now=False, on_progress=progress.update
        )
    except CampaignError as error:
        raise _campaign_error(error) from None
    lines = [f"campaign {campaign_id}: {report.queued} invitations queued"]
    lines += [f"skipped {line}" for line in report.skipped]
    lines.append(deliver(progress))
    return "\n".join(lines)


@task("remind_campaign", label="Sending reminders", timeout=12 * 3600)
def remind_campaign(progress: TaskProgress, campaign_id: int, after_days: int) -> str:
    """``cpi remind`` on a worker."""
    from cpi.surveys import sending
    from cpi.surveys.campaigns import CampaignError

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        report = sending.remind_campaign(app, campaign_id, after_days=after_days, deliver_now=False)
    except CampaignError as error:
        raise _campaign_error(error) from None
    lines = [f"campaign {campaign_id}: {report.queued} reminders queued"]
    lines += [f"skipped {line}" for line in report.skipped]
    lines.append(deliver(progress))
    return "\n".join(lines)


@task("deliver_outbox", label="Delivering the outbox", timeout=6 * 3600)
def deliver_outbox_task(progress: TaskProgress) -> str:
    """``cpi outbox deliver`` on a worker: fails (exit 1) when the mail server is unavailable."""
    summary, unavailable = deliver_report(progress)
    if unavailable:
        raise TaskError(f"{summary}; messages stay queued")
    return summary


@task(SCHEDULE_TASK, label="Scheduled work", timeout=6 * 3600)
def schedule_tick(progress: TaskProgress) -> str:
    """Close campaigns past their closing day, queue due reminders, retry the outbox."""
    from cpi.surveys.campaigns import close_due_campaigns

    with database().transaction() as session:
        closed = close_due_campaigns(session)
    reminded = _queue_due_reminders()
    return f"closed {closed} campaign(s); {reminded} reminder(s) queued; {deliver(progress)}"


def _queue_due_reminders() -> int:
    """For each open campaign with a reminder setting, remind whoever is due (at most 2 each)."""
    from sqlalchemy import select

    from cpi.surveys import sending
    from cpi.surveys.campaigns import CampaignError
    from cpi.surveys.models import Campaign

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    with database().transaction() as session:
        campaigns = list(
            session.execute(
                select(Campaign.id, Campaign.remind_after_days).where(
                    Campaign.status == "open", Campaign.remind_after_days.is_not(None)
                )
            )
        )
    queued = 0
    for campaign_id, after_days in campaigns:
        try:
            report = sending.remind_campaign(
                app, campaign_id, after_days=after_days, deliver_now=False
            )
        except CampaignError:
            continue  # closed since we looked
        queued += report.queued
    return queued


@task("render_scorecards", label="Rendering PDF scorecards", timeout=24 * 3600)
def render_scorecards(
    progress: TaskProgress, period: str, output: str, processes: int | None = None
) -> str:
    """``cpi scorecard --all-accounts`` on a worker.

    Into a folder, a rerun of the same job (after its worker died) renders only the
    accounts whose PDF it has not yet written, so each PDF is produced once; a .zip is
    written whole under a temporary name, so a rerun simply writes it again.
    """
    from cpi.scorecards.batch import render_account_pdfs
    from cpi.scorecards.operations import load_scoring_data
    from cpi.scorecards.rendering import pdf_filename
    from cpi.scoring import Period

    try:
        parsed = Period.parse(period)
    except ValueError:
        raise TaskError(f"{period!r} is not a period like 2026-Q3 or 2026") from None
    started = progress.remember("started", time.time())
    accounts = sorted(load_scoring_data(get_session(), parsed).accounts)
    destination = Path(output)
    todo = accounts
    if destination.suffix.lower() != ".zip" and destination.is_dir():
        done = {
            account
            for account in accounts
            if _written_since(destination / pdf_filename(account, str(parsed)), started)
        }
        todo = [account for account in accounts if account not in done]
    progress.start(len(accounts), "Rendering PDFs")
    progress.update(len(accounts) - len(todo))
    result = render_account_pdfs(
        parsed, destination, account_ids=todo, processes=processes, progress=progress.update
    )
    written = result.written + len(accounts) - len(todo)
    if result.failed:
        raise TaskError(
            "; ".join(f"failed: {line}" for line in result.failed)
            + f"; {len(result.failed)} PDF(s) could not be produced"
        )
    return f"Wrote {written} PDF scorecards for {parsed} to {output}"


def _written_since(path: Path, started: float) -> bool:
    try:
        return path.stat().st_mtime >= started - 1
    except FileNotFoundError:
        return False


@task("import_csv", label="Importing", timeout=6 * 3600)
def import_csv_task(progress: TaskProgress, kind: str, path: str, name: str) -> str:
    """A large ``cpi import`` on a worker, from the copy the command staged for it.

    One transaction, as in-process: a worker killed mid-import leaves nothing, and the
    rerun (the staged copy is kept until the import ends) imports the file once.
    """
    from cpi.audit.operations import record
    from cpi.imports.csvfile import ImportFailed
    from cpi.imports.operations import import_csv

    staged = Path(path)
    if not staged.is_file():
        raise TaskError(f"{name}: the staged copy {staged} is gone; run the import again")
    size = staged.stat().st_size
    progress.start(size, f"Importing {kind}")
    try:
        with open(staged, "rb") as raw, database().transaction() as session:
            done = 0

            def advance(_rows: int) -> None:
                nonlocal done
                position = raw.tell()
                progress.update(position - done)
                done = position

            summary = import_csv(session, kind, raw, progress=advance)
            record(session, "cli", f"import.{kind}", f"{name}: {summary.rows} rows")
    except ImportFailed as failure:
        staged.unlink(missing_ok=True)
        raise TaskError(
            f"{failure.report()}\n{name}: nothing imported; {failure.total} problem(s) listed above"
        ) from None
    staged.unlink(missing_ok=True)
    return (
        f"Imported {summary.rows} {kind} rows from {name} "
        f"({summary.created} new, {summary.updated} updated or unchanged)"
    )
