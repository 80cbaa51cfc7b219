"""Campaigns, the survey page, answers, opt-out and reminders, on the real app and database."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, text
from survey_support import (
    GOOD_ANSWERS,
    invite,
    is_checked,
    open_form,
    outbox_messages,
    parts,
    setup_campaign,
    tokens_by_email,
)

from cpi.accounts.models import Contact
from cpi.surveys.models import Campaign, Invitation, Response
from cpi.timeutil import utcnow


def count(db: Any, model: Any) -> int:
    db.rollback()
    return int(db.scalar(select(func.count()).select_from(model)))


def test_campaign_create_refuses_bad_options(runner: Any, write_csv: Any) -> None:
    setup_campaign(runner, write_csv)
    cases = [
        (["--period", "2026"], "--period"),
        (["--period", "2026-Q5"], "--period"),
        (["--period", "2026-Q3", "--segment", "Nowhere"], "--segment"),
        (["--period", "2026-Q3", "--account", "NOPE"], "--account"),
        (["--period", "2026-Q3", "--closes", "2001-01-01"], "--closes"),
        (["--period", "2026-Q3", "--closes", "tomorrow"], "--closes"),
        (["--period", "2026-Q3", "--survey", "nope"], "--survey"),
    ]
    for args, named in cases:
        result = runner.invoke("campaign", "create", "--name", "x", *args, expect_exit="error")
        assert result.exit_code != 0, args
        assert named in result.output, (args, result.output)


def test_send_invites_each_reachable_contact_once(
    app: Any, runner: Any, write_csv: Any, db: Any
) -> None:
    campaign_id = setup_campaign(runner, write_csv)
    with app.app_context():
        from cpi.db import database

        with database(app).transaction() as session:
            bob = session.scalar(select(Contact).where(Contact.email == "bob@acme.test"))
            bob.opted_out_at = utcnow()
    assert db.get(Campaign, campaign_id).status == "draft"

    first = runner.invoke("send", str(campaign_id))
    assert first.exit_code == 0, first.output
    assert "2 invitations queued" in first.output
    assert "sent 2" in first.output
    again = runner.invoke("send", str(campaign_id))
    assert "0 invitations queued" in again.output

    messages = outbox_messages(app)
    assert sorted(m["To"].addresses[0].addr_spec for m in messages) == [
        "ann@acme.test",
        "cara@globex.test",
    ]
    db.rollback()
    assert db.get(Campaign, campaign_id).status == "open"
    assert count(db, Invitation) == 2

    show = runner.invoke("campaign", "show", str(campaign_id))
    assert "invited:       2" in show.output
    assert "delivered:     2" in show.output
    assert "answered:      0" in show.output
    listing = runner.invoke("campaign", "list")
    assert "Q3 pulse" in listing.output and "open" in listing.output


def test_page_prefills_from_link_and_get_records_nothing(
    app: Any, runner: Any, write_csv: Any, client: Any, db: Any
) -> None:
    runner.invoke("send", str(setup_campaign(runner, write_csv)))
    token = tokens_by_email(app)["bob@acme.test"]
    page = client.get(f"/s/{token}?fcr=no&nps=10&csat=9&contacts_total=abc")
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert is_checked(body, "fcr", "no")  # the one-click answer
    assert is_checked(body, "nps", "10")
    assert not any(is_checked(body, "csat", str(n)) for n in range(1, 6))  # 9: ignored
    assert "abc" not in body
    for _ in range(3):
        client.get(f"/s/{token}?fcr=yes")
    assert count(db, Response) == 0
    db.rollback()
    answered = select(Invitation.answered_at).where(Invitation.answered_at.is_not(None))
    assert db.scalar(answered) is None


def test_submit_records_and_resubmit_updates_the_same_response(
    app: Any, runner: Any, write_csv: Any, client: Any, db: Any
) -> None:
    campaign_id = setup_campaign(runner, write_csv)
    runner.invoke("send", str(campaign_id))
    token = tokens_by_email(app)["bob@acme.test"]
    csrf = open_form(client, token)

    response = client.post(f"/s/{token}", data={**GOOD_ANSWERS, "csrf_token": csrf})
    assert response.status_code == 303
    thanks = client.get(response.headers["Location"])
    assert "Thank you" in thanks.get_data(as_text=True)

    changed = {**GOOD_ANSWERS, "nps": "3", "comment": "", "csrf_token": csrf}
    assert client.post(f"/s/{token}", data=changed).status_code == 303
    db.rollback()
    rows = db.scalars(select(Response)).all()
    assert len(rows) == 1
    row = rows[0]
    assert (row.fcr, row.contacts_total, row.quote_turnaround_days, row.nps) == ("yes", 4, 2.5, 3)
    assert row.comment is None and row.source == "survey" and row.period == "2026-Q3"
    assert row.updated_at is not None and row.submitted_at is not None

    # the page shows the saved answers when the customer comes back
    again = client.get(f"/s/{token}").get_data(as_text=True)
    assert is_checked(again, "nps", "3")

    show = runner.invoke("campaign", "show", str(campaign_id)).output
    assert "answered:      1" in show and "response rate: 33.3%" in show


def test_submit_updates_an_imported_response_of_the_same_quarter(
    app: Any, runner: Any, write_csv: Any, client: Any, db: Any
) -> None:
    campaign_id = setup_campaign(runner, write_csv)
    imported = runner.invoke("import", "responses", str(write_csv("r.csv", (
        "account_id,contact_email,period,csat,nps\nACME-001,bob@acme.test,2026-Q3,2,2\n"
    ))))  # fmt: skip
    assert imported.exit_code == 0, imported.output
    runner.invoke("send", str(campaign_id))
    token = tokens_by_email(app)["bob@acme.test"]
    csrf = open_form(client, token)
    assert client.post(f"/s/{token}", data={"csat": "4", "csrf_token": csrf}).status_code == 303
    db.rollback()
    rows = db.scalars(select(Response)).all()
    assert [(r.csat, r.nps, r.source, r.invitation_id is not None) for r in rows] == [
        (4, None, "survey", True)
    ]


def test_bad_answers_are_refused_naming_the_field(
    app: Any, runner: Any, write_csv: Any, client: Any, db: Any
) -> None:
    runner.invoke("send", str(setup_campaign(runner, write_csv)))
    token = tokens_by_email(app)["bob@acme.test"]
    csrf = open_form(client, token)
    cases = [
        ({"contacts_total": "2", "contacts_value_added": "3"}, "contacts_value_added"),
        ({"quote_turnaround_days": "400"}, "quote_turnaround_days"),
        ({"quote_turnaround_days": "-1"}, "quote_turnaround_days"),
        ({"quote_turnaround_days": "abc"}, "quote_turnaround_days"),
        ({"nps": "11"}, "nps"),
        ({"csat": "4.5"}, "csat"),
        ({"fcr": "maybe"}, "fcr"),
        ({"comment": "x" * 100_000}, "comment"),
        ({"csat": "4", "favourite_colour": "blue"}, "favourite_colour"),
        ({"name_consent": "perhaps", "csat": "4"}, "name_consent"),
        ({}, "at least one question"),
    ]
    for answers, named in cases:
        response = client.post(f"/s/{token}", data={**answers, "csrf_token": csrf})
        body = response.get_data(as_text=True)
        assert response.status_code == 400, answers
        assert named in body, answers
    long_comment = client.post(f"/s/{token}", data={"comment": "y" * 5001, "csrf_token": csrf})
    assert "5,001 characters long; please keep it to 5,000" in long_comment.get_data(as_text=True)
    repeated = client.post(f"/s/{token}", data={"nps": ["9", "1"], "csrf_token": csrf})
    assert repeated.status_code == 400 and "more than once" in repeated.get_data(as_text=True)
    assert count(db, Response) == 0


def test_submit_without_csrf_token_records_nothing(
    app: Any, runner: Any, write_csv: Any, client: Any, db: Any
) -> None:
    runner.invoke("send", str(setup_campaign(runner, write_csv)))
    token = tokens_by_email(app)["bob@acme.test"]
    open_form(client, token)
    # A page whose CSRF token no longer matches (expired, another session): the form
    # again, to send again.
    stale = open_form(app.test_client(), token)
    response = client.post(f"/s/{token}", data={**GOOD_ANSWERS, "csrf_token": stale})
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "not saved" in body and 'name="csrf_token"' in body  # the form, to send again
    # No CSRF token at all: the wrong-link page (issue 11 item 8).
    assert client.post(f"/s/{token}", data=GOOD_ANSWERS).status_code == 404
    assert count(db, Response) == 0


def test_closed_campaign_links_show_the_not_found_page(
    app: Any, runner: Any, write_csv: Any, client: Any, db: Any
) -> None:
    campaign_id = setup_campaign(runner, write_csv)
    runner.invoke("send", str(campaign_id))
    token = tokens_by_email(app)["bob@acme.test"]
    csrf = open_form(client, token)
    unknown = client.get("/s/" + "A" * 43)
    assert runner.invoke("campaign", "close", str(campaign_id)).exit_code == 0
    closed = client.get(f"/s/{token}")
    assert closed.status_code == unknown.status_code == 404
    assert closed.get_data() == unknown.get_data()
    post = client.post(f"/s/{token}", data={**GOOD_ANSWERS, "csrf_token": csrf})
    assert post.status_code == 404
    assert count(db, Response) == 0
    runner.invoke("send", str(campaign_id), expect_exit=1)
    runner.invoke("remind", str(campaign_id), expect_exit=1)


def test_campaign_closes_after_its_closing_day(
    app: Any, runner: Any, write_csv: Any, client: Any, db: Any
) -> None:
    closes = (utcnow().date() + timedelta(days=1)).isoformat()
    campaign_id = setup_campaign(runner, write_csv, "--closes", closes)
    runner.invoke("send", str(campaign_id))
    token = tokens_by_email(app)["bob@acme.test"]
    assert client.get(f"/s/{token}").status_code == 200
    _, html = parts(outbox_messages(app)[0])
    assert closes in html
    with app.app_context():
        from cpi.db import database

        with database(app).transaction() as session:
            session.execute(
                text("UPDATE campaigns SET closes_on = :d"),
                {"d": utcnow().date() - timedelta(days=1)},
            )
    assert client.get(f"/s/{token}").status_code == 404
    assert "closed" in runner.invoke("campaign", "show", str(campaign_id)).output


def test_opt_out_is_one_post_and_honoured_later(
    app: Any, runner: Any, write_csv: Any, client: Any, db: Any
) -> None:
    campaign_id = setup_campaign(runner, write_csv)
    runner.invoke("send", str(campaign_id))
    token = tokens_by_email(app)["bob@acme.test"]
    page = client.get(f"/u/{token}")
    assert page.status_code == 200 and "Stop sending me surveys" in page.get_data(as_text=True)
    db.rollback()
    assert db.scalar(select(Contact.opted_out_at).where(Contact.email == "bob@acme.test")) is None

    # RFC 8058 one-click: a POST without cookies or CSRF token, as mail clients send it
    one_click = app.test_client().post(f"/u/{token}", data={"List-Unsubscribe": "One-Click"})
    assert one_click.status_code == 200
    db.rollback()
    assert db.scalar(select(Contact.opted_out_at).where(Contact.email == "bob@acme.test"))
    # The survey link says so (and how to come back), not that the link is broken ...
    opted_out = client.get(f"/s/{token}")
    assert opted_out.status_code == 200
    assert "You opted out of our surveys" in opted_out.get_data(as_text=True)
    assert "account manager" in opted_out.get_data(as_text=True)
    # ... but takes no answers, and a link that is not theirs is still the generic 404.
    assert client.post(f"/s/{token}", data={"csat": "5"}).status_code == 404
    assert client.get(f"/s/{token[:-1]}").status_code == 404
    assert client.get(f"/u/{token}").status_code == 200  # still says they are out

    runner.invoke("campaign", "close", str(campaign_id))
    later = runner.invoke("campaign", "create", "--name", "Q4", "--period", "2026-Q4")
    later_id = later.stdout.split()[0]
    runner.invoke("send", later_id)
    recipients = [m["To"].addresses[0].addr_spec for m in outbox_messages(app)]
    assert recipients.count("bob@acme.test") == 1
    assert "opted out:     1" in runner.invoke("campaign", "show", str(campaign_id)).output


def test_reminders_go_to_who_has_not_answered_at_most_twice(
    app: Any, runner: Any, write_csv: Any, client: Any, db: Any
) -> None:
    campaign_id = setup_campaign(runner, write_csv)
    runner.invoke("send", str(campaign_id))
    tokens = tokens_by_email(app)
    csrf = open_form(client, tokens["ann@acme.test"])
    client.post(f"/s/{tokens['ann@acme.test']}", data={"csat": "5", "csrf_token": csrf})
    client.post(f"/u/{tokens['cara@globex.test']}")

    assert "0 reminders queued" in runner.invoke("remind", str(campaign_id)).output  # 5 days
    for _ in range(3):
        runner.invoke("remind", str(campaign_id), "--after-days", "0")
    messages = outbox_messages(app)
    reminders = [m for m in messages if "Reminder" in str(m["Subject"])]
    assert [m["To"].addresses[0].addr_spec for m in reminders] == ["bob@acme.test"] * 2
    text_part, _ = parts(reminders[0])
    assert f"/s/{tokens['bob@acme.test']}" in text_part  # the same link as the invitation
    assert "reminded:      1" in runner.invoke("campaign", "show", str(campaign_id)).output


def test_email_and_page_speak_the_contacts_language(
    app: Any, runner: Any, write_csv: Any, client: Any
) -> None:
    runner.invoke("send", str(setup_campaign(runner, write_csv)))
    by_addr = {m["To"].addresses[0].addr_spec: m for m in outbox_messages(app)}
    assert "trimestre" in str(by_addr["ann@acme.test"]["Subject"])
    assert "Quartal" in str(by_addr["cara@globex.test"]["Subject"])
    text_part, html = parts(by_addr["ann@acme.test"])
    assert "Oui" in html and "Sans objet" in text_part

    tokens = tokens_by_email(app)
    french = client.get(f"/s/{tokens['ann@acme.test']}").get_data(as_text=True)
    assert '<html lang="fr">' in french and "Envoyer mes réponses" in french
    # Bob has no locale: his browser's Accept-Language decides, English otherwise
    german = client.get(f"/s/{tokens['bob@acme.test']}", headers={"Accept-Language": "de-AT,de"})
    assert "Antworten senden" in german.get_data(as_text=True)
    english = client.get(f"/s/{tokens['bob@acme.test']}", headers={"Accept-Language": "ja"})
    assert "Send my answers" in english.get_data(as_text=True)


def test_answers_reach_the_scorecard_with_invited_from_campaigns(
    app: Any, runner: Any, write_csv: Any, client: Any
) -> None:
    runner.invoke("send", str(setup_campaign(runner, write_csv)))
    tokens = tokens_by_email(app)
    for address, nps in (("ann@acme.test", "10"), ("bob@acme.test", "4")):
        csrf = open_form(client, tokens[address])
        client.post(f"/s/{tokens[address]}", data={"nps": nps, "csrf_token": csrf})
    result = runner.invoke("score", "--period", "2026-Q3", "--account", "ACME-001",
                           "--format", "json")  # fmt: skip
    card = json.loads(result.stdout)
    assert (card["responses"], card["invited"], card["response_rate"]) == (2, 2, 100.0)
    nps = next(i for i in card["indicators"] if i["code"] == "nps")
    assert nps["n"] == 2 and nps["value"] == 0.0


def test_a_submit_is_one_connection_and_one_transaction(
    app: Any, runner: Any, write_csv: Any, client: Any, db: Any
) -> None:
    """Issue 13 item 5: the lookup, the upsert and the invitation update share one
    pooled connection and one transaction (no separate read session)."""
    from sqlalchemy import event

    from cpi.db import database

    tokens = invite(app, runner, write_csv)
    csrf = open_form(client, tokens["bob@acme.test"])
    engine = database(app).engine
    seen: list[str] = []
    listeners = [
        (engine.pool, "checkout", lambda *_: seen.append("checkout")),
        (engine, "begin", lambda *_: seen.append("begin")),
        (engine, "commit", lambda *_: seen.append("commit")),
        (engine, "rollback", lambda *_: seen.append("rollback")),
    ]
    for target, name, listener in listeners:
        event.listen(target, name, listener)
    try:
        for email in ("bob@acme.test", "cara@globex.test"):
            seen.clear()
            data = {**GOOD_ANSWERS, "csrf_token": csrf}
            assert client.post(f"/s/{tokens[email]}", data=data).status_code == 303
            assert seen == ["checkout", "begin", "commit"], seen
        seen.clear()  # a form with errors: the same single transaction, rolled back
        bad = {**GOOD_ANSWERS, "nps": "11", "csrf_token": csrf}
        assert client.post(f"/s/{tokens['bob@acme.test']}", data=bad).status_code == 400
        assert seen in (["checkout", "begin", "rollback"], ["checkout", "begin"]), seen
    finally:
        for target, name, listener in listeners:
            event.remove(target, name, listener)
    db.rollback()
    answered = (
        select(func.count()).select_from(Invitation).where(Invitation.answered_at.is_not(None))
    )
    assert db.scalar(select(func.count()).select_from(Response)) == 2 and db.scalar(answered) == 2


def test_a_submit_runs_one_statement_per_step(
    app: Any, runner: Any, write_csv: Any, client: Any, db: Any
) -> None:
    """Issue 13 item 5: a first answer is the lookup, the old answers with the sums row's
    quote-days histogram (the row locked), the sums upsert writing the merged histogram,
    the response upsert, the invitation (on PostgreSQL a CTE of the upsert), the alert
    state and ONE update of the generations (global and the quarter's, returning their
    values): no statement read twice or built per row."""
    from sqlalchemy import event

    from cpi import generation
    from cpi.db import database

    tokens = invite(app, runner, write_csv)
    csrf = open_form(client, tokens["bob@acme.test"])
    engine = database(app).engine
    statements: list[str] = []

    verbs = "SELECT|INSERT INTO|UPDATE|DELETE FROM"
    with_cte = re.compile(rf"WITH \w+ AS\s*\(({verbs}) (\w+).*?\)\s*({verbs}) (\w+)", re.S)

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        verb, *words = statement.split()[:3]
        if verb in ("SELECT", "INSERT", "UPDATE", "DELETE"):  # "VERB table"
            statements.append(f"{verb} {(words[1] if verb == 'INSERT' else words[0])}")
        elif verb == "WITH":  # a data-modifying CTE: "VERB table (with VERB table)"
            inner_verb, inner, main_verb, main = with_cte.match(statement).groups()  # type: ignore[union-attr]
            statements.append(
                f"{main_verb.split()[0]} {main} (with {inner_verb.split()[0]} {inner})"
            )

    data = {**GOOD_ANSWERS, "csrf_token": csrf}
    # the first submit of a process also reads the alert rules, cached from then on
    assert client.post(f"/s/{tokens['cara@globex.test']}", data=data).status_code == 303
    before = generation.generations(db)
    db.rollback()
    event.listen(engine, "before_cursor_execute", seen)
    try:
        assert client.post(f"/s/{tokens['bob@acme.test']}", data=data).status_code == 303
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    # PostgreSQL first locks the account and quarter's sums row (SQLite's write lock
    # already holds the whole database)
    lock = ["INSERT answer_sums"] if engine.dialect.name == "postgresql" else []
    # ... and writes the response and marks the invitation in one statement (a CTE)
    answer = (
        ["INSERT responses (with UPDATE invitations)"]
        if engine.dialect.name == "postgresql"
        else ["INSERT responses", "UPDATE invitations"]
    )
    assert [s.split(".")[0] for s in statements] == [
        "SELECT invitations",  # the token's invitation
        *lock,
        "SELECT responses",  # the answers this submit replaces (none), the histogram
        "INSERT answer_sums",  # the sums and the histogram
        *answer,
        "SELECT alert_states",
        "UPDATE data_generation",  # global and quarter, returning their values
    ], statements
    after = generation.generations(db)
    quarter = generation.quarter_row_id(db.scalar(select(Campaign.period)))
    assert after[generation.ROW_ID] == before.get(generation.ROW_ID, 0) + 1
    assert after[quarter] == before.get(quarter, 0) + 1
    assert after.get(generation.BASE_ROW_ID) == before.get(generation.BASE_ROW_ID)


def test_a_survey_answer_moves_the_data_generation(
    app: Any, runner: Any, write_csv: Any, client: Any, db: Any
) -> None:
    """The submit writes with Core on the session's connection; the dashboards' cache
    must still see it (issue 13 item 3: invalidated by the writes)."""
    from cpi import generation

    tokens = invite(app, runner, write_csv)
    csrf = open_form(client, tokens["bob@acme.test"])
    before = generation.current(db)
    db.rollback()
    data = {"csrf_token": csrf, "fcr": "yes", "csat": "5"}
    assert client.post(f"/s/{tokens['bob@acme.test']}", data=data).status_code == 303
    assert generation.current(db) == before + 1
