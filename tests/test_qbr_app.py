"""Issue 15 items 4 and 5 in the staff app: company, segment and portfolio PDFs, the
batch ZIP of a segment's or portfolio's account PDFs (through the task queue's road,
its progress as JSON), hidden QBR comments kept out of batches, the staff app in the
user's language, and the account page's campaigns panel."""

from __future__ import annotations

import io
import re
import zipfile
from typing import Any

import pytest
from sqlalchemy import select
from staff_support import OWNER_A, OWNER_B, sign_in, small_dataset
from support import csrf_token, pdf_text

from cpi.accounts.models import Account
from cpi.audit.models import AuditEvent
from cpi.scorecards.qbr import operations
from cpi.scorecards.qbr.operations import Choices

PERIOD = "2026-Q3"
PRAISE = "Named praise from a consenting customer"


@pytest.fixture
def staff(runner, write_csv) -> None:  # type: ignore[no-untyped-def]
    small_dataset(runner, write_csv)


def login(client: Any, email: str) -> None:
    sign_in(client, email, "password-123")


def logout(client: Any) -> None:
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})


def start_zip(client: Any, scope_type: str, scope_id: str) -> Any:
    token = csrf_token(client, f"/?period={PERIOD}")
    return client.post(
        f"/scorecards/{scope_type}.zip?period={PERIOD}", data={"csrf_token": token, "id": scope_id}
    )


def zip_of(client: Any, batch_url: str) -> zipfile.ZipFile:
    page = client.get(batch_url)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Download the ZIP" in html, html[:3000]
    download = client.get(batch_url + "/download")
    assert download.status_code == 200
    assert download.mimetype == "application/zip"
    data = download.data
    download.close()
    return zipfile.ZipFile(io.BytesIO(data))


@pytest.mark.parametrize(
    ("email", "url", "status"),
    [
        (OWNER_A, "/scorecards/company.pdf", 403),
        (OWNER_A, "/scorecards/segment.pdf?id=Retail", 403),
        (OWNER_A, f"/scorecards/owner.pdf?id={OWNER_B}", 404),
        (OWNER_A, f"/scorecards/owner.pdf?id={OWNER_A.upper()}", 200),
        ("lead@example.test", "/scorecards/company.pdf", 200),
        ("lead@example.test", "/scorecards/segment.pdf?id=Retail", 200),
        ("lead@example.test", "/scorecards/segment.pdf?id=Nowhere", 404),
        ("admin@example.test", f"/scorecards/owner.pdf?id={OWNER_B}", 200),
    ],
)
def test_scope_pdfs_by_role(staff, client, email: str, url: str, status: int) -> None:  # type: ignore[no-untyped-def]
    login(client, email)
    response = client.get(url + ("&" if "?" in url else "?") + f"period={PERIOD}")
    assert response.status_code == status
    if status == 200:
        assert response.data.startswith(b"%PDF-")
        text = pdf_text(response.data)
        assert PERIOD in text or "Jul" in text
        # the internal edition: the KPI and the perception gap are there
        assert "KPI" in text


def test_scope_pdf_needs_sign_in(staff, client) -> None:  # type: ignore[no-untyped-def]
    response = client.get(f"/scorecards/company.pdf?period={PERIOD}")
    assert response.status_code in (302, 401)


def test_dashboard_offers_the_pdfs(staff, client) -> None:  # type: ignore[no-untyped-def]
    login(client, "lead@example.test")
    html = client.get(f"/segments/Retail?period={PERIOD}").get_data(as_text=True)
    assert "/scorecards/segment.pdf?id=Retail" in html
    assert "/scorecards/segment.zip" in html
    logout(client)
    login(client, OWNER_A)
    html = client.get("/").get_data(as_text=True)
    assert "/scorecards/owner.zip" in html


def test_segment_zip_holds_one_pdf_per_account(staff, client, db) -> None:  # type: ignore[no-untyped-def]
    login(client, "lead@example.test")
    response = start_zip(client, "segment", "Retail")
    assert response.status_code == 302
    batch_url = response.headers["Location"]
    with zip_of(client, batch_url) as archive:
        names = sorted(archive.namelist())
        assert names == [f"ACC-1-{PERIOD}.pdf", f"ACC-2-{PERIOD}.pdf"]
        assert "Beta GmbH" in pdf_text(archive.read(f"ACC-2-{PERIOD}.pdf"))
    progress = client.get(batch_url + "/progress").get_json()
    assert progress["state"] == "finished" and progress["over"] is True
    db.rollback()
    actions = db.scalars(select(AuditEvent.action)).all()
    assert "export.pdf_batch" in actions and "export.pdf_batch_download" in actions


