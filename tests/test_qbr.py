"""QBR: the customer edition (PDF and slides) in the customer's language, the internal
edition, the preparation page, the chart files and the command line.

PDFs are read back with pdftotext/pypdf and pdftoppm, decks with python-pptx; figures
are checked against ``cpi score --format json`` formatted with Babel (independently of
the app's own formatting code)."""

from __future__ import annotations

import io
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from PIL import Image, ImageOps
from pptx import Presentation
from pypdf import PdfReader
from sqlalchemy import select
from staff_support import OWNER_A, OWNER_B, TRICKY_NAME, sign_in, small_dataset
from support import csrf_token, pdf_text

from cpi.accounts.models import Account
from cpi.audit.models import AuditEvent
from cpi.i18n import TRANSLATIONS
from cpi.scorecards.qbr import operations
from cpi.scorecards.qbr.operations import Choices, QbrError
from cpi.scorecards.qbr.wording import number, period_words
from cpi.scoring import INDICATORS_BY_CODE

PERIOD = "2026-Q3"
FRENCH = "HC-0007"  # Northwind Clinics: most of its contacts answer in French
FRENCH_NAME = "Northwind Clinics"
FRENCH_OWNER = "marc.dubois@demo.cpi-tracker.test"
OTHER_MANAGER = "anna.kovacs@demo.cpi-tracker.test"
DECIMALS = {"percent": 1, "days": 1, "points": 1, "contacts": 2, "score": 2}
QBR_MSGIDS_START = "# QBR customer edition"


@pytest.fixture
def demo(runner):  # type: ignore[no-untyped-def]
    runner.invoke("demo")


def words(text: str) -> str:
    """Text with its spaces made plain (Babel and PDFs use thin and no-break spaces)."""
    return " ".join(re.sub("[\u00a0\u2009\u202f]", " ", text).split())


def json_card(runner: Any, account_id: str) -> dict[str, Any]:
    result = runner.invoke("score", "--period", PERIOD, "--account", account_id, "--format", "json")
    return json.loads(result.output)  # type: ignore[no-any-return]


def french(value: float, code: str) -> str:
    """The JSON's value rounded for display and written the French way, by Babel directly."""
    places = DECIMALS[INDICATORS_BY_CODE[code].unit]
    pattern = "#,##0." + "0" * places
    return format_decimal(round(value, places), pattern, locale="fr")


def account(db: Any, account_id: str) -> Account:
    db.rollback()
    return db.scalar(select(Account).where(Account.account_id == account_id))


def comments_of(app: Any, db: Any, account_id: str) -> list[operations.AccountComment]:
    with app.app_context():
        return operations.account_comments(db, account(db, account_id), PERIOD)


def save_choices(client: Any, account_id: str, offered: list[Any], **fields: Any) -> Any:
    """Post the preparation form as a browser would (CSRF token from the page)."""
    page = f"/accounts/{account_id}/qbr?period={PERIOD}"
    data = {
        "csrf_token": csrf_token(client, page),
        "period": PERIOD,
        "edition": "customer",
        "language": "",
        "page_size": "",
        **{f"comment_{c.id}": "skip" for c in offered},
    }
    data.update(fields)
    return client.post(f"/accounts/{account_id}/qbr", data=data)


