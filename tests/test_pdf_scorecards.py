"""PDF scorecards read back with pypdf and pdftotext: the numbers are the JSON
scorecard's rounded values, text is real text, fonts are embedded, files are small."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from pypdf import PdfReader
from staff_support import TRICKY_NAME, sign_in, small_dataset
from support import pdf_text

from cpi.scorecards import display
from cpi.scoring import IndicatorResult


@pytest.fixture
def demo(runner):  # type: ignore[no-untyped-def]
    result = runner.invoke("demo")
    assert result.exit_code == 0, result.output


def json_card(runner, *scope: str, period: str = "2026-Q3") -> dict:  # type: ignore[no-untyped-def,type-arg]
    result = runner.invoke("score", "--period", period, *scope, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)  # type: ignore[no-any-return]


def expected_cells(card: dict) -> list[tuple[str, list[str]]]:  # type: ignore[type-arg]
    rows = []
    for item in card["indicators"]:
        result = IndicatorResult(**item)
        rows.append(
            (
                result.name,
                [
                    display.value(result),
                    display.interval(result),
                    display.number(result.code, result.kpi),
                    display.gap(result),
                ],
            )
        )
    return rows


@pytest.mark.slow
def test_pdf_numbers_equal_the_json_scorecard(demo, client, runner, tmp_path) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, "admin@demo.cpi-tracker.test")  # every figure as computed
    for account_id in ("HC-0007", "MF-0001"):
        response = client.get(f"/accounts/{account_id}/scorecard.pdf?period=2026-Q3")
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "application/pdf"
        assert f"{account_id}-2026-Q3.pdf" in response.headers["Content-Disposition"]
        assert len(response.data) < 300_000
        text = pdf_text(response.data, layout=True)
        card = json_card(runner, "--account", account_id)
        assert card["scope"]["name"] in text
        lines = text.splitlines()
        for name, cells in expected_cells(card):
            shown = [cell for cell in cells if cell != "–"]
            # the table row (its name may wrap onto the lines around it) holds every cell
            assert any(all(cell in line for cell in shown) for line in lines), (name, shown)


@pytest.mark.slow
def test_pdf_has_real_text_embedded_fonts_and_the_parts_a_qbr_needs(demo, client, tmp_path) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, "lead@demo.cpi-tracker.test")
    data = client.get("/accounts/HC-0007/scorecard.pdf?period=2026-Q3").data
    reader = PdfReader(io.BytesIO(data))
    text = " ".join(page.extract_text() for page in reader.pages)
    for part in (
        "Northwind Clinics",
        "2026-Q3",
        "Improved",
        "Slipped",
        "Largest perception gap",
        "95% interval",
        "Response rate",
        "How these figures are computed",
        "Wilson",
        "What customers said",
        "Trend",
    ):
        assert part.lower() in text.lower(), part
    fonts = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            descriptor = (
                font.get_object().get("/FontDescriptor")
                or font.get_object()["/DescendantFonts"][0].get_object()["/FontDescriptor"]
            )
            descriptor = descriptor.get_object()
            assert any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")), font
            fonts.add(str(descriptor["/FontName"]))
    assert any("DejaVu" in f for f in fonts)
    width, height = (float(v) for v in reader.pages[0].mediabox[2:])
    assert (round(width), round(height)) == (595, 842)  # A4 by default


def test_page_size_letter_and_company_name(app, demo, client, tmp_path) -> None:  # type: ignore[no-untyped-def]
    app.config.update(PAGE_SIZE="Letter", COMPANY_NAME="Acme Services & Co")
    logo = tmp_path / "logo.svg"
    logo.write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
        '<rect width="10" height="10" fill="red"/></svg>'
    )
    app.config["COMPANY_LOGO"] = str(logo)
    sign_in(client, "lead@demo.cpi-tracker.test")
    data = client.get("/accounts/HC-0007/scorecard.pdf?period=2026-Q3").data
    reader = PdfReader(io.BytesIO(data))
    width, height = (float(v) for v in reader.pages[0].mediabox[2:])
    assert (round(width), round(height)) == (612, 792)
    assert "Acme Services & Co" in reader.pages[0].extract_text()


def test_period_without_data_still_gives_a_pdf_that_says_so(demo, client, tmp_path) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, "lead@demo.cpi-tracker.test")
    response = client.get("/accounts/HC-0007/scorecard.pdf?period=2031-Q1")
    assert response.status_code == 200
    assert "No answers for Northwind Clinics in 2031-Q1 yet" in " ".join(
        pdf_text(response.data).split()
    )
    page = client.get("/accounts/HC-0007?period=2031-Q1").get_data(as_text=True)
    assert "No answers for Northwind Clinics in 2031-Q1 yet" in page


def test_cli_scorecard_for_each_scope(demo, runner, tmp_path) -> None:  # type: ignore[no-untyped-def]
    for flags, name in (
        (["--account", "HC-0007"], "a.pdf"),
        (["--segment", "Retail"], "s.pdf"),
        (["--owner", "anna.kovacs@demo.cpi-tracker.test"], "o.pdf"),
        (["--company"], "c.pdf"),
    ):
        out = tmp_path / name
        result = runner.invoke("scorecard", "--period", "2026-Q3", *flags, "-o", str(out))
        assert result.exit_code == 0, result.output
        assert out.read_bytes().startswith(b"%PDF")
    folder = tmp_path / "folder"
    folder.mkdir()
    result = runner.invoke(
        "scorecard", "--period", "2026-Q3", "--account", "HC-0007", "-o", str(folder)
    )
    assert (folder / "HC-0007-2026-Q3.pdf").exists(), result.output


def test_cli_scorecard_bad_input(demo, runner, tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = str(tmp_path / "x.pdf")
    result = runner.invoke(
        "scorecard", "--period", "2026-Q3", "--account", "NOPE", "-o", out, expect_exit=1
    )
    assert result.exit_code != 0 and "no account 'NOPE'" in result.output
    result = runner.invoke("scorecard", "--period", "2026-Q3", "-o", out, expect_exit=2)
    assert result.exit_code != 0 and "exactly one of" in result.output
    result = runner.invoke(
        "scorecard", "--period", "2026-Q9", "--company", "-o", out, expect_exit=2
    )
    assert result.exit_code != 0


@pytest.mark.slow
def test_all_accounts_to_a_zip_and_a_folder(runner, write_csv, tmp_path) -> None:  # type: ignore[no-untyped-def]
    small_dataset(runner, write_csv)
    out = tmp_path / "cards.zip"
    result = runner.invoke("scorecard", "--period", "2026-Q3", "--all-accounts", "-o", str(out))
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(out) as archive:
        names = sorted(archive.namelist())
        assert names == ["ACC-1-2026-Q3.pdf", "ACC-2-2026-Q3.pdf", "ACC-3-2026-Q3.pdf"]
        first = archive.read("ACC-1-2026-Q3.pdf")
    assert TRICKY_NAME in " ".join(pdf_text(first).split())
    assert not (tmp_path / "cards.zip.part").exists()
    folder = tmp_path / "cards"
    result = runner.invoke(
        "scorecard", "--period", "2026-Q3", "--all-accounts", "-o", str(folder), "--processes", "2"
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in folder.iterdir()) == names