def test_portfolio_zip_for_an_account_manager_only_their_own(staff, client) -> None:  # type: ignore[no-untyped-def]
    login(client, OWNER_A)
    assert start_zip(client, "segment", "Retail").status_code == 403
    assert start_zip(client, "owner", OWNER_B).status_code == 404
    response = start_zip(client, "owner", OWNER_A)
    assert response.status_code == 302
    batch_url = response.headers["Location"]
    with zip_of(client, batch_url) as archive:
        assert sorted(archive.namelist()) == [f"ACC-1-{PERIOD}.pdf", f"ACC-3-{PERIOD}.pdf"]
    # another account manager cannot follow or download it
    logout(client)
    login(client, OWNER_B)
    assert client.get(batch_url).status_code == 404
    assert client.get(batch_url + "/progress").status_code == 404
    assert client.get(batch_url + "/download").status_code == 404


def test_zip_start_needs_csrf(staff, client) -> None:  # type: ignore[no-untyped-def]
    login(client, "lead@example.test")
    response = client.post(f"/scorecards/segment.zip?period={PERIOD}", data={"id": "Retail"})
    assert response.status_code == 400


def test_unknown_batch_is_404(staff, client) -> None:  # type: ignore[no-untyped-def]
    login(client, "lead@example.test")
    assert client.get("/scorecards/batches/" + "A" * 24).status_code == 404
    assert client.get("/scorecards/batches/..%2F..%2Fsecret_key").status_code == 404


def test_batch_pdfs_leave_out_comments_hidden_on_the_qbr_page(staff, app, client, db) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        found = db.scalar(select(Account).where(Account.account_id == "ACC-1"))
        offered = operations.account_comments(db, found, PERIOD)
        praise = [c.id for c in offered if PRAISE in c.text]
        assert praise
        operations.save_choices(db, found, PERIOD, Choices(hidden=praise), "test")
        db.commit()
    login(client, "lead@example.test")
    response = start_zip(client, "segment", "Retail")
    with zip_of(client, response.headers["Location"]) as archive:
        text = " ".join(pdf_text(archive.read(f"ACC-1-{PERIOD}.pdf")).split())
    assert "Named praise" not in text
    assert re.search(r"comment", text, re.IGNORECASE)


# --- the staff app in the user's language (issue 15 item 4) ---