def english_words() -> set[str]:
    """Words of the QBR's English texts that no French translation uses."""
    pot = (TRANSLATIONS.parent / "messages.pot").read_text(encoding="utf-8")
    ours = {m.id for m in read_po(io.StringIO(pot[pot.index(QBR_MSGIDS_START) :])) if m.id}
    with (TRANSLATIONS / "fr" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        french_text = " ".join(m.string for m in read_po(handle) if m.id in ours)
    found = set()
    for message in ours:
        plain = re.sub(r"%\(\w+\)s", " ", message)
        found |= {w for w in re.findall(r"[A-Za-z]{4,}", plain) if w not in french_text}
    return found


# --- wording: periods and numbers through Babel -------------------------------------


def test_periods_and_numbers_read_in_the_customers_language() -> None:
    assert words(period_words("2026-Q3", "en")) == "July – September 2026"
    assert words(period_words("2026-Q3", "fr")) == "juillet – septembre 2026"
    assert words(period_words("2026-Q1", "de")) == "Januar–März 2026"
    assert period_words("2026", "ru") == "2026"
    assert number("fcr", 64.2857, "fr") == "64,3\u00a0%"
    assert number("fcr", 64.2857, "en") == "64.3%"
    assert number("ces", 5.456, "de") == "5,46"
    assert number("nps", -7.25, "fr", signed=True) == "-7,2"
    assert number("nps", 12.0, "hu", signed=True) == "+12,0"


def test_account_language_is_its_own_else_its_contacts_most_common(app, db, demo) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        found = account(db, FRENCH)
        assert operations.account_language(db, found) == "fr"
        operations.set_language(db, found, "de", "admin@demo.cpi-tracker.test")
        assert operations.account_language(db, found) == "de"
        with pytest.raises(QbrError, match="language"):
            operations.set_language(db, found, "xx", "admin@demo.cpi-tracker.test")


def test_choices_are_checked_and_a_hidden_comment_is_never_printed(app, db, demo) -> None:  # type: ignore[no-untyped-def]
    offered = comments_of(app, db, FRENCH)
    assert len(offered) >= 2
    first, second = offered[0].id, offered[1].id
    clean = operations.check_choices(Choices(chosen=[first, second], hidden=[second]), offered)
    assert clean.chosen == [first] and clean.hidden == [second]
    assert [c.id for c in operations.printed_comments(offered, clean)] == [first]
    for bad, message in (
        (Choices(actions=["x"] * 6), "actions: at most 5"),
        (Choices(actions=["x" * 201]), "action 1: at most 200"),
        (Choices(edition="secret"), "edition"),
        (Choices(page_size="A3"), "page size"),
    ):
        with pytest.raises(QbrError, match=message):
            operations.check_choices(bad, offered)
    # an id that is not one of the account's comments is dropped, never printed
    assert operations.check_choices(Choices(chosen=[10**9]), offered).chosen == []


def test_logo_is_checked_and_reencoded(tmp_path) -> None:  # type: ignore[no-untyped-def]
    picture = io.BytesIO()
    Image.new("RGB", (1200, 300), "navy").save(picture, format="JPEG")
    cleaned = operations.clean_logo(picture.getvalue() + b"<script>trailing</script>")
    with Image.open(io.BytesIO(cleaned)) as image:
        assert image.format == "PNG" and image.width == operations.LOGO_STORED_WIDTH
    assert b"script" not in cleaned
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><image href="file:///etc/passwd"/></svg>'
    for bad, message in (
        (svg, "PNG or JPEG"),
        (b"", "empty"),
        (b"\x89PNG\r\n\x1a\n" + b"0" * 100, "cannot be read"),
        (b"\xff\xd8\xff" + b"0" * (operations.LOGO_MAX_BYTES + 1), "larger than"),
    ):
        with pytest.raises(QbrError, match=message):
            operations.clean_logo(bad)


# --- the preparation page and access ------------------------------------------------


def test_preparing_is_for_the_accounts_manager_and_above(app, client, demo) -> None:  # type: ignore[no-untyped-def]
    other = app.test_client()
    sign_in(other, OTHER_MANAGER)  # not the account's manager
    for path in ("qbr", "qbr.pdf", "qbr.pptx", "qbr/preview", "qbr/charts/fcr.png"):
        assert other.get(f"/accounts/{FRENCH}/{path}?period={PERIOD}").status_code == 404
    lead = app.test_client()
    sign_in(lead, "lead@demo.cpi-tracker.test")
    assert lead.get(f"/accounts/{FRENCH}/qbr?period={PERIOD}").status_code == 200
    sign_in(client, FRENCH_OWNER)
    page = client.get(f"/accounts/{FRENCH}/qbr?period={PERIOD}")
    assert page.status_code == 200 and "Prepare the QBR" in page.get_data(as_text=True)
    # no CSRF token: refused, nothing saved
    assert client.post(f"/accounts/{FRENCH}/qbr", data={"period": PERIOD}).status_code == 400


def test_choices_are_saved_per_account_and_period_and_audit_logged(app, client, db, demo) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, FRENCH_OWNER)
    offered = comments_of(app, db, FRENCH)
    fields = {"action_1": "Rappeler sous 24 h", f"comment_{offered[0].id}": "print"}
    response = save_choices(client, FRENCH, offered, **fields)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    with app.app_context():
        saved = operations.choices(db, account(db, FRENCH), PERIOD)
        assert saved.actions == ["Rappeler sous 24 h"] and saved.chosen == [offered[0].id]
        assert operations.choices(db, account(db, FRENCH), "2026-Q2").actions == []
    events = db.scalars(select(AuditEvent).where(AuditEvent.action == "qbr.prepare")).all()
    assert [e.actor for e in events] == [FRENCH_OWNER] and FRENCH in (events[0].detail or "")
    too_many = {f"comment_{c.id}": "print" for c in offered} | {"action_1": "x" * 201}
    response = save_choices(client, FRENCH, offered, **too_many)
    assert response.status_code == 400
    assert "200" in response.get_data(as_text=True)


