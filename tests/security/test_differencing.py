"""Issue 11 item 2: min_n defeated by subtraction (SECURITY.md, "Differencing").

The attack, through the real app: a viewer fetches a scope's figure and the figures
of every other part of it they can see (the API, the pages, the PDFs, the CSV),
subtracts, and tries to recover an account's answers that min_n hides. HID has 4
answers in 2026-Q3 (CSAT 100%, CES 5.75); YR's 3 answers of 2026-Q4 hide inside
its year. An administrator's raw JSON shows that the subtraction does recover
them (so each assertion below fails without the protection); every other view
must leave the attack without a number.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from staff_support import sign_in
from support import pdf_text

from cpi.scoring import CATALOGUE

AM = "am@example.test"
OTHER_AM = "other.am@example.test"
LEAD = "lead@example.test"
ADMIN = "admin@example.test"
PASSWORD = "password-123"
NAMES = {"csat": "Customer satisfaction", "ces": "Customer effort score"}
SCALE = {"csat": 100.0, "ces": 1.0}
HIDDEN_COMMENT = "only-hid-could-have-written-this"
Figures = dict[str, tuple[int, float | None]]  # code -> (n, value or None when not shown)

# (account, segment, owner, period, answers: CSAT digit and CES digit per respondent)
ANSWERS: list[tuple[str, str, str, str, str]] = [
    ("BIG-1", "Retail", AM, "2026-Q3", "54 45 33 56 22 57 45 54"),
    ("BIG-2", "Retail", AM, "2026-Q3", "46 55 12 57 34 46"),
    ("HID", "Health", AM, "2026-Q3", "55 56 46 56"),
    ("OTH", "Health", OTHER_AM, "2026-Q3", "23 56 44 35 57 11 44"),
    ("YR", "Retail", AM, "2026-Q1", "34 44 23 55 46 32"),
    ("YR", "Retail", AM, "2026-Q2", "45 22 56 33 45 54"),
    ("YR", "Retail", AM, "2026-Q4", "57 57 56"),
]  # fmt: skip
HID_Q3 = {"csat": 100.0, "ces": 5.75}
YR_Q4 = {"csat": 100.0, "ces": 20 / 3}

# Each attack: the figures to add (+1) and subtract (-1), and what it would reveal.
AM_ATTACK = [(+1, "owner", AM, "2026-Q3"), (-1, "account", "BIG-1", "2026-Q3"),
             (-1, "account", "BIG-2", "2026-Q3")]  # fmt: skip
YEAR_ATTACK = [(+1, "account", "YR", "2026"), (-1, "account", "YR", "2026-Q1"),
               (-1, "account", "YR", "2026-Q2")]  # fmt: skip
PORTFOLIO_YEAR_ATTACK = [(+1, "owner", AM, "2026"), (-1, "owner", AM, "2026-Q1"),
                         (-1, "owner", AM, "2026-Q2"), (-1, "owner", AM, "2026-Q3")]  # fmt: skip
SEGMENT_ATTACK = [(+1, "segment", "Health", "2026-Q3"), (-1, "account", "OTH", "2026-Q3")]
COMPANY_ATTACK = [(+1, "company", None, "2026-Q3"), (-1, "segment", "Retail", "2026-Q3"),
                  (-1, "account", "OTH", "2026-Q3")]  # fmt: skip


@pytest.fixture
def dataset(runner, write_csv) -> None:  # type: ignore[no-untyped-def]
    contacts = ["account_id,account_name,segment,owner_email,contact_email,contact_name"]
    responses = ["account_id,contact_email,period,fcr,csat,nps,ces,quote_turnaround_days,comment"]
    for account, segment, owner, period, answers in ANSWERS:
        for i, (csat, ces) in enumerate(answers.split()):
            email = f"c{i}@{account.lower()}.test"
            line = f"{account},{account} Ltd,{segment},{owner},{email},Person {i}"
            if line not in contacts:
                contacts.append(line)
            comment = f"{HIDDEN_COMMENT}" if account == "HID" and i == 0 else f"note {account}"
            responses.append(f"{account},{email},{period},yes,{csat},8,{ces},2,{comment}")
    for kind, lines in (("contacts", contacts), ("responses", responses)):
        result = runner.invoke("import", kind, str(write_csv(f"{kind}.csv", "\n".join(lines))))
        assert result.exit_code == 0, result.output
    for email, role in ((AM, "account_manager"), (OTHER_AM, "account_manager"),
                        (LEAD, "enablement"), (ADMIN, "admin")):  # fmt: skip
        result = runner.invoke(
            "user", "create", "--email", email, "--role", role, env={"CPI_PASSWORD": PASSWORD}
        )
        assert result.exit_code == 0, result.output


def client_for(app, email: str):  # type: ignore[no-untyped-def]
    client = app.test_client()
    sign_in(client, email, PASSWORD)
    return client


def number(text: str) -> float | None:
    match = re.fullmatch(r"\s*(-?\d+(?:\.\d+)?)\s*%?\s*", text)
    return float(match.group(1)) if match else None


# --- one reader per channel: (scope type, scope id, period) -> figures -------------


def api_reader(client) -> Callable[..., Figures]:  # type: ignore[no-untyped-def]
    def read(kind: str, key: str | None, period: str) -> Figures:
        query = {"period": period} | ({kind: key} if key else {})
        response = client.get("/api/scorecard", query_string=query)
        assert response.status_code == 200, (kind, key, period, response.status_code)
        card = response.get_json()
        return {i["code"]: (i["n"], i["value"]) for i in card["indicators"] if i["code"] in NAMES}

    return read


def table_figures(html: str) -> Figures:
    table = html.split('<table class="scorecard">', 1)[1].split("</table>", 1)[0]
    figures: Figures = {}
    for row in re.findall(r"<tr.*?</tr>", table, flags=re.S):
        for code, name in NAMES.items():
            if f">{name}<" in row:
                n = re.search(r'data-label="n">\s*(\d+)', row)
                value = re.search(r'data-label="Customers say">([^<]*)<', row)
                assert n and value, row
                figures[code] = (int(n.group(1)), number(value.group(1)))
    assert set(figures) == set(NAMES), table[:500]
    return figures


PAGES = {
    "account": "/accounts/{key}",
    "owner": "/owners/{key}",
    "segment": "/segments/{key}",
    "company": "/",
}


def page_reader(client) -> Callable[..., Figures]:  # type: ignore[no-untyped-def]
    def read(kind: str, key: str | None, period: str) -> Figures:
        response = client.get(PAGES[kind].format(key=key), query_string={"period": period})
        assert response.status_code == 200, (kind, key, period)
        return table_figures(response.get_data(as_text=True))

    return read


def pdf_reader(client, tmp_path: Path) -> Callable[..., Figures]:  # type: ignore[no-untyped-def]
    """Accounts from their PDFs (read back with pdftotext); other scopes from the pages."""
    pages = page_reader(client)

    def read(kind: str, key: str | None, period: str) -> Figures:
        if kind != "account":
            return pages(kind, key, period)
        response = client.get(f"/accounts/{key}/scorecard.pdf", query_string={"period": period})
        assert response.status_code == 200
        text = pdf_text(response.data, layout=True)
        # The table's rows in catalogue order; a long name wraps around its figures.
        table = re.split(r"^\*", text.split(" INDICATOR ", 1)[1], maxsplit=1, flags=re.M)[0]
        rows = re.findall(r"^\D*?\s(\d+)\s+(insufficient data|-?[\d.]+%?)\s", table, re.M)
        assert len(rows) == len(CATALOGUE), table
        figures: Figures = {}
        for indicator, (n, value) in zip(CATALOGUE, rows, strict=True):
            if indicator.code in NAMES:
                figures[indicator.code] = (int(n), number(value))
        return figures

    return read


def csv_reader(client) -> Callable[..., Figures]:  # type: ignore[no-untyped-def]
    """Accounts from the CSV export; other scopes from the pages."""
    pages = page_reader(client)

    def read(kind: str, key: str | None, period: str) -> Figures:
        if kind != "account":
            return pages(kind, key, period)
        response = client.get("/exports/scorecards.csv", query_string={"period": period})
        assert response.status_code == 200
        rows = csv.DictReader(io.StringIO(response.get_data(as_text=True)))
        return {
            row["indicator"]: (int(row["n"]), number(row["value"]))
            for row in rows
            if row["account_id"] == key and row["indicator"] in NAMES
        }

    return read


def subtract(read: Callable[..., Figures], attack: list[Any]) -> dict[str, float | None]:
    """What the attack reveals per indicator: the residual's value, or None when a
    figure it needs is not shown. Rounded figures give the sums back exactly (n is small)."""
    revealed: dict[str, float | None] = {}
    figures = [(sign, read(kind, key, period)) for sign, kind, key, period in attack]
    for code in NAMES:
        if any(f[code][1] is None for _, f in figures):
            revealed[code] = None
            continue
        n = sum(sign * f[code][0] for sign, f in figures)
        total = sum(sign * round(f[code][1] * f[code][0] / SCALE[code]) for sign, f in figures)  # type: ignore[operator]
        revealed[code] = total / n * SCALE[code] if n else None
    return revealed


def assert_exact(revealed: dict[str, float | None], hidden: dict[str, float]) -> None:
    for code, value in hidden.items():
        assert revealed[code] == pytest.approx(value), (code, revealed)


def test_the_subtraction_recovers_hidden_answers_from_unprotected_figures(app, dataset) -> None:  # type: ignore[no-untyped-def]
    """The control: an administrator's raw JSON; the same arithmetic as the attacks below."""
    read = api_reader(client_for(app, ADMIN))
    assert_exact(subtract(read, AM_ATTACK), HID_Q3)
    assert_exact(subtract(read, SEGMENT_ATTACK), HID_Q3)
    assert_exact(subtract(read, COMPANY_ATTACK), HID_Q3)
    assert_exact(subtract(read, YEAR_ATTACK), YR_Q4)
    assert_exact(subtract(read, PORTFOLIO_YEAR_ATTACK), YR_Q4)
    assert read("account", "HID", "2026-Q3")["csat"] == (4, 100.0)  # the admin's JSON: raw


