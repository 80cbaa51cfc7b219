"""The customer's minute (issue 14, items 5-7), without a browser: the one-click
answer's notice and its script-driven save, the header (account, quarter, closing
date in the contact's language) and the company logo.

The browser half (the script really saving, no-script, one-row scales, axe,
keyboard, the timed phone run) is in tests/test_survey_minute_browser.py.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from survey_support import is_checked, open_form, setup_campaign, tokens_by_email

from cpi.surveys.models import Response
from cpi.surveys.page import period_label, period_span

JSON = {"Accept": "application/json"}
NOT_SAVED = "Your answer is not saved yet."


def responses(db: Any) -> list[Response]:
    db.rollback()
    return list(db.scalars(select(Response)))


def _tokens(runner: Any, write_csv: Any, app: Any, *extra: str) -> dict[str, str]:
    campaign_id = setup_campaign(runner, write_csv, *extra)
    assert runner.invoke("send", str(campaign_id)).exit_code == 0
    return tokens_by_email(app)


def test_a_scanners_get_of_the_one_click_link_records_nothing_and_says_so(
    app: Any, client: Any, runner: Any, write_csv: Any, db: Any
) -> None:
    bob = _tokens(runner, write_csv, app)["bob@acme.test"]
    for _ in range(3):
        page = client.get(f"/s/{bob}?fcr=no", headers={"User-Agent": "SafeLinks scanner"})
        assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert responses(db) == []
    assert NOT_SAVED in html
    # the save button comes before the first question, inside the form
    assert html.index('id="one-click-save"') < html.index('id="q-fcr"')
    # the only script is a static file, allowed by the policy that forbids inline script
    assert '<script src="/static/js/survey.js" defer></script>' in html
    assert html.count("<script") == 1
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "unsafe-inline" not in policy
    # a plain link (no answer in it) has no notice
    assert NOT_SAVED not in client.get(f"/s/{bob}").get_data(as_text=True)
    # an answer that would be refused is not a one-click answer either
    assert NOT_SAVED not in client.get(f"/s/{bob}?nps=11").get_data(as_text=True)


def test_the_scripts_post_records_once_and_answers_json(
    app: Any, client: Any, runner: Any, write_csv: Any, db: Any
) -> None:
    bob = _tokens(runner, write_csv, app)["bob@acme.test"]
    token = open_form(client, f"{bob}?fcr=no")
    for _ in range(3):  # a reload, a double tap: the same single response
        saved = client.post(f"/s/{bob}", data={"csrf_token": token, "fcr": "no"}, headers=JSON)
        assert saved.status_code == 200 and saved.get_json() == {"saved": True}
    rows = responses(db)
    assert [(r.fcr, r.nps) for r in rows] == [("no", None)]

    # more answers later update that response (answering again, as with Send)
    more = {"csrf_token": token, "fcr": "no", "nps": "3", "comment": "Slow"}
    assert client.post(f"/s/{bob}", data=more, headers=JSON).get_json() == {"saved": True}
    rows = responses(db)
    assert [(r.fcr, r.nps, r.comment) for r in rows] == [("no", 3, "Slow")]
    # coming back by the one-click link shows the saved answers with the link's one
    html = client.get(f"/s/{bob}?fcr=yes").get_data(as_text=True)
    assert "\nSlow</textarea>" in html and is_checked(html, "fcr", "yes")
    assert is_checked(html, "nps", "3")
    assert "3 of 8 answered" in html  # fcr (from the link), nps, comment


def test_the_scripts_post_refused_says_why_in_json_and_records_nothing(
    app: Any, client: Any, runner: Any, write_csv: Any, db: Any
) -> None:
    bob = _tokens(runner, write_csv, app)["bob@acme.test"]
    token = open_form(client, bob)
    bad = client.post(f"/s/{bob}", data={"csrf_token": token, "nps": "11"}, headers=JSON)
    assert bad.status_code == 400
    body = bad.get_json()
    assert body["saved"] is False and set(body["errors"]) == {"nps"}
    stale = client.post(f"/s/{bob}", data={"csrf_token": "stale", "fcr": "no"}, headers=JSON)
    assert stale.status_code == 400 and stale.get_json() == {"saved": False}
    # no CSRF token at all: the wrong-link page, as for any form post
    assert client.post(f"/s/{bob}", data={"fcr": "no"}, headers=JSON).status_code == 404
    assert responses(db) == []
    # a browser's Send (asking for HTML) still goes on to the thank-you page
    sent = client.post(f"/s/{bob}", data={"csrf_token": token, "fcr": "no"})
    assert sent.status_code == 303 and sent.headers["Location"].endswith("/thanks")


def _one_line(html: str) -> str:
    """Text with tags dropped and every run of (thin, no-break) spaces made one space."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace(" – ", "–")