def test_a_year_is_an_annual_business_review(client, demo) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, FRENCH_OWNER)
    url = f"/accounts/{FRENCH}/qbr/preview"
    year = client.get(f"{url}?period=2026&lang=en").get_data(as_text=True)
    assert "Annual business review" in year and "Quarterly business review" not in year
    quarter = client.get(f"{url}?period={PERIOD}&lang=en").get_data(as_text=True)
    assert "Quarterly business review" in quarter and "Annual business review" not in quarter
    french_year = client.get(f"{url}?period=2026").get_data(as_text=True)  # the account's French
    assert "Revue annuelle" in french_year and "Revue trimestrielle" not in french_year


def test_the_preparation_page_speaks_the_users_language(client, demo) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, FRENCH_OWNER)
    token = csrf_token(client.get("/account/password").get_data(as_text=True))
    assert (
        client.post("/account/language", data={"csrf_token": token, "locale": "de"}).status_code
        == 302
    )
    page = client.get(f"/accounts/{FRENCH}/qbr?period={PERIOD}").get_data(as_text=True)
    german_texts = (
        "QBR vorbereiten",
        "Vorschau und Download",
        "Maßnahme 1",
        "Kundenausgabe (für das Quartalsgespräch)",
        "Sprache und Logo des Kunden",
    )
    for german in german_texts:
        assert german in page, german
    for english in ("Prepare the QBR", "Preview and download", "Customer edition", "Action 1",
                    "Save language and logo"):  # fmt: skip
        assert english not in page, english


# --- the customer edition: PDF ------------------------------------------------------


@pytest.fixture
def prepared(app, client, db, demo):  # type: ignore[no-untyped-def]
    """Northwind Clinics' QBR prepared by its manager: one comment printed, one hidden, actions."""
    sign_in(client, FRENCH_OWNER)
    offered = comments_of(app, db, FRENCH)
    printed, hidden = offered[0], offered[1]
    fields = {
        "action_1": "Rappeler chaque client sous 24 heures",
        "action_2": "Devis en trois jours ouvrés",
        f"comment_{printed.id}": "print",
        f"comment_{hidden.id}": "hide",
    }
    assert save_choices(client, FRENCH, offered, **fields).status_code == 302
    return printed, hidden


