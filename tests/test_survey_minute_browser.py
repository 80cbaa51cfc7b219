"""The customer's minute in a real browser (Chromium via Playwright): the one-click
answer saved by the page's script (and not without it), scales on one row from a
360 px phone to a 1,440 px desktop, axe on phone and desktop, the keyboard, and the
time a phone takes to answer the whole form (printed, never asserted).
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlalchemy import select
from survey_support import LINK, outbox_messages, parts, setup_campaign

from cpi.surveys.models import Response

pytestmark = pytest.mark.slow

WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PHONE = {
    "viewport": {"width": 360, "height": 740},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}
DESKTOP = {"viewport": {"width": 1440, "height": 900}}


def one_click_link(app: Any, runner: Any, write_csv: Any, answer: str = "no") -> str:
    """Bob's (English) one-click link for ``fcr=<answer>``, taken from the sent email."""
    campaign_id = setup_campaign(runner, write_csv)
    assert runner.invoke("send", str(campaign_id)).exit_code == 0
    message = next(m for m in outbox_messages(app) if "bob@acme.test" in str(m["To"]))
    _, html = parts(message)
    query = f"?fcr={answer}"
    match = next(m for m in LINK.finditer(html) if html[m.end() :].startswith(query))
    return match.group(0) + query


def stored(db: Any) -> list[tuple[Any, ...]]:
    db.rollback()
    return [(r.fcr, r.nps, r.comment) for r in db.scalars(select(Response))]


def test_the_one_click_answer_is_saved_by_the_page_without_pressing_send(
    app: Any, runner: Any, write_csv: Any, live_url: str, browser: Any, db: Any
) -> None:
    link = one_click_link(app, runner, write_csv)
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.goto(link)
    assert page.get_by_label("No", exact=True).is_checked()
    notice = page.locator("#one-click-message")
    notice.filter(has_text="Saved — add more if you like.").wait_for()
    assert not page.locator("#one-click-save").is_visible()
    assert stored(db) == [("no", None, None)]
    assert page.url.endswith(link.split("?")[0].split(live_url)[1])  # the answer left the URL
    assert page.locator("#progress-text").inner_text() == "1 of 8 answered"

    # adding more and sending updates the same response
    page.locator("label[for='nps-3']").tap()
    assert page.locator("#progress-text").inner_text() == "2 of 8 answered"
    page.get_by_role("button", name="Send my answers").tap()
    page.wait_for_url("**/thanks")
    assert stored(db) == [("no", 3, None)]
    # opening the link again saves nothing new: still one response, the link's answer
    page.goto(link.replace("fcr=no", "fcr=yes"))
    notice.filter(has_text="Saved").wait_for()
    page.reload()
    assert stored(db) == [("yes", 3, None)]
    context.close()


def test_without_script_the_page_says_the_answer_is_not_saved_and_offers_the_button(
    app: Any, runner: Any, write_csv: Any, live_url: str, browser: Any, db: Any
) -> None:
    link = one_click_link(app, runner, write_csv)
    context = browser.new_context(**PHONE, java_script_enabled=False)
    page = context.new_page()
    page.goto(link)
    notice = page.locator("#one-click-message")
    assert notice.inner_text() == "Your answer is not saved yet. Press the button to save it."
    button = page.get_by_role("button", name="Save my answer")
    first_question = page.locator("#q-fcr").bounding_box()
    assert button.is_visible() and button.bounding_box()["y"] < first_question["y"]
    assert stored(db) == []
    button.tap()
    page.wait_for_url("**/thanks")
    assert stored(db) == [("no", None, None)]
    context.close()


def _boxes(page: Any, selector: str) -> list[dict[str, float]]:
    return [element.bounding_box() for element in page.locator(selector).all()]