@pytest.mark.parametrize(
    ("email", "expected_header", "expected_closing"),
    [
        ("ann@acme.test", "Acme Industrial · juillet–septembre 2026", "15 mars 2099"),
        ("cara@globex.test", "Globex · Juli–September 2026", "15. März 2099"),
        ("bob@acme.test", "Acme Industrial · July–September 2026", "March 15, 2099"),
    ],
)
def test_the_header_names_the_account_and_the_quarter_in_the_contacts_language(
    app: Any,
    client: Any,
    runner: Any,
    write_csv: Any,
    email: str,
    expected_header: str,
    expected_closing: str,
) -> None:
    token = _tokens(runner, write_csv, app, "--closes", "2099-03-15")[email]
    page = _one_line(client.get(f"/s/{token}").get_data(as_text=True))
    assert expected_header in page
    assert expected_closing in page
    assert "Q3" not in page
    sent = client.post(f"/s/{token}", data={"csrf_token": open_form(client, token), "nps": "7"})
    thanks = _one_line(client.get(sent.headers["Location"]).get_data(as_text=True))
    assert expected_header in thanks and expected_closing in thanks


def test_period_labels() -> None:
    assert period_span("2026-Q1") == (date(2026, 1, 1), date(2026, 3, 31))
    assert period_span("2028-Q4") == (date(2028, 10, 1), date(2028, 12, 31))
    assert period_span("2026") == (date(2026, 1, 1), date(2026, 12, 31))
    for odd in ("2026-Q5", "2026-Q12", "0000", "Q3-2026", ""):
        assert period_span(odd) is None
        assert period_label(odd, "en") == odd
    assert period_label("2026", "de") == "2026"
    assert period_label("2026-Q2", "ru").startswith("апрель")
    assert "április" in period_label("2026-Q2", "hu")


LOGO = '<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect width="8"/></svg>'


def test_the_company_logo_is_served_only_as_the_configured_image(
    app: Any, client: Any, runner: Any, write_csv: Any, tmp_path: Path
) -> None:
    bob = _tokens(runner, write_csv, app)["bob@acme.test"]
    assert client.get("/brand/logo").status_code == 404  # none configured
    assert 'src="/brand/logo"' not in client.get(f"/s/{bob}").get_data(as_text=True)

    logo = tmp_path / "logo.svg"
    logo.write_text(LOGO)
    app.config.update(COMPANY_LOGO=str(logo), COMPANY_NAME="Acme <Supplies>")
    served = client.get("/brand/logo")
    assert served.status_code == 200 and served.data == LOGO.encode()
    assert served.mimetype == "image/svg+xml"
    assert "sandbox" in served.headers["Content-Security-Policy"]
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    page = client.get(f"/s/{bob}").get_data(as_text=True)
    assert 'src="/brand/logo"' in page
    assert "Acme &lt;Supplies&gt;" in page and "Acme <Supplies>" not in page

    # anything but an image file is never served, whatever the setting says
    secret = tmp_path / "secret.txt"
    secret.write_text("not a logo")
    for configured in (str(secret), str(tmp_path), str(tmp_path / "missing.png")):
        app.config["COMPANY_LOGO"] = configured
        assert client.get("/brand/logo").status_code == 404, configured