@pytest.mark.slow
def test_french_customer_edition(runner, client, prepared, tmp_path) -> None:  # type: ignore[no-untyped-def]
    printed, hidden = prepared
    response = client.get(f"/accounts/{FRENCH}/qbr.pdf?period={PERIOD}")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    data = response.data
    assert len(data) < 300_000
    text = pdf_text(data)
    flat = words(text)
    card = json_card(runner, FRENCH)
    assert "juillet – septembre 2026" in flat and FRENCH_NAME in flat
    shown = 0
    for item in card["indicators"]:
        if item["status"] == "insufficient" or item["value"] is None:
            continue
        assert french(item["value"], item["code"]) in flat, item
        shown += 1
    assert shown >= 4
    assert f"{card['responses']} réponses de votre équipe" in flat
    # the chosen comment and the actions; the hidden comment never
    assert words(printed.text)[:60] in flat
    assert words(hidden.text)[:60] not in flat
    assert "Rappeler chaque client sous 24 heures" in flat
    # not one English word of the QBR's texts; no internal figure
    english = english_words()
    assert len(english) > 40
    assert [w for w in english if re.search(rf"\b{w}\b", flat)] == []
    for internal in ("Notre mesure interne", "Notre objectif", "Écart", "KPI", "confidential"):
        assert internal not in flat
    for item in card["indicators"]:
        if item["kpi"] is not None:
            assert (
                f"{french(item['kpi'], item['code'])}" not in flat or item["kpi"] == item["value"]
            )
    # fonts embedded, tagged for screen readers
    reader = PdfReader(io.BytesIO(data))
    assert reader.trailer["/Root"].get("/StructTreeRoot") is not None
    assert reader.trailer["/Root"]["/MarkInfo"]["/Marked"]
    fonts = []
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptor = (
                font.get("/FontDescriptor")
                or font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
            ).get_object()
            fonts.append(descriptor)
    assert fonts and all(any(k in f for k in ("/FontFile2", "/FontFile3")) for f in fonts)


@pytest.mark.slow
def test_internal_figures_only_when_chosen(runner, client, prepared) -> None:  # type: ignore[no-untyped-def]
    page = f"/accounts/{FRENCH}/qbr?period={PERIOD}"
    fields = {
        "csrf_token": csrf_token(client, page),
        "period": PERIOD,
        "edition": "customer",
        "language": "",
        "page_size": "letter",
        "show_internal": "y",
    }
    assert client.post(f"/accounts/{FRENCH}/qbr", data=fields).status_code == 302
    data = client.get(f"/accounts/{FRENCH}/qbr.pdf?period={PERIOD}").data
    flat = words(pdf_text(data))
    card = json_card(runner, FRENCH)
    with_kpi = [i for i in card["indicators"] if i["kpi"] is not None]
    assert with_kpi and "Notre mesure interne" in flat
    for item in with_kpi:
        assert french(item["kpi"], item["code"]) in flat
    box = PdfReader(io.BytesIO(data)).pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (612, 792)  # US Letter


