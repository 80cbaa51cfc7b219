"""Campaigns in the staff app (issue 14, items 1-4): create, preview, send, remind, close,
follow the response rate, account managers' read-only view, recurring schedules."""

from __future__ import annotations

import csv
import html
import io
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update
from staff_support import OWNER_A, OWNER_B, small_dataset
from support import csrf_token
from survey_support import GOOD_ANSWERS, open_form, outbox_messages, token_of

from cpi.accounts.models import Account, Contact
from cpi.audit.models import AuditEvent
from cpi.rules.campaign_periods import period_problem, quarter_end, quarter_of
from cpi.scoring import Period
from cpi.surveys.models import Campaign, CampaignSchedule, Invitation, ScheduledCampaign
from cpi.timeutil import utcnow

LEAD = "lead@example.test"
PASSWORD = "password-123"
EVIL_NAME = '=HYPERLINK("http://evil.test","x")'
EVIL_CELL = '"' + EVIL_NAME.replace('"', '""') + '"'


def sign_in(client: Any, email: str) -> None:
    response = client.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf_token": csrf_token(client)}
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:300]


@pytest.fixture
def staff(runner, write_csv) -> None:  # type: ignore[no-untyped-def]
    small_dataset(runner, write_csv)
    extra = write_csv(
        "evil.csv",
        "account_id,account_name,segment,owner_email,contact_email,contact_name\n"
        f"ACC-2,Beta GmbH,Retail,{OWNER_B},evil@acc-2.test,{EVIL_CELL}\n",
    )
    result = runner.invoke("import", "contacts", str(extra))
    assert result.exit_code == 0, result.output


def this_quarter() -> str:
    return str(quarter_of(utcnow().date()))


def new_campaign(client: Any, **fields: str) -> Any:
    page = client.get("/campaigns/new")
    assert page.status_code == 200
    data = {
        "name": "Pulse",
        "period": this_quarter(),
        "scope": "company",
        "closes_on": quarter_end(quarter_of(utcnow().date())).isoformat(),
        "survey": "cpi-pulse",
        "csrf_token": csrf_token(page.get_data(as_text=True)),
    }
    data.update(fields)
    return client.post("/campaigns/new", data=data)


def post(client: Any, path: str, page: str, **data: Any) -> Any:
    token = csrf_token(client.get(page).get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **data})


def campaigns(db: Any) -> int:
    db.rollback()
    return db.scalar(select(func.count(Campaign.id)))


def test_lead_creates_previews_sends_and_follows_a_campaign(app, client, db, staff) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, LEAD)
    created = new_campaign(client, name="Retail <pulse>", scope="segment", segment="Retail",
                           remind_after_days="5")  # fmt: skip
    assert created.status_code == 302, created.get_data(as_text=True)
    campaign_id = db.scalar(select(Campaign.id))
    assert created.headers["Location"] == f"/campaigns/{campaign_id}"
    page = client.get(f"/campaigns/{campaign_id}").get_data(as_text=True)
    assert "Retail &lt;pulse&gt;" in page and "Send to 17 contacts" in page  # 8 + 8 + 1
    assert "draft" in page

    preview = client.get(f"/campaigns/{campaign_id}/preview").get_data(as_text=True)
    for subject_word in (
        "how did we do",
        "comment avons-nous",
        "Wie waren wir",
        "hogyan teljes",
        "как мы работали",
    ):
        assert subject_word in preview, subject_word
    assert outbox_messages(app) == []  # a preview sends nothing

    sent = post(client, f"/campaigns/{campaign_id}/send", f"/campaigns/{campaign_id}")
    assert sent.status_code == 302
    page = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert f"campaign {campaign_id}: 17 invitations queued." in page
    messages = outbox_messages(app)
    assert len(messages) == 17
    assert {m["To"].addresses[0].addr_spec.split("@")[1] for m in messages} == {
        "acc-1.test", "acc-2.test"}  # fmt: skip

    # Sending again invites nobody twice.
    again = post(client, f"/campaigns/{campaign_id}/send", f"/campaigns/{campaign_id}")
    assert "0 invitations queued" in client.get(again.headers["Location"]).get_data(as_text=True)
    assert len(outbox_messages(app)) == 17
    db.rollback()
    assert db.scalar(select(func.count(Invitation.id))) == 17

    # One customer answers: the page shows the new rate, overall and per group.
    answerer = next(m for m in messages if m["To"].addresses[0].addr_spec == "c1@acc-1.test")
    token = token_of(answerer)
    customer = app.test_client()
    response = customer.post(f"/s/{token}", data={**GOOD_ANSWERS,
                             "csrf_token": open_form(customer, token)})  # fmt: skip
    assert response.status_code == 303, response.status_code
    page = client.get(f"/campaigns/{campaign_id}").get_data(as_text=True)
    assert "5.9%" in page  # 1 of 17
    assert "12.5%" in page  # 1 of 8 at ACC-1
    assert "Not answered yet (16)" in page
    assert "c1@acc-1.test" not in page.split("Not answered yet")[1]
    assert "1 of 17 answered (5.9%)" in page  # the chart's words

    # The CSV of who has not answered: spreadsheet-safe.
    download = client.get(f"/campaigns/{campaign_id}/not-answered.csv")
    assert download.status_code == 200 and download.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(download.get_data(as_text=True))))
    assert len(rows) == 16 and all(r["status"] == "waiting" for r in rows)
    evil = next(r for r in rows if r["contact_email"] == "evil@acc-2.test")
    assert evil["contact_name"] == "'" + EVIL_NAME

    # Remind (nobody is due yet after 5 days), then close: the links stop taking answers.
    reminded = post(client, f"/campaigns/{campaign_id}/remind", f"/campaigns/{campaign_id}",
                    after_days="5")  # fmt: skip
    assert "0 reminders queued" in client.get(reminded.headers["Location"]).get_data(as_text=True)
    reminded = post(client, f"/campaigns/{campaign_id}/remind", f"/campaigns/{campaign_id}",
                    after_days="0")  # fmt: skip
    assert "16 reminders queued" in client.get(reminded.headers["Location"]).get_data(as_text=True)
    closed = post(client, f"/campaigns/{campaign_id}/close", f"/campaigns/{campaign_id}")
    assert closed.status_code == 302
    db.rollback()
    assert db.get(Campaign, campaign_id).status == "closed"
    actions = set(db.scalars(select(AuditEvent.action)))
    assert {"campaign.create", "campaign.send", "campaign.remind", "campaign.close",
            "export.not_answered"} <= actions  # fmt: skip
    page = client.get(f"/campaigns/{campaign_id}").get_data(as_text=True)
    assert "Close now" not in page


