"""Issue 15 item 4: the scorecard pages' words and figures in the staff user's language.

Reports are cached once for readers of every language, so they carry codes and
numbers; a French reader sees French status words, headline sentences and ``80,0 %``,
and the same cached report then reads in English for an English reader.
"""

from __future__ import annotations

import io
import pickle
import re
from typing import Any

import pytest
from staff_support import sign_in
from support import csrf_token, pdf_text

from cpi.scorecards import cache

PERIOD = "2026-Q3"
OWNER = "owner.fr@example.test"
ANSWERS = 20


@pytest.fixture
def moving_account(runner, write_csv) -> None:  # type: ignore[no-untyped-def]
    """ACC-9: 20 answers a quarter; first-contact resolution 20% in 2026-Q2, 80% in
    2026-Q3 (a significant change), the internal KPI 99 (a significant gap)."""
    contacts = ["account_id,account_name,segment,owner_email,contact_email,contact_name"]
    responses = ["account_id,contact_email,period,fcr,csat,nps,ces,quote_turnaround_days"]
    for i in range(ANSWERS):
        email = f"c{i}@acc9.test"
        contacts.append(f"ACC-9,Mouvement SA,Retail,{OWNER},{email},Person {i}")
        for period, yes in (("2026-Q2", i < 4), ("2026-Q3", i < 16)):
            fcr = "yes" if yes else "no"
            responses.append(f"ACC-9,{email},{period},{fcr},{4 + i % 2},{7 + i % 3},5,{2 + i % 3}")
    files = {
        "contacts": contacts,
        "responses": responses,
        "kpis": ["indicator,period,account_id,value", f"fcr,{PERIOD},ACC-9,99"],
        "targets": ["indicator,period,target", f"fcr,{PERIOD},95", f"csat,{PERIOD},10"],
    }
    for kind, lines in files.items():
        path = write_csv(f"{kind}.csv", "\n".join(lines) + "\n")
        result = runner.invoke("import", kind, str(path))
        assert result.exit_code == 0, result.output
    for email, role in (("lead@example.test", "enablement"), (OWNER, "account_manager")):
        result = runner.invoke(
            "user", "create", "--email", email, "--role", role, env={"CPI_PASSWORD": "password-123"}
        )
        assert result.exit_code == 0, result.output


def choose_language(client: Any, locale: str) -> None:
    token = csrf_token(client, "/account/password")
    response = client.post("/account/language", data={"csrf_token": token, "locale": locale})
    assert response.status_code == 302


def page(client: Any, url: str) -> str:
    """The page's text with Babel's no-break spaces (``80,0\xa0%``) read as spaces."""
    response = client.get(url)
    assert response.status_code == 200
    return re.sub("[\u00a0\u202f]", " ", response.get_data(as_text=True))


def cached_bytes() -> bytes:
    """Everything the in-process dashboard cache holds, pickled (as Redis would hold it)."""
    stores = (cache._entries, cache._small, cache._pieces)
    return b"".join(pickle.dumps(list(store.values())) for store in stores)


FRENCH_CHANGE = "Résolution au premier contact en hausse de 60,0 pts, de 20,0 % à 80,0 %"
ENGLISH_CHANGE = "First-contact resolution up 60.0 pts, from 20.0% to 80.0%"
FRENCH_GAP = "Résolution au premier contact : selon les clients 80,0 %, selon le KPI interne 99,0 %"