@pytest.mark.slow
def test_page_pictures_summary_first_and_no_chart_split(client, prepared, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _printed, hidden = prepared
    scorecard = client.get(f"/accounts/{FRENCH}/scorecard.pdf?period={PERIOD}").data
    assert words(hidden.text)[:60] not in words(pdf_text(scorecard))  # hidden: never printed
    for edition in ("customer", "internal"):
        data = client.get(f"/accounts/{FRENCH}/qbr.pdf?period={PERIOD}&edition={edition}").data
        assert words(hidden.text)[:60] not in words(pdf_text(data))
        pdf = tmp_path / f"{edition}.pdf"
        pdf.write_bytes(data)
        subprocess.run(["pdftoppm", "-r", "40", "-png", str(pdf), str(tmp_path / edition)],
                       check=True)  # fmt: skip
        pictures = sorted(tmp_path.glob(f"{edition}-*.png"))
        pages = len(PdfReader(io.BytesIO(data)).pages)
        assert len(pictures) == pages >= 2
        # page 1 is filled well below its middle (the summary, not a half-empty page)
        with Image.open(pictures[0]) as first:
            ink = ImageOps.invert(first.convert("L")).point(lambda v: 255 if v > 55 else 0)
            # the lowest ink above the footer line (the last 8% of the page)
            body = ink.crop((0, 0, ink.width, round(ink.height * 0.92))).getbbox()
            assert body is not None and body[3] > ink.height * 0.6, edition
        texts = [pdf_text_page(pdf, n) for n in range(1, pages + 1)]
        if edition == "customer":
            assert "Votre appréciation de notre service" in texts[0]
            assert "Nos axes de travail" in texts[0]
            assert "’26" not in texts[0]  # no chart on page 1
        last = "T3 ’26" if edition == "customer" else "Q3 ’26"  # each chart's last quarter
        names = ("Résolution au premier contact", "Contacts à valeur ajoutée",
                 "Part des contacts à valeur ajoutée", "Délai de devis", "Satisfaction client",
                 "Net Promoter Score (NPS)", "Effort client")  # fmt: skip
        charted = 0
        for page_number, text in enumerate(texts[1:], 2):
            flat = words(text)
            axes = flat.count(last)
            charted += axes
            if edition == "customer":
                # a chart's caption and its axis are on the same page
                captions = sum(
                    1 for name in names if re.search(rf"(?<!\w){re.escape(name)}(?!\w)", flat)
                )
                assert captions == axes, (edition, page_number, captions, axes)
            else:
                assert axes in (0, 7), (edition, page_number, axes)  # the trend block stays whole
        assert charted >= 5


def pdf_text_page(pdf: Path, number: int) -> str:
    args = ["pdftotext", "-f", str(number), "-l", str(number), str(pdf), "-"]
    return subprocess.run(args, capture_output=True, check=True).stdout.decode()


# --- slides and chart files ---------------------------------------------------------


def deck_text(data: bytes) -> tuple[list[str], Any]:
    deck = Presentation(io.BytesIO(data))
    slides = []
    for slide in deck.slides:
        parts = []
        for shape in slide.shapes:
            if shape.has_text_frame:
                parts.append(shape.text_frame.text)
            if shape.has_table:
                parts += [cell.text for row in shape.table.rows for cell in row.cells]
        slides.append(words(" ".join(parts)))
    return slides, deck


def test_slides_show_the_same_figures_comments_and_actions(runner, client, prepared) -> None:  # type: ignore[no-untyped-def]
    printed, hidden = prepared
    response = client.get(f"/accounts/{FRENCH}/qbr.pptx?period={PERIOD}")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].endswith("HC-0007-2026-Q3-QBR.pptx")
    slides, deck = deck_text(response.data)
    assert len(slides) == 4
    assert FRENCH_NAME in slides[0] and "juillet – septembre 2026" in slides[0]
    card = json_card(runner, FRENCH)
    table = next(s for s in deck.slides[1].shapes if s.has_table).table
    values = {row.cells[0].text: row.cells[1].text for row in list(table.rows)[1:]}
    assert "Satisfaction client" in values
    for item in card["indicators"]:
        if item["status"] != "insufficient" and item["value"] is not None:
            assert french(item["value"], item["code"]) in " ".join(values.values()), item
    charts = [s for s in deck.slides[2].shapes if s.has_chart]
    assert len(charts) == 1 and len(charts[0].chart.plots[0].series) == 3
    assert words(printed.text)[:60] in slides[3]
    assert words(hidden.text)[:60] not in " ".join(slides)
    assert "Devis en trois jours ouvrés" in slides[3]
    assert not any(w in " ".join(slides) for w in ("Notre mesure interne", "Notre objectif"))