def test_chosen_accounts_and_portfolio_scopes(app, client, db, staff) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, LEAD)
    assert new_campaign(client, scope="accounts", account_ids="ACC-3, ACC-2").status_code == 302
    assert new_campaign(client, scope="owner", owner_email=OWNER_A).status_code == 302
    db.rollback()
    chosen, portfolio = db.scalars(select(Campaign.id).order_by(Campaign.id)).all()
    assert "Send to 12 contacts" in client.get(f"/campaigns/{chosen}").get_data(as_text=True)
    assert "Send to 11 contacts" in client.get(f"/campaigns/{portfolio}").get_data(as_text=True)
    post(client, f"/campaigns/{portfolio}/send", f"/campaigns/{portfolio}")
    domains = {m["To"].addresses[0].addr_spec.split("@")[1] for m in outbox_messages(app)}
    assert domains == {"acc-1.test", "acc-3.test"}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"period": "2020-Q1"}, "period: 2020-Q1 is closed"),
        ({"period": "2999-Q1"}, "has not started"),
        ({"period": "2026"}, "is a year"),
        ({"closes_on": "2020-01-01"}, "closing date: 2020-01-01 is in the past"),
        ({"scope": "segment", "segment": "Nowhere"}, "segment: no account in segment"),
        ({"scope": "owner", "owner_email": "nobody@example.test"}, "no account is managed by"),
        ({"scope": "accounts", "account_ids": "ACC-1 NOPE"}, "accounts: no account &#39;NOPE&#39;"),
        ({"scope": "accounts", "account_ids": ""}, "accounts: give at least one account id"),
        ({"scope": "accounts", "account_ids": "ACC-3"}, "no contact in this scope can be emailed"),
        ({"name": ""}, "Name: This field is required."),
    ],
)
def test_bad_campaigns_are_refused_with_a_message_and_nothing_created(
    client, db, staff, fields, message
) -> None:  # type: ignore[no-untyped-def]
    db.execute(
        update(Contact)
        .where(Contact.account_id.in_(select(Account.id).where(Account.account_id == "ACC-3")))
        .values(opted_out_at=utcnow())
    )
    db.commit()
    sign_in(client, LEAD)
    response = new_campaign(client, **fields)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Nothing was created" in page and message in page, page[page.find("errors") :][:600]
    assert campaigns(db) == 0