@pytest.mark.parametrize("channel", ["api", "pages", "pdf", "csv"])
def test_an_account_manager_cannot_subtract_a_hidden_account(
    app, dataset, tmp_path, channel
) -> None:  # type: ignore[no-untyped-def]
    client = client_for(app, AM)
    read = {
        "api": lambda: api_reader(client),
        "pages": lambda: page_reader(client),
        "pdf": lambda: pdf_reader(client, tmp_path),
        "csv": lambda: csv_reader(client),
    }[channel]()
    assert read("account", "HID", "2026-Q3")["csat"] == (4, None)  # min_n: shown as insufficient
    for attack in (AM_ATTACK, YEAR_ATTACK, PORTFOLIO_YEAR_ATTACK):
        assert subtract(read, attack) == {"csat": None, "ces": None}, attack
    # what the protection keeps: the accounts' own quarter figures
    assert read("account", "BIG-1", "2026-Q3")["csat"] == (8, 75.0)
    assert read("account", "YR", "2026-Q1")["ces"] == (6, 4.0)


@pytest.mark.parametrize("channel", ["api", "pages"])
def test_company_wide_staff_cannot_subtract_a_hidden_account(app, dataset, channel) -> None:  # type: ignore[no-untyped-def]
    client = client_for(app, LEAD)
    read = api_reader(client) if channel == "api" else page_reader(client)
    for attack in (AM_ATTACK, SEGMENT_ATTACK, COMPANY_ATTACK, YEAR_ATTACK, PORTFOLIO_YEAR_ATTACK):
        assert subtract(read, attack) == {"csat": None, "ces": None}, attack
    assert read("company", None, "2026-Q3")["csat"][1] is not None  # the company figure stays


def test_published_api_figures_are_rounded_to_display_precision(app, dataset) -> None:  # type: ignore[no-untyped-def]
    card = client_for(app, LEAD).get("/api/scorecard?account=BIG-2&period=2026-Q3").get_json()
    ces = next(i for i in card["indicators"] if i["code"] == "ces")
    assert ces["value"] == 5.0 and ces["ci_low"] == round(ces["ci_low"], 2)
    csat = next(i for i in card["indicators"] if i["code"] == "csat")
    assert csat["value"] == 66.7  # 4 of 6, unrounded 66.666…


def test_comments_of_accounts_below_min_n_are_withheld(app, dataset) -> None:  # type: ignore[no-untyped-def]
    client = client_for(app, AM)
    page = client.get("/accounts/HID?period=2026-Q3").get_data(as_text=True)
    assert HIDDEN_COMMENT not in page
    assert "note BIG-1" in client.get("/accounts/BIG-1?period=2026-Q3").get_data(as_text=True)
    lead = client_for(app, LEAD)
    for url in ("/accounts/HID?period=2026-Q3", "/?period=2026-Q3", "/segments/Health?period=2026"):
        assert HIDDEN_COMMENT not in lead.get(url).get_data(as_text=True), url
