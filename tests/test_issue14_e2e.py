"""Issue 14, "Done when", end to end in a real browser: the enablement lead creates and
sends a campaign; the invitation arrives in aiosmtpd; a phone opens its one-click "No"
(first-contact resolution) link and the answer is recorded without pressing Send; the
account's owner gets the alert email, opens the follow-up and marks it resolved; the
campaign page and the dashboard show the new response rate and closed-loop figures."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select
from staff_support import OWNER_A, small_dataset

from cpi.followups.models import FollowUp
from cpi.rules.campaign_periods import quarter_of
from cpi.surveys.models import Response
from cpi.timeutil import utcnow

pytestmark = pytest.mark.slow

PHONE = {"viewport": {"width": 360, "height": 780}, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1440, "height": 900}}
PASSWORD = "password-123"
NO_LINK = re.compile(r'href="(https?://[^"]+/s/[A-Za-z0-9_-]+\?fcr=no)"')
FOLLOWUP_LINK = re.compile(r"https?://\S+/followups/\d+")


@pytest.fixture
def app_config(app_config, smtp_server):  # type: ignore[no-untyped-def]
    return {**app_config, "MAIL_URL": smtp_server.url}


@pytest.fixture
def live_server(runner, write_csv, live_url):  # type: ignore[no-untyped-def]
    small_dataset(runner, write_csv)
    return live_url


def sign_in(page: Any, base: str, email: str) -> None:
    page.goto(base + "/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")


def test_campaign_to_one_click_answer_to_alert_to_resolved_follow_up(
    live_server, browser, smtp_server, runner, db
) -> None:  # type: ignore[no-untyped-def]
    mail = smtp_server.handler
    period = str(quarter_of(utcnow().date()))

    # 1. The enablement lead creates and sends a campaign in the browser.
    lead_context = browser.new_context(**DESKTOP)
    lead = lead_context.new_page()
    sign_in(lead, live_server, "lead@example.test")
    lead.click("nav.mainnav >> text=Campaigns")
    lead.click("text=New campaign")
    lead.fill("#name", "Health pulse")
    lead.select_option("#scope", "segment")
    lead.select_option("#segment", "Health")
    lead.click("button:has-text('Create draft')")
    lead.wait_for_selector("h1:has-text('Health pulse')")
    campaign_url = lead.url
    lead.click("button:has-text('Send to 3 contacts')")
    lead.wait_for_selector(".flash-success")

    # 2. The invitation arrives in the SMTP server.
    [invitation] = [m for m in mail.messages if m["To"].addresses[0].addr_spec == "c0@acc-3.test"]
    html = invitation.get_body(("html",)).get_content()
    link = NO_LINK.search(html)
    assert link, html
    one_click = link.group(1).replace("&amp;", "&")
    assert one_click.startswith(live_server)

    # 3. A phone opens the one-click "No": recorded without pressing Send.
    phone_context = browser.new_context(**PHONE)
    phone = phone_context.new_page()
    phone.goto(one_click)
    phone.locator("#one-click-message").filter(has_text="Saved — add more if you like.").wait_for()
    db.rollback()
    assert [
        (r.fcr, r.period) for r in db.scalars(select(Response).where(Response.source == "survey"))
    ] == [("no", period)]
    phone_context.close()

    # 4. The owner gets the alert email (delivered from the outbox) ...
    assert runner.invoke("outbox", "deliver").exit_code == 0
    alerts = [m for m in mail.messages if m["Subject"].startswith("Follow-up needed")]
    assert [m["To"].addresses[0].addr_spec for m in alerts] == [OWNER_A]
    assert alerts[0]["Subject"] == "Follow-up needed: Gamma Ltd (FCR: no)"
    followup_url = FOLLOWUP_LINK.search(alerts[0].get_body(("plain",)).get_content())
    assert followup_url and followup_url.group(0).startswith(live_server)

    # 5. ... sees the follow-up in the inbox and marks it resolved.
    owner_context = browser.new_context(**PHONE)
    owner = owner_context.new_page()
    sign_in(owner, live_server, OWNER_A)
    owner.click("nav.mainnav >> text=Follow-ups")
    assert "Gamma Ltd" in owner.inner_text("table.followups")
    owner.click("table.followups >> text=Gamma Ltd")
    assert owner.url == followup_url.group(0)
    owner.select_option("#status", "resolved")
    owner.fill("#note", "Called back; the request is now closed.")
    owner.click("button:has-text('Save status')")
    owner.wait_for_selector(".flash-success")
    db.rollback()
    [followup] = db.scalars(select(FollowUp)).all()
    assert followup.status == "resolved" and followup.resolved_by == OWNER_A
    owner_context.close()

    # 6. The campaign page shows the new response rate; the dashboard the closed loop.
    lead.goto(campaign_url)
    figures = dict(zip(lead.locator(".stat-label").all_text_contents(),
                       lead.locator(".stat-value").all_text_contents(), strict=False))  # fmt: skip
    assert figures["Answered"] == "1"
    assert figures["Response rate"].startswith("33")
    lead.goto(f"{live_server}/?period={period}")
    loop = lead.locator("section.closed-loop")
    row = loop.locator("tr.total").inner_text()
    assert "All" in row
    cells = loop.locator("tr.total td").all_inner_texts()
    assert cells[1:3] == ["1", "1"]  # opened, closed
    assert cells[4].startswith("100%")  # closed within 2 business days
    lead_context.close()