def test_a_french_lead_reads_the_dashboard_in_french_then_the_cached_one_in_english(
    moving_account, client
) -> None:  # type: ignore[no-untyped-def]
    cache.clear()
    sign_in(client, "lead@example.test", "password-123")
    choose_language(client, "fr")
    html = page(client, f"/?period={PERIOD}")
    assert FRENCH_CHANGE in html
    assert FRENCH_GAP in html
    assert "hors objectif" in html  # 80% against a target of 95%: a status word
    assert "part des réponses « oui »" in html  # the measure beside the name
    assert "<h3>Responsables de compte</h3>" in html  # the rankings' titles
    for english in ("up 60.0", " from 20.0", "off target", "on target", "share of yes answers",
                    "customers say", "Customers: ", "80.0%"):  # fmt: skip
        assert english not in html, english
    held = cached_bytes()
    assert held  # the dashboard was cached ...
    for word in (b"en hausse", b"hors objectif", b"80,0", b"up 60.0", b"off target"):
        assert word not in held, word  # ... as figures, without a word of either language

    hits = cache.stats["hits"]
    choose_language(client, "en")
    english = page(client, f"/?period={PERIOD}")
    assert cache.stats["hits"] > hits  # the same cached report
    assert ENGLISH_CHANGE in english
    assert "off target" in english and "share of yes answers" in english
    assert "<h3>Account managers</h3>" in english and "1 accounts" in english
    for french in ("en hausse", "hors objectif", "80,0 %", "Clients : "):
        assert french not in english, french


def test_a_french_account_manager_reads_the_account_page_and_pdf_in_french(
    moving_account, client
) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, OWNER, "password-123")
    choose_language(client, "fr")
    html = page(client, f"/accounts/ACC-9?period={PERIOD}")
    assert FRENCH_CHANGE in html and FRENCH_GAP in html
    assert "hors objectif" in html
    # the trend chart's summary, axis and quarters
    assert "Clients : 80,0 %. KPI interne : 99,0 %. Objectif : 95,0 %." in html
    assert "T3 ’26" in html and "Q3 ’26" not in html
    assert "Customers: " not in html and "Internal KPI: " not in html
    response = client.get(f"/accounts/ACC-9/scorecard.pdf?period={PERIOD}")
    assert response.status_code == 200
    text = " ".join(re.sub("[\u00a0\u202f]", " ", pdf_text(response.data)).split())
    assert "en hausse de 60,0 pts" in text and "80,0 %" in text
    assert " up 60.0" not in text and "80.0%" not in text


@pytest.mark.parametrize(
    ("locale", "status", "change"),
    [
        ("de", "Ziel verfehlt", "um 60,0 Pkt. gestiegen, von 20,0 % auf 80,0 %"),
        ("hu", "cél alatt", "60,0 pont emelkedés, 20,0% értékről 80,0% értékre"),
        ("ru", "вне цели", "рост на 60,0 п., с 20,0 % до 80,0 %"),
    ],
)
def test_the_account_page_in_other_languages(
    moving_account, client, locale: str, status: str, change: str
) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, OWNER, "password-123")
    choose_language(client, locale)
    html = page(client, f"/accounts/ACC-9?period={PERIOD}")
    assert status in html and change in html, html[html.find("headline") :][:1500]


BAD_RESPONSES = (
    "account_id,contact_email,period,fcr,csat,nps,ces,quote_turnaround_days\n"
    "ACC-9,c0@acc9.test,2026-Q5,maybe,5,9,5,2\n"
    "ACC-9,c1@acc9.test,2026-Q4,yes,5,9,5,-1\n"
)


def french_admin_upload(runner, client, content: str) -> str:  # type: ignore[no-untyped-def]
    """A French admin uploads ``content`` as responses: the page's error list (refused)."""
    result = runner.invoke("user", "create", "--email", "admin@example.test", "--role", "admin",
                           env={"CPI_PASSWORD": "password-123"})  # fmt: skip
    assert result.exit_code == 0, result.output
    sign_in(client, "admin@example.test", "password-123")
    choose_language(client, "fr")
    token = csrf_token(client, "/admin/uploads")
    file = (io.BytesIO(content.encode()), "bad.csv")
    response = client.post(
        "/admin/uploads", data={"kind": "responses", "csrf_token": token, "file": file}
    )
    assert response.status_code == 400
    page = re.sub("[\u00a0\u202f]", " ", response.get_data(as_text=True))
    return page[page.index('<div class="errors"') :].split("</div>", 1)[0]