def test_each_chart_downloads_as_png_and_svg(client, prepared) -> None:  # type: ignore[no-untyped-def]
    png = client.get(f"/accounts/{FRENCH}/qbr/charts/csat.png?period={PERIOD}")
    assert png.status_code == 200 and png.mimetype == "image/png"
    with Image.open(io.BytesIO(png.data)) as image:
        assert image.size == (1280, 600)
    svg = client.get(f"/accounts/{FRENCH}/qbr/charts/csat.svg?period={PERIOD}")
    assert svg.mimetype == "image/svg+xml"
    text = svg.get_data(as_text=True)
    assert "<script" not in text and "Satisfaction client" in text and "T3 ’26" in text
    assert client.get(f"/accounts/{FRENCH}/qbr/charts/nope.png?period={PERIOD}").status_code == 404
    assert client.get(f"/accounts/{FRENCH}/qbr/charts/csat.gif?period={PERIOD}").status_code == 404


# --- hostile text, the logo, the command line ---------------------------------------


def test_hostile_names_comments_and_actions_stay_text(app, client, db, runner, write_csv) -> None:  # type: ignore[no-untyped-def]
    small_dataset(runner, write_csv)
    sign_in(client, OWNER_A, "password-123")
    offered = comments_of(app, db, "ACC-1")
    evil = next(c for c in offered if "<script>" in c.text)
    response = save_choices(client, "ACC-1", offered, **{
        "action_1": "<b>bold</b> & <script>alert(2)</script>", f"comment_{evil.id}": "print",
    })  # fmt: skip
    assert response.status_code == 302
    preview = client.get(f"/accounts/ACC-1/qbr/preview?period={PERIOD}").get_data(as_text=True)
    assert "<script>" not in preview and "&lt;script&gt;alert(1)&lt;/script&gt;" in preview
    assert "Bolt &lt;&amp;&gt; &#34;Nut&#34;" in preview
    slides, _deck = deck_text(client.get(f"/accounts/ACC-1/qbr.pptx?period={PERIOD}").data)
    assert TRICKY_NAME in slides[0] and "<script>alert(2)</script>" in slides[3]
    other = app.test_client()
    sign_in(other, OWNER_B, "password-123")
    assert other.get(f"/accounts/ACC-1/qbr.pptx?period={PERIOD}").status_code == 404


@pytest.mark.slow
def test_hostile_text_in_the_pdf_and_the_logo_beside_ours(
    app, client, db, runner, write_csv
) -> None:  # type: ignore[no-untyped-def]
    small_dataset(runner, write_csv)
    sign_in(client, OWNER_A, "password-123")
    offered = comments_of(app, db, "ACC-1")
    evil = next(c for c in offered if "<script>" in c.text)
    save_choices(client, "ACC-1", offered, **{f"comment_{evil.id}": "print",
                                             "action_1": "<i>now</i>"})  # fmt: skip
    without = client.get(f"/accounts/ACC-1/qbr.pdf?period={PERIOD}").data
    picture = io.BytesIO()
    Image.new("RGB", (400, 100), "darkred").save(picture, format="PNG")
    page = f"/accounts/ACC-1/qbr?period={PERIOD}"
    response = client.post(
        f"/accounts/ACC-1/qbr/branding?period={PERIOD}",
        data={"csrf_token": csrf_token(client, page), "language": "en",
              "logo": (io.BytesIO(picture.getvalue()), "logo.png")},
        content_type="multipart/form-data",
    )  # fmt: skip
    assert response.status_code == 302
    refused = client.post(
        f"/accounts/ACC-1/qbr/branding?period={PERIOD}",
        data={"csrf_token": csrf_token(client, page), "language": "en",
              "logo": (io.BytesIO(b"<svg/>"), "logo.svg")},
        content_type="multipart/form-data", follow_redirects=True,
    )  # fmt: skip
    assert "logo: upload a PNG or JPEG image" in refused.get_data(as_text=True)
    data = client.get(f"/accounts/ACC-1/qbr.pdf?period={PERIOD}").data
    flat = words(pdf_text(data))
    assert TRICKY_NAME in flat and "<script>alert(1)</script>" in flat and "<i>now</i>" in flat

    def images(pdf: bytes) -> int:
        return sum(len(p.images) for p in PdfReader(io.BytesIO(pdf)).pages)

    assert images(data) > images(without)  # the customer's logo (and its alpha mask)
    assert len(data) < 300_000