def test_account_managers_see_their_part_read_only(app, client, db, staff) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, LEAD)
    new_campaign(client, scope="segment", segment="Retail")
    campaign_id = campaigns(db)
    post(client, f"/campaigns/{campaign_id}/send", f"/campaigns/{campaign_id}")
    message = next(
        m for m in outbox_messages(app) if m["To"].addresses[0].addr_spec == "c2@acc-1.test"
    )
    customer = app.test_client()
    token = token_of(message)
    answers = {**GOOD_ANSWERS, "comment": "Secret remark", "csrf_token": open_form(customer, token)}
    customer.post(f"/s/{token}", data=answers)

    owner = app.test_client()
    sign_in(owner, OWNER_A)
    listing = owner.get("/campaigns/").get_data(as_text=True)
    assert f"/campaigns/{campaign_id}" in listing and "New campaign" not in listing
    page = owner.get(f"/campaigns/{campaign_id}").get_data(as_text=True)
    assert "Figures for your accounts only" in page
    assert "c2@acc-1.test" in page and "yes, " in page  # who answered
    assert "acc-2.test" not in page and "Beta GmbH" not in page  # not their account
    assert "Secret remark" not in page and "Quick and friendly" not in page  # never what
    assert "12.5%" in page  # 1 of their 8
    download = owner.get(f"/campaigns/{campaign_id}/not-answered.csv").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(download)))
    assert len(rows) == 7 and {r["account_id"] for r in rows} == {"ACC-1"}

    # They may not create, preview, send, remind, close or schedule: 403.
    token = csrf_token(owner.get(f"/campaigns/{campaign_id}").get_data(as_text=True))
    for path in ("send", "remind", "close"):
        refused = owner.post(f"/campaigns/{campaign_id}/{path}", data={"csrf_token": token,
                             "after_days": "0"})  # fmt: skip
        assert refused.status_code == 403, path
    for path in ("/campaigns/new", f"/campaigns/{campaign_id}/preview", "/campaigns/schedules"):
        assert owner.get(path).status_code == 403, path
    assert owner.post("/campaigns/new", data={"csrf_token": token, "name": "x"}).status_code == 403
    assert campaigns(db) == 1
    db.rollback()
    assert db.scalar(select(func.count(Invitation.id)).where(Invitation.reminders_sent > 0)) == 0

    # Another account manager's campaign is not theirs: 404, as if it did not exist.
    new_campaign(client, scope="owner", owner_email=OWNER_B)
    other = campaigns(db)
    post(client, f"/campaigns/{other}/send", f"/campaigns/{other}")
    assert owner.get(f"/campaigns/{other}").status_code == 404
    assert owner.get(f"/campaigns/{other}/not-answered.csv").status_code == 404
    assert owner.get("/campaigns/999").status_code == 404


def test_posts_need_a_csrf_token_and_a_sign_in(app, client, db, staff) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/campaigns/").status_code == 302  # to the sign-in page
    sign_in(client, LEAD)
    new_campaign(client)
    campaign_id = campaigns(db)
    assert client.post(f"/campaigns/{campaign_id}/send").status_code == 400
    assert outbox_messages(app) == []


def schedule_day(offset: int = 3) -> date:
    """A day late in the current quarter (never in the past, so the campaign can open)."""
    return quarter_end(quarter_of(utcnow().date())) - timedelta(days=offset)


def test_a_recurring_schedule_starts_its_campaign_once_and_can_be_paused(
    app, client, db, runner, staff
) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, LEAD)
    page = "/campaigns/schedules"
    bad = post(
        client, page, page, name="Retail QBR", segment="Retail", lead_days="0", survey="cpi-pulse"
    )
    assert bad.status_code == 400 and "Nothing was saved" in bad.get_data(as_text=True)
    bad = post(client, page, page, name="Retail QBR", segment="Retail", owner_email=OWNER_A + "x",
               lead_days="21", survey="cpi-pulse")  # fmt: skip
    assert bad.status_code == 400 and "scope: no account is in this scope" in bad.get_data(
        as_text=True
    )
    saved = post(client, page, page, name="Retail QBR", segment="Retail", owner_email="",
                 lead_days="21", remind_after_days="5", survey="cpi-pulse")  # fmt: skip
    assert saved.status_code == 302
    db.rollback()
    schedule_id = db.scalar(select(CampaignSchedule.id))

    day = schedule_day()
    outputs = []
    for _ in range(2):  # a tick that runs twice creates one campaign and invites once
        result = runner.invoke("campaign", "run-schedules", "--today", day.isoformat())
        outputs.append(result.output)
    assert "1 recurring campaign(s) started, 17 invitation(s) queued" in outputs[0], outputs
    assert "0 recurring campaign(s) started, 0 invitation(s) queued" in outputs[1], outputs
    db.rollback()
    made = db.scalars(select(Campaign)).all()
    assert len(made) == 1
    campaign = made[0]
    assert campaign.status == "open" and campaign.segment == "Retail"
    assert campaign.closes_on == quarter_end(quarter_of(day)) and campaign.remind_after_days == 5
    assert campaign.name == f"Retail QBR {quarter_of(day)}"
    assert db.scalar(select(func.count(Invitation.id))) == 17
    assert len(outbox_messages(app)) == 17
    listing = client.get(page).get_data(as_text=True)
    assert f"/campaigns/{campaign.id}" in listing and "active" in listing

    # Paused, it starts nothing next quarter; resumed, it does.
    post(client, f"{page}/{schedule_id}/pause", page)
    db.rollback()
    assert db.get(CampaignSchedule, schedule_id).paused
    next_quarter_day = quarter_end(quarter_of(day)) + timedelta(days=80)
    runner.invoke("campaign", "run-schedules", "--today", next_quarter_day.isoformat())
    assert campaigns(db) == 1
    post(client, f"{page}/{schedule_id}/resume", page)
    result = runner.invoke("campaign", "run-schedules", "--today", next_quarter_day.isoformat())
    assert "1 recurring campaign(s) started" in result.output, result.output
    db.rollback()
    assert db.scalar(select(func.count(ScheduledCampaign.id))) == 2


