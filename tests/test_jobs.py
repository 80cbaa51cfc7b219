"""Jobs on a real Redis, run by real ``cpi worker`` processes, mail into a real SMTP server."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from jobs_support import WorkerProcess
from sqlalchemy import func, select, update
from support import SmtpServer, free_port, wait_until
from survey_support import LINK, setup_campaign

from cpi.db import database
from cpi.mail.models import OutboxMessage
from cpi.surveys.models import Campaign, Invitation
from cpi.timeutil import utcnow

pytestmark = [pytest.mark.slow, pytest.mark.database]


def contacts_csv(n: int) -> str:
    rows = ["account_id,account_name,segment,contact_email,contact_name"]
    for i in range(n):
        rows.append(f"ACC-{i % 7:03d},Account {i % 7},Healthcare,person{i:04d}@example.test,P {i}")
    return "\n".join(rows) + "\n"


@pytest.fixture
def app_config(app_config, redis_server, smtp_server):  # type: ignore[no-untyped-def]
    return {
        **app_config,
        "REDIS_URL": redis_server.url,
        "MAIL_URL": smtp_server.url,
        "JOBS_WAIT_SECONDS": 120,
    }


def change(app: Any, *statements: Any) -> None:
    """Write as the app does (a write transaction), while the worker writes too."""
    with database(app).transaction() as session:
        for statement in statements:
            session.execute(statement)


def outbox_states(db: Any) -> dict[str, int]:
    db.rollback()
    rows = db.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status))
    return dict(rows.all())


def test_a_campaign_is_sent_through_the_worker_into_smtp(
    app, runner, write_csv, db, worker: WorkerProcess, smtp_server: SmtpServer, client
) -> None:  # type: ignore[no-untyped-def]
    campaign_id = setup_campaign(runner, write_csv, contacts=contacts_csv(30))
    worker.start()
    result = runner.invoke("send", str(campaign_id))
    assert result.exit_code == 0, result.output + worker.log()
    assert "queued as job" in result.output
    assert f"campaign {campaign_id}: 30 invitations queued" in result.output
    assert "delivery: sent 30, retrying later 0, bounced 0" in result.output

    received = smtp_server.handler.recipients()
    assert len(received) == 30 and set(received.values()) == {1}
    assert outbox_states(db) == {"sent": 30}
    # The link in a delivered email opens the survey.
    message = smtp_server.handler.messages[0]
    token = LINK.search(message.get_body(("plain",)).get_content()).group(1)
    assert client.get(f"/s/{token}").status_code == 200

    # Sending again through the worker sends nothing twice.
    again = runner.invoke("send", str(campaign_id))
    assert again.exit_code == 0, again.output
    assert "0 invitations queued" in again.output
    assert sum(smtp_server.handler.recipients().values()) == 30


def test_worker_killed_mid_send_and_restarted_sends_each_email_once(
    app, runner, write_csv, db, worker: WorkerProcess, smtp_server: SmtpServer
) -> None:  # type: ignore[no-untyped-def]
    campaign_id = setup_campaign(runner, write_csv, contacts=contacts_csv(60))

    def kill_during_the_20th(attempt: int) -> str | None:
        # The worker dies while the 20th message is on the wire: the server has not
        # accepted it, the outbox row says "sending". A new worker takes over.
        if attempt == 20:
            worker.kill()
            worker.start()
            return "451 connection lost"
        return None

    smtp_server.handler.on_data = kill_during_the_20th
    worker.start()
    result = runner.invoke("send", str(campaign_id))
    assert result.exit_code == 0, result.output + worker.log()
    assert worker.starts == 2
    assert "requeued job" in worker.log()

    received = smtp_server.handler.recipients()
    assert len(received) == 60, worker.log()
    assert set(received.values()) == {1}, [a for a, n in received.items() if n > 1]
    assert outbox_states(db) == {"sent": 60}
    db.rollback()
    assert db.scalar(select(func.count()).where(Invitation.sent_at.is_not(None))) == 60


def test_redis_down_when_queueing_changes_nothing(
    app, app_config, runner, write_csv, db, redis_server, smtp_server: SmtpServer
) -> None:  # type: ignore[no-untyped-def]
    campaign_id = setup_campaign(runner, write_csv, contacts=contacts_csv(5))
    redis_server.stop()
    for args in (("send", str(campaign_id)), ("remind", str(campaign_id)), ("outbox", "deliver")):
        result = runner.invoke(*args, expect_exit=1)
        assert result.exit_code == 1, result.output
        assert re.search(r"cannot reach the job queue at redis://127\.0\.0\.1:\d+/0", result.output)
        assert "nothing was queued" in result.output
    db.rollback()
    assert db.scalar(select(func.count()).select_from(Invitation)) == 0
    assert db.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    assert db.scalar(select(Campaign.status).where(Campaign.id == campaign_id)) == "draft"
    assert smtp_server.handler.attempts == 0


def test_a_bad_request_fails_with_its_message_and_is_not_retried(
    app, runner, worker: WorkerProcess
) -> None:  # type: ignore[no-untyped-def]
    worker.start()
    result = runner.invoke("send", "4242", expect_exit=1)
    assert result.exit_code == 1
    assert "no campaign with id 4242" in result.output


def test_the_schedule_closes_campaigns_reminds_and_retries_the_outbox(
    app, runner, write_csv, db, worker: WorkerProcess, smtp_server: SmtpServer
) -> None:  # type: ignore[no-untyped-def]
    reminded = setup_campaign(runner, write_csv, "--remind-after", "2", contacts=contacts_csv(4))
    closing = setup_campaign(runner, write_csv, contacts=contacts_csv(4))
    worker.start()
    # The mail server refuses for now: the invitations wait in the outbox for a retry.
    smtp_server.handler.on_data = lambda attempt: "421 try later"
    result = runner.invoke("send", str(reminded))
    assert result.exit_code == 0, result.output
    assert "retrying later 4" in result.output
    assert outbox_states(db) == {"queued": 4}

    # The server is back and the retry time comes: the schedule delivers them.
    smtp_server.handler.on_data = None
    change(app, update(OutboxMessage).values(next_attempt_at=utcnow() - timedelta(minutes=1)))
    wait_until(lambda: outbox_states(db) == {"sent": 4}, 60, "the outbox retry")

    # Days pass: reminders are due after 2 days; the other campaign's closing day is over.
    past = utcnow() - timedelta(days=3)
    change(
        app,
        update(Invitation).values(sent_at=past),
        update(Campaign).where(Campaign.id == closing).values(closes_on=past.date()),
    )
    wait_until(lambda: outbox_states(db) == {"sent": 8}, 60, "the reminders")
    wait_until(
        lambda: (
            db.rollback()
            or db.scalar(select(Campaign.status).where(Campaign.id == closing)) == "closed"
        ),
        60,
        "the campaign to close",
    )
    # Later ticks send nothing more: the next reminder waits 2 days after this one.
    ticks = worker.log().count("Scheduled work")
    wait_until(lambda: worker.log().count("Scheduled work") >= ticks + 4, 60, "more ticks")
    assert outbox_states(db) == {"sent": 8}
    kinds = db.execute(select(OutboxMessage.kind, func.count()).group_by(OutboxMessage.kind))
    assert dict(kinds.all()) == {"invitation": 4, "reminder": 4}
    assert sum(smtp_server.handler.recipients().values()) == 8


def test_worker_needs_a_queue(app_config, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from click.testing import CliRunner
    from flask.cli import ScriptInfo

    from cpi import create_app
    from cpi.cli import cli

    config = {k: v for k, v in app_config.items() if k != "REDIS_URL"}
    app = create_app(config)
    result = CliRunner().invoke(cli, ["worker"], obj=ScriptInfo(create_app=lambda: app))
    assert result.exit_code == 1
    assert "CPI_REDIS_URL is not set" in result.output


def test_worker_refuses_to_start_without_redis(app_config) -> None:  # type: ignore[no-untyped-def]
    from click.testing import CliRunner
    from flask.cli import ScriptInfo

    from cpi import create_app
    from cpi.cli import cli

    app = create_app({**app_config, "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"})
    result = CliRunner().invoke(cli, ["worker"], obj=ScriptInfo(create_app=lambda: app))
    assert result.exit_code == 1
    assert "cannot reach the job queue" in result.output