def test_command_line_writes_the_customer_edition_and_the_deck(runner, demo, tmp_path) -> None:  # type: ignore[no-untyped-def]
    deck = tmp_path / "qbr.pptx"
    result = runner.invoke("scorecard", "--period", PERIOD, "--account", FRENCH, "--lang", "de",
                           "-o", str(deck))  # fmt: skip
    assert "de)" in result.output
    slides, _deck = deck_text(deck.read_bytes())
    assert "Quartalsgespräch" in slides[0] and "Juli–September 2026" in slides[0]
    for flags in (["--segment", "Retail", "--edition", "customer"], ["--company", "--lang", "fr"]):
        result = runner.invoke("scorecard", "--period", PERIOD, *flags, "-o",
                               str(tmp_path / "x.pdf"), expect_exit=2)  # fmt: skip
        assert "--" in result.output
    assert not (tmp_path / "x.pdf").exists()


@pytest.mark.slow
def test_command_line_customer_pdf_in_the_accounts_language(runner, demo, tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke("scorecard", "--period", PERIOD, "--account", FRENCH, "--edition",
                           "customer", "-o", str(tmp_path))  # fmt: skip
    target = tmp_path / "HC-0007-2026-Q3-QBR.pdf"
    assert str(target) in result.output
    assert "Votre appréciation de notre service" in words(pdf_text(target))


# --- the browser: an account manager prepares a French QBR --------------------------


@pytest.mark.slow
def test_account_manager_prepares_a_french_qbr_in_the_browser(
    runner, live_url, browser, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    runner.invoke("demo")
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(live_url + "/login")
    page.fill("#email", FRENCH_OWNER)
    page.fill("#password", "demo-am-pass")
    page.click("button[type=submit]")
    page.wait_for_url(live_url + "/")
    page.goto(f"{live_url}/accounts/{FRENCH}?period={PERIOD}")
    page.click("text=Prepare QBR")
    assert page.locator("h1").inner_text() == f"Prepare the QBR: {FRENCH_NAME}"
    page.select_option("#language", "fr")
    page.fill("#action_1", "Rappeler chaque client sous 24 heures")
    page.fill("#action_2", "Devis en trois jours ouvrés")
    comments = page.locator("li[data-comment]")
    assert comments.count() >= 2
    printed = comments.nth(0).locator("blockquote").inner_text()
    hidden = comments.nth(1).locator("blockquote").inner_text()
    comments.nth(0).locator("input[value=print]").check()
    comments.nth(1).locator("input[value=hide]").check()
    page.click("text=Save choices")
    assert "The QBR choices are saved." in page.locator(".flash").inner_text()
    assert page.locator("#action_1").input_value() == "Rappeler chaque client sous 24 heures"

    def download(link: str) -> Path:
        with page.expect_download() as info:
            page.click(link)
        path = tmp_path / info.value.suggested_filename
        info.value.save_as(path)
        return path

    pdf = download("#download-pdf")
    deck = download("#download-pptx")
    assert pdf.name == "HC-0007-2026-Q3-QBR.pdf" and deck.name == "HC-0007-2026-Q3-QBR.pptx"
    in_pdf = words(pdf_text(pdf))
    slides, _deck = deck_text(deck.read_bytes())
    in_deck = " ".join(slides)
    card = json_card(runner, FRENCH)
    for item in card["indicators"]:
        if item["status"] != "insufficient" and item["value"] is not None:
            figure = french(item["value"], item["code"])
            assert figure in in_pdf and figure in in_deck, item
    for text in (words(printed)[:60], "Rappeler chaque client sous 24 heures",
                 "Devis en trois jours ouvrés"):  # fmt: skip
        assert text in in_pdf and text in in_deck
    assert words(hidden)[:60] not in in_pdf and words(hidden)[:60] not in in_deck
    assert not errors, errors
    context.close()