def test_a_schedule_too_early_in_the_quarter_waits(app, db, runner, staff) -> None:  # type: ignore[no-untyped-def]
    from cpi.db import database
    from cpi.surveys.schedules import create_schedule

    with database(app).transaction() as session:
        create_schedule(session, name="All", lead_days=10)
    early = quarter_end(quarter_of(utcnow().date())) - timedelta(days=11)
    result = runner.invoke("campaign", "run-schedules", "--today", early.isoformat())
    assert "0 recurring campaign(s) started" in result.output, result.output
    bad = runner.invoke("campaign", "run-schedules", "--today", "someday", expect_exit=2)
    assert "--today: 'someday' is not a date" in bad.output


def test_the_period_rule() -> None:
    today = date(2026, 12, 1)
    assert period_problem(Period(2026, 4), today) is None
    assert period_problem(Period(2026, 3), today) is None
    assert "closed" in (period_problem(Period(2026, 2), today) or "")
    assert "not started" in (period_problem(Period(2027, 1), today) or "")
    assert quarter_end(Period(2024, 1)) == date(2024, 3, 31)
    assert quarter_end(Period(2026, 4)) == date(2026, 12, 31)


@pytest.mark.slow
def test_a_send_from_the_page_runs_on_the_worker_with_progress(
    app, client, db, staff, redis_server, smtp_server, worker
) -> None:  # type: ignore[no-untyped-def]
    from support import wait_until

    app.config.update(REDIS_URL=redis_server.url, MAIL_URL=smtp_server.url)
    worker.start()
    sign_in(client, LEAD)
    new_campaign(client, scope="segment", segment="Retail")
    campaign_id = campaigns(db)
    sent = post(client, f"/campaigns/{campaign_id}/send", f"/campaigns/{campaign_id}")
    location = sent.headers["Location"]
    assert location.startswith(f"/campaigns/{campaign_id}?job=")
    job_id = location.split("job=")[1]
    page = client.get(location).get_data(as_text=True)
    assert 'id="job-progress"' in page and "js/job-progress.js" in page

    def finished() -> dict[str, Any] | None:
        state = client.get(f"/campaigns/jobs/{job_id}").get_json()
        return state if state["over"] else None

    state = wait_until(finished, 120, "the send job to end")
    assert state["state"] == "finished", (state, worker.log())
    assert f"campaign {campaign_id}: 17 invitations queued" in state["message"]
    assert state["total"] > 0 and state["done"] == state["total"]  # its last stage's progress
    assert len(smtp_server.handler.recipients()) == 17
    assert client.get("/campaigns/jobs/no-such-job").get_json()["state"] == "unknown"
    owner = app.test_client()
    sign_in(owner, OWNER_A)
    assert owner.get(f"/campaigns/jobs/{job_id}").status_code == 403