def test_a_french_admins_upload_lists_the_bad_lines_in_french_the_cli_in_english(
    moving_account, runner, write_csv, client
) -> None:  # type: ignore[no-untyped-def]
    html = french_admin_upload(runner, client, BAD_RESPONSES)
    assert (
        "ligne 2 : period : &#39;2026-Q5&#39; n’est pas une période comme 2026-Q3 ou 2026" in html
    )
    assert "ligne 2 : fcr : doit être yes, no ou na" in html
    assert "ligne 3 : quote_turnaround_days : doit être un nombre de jours de 0 à 365" in html
    assert "line 2" not in html and "must be" not in html

    bad = str(write_csv("bad.csv", BAD_RESPONSES))
    printed = runner.invoke("import", "responses", bad, expect_exit="error")
    assert printed.exit_code != 0
    assert "line 2: period: '2026-Q5' is not a period like 2026-Q3 or 2026" in printed.output
    assert "line 2: fcr: must be yes, no or na" in printed.output
    assert "line 3: quote_turnaround_days: must be a number of days from 0 to 365" in printed.output
    assert "ligne" not in printed.output


def test_a_french_admin_reads_form_errors_and_flashes_in_french(
    moving_account, runner, client
) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke("user", "create", "--email", "admin@example.test", "--role", "admin",
                           env={"CPI_PASSWORD": "password-123"})  # fmt: skip
    assert result.exit_code == 0, result.output
    sign_in(client, "admin@example.test", "password-123")
    choose_language(client, "fr")
    token = csrf_token(client, "/admin/targets")
    empty = client.post("/admin/targets", data={"csrf_token": token, "indicator": "fcr"})
    assert empty.status_code == 400
    html = empty.get_data(as_text=True)
    # WTForms' own message, from WTForms' French catalogue
    assert "period : Ce champ est requis." in html and "This field is required" not in html
    saved = client.post(
        "/admin/targets",
        data={"csrf_token": token, "indicator": "fcr", "period": "2026-Q4", "target": "82",
              "segment": "Retail"},
        follow_redirects=True,
    )  # fmt: skip
    text = saved.get_data(as_text=True)
    assert (
        "Objectif enregistré : Résolution au premier contact, 2026-Q4, segment Retail = 82." in text
    )
    assert "Target saved" not in text


UNKNOWN_COLUMN = "account_id,contact_email,period,mood\nACC-9,c0@acc9.test,2026-Q4,5\n"
NUL_BYTE = "account_id,contact_email,period,csat\nACC-9,c0@acc9.test,2026-Q4,5\x00\n"


@pytest.mark.parametrize(
    ("content", "french", "english"),
    [
        (
            UNKNOWN_COLUMN,
            "ligne 1 : en-tête : colonne inconnue &#39;mood&#39; (attendues : account_id,",
            "line 1: header: unknown column 'mood' (expected: account_id, contact_email, period,",
        ),
        (
            NUL_BYTE,
            "ligne 2 : fichier : contient un octet NUL (pas un fichier CSV texte)",
            "line 2: file: contains a NUL byte (not a text CSV file)",
        ),
    ],
)
def test_a_french_admins_bad_file_is_refused_in_french_the_cli_in_english(
    moving_account, runner, write_csv, client, content: str, french: str, english: str
) -> None:  # type: ignore[no-untyped-def]
    html = french_admin_upload(runner, client, content)
    assert french in html, html
    assert "line " not in html and "header:" not in html and "file:" not in html

    bad = str(write_csv("bad.csv", content))
    printed = runner.invoke("import", "responses", bad, expect_exit="error")
    assert printed.exit_code != 0
    assert english in printed.output
    assert "ligne" not in printed.output and "fichier" not in printed.output


def test_a_french_admins_target_out_of_range_is_refused_in_french(
    moving_account, runner, client
) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke("user", "create", "--email", "admin@example.test", "--role", "admin",
                           env={"CPI_PASSWORD": "password-123"})  # fmt: skip
    assert result.exit_code == 0, result.output
    sign_in(client, "admin@example.test", "password-123")
    choose_language(client, "fr")
    token = csrf_token(client, "/admin/targets")
    refused = client.post(
        "/admin/targets",
        data={"csrf_token": token, "indicator": "fcr", "period": "2026-Q4", "target": "150"},
    )
    assert refused.status_code == 400
    html = re.sub("[\u00a0\u202f]", " ", refused.get_data(as_text=True))
    assert "target : doit être compris entre 0 et 100" in html
    assert "must be from" not in html
