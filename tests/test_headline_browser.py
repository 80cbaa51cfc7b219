"""Headlines and uncertain statuses on the demo data, in a real browser (Playwright + Chromium).

Every "Improved" / "Slipped" line must rest on a significant change and the
"Largest perception gap" on a significant gap, checked against the JSON scorecard
the API serves for the same scope and period; an uncertain status must read and
look uncertain, on the page and in the PDF.
"""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from support import pdf_text

from cpi.scorecards import display
from cpi.scorecards.headline import NO_CHANGE, NO_GAP
from cpi.scoring import IndicatorResult

PERIOD = "2026-Q3"
# page path -> the API's scope arguments for the same scope
SCOPES = {
    "/": "",
    "/segments/Healthcare": "segment=Healthcare",
    "/segments/Retail": "segment=Retail",
    "/segments/Manufacturing": "segment=Manufacturing",
    "/segments/Public%20sector": "segment=Public%20sector",
    "/owners/"
    + quote("anna.kovacs@demo.cpi-tracker.test"): "owner=anna.kovacs@demo.cpi-tracker.test",
    "/accounts/HC-0007": "account=HC-0007",
    "/accounts/HC-0001": "account=HC-0001",
    "/accounts/RT-0003": "account=RT-0003",
}


@pytest.fixture
def live_server(runner, live_url):  # type: ignore[no-untyped-def]
    assert runner.invoke("demo").exit_code == 0
    return live_url


def sign_in(page, base: str, email: str, password: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(base + "/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")


def luminance(css_rgb: str) -> float:
    channels = [int(c) / 255 for c in re.findall(r"\d+", css_rgb)[:3]]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(foreground: str, background: str) -> float:
    high, low = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def check_headline(page, results: dict[str, IndicatorResult]) -> list[str]:  # type: ignore[no-untyped-def]
    """Assert every headline line is significant in the JSON; return the slipped codes."""
    lines = {}
    for box in ("improved", "slipped"):
        items = page.locator(f".headline-item.{box} li")
        lines[box] = [
            (items.nth(i).get_attribute("data-indicator"), items.nth(i).inner_text())
            for i in range(items.count())
        ]
        if not lines[box]:
            assert page.locator(f".headline-item.{box} p").inner_text() == NO_CHANGE
        for code, text in lines[box]:
            result = results[code]
            assert result.delta_significant is True, (code, text)
            assert result.delta is not None
            for_the_better = result.delta if result.better == "higher" else -result.delta
            assert (for_the_better > 0) == (box == "improved"), (code, text)
            assert text.startswith(result.name), text
            size = display.number(code, abs(result.delta), unit=False)
            assert f" {size}" in text and display.value(result) in text, (text, size)
    gap = page.locator(".headline-item.gap p")
    code = gap.get_attribute("data-indicator")
    if code is None:
        assert gap.inner_text() == NO_GAP
    else:
        assert results[code].gap_significant is True, code
    # nothing in a headline that is not a significant change
    for code, result in results.items():
        if not result.delta_significant:
            assert code not in [c for box in lines.values() for c, _ in box]
    return [c for c, _ in lines["slipped"]]


@pytest.mark.slow
def test_headlines_rest_on_significant_differences_only(live_server, browser, tmp_path) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context()  # type: ignore[attr-defined]
    page = context.new_page()
    sign_in(page, live_server, "admin@demo.cpi-tracker.test", "demo-admin-pass")
    slipped: dict[str, list[str]] = {}
    for path, scope in SCOPES.items():
        card = page.request.get(f"{live_server}/api/scorecard?period={PERIOD}&{scope}").json()
        results = {item["code"]: IndicatorResult(**item) for item in card["indicators"]}
        assert page.goto(f"{live_server}{path}?period={PERIOD}").status == 200
        slipped[path] = check_headline(page, results)
    # the demo's Healthcare slide is real: a significant slip in the Healthcare box
    assert slipped["/segments/Healthcare"], slipped
    # an insignificant large move (Healthcare FCR −12.9 pts, interval reaching +4.3) is no headline
    card = page.request.get(
        f"{live_server}/api/scorecard?period={PERIOD}&segment=Healthcare"
    ).json()
    fcr = next(i for i in card["indicators"] if i["code"] == "fcr")
    assert fcr["delta"] < -10 and fcr["delta_significant"] is False
    assert "fcr" not in slipped["/segments/Healthcare"]

    # uncertain statuses: said in words, hollow, readable (≥ 4.5:1), unlike a certain badge
    page.goto(f"{live_server}/segments/Healthcare?period={PERIOD}")
    uncertain = page.locator("table.scorecard .badge-uncertain")
    certain = page.locator("table.scorecard .badge:not(.badge-uncertain).badge-red")
    assert uncertain.count() >= 1 and certain.count() >= 1
    for badge, is_uncertain in ((uncertain.first, True), (certain.first, False)):
        style = badge.evaluate(
            "e => { const s = getComputedStyle(e);"
            " return [s.color, s.backgroundColor, s.borderTopStyle]; }"
        )
        assert contrast(style[0], style[1]) >= 4.5, style
        if is_uncertain:
            assert "uncertain" in badge.inner_text()
            assert style[1] == "rgb(255, 255, 255)" and style[2] == "dashed", style
        else:
            assert "uncertain" not in badge.inner_text()
            assert style[1] != "rgb(255, 255, 255)", style
    context.close()


@pytest.mark.slow
def test_pdf_headline_and_uncertain_status(live_server, browser, tmp_path) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context()  # type: ignore[attr-defined]
    page = context.new_page()
    sign_in(page, live_server, "lead@demo.cpi-tracker.test", "demo-lead-pass")
    card = page.request.get(f"{live_server}/api/scorecard?period={PERIOD}&account=HC-0007").json()
    results = {item["code"]: IndicatorResult(**item) for item in card["indicators"]}
    response = page.request.get(f"{live_server}/accounts/HC-0007/scorecard.pdf?period={PERIOD}")
    assert response.status == 200
    text = pdf_text(response.body())
    flat = " ".join(text.split())
    mentioned = [r for r in results.values() if re.search(rf"{re.escape(r.name)} (up|down) ", flat)]
    assert mentioned  # the story: Northwind's customers report a real slide
    assert all(r.delta_significant for r in mentioned), [r.code for r in mentioned]
    uncertain = [
        r
        for r in results.values()
        if r.status in ("green", "amber", "red") and not r.status_certain
    ]
    assert uncertain and "(uncertain)" in flat
    context.close()
