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


WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1440, "height": 900}}


def _visible_and_on_top(page, locator) -> bool:  # type: ignore[no-untyped-def]
    """The element is inside the viewport's width and nothing is drawn over its middle."""
    locator.scroll_into_view_if_needed()
    return bool(
        locator.evaluate(
            """cell => {
                const box = cell.getBoundingClientRect();
                if (box.width === 0 || box.left < 0 || box.right > window.innerWidth) return false;
                const hit = document.elementFromPoint(box.left + box.width / 2,
                                                      box.top + box.height / 2);
                return hit !== null && (hit === cell || cell.contains(hit));
            }"""
        )
    )


@pytest.mark.slow
def test_demo_company_page_comments_default_period_and_gap_column(
    live_server, browser, runner, write_csv
) -> None:  # type: ignore[no-untyped-def]
    # Two fresh answers in a new quarter must not move anyone's default period.
    fresh = write_csv(
        "fresh.csv",
        "account_id,contact_email,period,fcr,csat\n"
        "HC-0007,first.q4@example.test,2026-Q4,yes,5\n"
        "HC-0007,second.q4@example.test,2026-Q4,no,2\n",
    )
    assert runner.invoke("import", "responses", str(fresh)).exit_code == 0
    for settings in (DESKTOP, PHONE):
        context = browser.new_context(**settings)  # type: ignore[attr-defined]
        page = context.new_page()
        sign_in(page, live_server, "lead@demo.cpi-tracker.test", "demo-lead-pass")
        assert page.locator("#period").input_value() == "2026-Q3"
        option = page.locator("#period option[value='2026-Q4']").inner_text()
        assert option.startswith("2026-Q4 (in progress: 2 answers")
        # the customers' comments of the period are on the company page
        comments = page.locator(".comments-block blockquote")
        assert comments.count() == 5
        assert "No comments" not in page.locator(".comments-block").inner_text()
        # the Rank button and the Gap column of every ranking table are on screen, uncovered
        assert _visible_and_on_top(page, page.locator(".indicator-picker button")), settings
        for table in ("segment", "owner", "account"):
            gap = page.locator(f".ranking-{table} table tbody tr").first.locator("td.gap")
            assert _visible_and_on_top(page, gap), (settings, table)
        assert page.evaluate("document.documentElement.scrollWidth") <= page.evaluate(
            "window.innerWidth"
        )
        context.close()
    context = browser.new_context(**PHONE)  # type: ignore[attr-defined]
    page = context.new_page()
    sign_in(page, live_server, "marc.dubois@demo.cpi-tracker.test", "demo-am-pass")
    assert page.locator("#period").input_value() == "2026-Q3"
    page.goto(live_server + "/accounts/HC-0007")
    assert page.locator("#period").input_value() == "2026-Q3"
    assert page.locator(".benchmarks-block").is_visible()  # segment and company beside his
    context.close()


@pytest.mark.slow
def test_every_staff_page_passes_axe_on_phone_and_desktop(live_server, browser) -> None:  # type: ignore[no-untyped-def]
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    pages = {
        ("admin@demo.cpi-tracker.test", "demo-admin-pass"): [
            "/", "/segments/Healthcare", "/owners/marc.dubois@demo.cpi-tracker.test",
            "/accounts", "/accounts?q=HC", "/accounts/HC-0007", "/admin/", "/admin/uploads",
            "/admin/users", "/admin/targets", "/admin/audit", "/accounts/NOPE",
        ],
        ("marc.dubois@demo.cpi-tracker.test", "demo-am-pass"): [
            "/", "/accounts/HC-0007", "/admin/",
        ],
    }  # fmt: skip
    checked = 0
    for (email, password), paths in pages.items():
        for settings in (PHONE, DESKTOP):
            context = browser.new_context(**settings)  # type: ignore[attr-defined]
            page = context.new_page()
            sign_in(page, live_server, email, password)
            for path in paths:
                page.goto(live_server + path)
                results = axe.run(page, options={"runOnly": {"type": "tag", "values": WCAG_21_AA}})
                assert results.violations_count == 0, (path, results.generate_report())
                assert len(results.response["passes"]) >= 5  # axe really ran
                checked += 1
            context.close()
    assert checked == 30
