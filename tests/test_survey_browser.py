"""The customer's journey in a real browser: email link -> phone-sized form -> thank-you page.

Chromium (Debian's, /usr/bin/chromium) driven by Playwright against the app served
on 127.0.0.1; axe-core checks the survey page for WCAG 2.1 AA violations.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from survey_support import LINK, outbox_messages, parts, setup_campaign

pytestmark = pytest.mark.slow

WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def phone(browser: Any) -> Any:
    return browser.new_context(
        viewport={"width": 375, "height": 740},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="en-GB",
    )


def test_customer_answers_from_the_email_link_on_a_phone(
    app: Any, runner: Any, write_csv: Any, live_url: str, browser: Any
) -> None:
    campaign_id = setup_campaign(runner, write_csv)
    assert runner.invoke("send", str(campaign_id)).exit_code == 0
    message = next(m for m in outbox_messages(app) if "bob@acme.test" in str(m["To"]))
    _, html = parts(message)
    one_click = next(
        href for href in LINK.finditer(html) if html[href.end() : href.end() + 8] == "?fcr=yes"
    )
    link = one_click.group(0) + "?fcr=yes"
    assert link.startswith(live_url)

    context = phone(browser)
    page = context.new_page()
    page.goto(link)
    assert page.get_by_label("Yes", exact=True).is_checked()  # the one-click answer
    page.get_by_label("How many contacts did you have with us this quarter?").fill("6")
    page.get_by_label("How many of those contacts brought you something of value?").fill("4")
    page.get_by_label("How many business days passed from your request to a final quote?").fill(
        "3.5"
    )
    page.locator("label[for='csat-3']").tap()  # csat 4
    page.locator("label[for='nps-9']").tap()  # nps 9
    page.locator("label[for='ces-5']").tap()  # ces 6
    page.get_by_label("Anything you would like to tell us?").fill(
        "Fast <b>quotes</b> & kind people"
    )
    page.get_by_role("button", name="Send my answers").tap()
    page.wait_for_url("**/thanks")
    assert page.get_by_role("heading", name="Thank you!").is_visible()
    context.close()

    result = runner.invoke(
        "score", "--period", "2026-Q3", "--account", "ACME-001", "--format", "json"
    )
    card = json.loads(result.stdout)
    values = {i["code"]: (i["n"], i["value"]) for i in card["indicators"]}
    assert card["responses"] == 1 and card["invited"] == 2
    assert values["fcr"] == (1, 100.0)
    assert values["value_added_share"] == (1, pytest.approx(100 * 4 / 6))
    assert values["quote_turnaround"] == (1, 3.5)
    assert values["csat"] == (1, 100.0) and values["nps"] == (1, 100.0)
    assert values["ces"] == (1, 6.0)


def test_survey_page_has_no_wcag_21_aa_violations(
    app: Any, runner: Any, write_csv: Any, live_url: str, browser: Any
) -> None:
    from axe_playwright_python.sync_playwright import Axe

    runner.invoke("send", str(setup_campaign(runner, write_csv)))
    message = next(m for m in outbox_messages(app) if "ann@acme.test" in str(m["To"]))
    text_part, _ = parts(message)
    token = LINK.search(text_part).group(1)  # type: ignore[union-attr]
    context = phone(browser)
    page = context.new_page()
    axe = Axe()
    checked = []
    for path in (f"/s/{token}", f"/u/{token}", "/s/not-a-valid-token-at-all-xxxxxxxx"):
        page.goto(live_url + path)
        results = axe.run(page, options={"runOnly": {"type": "tag", "values": WCAG_21_AA}})
        assert results.violations_count == 0, results.generate_report()
        assert len(results.response["passes"]) >= 5  # axe really ran its rules
        checked.append(page.title())
    # the form with errors shown is checked too
    page.goto(f"{live_url}/s/{token}")
    page.locator("#contacts_total").fill("2")  # Ann's page is in French
    page.locator("#contacts_value_added").fill("5")
    page.get_by_role("button", name="Envoyer mes réponses").click()
    assert page.locator(".error-summary").is_visible()
    results = axe.run(page, options={"runOnly": {"type": "tag", "values": WCAG_21_AA}})
    assert results.violations_count == 0, results.generate_report()
    context.close()
    assert len(checked) == 3