def test_the_rate_chart_steps_up_with_each_day_of_answers() -> None:
    from cpi.campaigns.charts import rate_chart

    start = date(2026, 10, 1)
    chart = rate_chart(
        [(date(2026, 10, 2), 1), (date(2026, 10, 4), 1)], 4, start, date(2026, 10, 5),
        date(2026, 10, 11),
    )  # fmt: skip
    labels = [p.label for p in chart.points]
    assert labels == ["2026-10-01: 0%", "2026-10-02: 25.0%", "2026-10-04: 50.0%",
                      "2026-10-05: 50.0%"]  # fmt: skip
    assert chart.points[0].x == chart.plot_left and chart.x_labels[1].label == "11 Oct"
    heights = [chart.plot_bottom - p.y for p in chart.points]
    full = chart.plot_bottom - chart.plot_top
    assert heights == pytest.approx([0, full / 4, full / 2, full / 2])
    assert chart.summary.endswith("2 of 4 answered (50.0%).")
    assert rate_chart([], 0, None, date(2026, 10, 5)).empty


def test_campaign_pages_write_only_to_close_a_due_campaign(app, client, db, staff) -> None:  # type: ignore[no-untyped-def]
    # A page is a GET read in a deferred transaction; on SQLite a write in it fails at
    # once ("database is locked") when the worker committed meanwhile. So the pages
    # write nothing, except a closing of due campaigns in a transaction of its own.
    from sqlalchemy import event

    from cpi.db import database

    sign_in(client, LEAD)
    created = new_campaign(client)
    assert created.status_code == 302
    campaign_id = db.scalar(select(func.max(Campaign.id)))
    writes: list[str] = []

    def spy(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        if statement.lstrip().split(None, 1)[0].upper() in {"INSERT", "UPDATE", "DELETE"}:
            writes.append(statement)

    engine = database(app).engine
    event.listen(engine, "before_cursor_execute", spy)
    try:
        for path in ("/campaigns/", f"/campaigns/{campaign_id}"):
            assert client.get(path).status_code == 200
        assert writes == []
        db.execute(
            update(Campaign)
            .where(Campaign.id == campaign_id)
            .values(closes_on=utcnow().date() - timedelta(days=1))
        )
        db.commit()
        page = client.get(f"/campaigns/{campaign_id}")
        assert page.status_code == 200
        assert writes and all(w.lstrip().upper().startswith("UPDATE") for w in writes), writes
        assert any("campaigns" in w for w in writes), writes
    finally:
        event.remove(engine, "before_cursor_execute", spy)
    db.rollback()
    assert db.get(Campaign, campaign_id).status == "closed"


def test_a_german_lead_plans_campaigns_in_german(app, client, db, staff) -> None:  # type: ignore[no-untyped-def]
    """Issue 15 item 4: schedules, their form, the flash and the new-campaign page in the
    user's language (their profile's)."""
    sign_in(client, LEAD)
    token = csrf_token(client, "/account/password")
    assert (
        client.post("/account/language", data={"csrf_token": token, "locale": "de"}).status_code
        == 302
    )
    page = "/campaigns/schedules"
    saved = post(client, page, page, name="Retail QBR", segment="Retail", owner_email="",
                 lead_days="21", remind_after_days="5", survey="cpi-pulse")  # fmt: skip
    assert saved.status_code == 302
    listed = client.get(page).get_data(as_text=True)
    assert "Zeitplan gespeichert: Der Worker startet seine Kampagnen selbstständig." in listed
    german = ["Segment Retail", "21 Tage vor jedem Quartalsende", "Rhythmus", "Pausieren",
              "Erinnerungen nach 5 und 10 Tagen", "So viele Tage vor Quartalsende"]  # fmt: skip
    for text in german:
        assert text in listed, text
    english = ["Schedule saved", "days before each quarter's end", "reminders after", "Rhythm<",
               "Start this many days"]  # fmt: skip
    for text in english:
        assert text not in listed, text
    new = client.get("/campaigns/new").get_data(as_text=True)
    assert "Abgefragtes Quartal" in new and "(gerade zu Ende)" in new
    assert "Quarter asked about" not in new and "(just ended)" not in new
    # the operation's error names the field and says why in German (the CLI: --segment, English)
    refused = new_campaign(client, scope="segment", segment="Nowhere")
    assert refused.status_code == 400
    said = html.unescape(refused.get_data(as_text=True))
    assert "Segment: kein Kunde im Segment 'Nowhere'" in said and "no account in" not in said
    # the progress script's words come from the page, in the user's language
    assert new_campaign(client, scope="segment", segment="Retail").status_code == 302
    campaign_id = db.scalar(select(Campaign.id))
    following = client.get(f"/campaigns/{campaign_id}?job=job-1").get_data(as_text=True)
    for word in ('data-running="läuft"', 'data-done="fertig"', 'data-count="{done} von {total}"'):
        assert word in following, word
    script = (Path(app.root_path).parent / "static/js/job-progress.js").read_text()
    assert '" of "' not in script and '? "done"' not in script and 'Content = "' not in script
