"""A real browser (Playwright + Chromium) against the app on a loopback port."""

from __future__ import annotations

import pytest


@pytest.fixture
def live_server(runner, live_url):  # type: ignore[no-untyped-def]
    assert runner.invoke("demo").exit_code == 0
    return live_url


def sign_in(page, base: str, email: str, password: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(base + "/")
    assert "/login" in page.url
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")


@pytest.mark.slow
def test_account_manager_opens_an_account_and_downloads_its_pdf(
    live_server, browser, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(accept_downloads=True)  # type: ignore[attr-defined]
    page = context.new_page()
    errors: list[str] = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    sign_in(page, live_server, "marc.dubois@demo.cpi-tracker.test", "demo-am-pass")
    assert page.locator("h1").inner_text() == "My accounts"
    page.click("text=Accounts")
    page.click("text=Northwind Clinics")
    assert page.locator("h1").inner_text() == "Northwind Clinics"
    assert page.locator("table.scorecard tbody tr").count() == 7
    with page.expect_download() as download_info:
        page.click("text=Download PDF scorecard")
    download = download_info.value
    assert download.suggested_filename == "HC-0007-2026-Q3.pdf"
    path = tmp_path / "card.pdf"
    download.save_as(path)
    assert path.read_bytes().startswith(b"%PDF")
    assert not errors, errors  # no CSP violations or script errors
    # another manager's account does not exist for Marc
    response = page.goto(live_server + "/accounts/MF-0001")
    assert response.status == 404
    context.close()


@pytest.mark.slow
def test_enablement_lead_uses_the_ranking(live_server, browser) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context()  # type: ignore[attr-defined]
    page = context.new_page()
    sign_in(page, live_server, "lead@demo.cpi-tracker.test", "demo-lead-pass")
    assert page.locator("h1").inner_text() == "Company"
    page.select_option("#indicator", "fcr")
    page.click(".indicator-picker button")
    accounts = page.locator(".ranking-account table tbody tr")
    assert accounts.count() > 0
    # Northwind Clinics: the story's glowing KPI that customers contradict is near the top
    top_three = [accounts.nth(i).inner_text() for i in range(3)]
    assert any("Northwind Clinics" in row for row in top_three), top_three
    page.locator(".ranking-segment table tbody tr").first.locator("a").click()
    assert "/segments/" in page.url
    page.locator(".ranking-account table tbody tr").first.locator("a").click()
    assert "/accounts/" in page.url
    page.select_option("#period", "2026-Q2")
    page.click(".period-picker button")
    assert "period=2026-Q2" in page.url
    context.close()
