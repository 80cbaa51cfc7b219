"""Follow-ups in a real browser: the owner finds the alert in their inbox on a phone and
marks it resolved; axe finds no violation on the new pages, phone and desktop."""

from __future__ import annotations

from typing import Any

import pytest
from followup_support import LOW, OWNER, PASSWORD, answer, setup

pytestmark = pytest.mark.slow

WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PHONE = {"viewport": {"width": 360, "height": 780}, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1440, "height": 900}}


@pytest.fixture
def live_server(app, runner, write_csv, live_url):  # type: ignore[no-untyped-def]
    tokens = setup(app, runner, write_csv)
    client = app.test_client()
    answer(client, tokens["bob@acme.test"], **LOW, name_consent="y")
    answer(client, tokens["cara@globex.test"], fcr="no")
    return live_url


def sign_in(page: Any, base: str, email: str) -> None:
    page.goto(base + "/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")


def test_the_owner_resolves_a_follow_up_from_the_inbox_on_a_phone(live_server, browser) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(**PHONE)
    page = context.new_page()
    sign_in(page, live_server, OWNER)
    page.click("nav.mainnav >> text=Follow-ups")
    rows = page.locator("table.followups tbody tr")
    assert rows.count() == 1  # Globex belongs to the other account manager
    assert "Acme <Industrial>" in rows.first.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.click("text=Acme <Industrial>")
    page.wait_for_selector("h1:has-text('Follow-up')")
    assert "Bob Jones" in page.inner_text("main")
    assert "<b>Nobody called back</b>" in page.inner_text(".customer-comment")
    page.select_option("#status", "resolved")
    page.fill("#note", "Called Bob; the engineer visits on Monday.")
    page.click("button:has-text('Save status')")
    page.wait_for_selector(".flash-success")
    assert "marked resolved" in page.inner_text(".flash-success")
    assert "the engineer visits on Monday" in page.inner_text("main")
    page.click("nav.mainnav >> text=Follow-ups")
    assert "No follow-ups to show." in page.inner_text("main")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    context.close()


def test_follow_up_pages_pass_axe_on_phone_and_desktop(live_server, browser) -> None:  # type: ignore[no-untyped-def]
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    for size in (PHONE, DESKTOP):
        context = browser.new_context(**size)
        page = context.new_page()
        sign_in(page, live_server, "lead@example.test")
        for path in ("/followups/", "/followups/?status=all", "/followups/1",
                     "/followups/rules", "/?period=2026-Q3",
                     "/accounts/ACME-001?period=2026-Q3"):  # fmt: skip
            page.goto(live_server + path)
            results = axe.run(page, options={"runOnly": {"type": "tag", "values": WCAG_21_AA}})
            assert results.violations_count == 0, (path, size, results.generate_report())
            assert len(results.response["passes"]) >= 5  # axe really ran
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= size["viewport"]["width"], (path, width)  # type: ignore[index]
        context.close()