@pytest.mark.parametrize("device", [PHONE, DESKTOP], ids=["phone-360", "desktop-1440"])
def test_scales_fit_one_row_with_their_end_labels_under_the_end_options(
    app: Any, runner: Any, write_csv: Any, live_url: str, browser: Any, device: Any
) -> None:
    link = one_click_link(app, runner, write_csv)
    context = browser.new_context(**device)
    page = context.new_page()
    page.goto(link)
    width = device["viewport"]["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways scroll
    for field, count in (("csat", 5), ("nps", 11), ("ces", 7)):
        options = _boxes(page, f"#q-{field} .choices-scale .choice")
        assert len(options) == count
        assert len({round(box["y"]) for box in options}) == 1, (field, options)
        assert all(box["width"] >= 24 and box["height"] >= 44 for box in options), options
        low, high = _boxes(page, f"#q-{field} .anchors span")
        assert abs(low["x"] - options[0]["x"]) < 2
        assert abs((high["x"] + high["width"]) - (options[-1]["x"] + options[-1]["width"])) < 2
        assert low["y"] > options[0]["y"] + options[0]["height"] - 1  # below the options
    context.close()


@pytest.mark.parametrize("device", [PHONE, DESKTOP], ids=["phone-360", "desktop-1440"])
def test_survey_page_passes_axe_on_phone_and_desktop(
    app: Any, runner: Any, write_csv: Any, live_url: str, browser: Any, device: Any
) -> None:
    from axe_playwright_python.sync_playwright import Axe

    link = one_click_link(app, runner, write_csv)
    context = browser.new_context(**device)
    page = context.new_page()
    axe = Axe()
    page.goto(link)
    page.locator("#one-click-message").filter(has_text="Saved").wait_for()
    page.locator("label[for='nps-8']").click()
    for step in ("the saved one-click page", "the thank-you page"):
        results = axe.run(page, options={"runOnly": {"type": "tag", "values": WCAG_21_AA}})
        assert results.violations_count == 0, (step, results.generate_report())
        assert len(results.response["passes"]) >= 5
        if step != "the thank-you page":
            page.get_by_role("button", name="Send my answers").click()
            page.wait_for_url("**/thanks")
    context.close()


def test_scales_work_from_the_keyboard(
    app: Any, runner: Any, write_csv: Any, live_url: str, browser: Any, db: Any
) -> None:
    link = one_click_link(app, runner, write_csv)
    context = browser.new_context(**DESKTOP)
    page = context.new_page()
    page.goto(link.split("?")[0])
    page.locator("#nps-0").focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert page.locator("#nps-2").is_checked()
    outline = page.locator("label[for='nps-2']").evaluate("e => getComputedStyle(e).outlineStyle")
    assert outline == "solid"  # the focus is visible on the segment
    page.keyboard.press("Tab")  # on to the next question
    assert page.evaluate("document.activeElement.name") == "ces"
    page.keyboard.press("Space")
    page.locator("#comment").fill("typed")
    page.locator("#comment").press("Tab")
    page.keyboard.press("Tab")  # past the consent box to Send
    page.keyboard.press("Enter")
    page.wait_for_url("**/thanks")
    assert stored(db) == [(None, 2, "typed")]
    context.close()


# Keystroke-Level Model operator times (Card, Moran & Newell 1980; for touch, the
# tap includes moving the finger): a figure for a person, printed beside the run's
# own time (which is only the page's latency: the automation does not hesitate).
READ_WORDS_PER_SECOND = 250 / 60
THINK_SECONDS = 1.35  # deciding an answer (the "M" operator), once per question
TAP_SECONDS = 0.6
KEY_SECONDS = 0.35  # a phone's on-screen keyboard, ~35 words a minute
SWIPE_SECONDS = 0.8  # one screen scrolled


def test_time_to_answer_the_whole_form_on_a_phone(
    app: Any, runner: Any, write_csv: Any, live_url: str, browser: Any, db: Any, capsys: Any
) -> None:
    link = one_click_link(app, runner, write_csv, answer="yes")
    context = browser.new_context(**PHONE)
    page = context.new_page()
    taps = keys = 0
    started = time.perf_counter()
    page.goto(link)  # the tap in the email: the first answer
    taps += 1
    page.locator("#one-click-message").filter(has_text="Saved").wait_for()
    for field, text in (
        ("contacts_total", "6"),
        ("contacts_value_added", "4"),
        ("quote_turnaround_days", "2.5"),
    ):
        page.locator(f"#{field}").tap()
        page.locator(f"#{field}").press_sequentially(text)
        taps, keys = taps + 1, keys + len(text)
    for option in ("csat-3", "nps-9", "ces-5"):
        page.locator(f"label[for='{option}']").tap()
        taps += 1
    page.get_by_role("button", name="Send my answers").tap()
    taps += 1
    page.wait_for_url("**/thanks")
    elapsed = time.perf_counter() - started
    context.close()
    assert stored(db) == [("yes", 9, None)]

    questions = 7  # the comment and the consent box left empty: skipped, not read
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.goto(link.split("?")[0])
    words = page.evaluate(
        "[...document.querySelectorAll('legend, .question-label, .hint, .anchors, h1, .intro')]"
        ".slice(0, 40).map(e => e.innerText).join(' ').split(/\\s+/).length"
    )
    screens = page.evaluate("document.documentElement.scrollHeight / window.innerHeight")
    context.close()
    estimate = (
        words / READ_WORDS_PER_SECOND
        + questions * THINK_SECONDS
        + taps * TAP_SECONDS
        + keys * KEY_SECONDS
        + max(screens - 1, 0) * SWIPE_SECONDS
    )
    with capsys.disabled():
        print(
            f"\nsurvey on a 360 px phone: {taps} taps, {keys} keystrokes, {words} words to read,"
            f" {screens:.1f} screens; automated run {elapsed:.2f} s;"
            f" estimated for a person (KLM) {estimate:.0f} s"
        )