def english_words(locale: str) -> list[str]:
    """Every English text of the catalogue whose translation differs from it."""
    from babel.messages.pofile import read_po

    from cpi.i18n import TRANSLATIONS

    with (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return [
            m.id for m in read_po(handle) if isinstance(m.id, str) and m.id and m.id != m.string
        ]


def nav_of(html: str) -> str:
    found = re.search(r'<header class="topbar">.*?</header>', html, re.DOTALL)
    assert found, html[:2000]
    return re.sub(r"<[^>]+>", " ", found.group(0))


def choose_language(client: Any, locale: str) -> Any:
    token = csrf_token(client, "/account/password")
    return client.post("/account/language", data={"csrf_token": token, "locale": locale})


def test_a_french_staff_user_sees_the_dashboard_and_nav_in_french(staff, client, db) -> None:  # type: ignore[no-untyped-def]
    login(client, "admin@example.test")
    assert choose_language(client, "fr").status_code == 302
    html = client.get(f"/?period={PERIOD}").get_data(as_text=True)
    assert '<html lang="fr">' in html
    nav = nav_of(html)
    for english in english_words("fr"):
        assert re.search(rf"(?<!\w){re.escape(english)}(?!\w)", nav) is None, (english, nav)
    for french in ("Tableau de bord", "Comptes", "Campagnes", "Administration", "Se déconnecter"):
        assert french in nav
    assert "Classement des écarts de perception" in html
    assert "Perception-gap ranking" not in html
    assert "Entreprise" in html
    # the profile remembers it (audit-logged); the browser's language overrides nothing
    db.rollback()
    assert "user.locale" in db.scalars(select(AuditEvent.action)).all()
    page = client.get("/accounts", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert "Rechercher" in page and "Suchen" not in page


def test_a_french_staff_user_downloads_the_internal_pdf_in_french(staff, client) -> None:  # type: ignore[no-untyped-def]
    login(client, "lead@example.test")
    assert choose_language(client, "fr").status_code == 302
    response = client.get(f"/scorecards/company.pdf?period={PERIOD}")
    assert response.status_code == 200 and response.data.startswith(b"%PDF-")
    text = " ".join(pdf_text(response.data).split())
    for french in ("Comment ces chiffres sont calculés", "Les commentaires sont anonymes",
                   f"Période {PERIOD}", "intervalles de confiance à 95 %"):  # fmt: skip
        assert french in text, french
    for english in ("How these figures are computed", "Comments are anonymous", "Generated"):
        assert english not in text, english
    # indicator names in the table and on the charts (cpi.i18n.indicators)
    assert "Résolution au premier contact" in text and "Satisfaction client" in text
    assert "First-contact resolution" not in text and "Customer satisfaction" not in text


def test_a_french_account_manager_reads_qbr_and_upload_errors_in_french(staff, client) -> None:  # type: ignore[no-untyped-def]
    """A form error from the operation (QbrError) names the field and says why in the
    user's language; the command line would print the same error in English."""
    login(client, OWNER_A)
    assert choose_language(client, "fr").status_code == 302
    page = f"/accounts/ACC-1/qbr?period={PERIOD}"
    refused = client.post(
        f"/accounts/ACC-1/qbr/branding?period={PERIOD}",
        data={"csrf_token": csrf_token(client, page), "language": "fr",
              "logo": (io.BytesIO(b"<svg/>"), "logo.svg")},
        content_type="multipart/form-data", follow_redirects=True,
    )  # fmt: skip
    html = refused.get_data(as_text=True)
    assert "logo : téléversez une image PNG ou JPEG" in html
    assert "upload a PNG or JPEG image" not in html


def test_a_french_admin_reads_the_upload_page_and_targets_in_french(staff, client) -> None:  # type: ignore[no-untyped-def]
    login(client, "admin@example.test")
    assert choose_language(client, "fr").status_code == 302
    uploads = client.get("/admin/uploads").get_data(as_text=True)
    assert "Les comptes et les personnes à interroger." in uploads
    assert "Accounts and the people to survey" not in uploads
    assert ">obligatoire<" in uploads and ">required<" not in uploads
    targets = client.get("/admin/targets").get_data(as_text=True)
    assert ">Résolution au premier contact</option>" in targets
    assert "First-contact resolution" not in targets


def test_without_a_preference_the_browser_language_then_english(staff, client) -> None:  # type: ignore[no-untyped-def]
    login(client, OWNER_A)
    german = client.get("/accounts", headers={"Accept-Language": "de-AT,de;q=0.9"})
    assert "Kunden suchen" in german.get_data(as_text=True)
    plain = client.get("/accounts", headers={"Accept-Language": "ja"}).get_data(as_text=True)
    assert "Search accounts" in plain and '<html lang="en">' in plain
    assert choose_language(client, "xx").status_code == 302  # not offered: nothing saved
    assert "Search accounts" in client.get("/accounts").get_data(as_text=True)


@pytest.mark.parametrize("locale", ["fr", "de", "hu", "ru"])
def test_sign_in_page_speaks_the_browser_language(client, locale: str) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/login", headers={"Accept-Language": locale}).get_data(as_text=True)
    assert "Sign in to CPI Tracker" not in html
    assert "Work email" not in html


def test_staff_texts_are_in_the_catalogue() -> None:
    from pathlib import Path

    from babel.messages.extract import extract_from_dir
    from babel.messages.pofile import read_po

    from cpi.i18n import TRANSLATIONS

    root = Path(__file__).resolve().parent.parent
    method_map = [
        ("cpi/auth/**.py", "python"),
        ("cpi/scorecards/views.py", "python"),
        ("cpi/scorecards/scope_views.py", "python"),
        ("cpi/scorecards/localised.py", "python"),
        ("templates/base.html", "jinja2"),
        ("templates/auth/**.html", "jinja2"),
        ("templates/admin/**.html", "jinja2"),
        ("templates/campaigns/**.html", "jinja2"),
        ("templates/scorecards/**.html", "jinja2"),
        ("templates/initiatives/**.html", "jinja2"),
        ("templates/followups/**.html", "jinja2"),
        ("templates/qbr/**.html", "jinja2"),
        ("cpi/scorecards/qbr/**.py", "python"),
        # the command line speaks English on purpose: cli.py files are left out
        ("cpi/followups/cli.py", "ignore"),
        ("cpi/initiatives/cli.py", "ignore"),
        ("cpi/followups/**.py", "python"),
        ("cpi/initiatives/**.py", "python"),
        ("cpi/outcomes/**.py", "python"),
        ("cpi/questions/**.py", "python"),
        ("cpi/campaigns/**.py", "python"),
        ("cpi/i18n/indicators.py", "python"),
        ("cpi/i18n/errors.py", "python"),
        ("cpi/admin/csv_help.py", "python"),
        ("cpi/admin/views.py", "python"),
        ("cpi/imports/fields.py", "python"),
        ("cpi/imports/rows.py", "python"),
        ("cpi/imports/csvfile.py", "python"),
        ("cpi/imports/operations.py", "python"),
        ("cpi/imports/responses.py", "python"),
        ("cpi/rules/targets.py", "python"),
        ("cpi/admin/operations.py", "python"),
        ("cpi/admin/forms.py", "python"),
        ("cpi/surveys/campaigns.py", "python"),
        ("cpi/rules/campaign_periods.py", "python"),
        ("cpi/rules/custom_questions.py", "python"),
    ]
    found = {
        message
        for _, _, message, _, _ in extract_from_dir(
            root, method_map, keywords={"_": None, "gettext": None, "_l": None}
        )
        if isinstance(message, str)
    }
    with (TRANSLATIONS.parent / "messages.pot").open("rb") as handle:
        template = {m.id for m in read_po(handle) if m.id}
    assert found and found - template == set()


# --- the account page's campaigns panel (issue 14 item 3) ---


def test_account_page_shows_who_was_invited_and_who_answered_never_what(staff, app, client) -> None:  # type: ignore[no-untyped-def]
    from survey_support import GOOD_ANSWERS, open_form, outbox_messages, token_of

    from cpi.rules.campaign_periods import quarter_end, quarter_of
    from cpi.timeutil import utcnow

    login(client, "lead@example.test")
    page = client.get("/campaigns/new").get_data(as_text=True)
    today = utcnow().date()
    created = client.post("/campaigns/new", data={
        "name": "Retail <pulse>", "period": str(quarter_of(today)), "scope": "segment",
        "segment": "Retail", "closes_on": quarter_end(quarter_of(today)).isoformat(),
        "survey": "cpi-pulse", "csrf_token": csrf_token(page),
    })  # fmt: skip
    assert created.status_code == 302, created.get_data(as_text=True)[:500]
    campaign_page = created.headers["Location"]
    token = csrf_token(client.get(campaign_page).get_data(as_text=True))
    assert client.post(campaign_page + "/send", data={"csrf_token": token}).status_code == 302
    answerer = next(
        m for m in outbox_messages(app) if m["To"].addresses[0].addr_spec == "c1@acc-1.test"
    )
    customer = app.test_client()
    link = token_of(answerer)
    answered = customer.post(
        f"/s/{link}",
        data={**GOOD_ANSWERS, "comment": "Secret praise", "csrf_token": open_form(customer, link)},
    )
    assert answered.status_code == 303
    logout(client)

    login(client, OWNER_A)  # ACC-1's account manager
    html = client.get(f"/accounts/ACC-1?period={PERIOD}").get_data(as_text=True)
    panel = html.split('id="campaigns-title"', 1)[1]
    assert "Retail &lt;pulse&gt;" in panel and "<pulse>" not in panel
    assert "1 of 8 answered" in panel
    assert panel.count(today.isoformat()) >= 9  # 8 invited on, 1 answered on
    assert "Person 1 ACC-1" in panel and "not yet" in panel
    assert "Secret praise" not in html  # never what they answered
    assert "ACC-2" not in panel and "Person 1 ACC-2" not in panel  # only this account


# --- in a browser (slow): the ZIP with its progress, the French staff app, axe ---

PHONE = {"viewport": {"width": 360, "height": 780}, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1440, "height": 900}}
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.fixture
def live_staff(runner, write_csv, live_url):  # type: ignore[no-untyped-def]
    small_dataset(runner, write_csv)
    return live_url


def browser_sign_in(page: Any, base: str, email: str) -> None:
    page.goto(base + "/login")
    page.fill("#email", email)
    page.fill("#password", "password-123")
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")


@pytest.mark.slow
def test_french_lead_downloads_a_segment_zip_followed_on_the_worker(
    app, live_staff, browser, redis_server, worker, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    app.config["REDIS_URL"] = redis_server.url
    worker.start()
    context = browser.new_context(**DESKTOP, accept_downloads=True)
    page = context.new_page()
    browser_sign_in(page, live_staff, "lead@example.test")
    page.goto(live_staff + "/account/password")
    page.select_option("#locale", "fr")
    page.click("button:has-text('Save the language')")
    page.wait_for_selector(".flash-success")
    assert page.inner_text(".flash-success") == "Langue enregistrée."
    page.goto(live_staff + f"/segments/Retail?period={PERIOD}")
    assert page.inner_text("nav.mainnav").split() == [
        "Tableau",
        "de",
        "bord",
        "Comptes",
        "Campagnes",
        "Initiatives",
        "Suivis",
    ]
    page.click("button:has-text('PDF des comptes (ZIP)')")
    page.wait_for_url("**/scorecards/batches/*")
    # queued on the worker: the page follows the job, then offers the file
    link = page.wait_for_selector("a:has-text('Télécharger le ZIP')", timeout=120_000)
    assert link is not None, worker.log()
    with page.expect_download() as waiting:
        link.click()
    path = tmp_path / "retail.zip"
    waiting.value.save_as(path)
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == [f"ACC-1-{PERIOD}.pdf", f"ACC-2-{PERIOD}.pdf"]
    context.close()


@pytest.mark.slow
def test_new_pages_pass_axe_on_phone_and_desktop(live_staff, client, browser) -> None:  # type: ignore[no-untyped-def]
    from axe_playwright_python.sync_playwright import Axe

    login(client, "lead@example.test")
    batch = start_zip(client, "segment", "Retail").headers["Location"]
    axe = Axe()
    paths = [
        f"/?period={PERIOD}", f"/segments/Retail?period={PERIOD}", batch,
        f"/accounts/ACC-1?period={PERIOD}", "/account/password", "/accounts",
    ]  # fmt: skip
    checked = 0
    for settings in (PHONE, DESKTOP):
        context = browser.new_context(**settings, locale="fr-FR")
        page = context.new_page()
        browser_sign_in(page, live_staff, "lead@example.test")
        for path in paths:
            page.goto(live_staff + path)
            results = axe.run(page, options={"runOnly": {"type": "tag", "values": WCAG_21_AA}})
            assert results.violations_count == 0, (path, results.generate_report())
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= settings["viewport"]["width"], (path, width)  # type: ignore[index]
            checked += 1
        assert page.evaluate("document.documentElement.lang") == "fr"
        context.close()
    assert checked == 12


def test_a_french_staff_user_sees_initiatives_followups_and_the_scorecard_in_french(
    staff, client
) -> None:  # type: ignore[no-untyped-def]
    login(client, "admin@example.test")
    assert choose_language(client, "fr").status_code == 302
    english = english_words("fr")

    def no_english(part: str) -> str:
        text = re.sub(r"<[^>]+>", " ", part)
        for word in english:
            assert re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text) is None, (word, text)
        return text

    def thead(html: str) -> str:
        found = re.search(r"<thead>.*?</thead>", html, re.DOTALL)
        assert found, html[:2000]
        return no_english(found.group(0))

    initiatives = client.get("/initiatives/").get_data(as_text=True)
    head = thead(initiatives)
    assert "Nom" in head and "Indicateurs ciblés" in head
    assert "Nouvelle initiative" in initiatives and "New initiative" not in initiatives

    inbox = client.get("/followups/").get_data(as_text=True)
    assert "<h1>Suivis</h1>" in inbox
    assert "Vos e-mails d’alerte" in inbox and "Your alert emails" not in inbox
    assert "Uniquement les miens" in inbox and "Only mine" not in inbox

    account = client.get(f"/accounts/ACC-1?period={PERIOD}").get_data(as_text=True)
    head = thead(account.split('class="scorecard"', 1)[1])
    for french in ("Indicateur", "Selon les clients", "Écart de perception", "KPI interne"):
        assert french in head, (french, head)
    assert "Ce que disent les clients" in account and "What customers said" not in account
