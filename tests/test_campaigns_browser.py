"""Campaigns in a real browser: the enablement lead creates and sends a campaign and the
invitation arrives in a real SMTP server; axe finds no violation on the new pages."""

from __future__ import annotations

from typing import Any

import pytest
from staff_support import OWNER_A, small_dataset
from survey_support import LINK

from cpi.rules.campaign_periods import quarter_end, quarter_of
from cpi.timeutil import utcnow

pytestmark = pytest.mark.slow

WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PHONE = {"viewport": {"width": 360, "height": 780}, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1440, "height": 900}}
PASSWORD = "password-123"


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


def test_the_lead_creates_and_sends_a_campaign_that_arrives_by_smtp(
    live_server, browser, smtp_server
) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(**PHONE)
    page = context.new_page()
    sign_in(page, live_server, "lead@example.test")
    page.click("nav.mainnav >> text=Campaigns")
    page.click("text=New campaign")
    page.fill("#name", "Health pulse")
    page.select_option("#scope", "segment")
    page.select_option("#segment", "Health")
    page.fill("#remind_after_days", "5")
    page.click("button:has-text('Create draft')")
    page.wait_for_selector("h1:has-text('Health pulse')")
    assert "draft" in page.inner_text(".page-head")
    page.click("text=Preview the email")
    assert page.locator(".email-preview").count() == 5
    page.go_back()
    page.click("button:has-text('Send to 3 contacts')")
    page.wait_for_selector(".flash-success")
    assert "3 invitations queued" in page.inner_text(".flash-success")
    assert page.locator(".stat-value").first.inner_text() == "3"
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    received = smtp_server.handler.recipients()
    assert set(received) == {f"c{i}@acc-3.test" for i in range(3)}
    text = smtp_server.handler.messages[0].get_body(("plain",)).get_content()
    assert LINK.search(text) and live_server in text
    context.close()


def test_campaign_pages_pass_axe_on_phone_and_desktop(live_server, browser, runner) -> None:  # type: ignore[no-untyped-def]
    from axe_playwright_python.sync_playwright import Axe

    closes = quarter_end(quarter_of(utcnow().date())).isoformat()
    period = str(quarter_of(utcnow().date()))
    result = runner.invoke("campaign", "create", "--name", "Q pulse", "--period", period,
                           "--closes", closes)  # fmt: skip
    campaign_id = result.stdout.strip().splitlines()[0]
    assert runner.invoke("send", campaign_id).exit_code == 0
    axe = Axe()
    pages = {
        "lead@example.test": [
            "/campaigns/", "/campaigns/new", f"/campaigns/{campaign_id}",
            f"/campaigns/{campaign_id}/preview", "/campaigns/schedules",
            f"/campaigns/{campaign_id}?job=unknown-job",
        ],
        OWNER_A: ["/campaigns/", f"/campaigns/{campaign_id}"],
    }  # fmt: skip
    checked = 0
    for email, paths in pages.items():
        for settings in (PHONE, DESKTOP):
            context = browser.new_context(**settings)
            page = context.new_page()
            sign_in(page, live_server, email)
            for path in paths:
                page.goto(live_server + path)
                results = axe.run(page, options={"runOnly": {"type": "tag", "values": WCAG_21_AA}})
                assert results.violations_count == 0, (path, results.generate_report())
                assert len(results.response["passes"]) >= 5
                width = page.evaluate("document.documentElement.scrollWidth")
                assert width <= settings["viewport"]["width"], (path, width)  # type: ignore[index]
                checked += 1
            context.close()
    assert checked == 16


def test_the_page_follows_a_send_on_the_worker_then_shows_the_figures(
    app, live_server, browser, smtp_server, redis_server, worker
) -> None:  # type: ignore[no-untyped-def]
    app.config["REDIS_URL"] = redis_server.url
    worker.start()
    context = browser.new_context(**DESKTOP)
    page = context.new_page()
    sign_in(page, live_server, "lead@example.test")
    page.goto(live_server + "/campaigns/new")
    page.fill("#name", "Retail pulse")
    page.select_option("#scope", "segment")
    page.select_option("#segment", "Retail")
    page.click("button:has-text('Create draft')")
    page.click("button:has-text('Send to 16 contacts')")
    page.wait_for_url("**/campaigns/*?job=*")
    assert page.locator("#job-progress progress").is_visible()
    # When the job ends, the script reloads the page without ?job=: the new figures.
    page.wait_for_url(lambda url: "job=" not in url, timeout=120_000)
    assert page.locator(".stat-value").first.inner_text() == "16", worker.log()
    assert len(smtp_server.handler.recipients()) == 16
    context.close()
