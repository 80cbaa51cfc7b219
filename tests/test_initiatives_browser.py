"""The initiative pages in a real browser (Playwright + Chromium) on the demo data."""

from __future__ import annotations

import json

import pytest

WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PHONE = {"viewport": {"width": 360, "height": 800}, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1440, "height": 900}}
LEAD = ("lead@demo.cpi-tracker.test", "demo-lead-pass")
MARC = ("marc.dubois@demo.cpi-tracker.test", "demo-am-pass")


@pytest.fixture
def demo_url(runner, live_url):  # type: ignore[no-untyped-def]
    assert runner.invoke("demo").exit_code == 0
    return live_url


def sign_in(page, base: str, email: str, password: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(base + "/")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")


@pytest.mark.slow
def test_enablement_lead_reads_the_finished_initiative_report(demo_url, browser, runner) -> None:  # type: ignore[no-untyped-def]
    expected = json.loads(runner.invoke("initiative", "report", "1", "--format", "json").output)
    context = browser.new_context(**DESKTOP)  # type: ignore[attr-defined]
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    sign_in(page, demo_url, *LEAD)
    page.click("nav.mainnav >> text=Initiatives")
    assert page.locator("h1").inner_text() == "Initiatives"
    page.click("text=First-contact resolution course")
    assert page.locator("h1").inner_text() == "First-contact resolution course"
    fcr = page.locator("table.effects tbody tr", has_text="First-contact resolution").first
    assert "significant" in fcr.inner_text() and "not significant" not in fcr.inner_text()
    assert page.locator("figure.trend-chart svg").count() == len(
        expected["initiative"]["indicators"]
    )
    assert "Total costs: 25,600.00" in page.locator("body").inner_text()
    studies = page.locator("#case-studies tbody tr", has_text="approved (counted)")
    assert studies.count() == 2
    roi = page.locator("section.roi")
    assert f"{expected['roi_percent']:.1f}%" in roi.inner_text()
    assert roi.locator("ol.calc li").count() >= 8  # costs, case studies, measured, totals, ROI
    # the measured benefit is the user's choice: untick it and the ROI follows
    page.uncheck("#measured")
    page.click("text=Update report")
    page.wait_for_url("**/initiatives/1?*")
    assert "Measured benefit: not counted" in page.locator("section.roi").inner_text()
    assert not errors, errors  # no CSP violations or script errors
    context.close()


@pytest.mark.slow
def test_initiative_pages_pass_axe_on_phone_and_desktop(demo_url, browser) -> None:  # type: ignore[no-untyped-def]
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    pages = {
        LEAD: [
            "/initiatives/", "/initiatives/1", "/initiatives/2", "/initiatives/new",
            "/initiatives/1/edit", "/initiatives/1/costs", "/initiatives/1/case-studies/new",
            "/initiatives/coaching", "/initiatives/drivers", "/initiatives/1?before=9",
        ],
        MARC: ["/initiatives/", "/initiatives/1", "/initiatives/1/case-studies/new",
               "/initiatives/coaching", "/initiatives/drivers"],
    }  # fmt: skip
    checked = 0
    for (email, password), paths in pages.items():
        for settings in (PHONE, DESKTOP):
            context = browser.new_context(**settings)  # type: ignore[attr-defined]
            page = context.new_page()
            sign_in(page, demo_url, email, password)
            for path in paths:
                page.goto(demo_url + path)
                results = axe.run(page, options={"runOnly": {"type": "tag", "values": WCAG_21_AA}})
                assert results.violations_count == 0, (path, results.generate_report())
                assert len(results.response["passes"]) >= 5  # axe really ran
                width = page.evaluate("document.documentElement.scrollWidth")
                assert width <= settings["viewport"]["width"], (path, width)  # no sideways scroll
                checked += 1
            context.close()
    assert checked == 30
