"""Closing the loop (issue 14, items 9-11): alert rules, one follow-up per worrying answer,
the owner's email (outbox, a real SMTP server) or daily digest, the inbox and its
permissions, erasure, and the closed-loop figures checked against hand-computed values."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from typing import Any

import pytest
from followup_support import LOW, OTHER, OWNER, PASSWORD
from followup_support import answer as _answer
from followup_support import setup as _setup
from sqlalchemy import select
from staff_support import sign_in
from support import csrf_token
from survey_support import outbox_messages

from cpi.audit.models import AuditEvent
from cpi.followups import rules
from cpi.followups.figures import loop_figures, scope_figures
from cpi.followups.models import FollowUp
from cpi.mail.models import OutboxMessage
from cpi.rules.business_days import add_business_days
from cpi.timeutil import utcnow


def _followups(db: Any) -> list[FollowUp]:
    db.rollback()
    return list(db.scalars(select(FollowUp).order_by(FollowUp.id)))


def _alert_mail(db: Any) -> list[OutboxMessage]:
    db.rollback()
    return list(db.scalars(select(OutboxMessage).where(OutboxMessage.kind == "followup")))


def _staff(app: Any, email: str) -> Any:
    client = app.test_client()
    sign_in(client, email, PASSWORD)
    return client


def test_default_rules_and_their_edges() -> None:
    defaults = rules.DEFAULT_RULES
    assert rules.matched({"nps": 6}, defaults) == {"nps"}
    assert rules.matched({"nps": 7, "csat": 3, "ces": 4, "fcr": "yes"}, defaults) == set()
    assert rules.matched({"nps": 0, "csat": 2, "ces": 3, "fcr": "no"}, defaults) == {
        "nps", "csat", "ces", "fcr",
    }  # fmt: skip
    assert rules.matched({"fcr": "na", "nps": None}, defaults) == set()
    edited = rules.effective_rules([rules.Rule("nps", True, 8), rules.Rule("fcr", False)])
    assert rules.matched({"nps": 8, "fcr": "no"}, edited) == {"nps"}
    assert rules.checked_threshold("csat", " 3 ") == 3
    for bad, message in (("6", "CSAT: the threshold must be from 1 to 5"),
                         ("x", "CSAT: the threshold must be a whole number")):  # fmt: skip
        with pytest.raises(rules.RuleError, match=message):
            rules.checked_threshold("csat", bad)


def test_business_days_skip_the_weekend() -> None:
    friday = datetime(2026, 11, 6, 17, 0)
    assert add_business_days(friday, 2) == datetime(2026, 11, 10, 17, 0)
    assert add_business_days(datetime(2026, 11, 7, 10, 0), 1) == datetime(2026, 11, 9, 10, 0)
    assert add_business_days(datetime(2026, 11, 2, 9, 0), 2) == datetime(2026, 11, 4, 9, 0)


def test_a_low_answer_raises_one_follow_up_and_one_email_to_the_owner_only(
    app: Any, runner: Any, write_csv: Any, client: Any, db: Any
) -> None:
    tokens = _setup(app, runner, write_csv)
    _answer(client, tokens["bob@acme.test"], **LOW)
    [followup] = _followups(db)
    assert (followup.reasons, followup.status, followup.owner_email) == ("fcr,nps", "open", OWNER)
    assert followup.notify_email == OWNER and followup.notified_at is not None
    assert followup.due_at == add_business_days(followup.created_at, 2)
    [mail] = _alert_mail(db)
    assert mail.to_addr == OWNER
    # the same answers sent again (or the one-click page saving twice): no second alert
    _answer(client, tokens["bob@acme.test"], **LOW)
    assert len(_followups(db)) == 1 and len(_alert_mail(db)) == 1
    # a good answer raises nothing; a re-answer that newly meets a rule does
    _answer(client, tokens["ann@acme.test"], fcr="yes", nps="9")
    assert len(_followups(db)) == 1
    _answer(client, tokens["ann@acme.test"], fcr="yes", nps="9", csat="1")
    later = _followups(db)
    assert len(later) == 2 and later[1].reasons == "csat"
    # bob improves to 9 then drops to 2 again: NPS newly matches once more
    _answer(client, tokens["bob@acme.test"], fcr="no", nps="9")
    assert len(_followups(db)) == 2
    _answer(client, tokens["bob@acme.test"], fcr="no", nps="2")
    assert [f.reasons for f in _followups(db)] == ["fcr,nps", "csat", "nps"]
    # the open follow-up keeps bob's latest answers
    assert '"nps": 2' in _followups(db)[0].answers
    # only staff were ever written to: never a contact
    db.rollback()
    recipients = {m.to_addr for m in _alert_mail(db)}
    assert recipients == {OWNER}
    for message in outbox_messages(app):
        if message["Subject"].startswith("Follow-up needed"):
            body = message.get_body(("plain",)).get_content()
            assert "Bob Jones" not in body and "bob@acme.test" not in body
            assert "Acme <Industrial>" in body
            html = message.get_body(("html",)).get_content()
            assert "Acme &lt;Industrial&gt;" in html and "Acme <Industrial>" not in html


def test_the_alert_arrives_at_a_real_smtp_server(
    app: Any, runner: Any, write_csv: Any, client: Any, smtp_server: Any
) -> None:
    tokens = _setup(app, runner, write_csv)
    app.config["MAIL_URL"] = smtp_server.url
    _answer(client, tokens["cara@globex.test"], fcr="no")
    assert runner.invoke("outbox", "deliver").exit_code == 0
    assert smtp_server.handler.recipients() == {OTHER: 1}
    [message] = smtp_server.handler.messages
    assert message["Subject"] == "Follow-up needed: Globex (FCR: no)"
    assert "/followups/1" in message.get_body(("plain",)).get_content()


def test_an_owner_without_a_staff_login_gets_no_email(
    app: Any, runner: Any, write_csv: Any, client: Any, db: Any
) -> None:
    tokens = _setup(app, runner, write_csv)
    runner.invoke("user", "create", "--email", "x@example.test", "--role", "admin",
                  env={"CPI_PASSWORD": PASSWORD})  # fmt: skip
    db.rollback()
    from cpi.auth.models import User

    db.execute(User.__table__.update().where(User.email == OTHER).values(active=False))
    db.commit()
    _answer(client, tokens["cara@globex.test"], fcr="no")
    [followup] = _followups(db)
    assert followup.notify_email is None and _alert_mail(db) == []
    lead = _staff(app, "lead@example.test")
    assert "Globex" in lead.get("/followups/").get_data(as_text=True)


def test_rules_are_edited_by_enablement_and_admins_only(
    app: Any, runner: Any, write_csv: Any, client: Any, db: Any
) -> None:
    tokens = _setup(app, runner, write_csv)
    am = _staff(app, OWNER)
    assert am.get("/followups/rules").status_code == 403
    lead = _staff(app, "lead@example.test")
    page = lead.get("/followups/rules")
    assert page.status_code == 200
    form = {"csrf_token": csrf_token(page.get_data(as_text=True)), "nps_enabled": "y",
            "nps_threshold": "11", "csat_enabled": "y", "csat_threshold": "2",
            "ces_enabled": "y", "ces_threshold": "3"}  # fmt: skip
    refused = lead.post("/followups/rules", data=form)
    assert refused.status_code == 400
    assert "NPS: the threshold must be from 0 to 10" in refused.get_data(as_text=True)
    assert lead.post("/followups/rules", data={**form, "nps_threshold": "8"}).status_code == 302
    without_csrf = {k: v for k, v in form.items() if k != "csrf_token"}
    assert lead.post("/followups/rules", data=without_csrf).status_code == 400
    db.rollback()
    [event] = db.scalars(select(AuditEvent).where(AuditEvent.action == "alerts.rules")).all()
    assert event.actor == "lead@example.test" and "nps: NPS ≤ 6 -> NPS ≤ 8" in event.detail
    assert "fcr: FCR “no” -> FCR “no” (off)" in event.detail
    # FCR is now off and NPS alerts from 8
    _answer(client, tokens["bob@acme.test"], fcr="no", nps="8")
    assert [f.reasons for f in _followups(db)] == ["nps"]


def test_the_daily_digest_instead_of_each_email(
    app: Any, runner: Any, write_csv: Any, client: Any, db: Any
) -> None:
    tokens = _setup(app, runner, write_csv)
    am = _staff(app, OWNER)
    token = csrf_token(am.get("/followups/").get_data(as_text=True))
    assert (
        am.post("/followups/preference", data={"digest": "digest", "csrf_token": token}).status_code
        == 302
    )
    _answer(client, tokens["bob@acme.test"], fcr="no")
    _answer(client, tokens["ann@acme.test"], csat="1")
    _answer(client, tokens["cara@globex.test"], nps="0")  # the other owner: at once
    assert [m.to_addr for m in _alert_mail(db)] == [OTHER]
    result = runner.invoke("followups", "digest")
    assert result.exit_code == 0, result.output
    assert "digests: 1 email(s) with 2 follow-up(s)" in result.output
    digests = [m for m in _alert_mail(db) if m.to_addr == OWNER]
    assert len(digests) == 1
    [message] = [m for m in outbox_messages(app) if m["To"].addresses[0].addr_spec == OWNER
                 and m["Subject"].startswith("Follow-ups:")]  # fmt: skip
    body = message.get_body(("plain",)).get_content()
    assert "FCR: no" in body and "CSAT: 1" in body
    assert all(f.notified_at is not None for f in _followups(db))
    # once a day: a new alert the same day waits for tomorrow's digest
    _answer(client, tokens["bob@acme.test"], fcr="no", nps="1")
    assert "digests: 0 email(s)" in runner.invoke("followups", "digest").output


def test_only_the_owner_enablement_and_admins_see_and_work_a_follow_up(
    app: Any, runner: Any, write_csv: Any, client: Any, db: Any
) -> None:
    tokens = _setup(app, runner, write_csv)
    _answer(client, tokens["bob@acme.test"], **LOW, name_consent="y")
    [followup] = _followups(db)
    url = f"/followups/{followup.id}"
    other = _staff(app, OTHER)
    assert other.get(url).status_code == 404
    assert "Acme" not in other.get("/followups/").get_data(as_text=True)
    token = csrf_token(other.get("/followups/").get_data(as_text=True))
    assert (
        other.post(f"{url}/status", data={"status": "contacted", "csrf_token": token}).status_code
        == 404
    )
    for email in ("admin@example.test", "lead@example.test", OWNER):
        page = _staff(app, email).get(url)
        body = page.get_data(as_text=True)
        assert page.status_code == 200 and "Bob Jones" in body
        assert "&lt;b&gt;Nobody called back&lt;/b&gt;" in body and "<b>Nobody" not in body
    owner = _staff(app, OWNER)
    assert "Acme &lt;Industrial&gt;" in owner.get("/followups/").get_data(as_text=True)
    token = csrf_token(owner.get(url).get_data(as_text=True))
    assert owner.post(f"{url}/status", data={"status": "contacted"}).status_code == 400  # no CSRF
    assert (
        owner.post(f"{url}/status", data={"status": "contacted", "csrf_token": token}).status_code
        == 302
    )
    no_note = owner.post(f"{url}/status", data={"status": "resolved", "csrf_token": token})
    assert no_note.status_code == 400 and "Note: say how it was resolved." in no_note.get_data(
        as_text=True
    )
    backwards = owner.post(f"{url}/status", data={"status": "open", "csrf_token": token})
    assert backwards.status_code == 400
    # assignable to who may see the account: not to the other account manager
    bad = owner.post(f"{url}/assign", data={"assignee": OTHER, "csrf_token": token})
    assert bad.status_code == 400 and _followups(db)[0].assignee_email is None
    assert (
        owner.post(
            f"{url}/assign", data={"assignee": "lead@example.test", "csrf_token": token}
        ).status_code
        == 302
    )
    done = owner.post(
        f"{url}/status", data={"status": "resolved", "note": "Called <Bob>", "csrf_token": token}
    )
    assert done.status_code == 302
    [followup] = _followups(db)
    assert (followup.status, followup.resolved_by, followup.resolution_note) == (
        "resolved",
        OWNER,
        "Called <Bob>",
    )
    assert followup.assignee_email == "lead@example.test"
    actions = [
        e.action for e in db.scalars(select(AuditEvent).where(AuditEvent.action.like("followup.%")))
    ]
    assert actions == ["followup.contacted", "followup.assign", "followup.resolved"]
    assert "Called &lt;Bob&gt;" in owner.get(url).get_data(as_text=True)


def test_erased_and_opted_out_contacts_are_never_named(
    app: Any, runner: Any, write_csv: Any, client: Any, db: Any
) -> None:
    tokens = _setup(app, runner, write_csv)
    _answer(client, tokens["bob@acme.test"], **LOW, name_consent="y")
    _answer(client, tokens["ann@acme.test"], fcr="no", comment="Ann's words", name_consent="y")
    _answer(client, tokens["cara@globex.test"], fcr="no", comment="no consent given")
    bob, ann, cara = _followups(db)
    lead = _staff(app, "lead@example.test")
    assert "Bob Jones" in lead.get(f"/followups/{bob.id}").get_data(as_text=True)
    assert "Cara Diaz" not in lead.get(f"/followups/{cara.id}").get_data(as_text=True)
    # bob is erased: no name and no comment, now or in a later follow-up
    assert runner.invoke("contact", "forget", "bob@acme.test").exit_code == 0
    page = lead.get(f"/followups/{bob.id}").get_data(as_text=True)
    assert "Bob Jones" not in page and "Nobody called back" not in page
    assert "FCR" in page  # the anonymous answers stay
    # ann opts out: her name disappears from the follow-up
    assert client.post(f"/u/{tokens['ann@acme.test']}").status_code == 200
    page = lead.get(f"/followups/{ann.id}").get_data(as_text=True)
    assert "Ann Smith" not in page and "name not shown" in page


def test_closed_loop_figures_match_hand_computed_values(
    app: Any, runner: Any, write_csv: Any, client: Any, db: Any
) -> None:
    _setup(app, runner, write_csv)
    from cpi.accounts.models import Account

    db.rollback()
    acme = db.scalar(select(Account).where(Account.account_id == "ACME-001"))
    globex = db.scalar(select(Account).where(Account.account_id == "GLOBEX-1"))
    now = datetime(2026, 11, 20, 12, 0)
    spans = [  # (account, created, resolved)
        (acme, datetime(2026, 11, 2, 9, 0), datetime(2026, 11, 3, 10, 0)),  # Mon -> Tue: in time
        (
            acme,
            datetime(2026, 11, 6, 17, 0),
            datetime(2026, 11, 10, 16, 0),
        ),  # Fri -> Tue 16:00: in time
        (acme, datetime(2026, 11, 4, 9, 0), datetime(2026, 11, 9, 9, 0)),  # Wed -> Mon: late
        (acme, datetime(2026, 11, 2, 9, 0), None),  # open and past its 2 business days
        (acme, utcnow() - timedelta(hours=1), None),  # open, still within them: not decided
        (globex, datetime(2026, 11, 2, 9, 0), datetime(2026, 11, 2, 15, 0)),  # 0.25 days
    ]
    for account, created, resolved in spans:
        db.add(FollowUp(account_id=account.id, period="2026-Q3", reasons="fcr", answers="{}",
                        anonymous=True, status="resolved" if resolved else "open",
                        created_at=created, due_at=add_business_days(created, 2),
                        resolved_at=resolved))  # fmt: skip
    db.commit()
    total, rows = scope_figures(db, period="2026-Q3", now=now)
    acme_row, globex_row = rows
    assert (acme_row.label, acme_row.opened, acme_row.closed) == (OWNER, 5, 3)
    # durations 25 h, 95 h, 120 h -> median 95 h
    assert acme_row.median_days_to_close == pytest.approx(95 / 24)
    assert (acme_row.closed_in_time, acme_row.decided, acme_row.share_in_time) == (2, 4, 50.0)
    assert (globex_row.label, globex_row.median_days_to_close) == (OTHER, pytest.approx(0.25))
    assert (total.opened, total.closed, total.closed_in_time, total.decided) == (6, 4, 3, 5)
    assert total.median_days_to_close == pytest.approx((25 + 95) / 2 / 24)  # 6, 25, 95, 120 h
    assert scope_figures(db, period="2026", account_id="GLOBEX-1", now=now)[0].opened == 1
    assert loop_figures("x", [], now).share_in_time is None
    # the CSV: the lead sees both managers; an account manager only their own portfolio
    lead = _staff(app, "lead@example.test")
    reply = lead.get("/exports/followups.csv?period=2026-Q3")
    assert reply.status_code == 200
    table = list(csv.reader(io.StringIO(reply.get_data(as_text=True))))
    assert table[0][:4] == ["period", "account_manager", "opened", "closed"]
    assert [row[1:5] for row in table[1:]] == [
        [OWNER, "5", "3", "3.96"], [OTHER, "1", "1", "0.25"], ["All", "6", "4", "2.50"],
    ]  # fmt: skip
    assert table[1][5:] == ["2", "4", "50.0"]
    mine = _staff(app, OTHER).get(f"/exports/followups.csv?period=2026-Q3&owner={OWNER}")
    assert [row[1] for row in csv.reader(io.StringIO(mine.get_data(as_text=True)))][1:] == [
        OTHER,
        "All",
    ]
    # the dashboard and the account page show the figures
    dashboard = lead.get("/?period=2026-Q3").get_data(as_text=True)
    assert "Closing the loop" in dashboard and "50%" in dashboard
    account = _staff(app, OTHER).get("/accounts/GLOBEX-1?period=2026-Q3").get_data(as_text=True)
    assert "Closing the loop" in account and f">{OWNER}<" not in account


def test_the_inbox_highlights_overdue_follow_ups(
    app: Any, runner: Any, write_csv: Any, client: Any, db: Any
) -> None:
    tokens = _setup(app, runner, write_csv)
    _answer(client, tokens["bob@acme.test"], fcr="no")
    _answer(client, tokens["ann@acme.test"], fcr="no")
    late, _fresh = _followups(db)
    late.due_at = datetime(2020, 1, 1)
    db.commit()
    page = _staff(app, OWNER).get("/followups/").get_data(as_text=True)
    assert page.count('class="overdue"') == 1 and "overdue</strong>" in page
    assert "overdue</strong>" in _staff(app, OWNER).get(f"/followups/{late.id}").get_data(
        as_text=True
    )


def test_identical_submits_at_once_raise_one_follow_up(
    app: Any, runner: Any, write_csv: Any, db: Any
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from survey_support import open_form

    token = _setup(app, runner, write_csv)["bob@acme.test"]
    clients = [app.test_client() for _ in range(12)]
    forms = [{**LOW, "csrf_token": open_form(c, token)} for c in clients]
    with ThreadPoolExecutor(max_workers=12) as pool:
        statuses = list(pool.map(lambda cf: cf[0].post(f"/s/{token}", data=cf[1]).status_code,
                                 zip(clients, forms, strict=True)))  # fmt: skip
    assert statuses == [303] * 12
    assert len(_followups(db)) == 1 and len(_alert_mail(db)) == 1


def test_a_french_account_manager_works_the_inbox_in_french(
    app: Any, runner: Any, write_csv: Any, client: Any, db: Any
) -> None:
    """Issue 15 item 4: the inbox, its status labels and the status flash in the user's
    language (their profile's), not in English."""
    tokens = _setup(app, runner, write_csv)
    _answer(client, tokens["bob@acme.test"], **LOW)
    [followup] = _followups(db)
    owner = _staff(app, OWNER)
    chosen = owner.post(
        "/account/language",
        data={"csrf_token": csrf_token(owner, "/account/password"), "locale": "fr"},
    )
    assert chosen.status_code == 302
    inbox = owner.get("/followups/?status=all").get_data(as_text=True)
    assert '<html lang="fr">' in inbox and "Acme &lt;Industrial&gt;" in inbox
    for english in ("Follow-ups", "Only mine", "Your alert emails", "One daily digest"):
        assert english not in inbox, english
    for french in (
        "Suivis",
        "Ouverts et contactés",
        "Un récapitulatif quotidien",
        ">Ouvert</span>",
    ):
        assert french in inbox, french
    url = f"/followups/{followup.id}"
    page = owner.get(url).get_data(as_text=True)
    assert "Nouveau statut" in page and "New status" not in page
    assert "Personne (le responsable de compte)" in page and "Nobody (the" not in page
    marked = owner.post(
        f"{url}/status",
        data={"status": "contacted", "csrf_token": csrf_token(page)},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Suivi marqué comme contacté." in marked and "marked contacted" not in marked
    assert _followups(db)[0].status == "contacted"
    # the operation's error, named field and reason, in French too (the CLI keeps English)
    refused = owner.post(
        f"{url}/status",
        data={"status": "resolved", "note": "", "csrf_token": csrf_token(owner, url)},
    )
    assert refused.status_code == 400
    text = refused.get_data(as_text=True)
    assert "Note : indiquez comment il a été résolu." in text
    assert "say how it was resolved" not in text
