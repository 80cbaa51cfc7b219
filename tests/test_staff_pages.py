"""The staff pages: dashboard, perception-gap ranking, drill-down, account page, admin."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select
from staff_support import OWNER_A, OWNER_B, sign_in, small_dataset
from support import csrf_token

from cpi.kpis.models import Target


@pytest.fixture
def staff(runner, write_csv):  # type: ignore[no-untyped-def]
    small_dataset(runner, write_csv)


def signed_in(app, email: str):  # type: ignore[no-untyped-def]
    client = app.test_client()
    sign_in(client, email, "password-123")
    return client


def test_dashboard_shows_every_indicator_and_the_period_picker(app, staff) -> None:  # type: ignore[no-untyped-def]
    page = signed_in(app, "lead@example.test").get("/").get_data(as_text=True)
    assert "2026-Q3" in page
    for name in (
        "First-contact resolution",
        "Value-added contacts",
        "Quote turnaround",
        "Customer satisfaction",
        "Net Promoter Score",
        "Customer effort score",
    ):
        assert name in page
    assert '<select id="period" name="period">' in page
    assert '<option value="2026-Q2"' in page and '<option value="2026"' in page
    assert "Perception-gap ranking" in page and "<svg" in page


def test_ranking_puts_significant_gaps_first_and_lists_thin_accounts_apart(app, staff) -> None:  # type: ignore[no-untyped-def]
    page = signed_in(app, "admin@example.test").get("/?period=2026-Q3&indicator=fcr")
    text = page.get_data(as_text=True)
    accounts = text.split("<h3>Accounts</h3>")[1]
    ranked, insufficient = accounts.split("with too few answers")
    # ACC-1: 75% vs KPI 99 (significant); ACC-2: 75% vs 70 (inside the interval)
    assert ranked.index("ACC-1") < ranked.index("ACC-2")
    assert "gap-significant" in ranked.split("ACC-2")[0]
    assert "Gamma Ltd" not in ranked and "Gamma Ltd" in insufficient
    assert "<h3>Segments</h3>" in text and "<h3>Account managers</h3>" in text


def test_drill_down_to_segment_owner_and_account(app, staff) -> None:  # type: ignore[no-untyped-def]
    client = signed_in(app, "lead@example.test")
    assert "Beta GmbH" in client.get("/segments/Retail?period=2026-Q3").get_data(as_text=True)
    owner = client.get(f"/owners/{OWNER_A}?period=2026-Q3").get_data(as_text=True)
    assert "Gamma Ltd" in owner and "Beta GmbH" not in owner
    assert client.get("/segments/Nowhere?period=2026-Q3").status_code == 404


def test_account_page(app, staff) -> None:  # type: ignore[no-untyped-def]
    client = signed_in(app, OWNER_A)
    page = client.get("/accounts/ACC-1?period=2026-Q3").get_data(as_text=True)
    assert "75.0%" in page  # fcr 6 of 8
    assert "99.0%" in page  # the KPI
    # the trend starts at the first quarter with data (2026-Q2), not eight quarters back
    assert "Trend, last 2 quarters" in page and page.count("<svg") == 7
    assert "Q2 ’26" in page and "Q1 ’26" not in page
    assert "Responses" in page and "Download PDF scorecard" in page
    assert "Named praise from a consenting customer" in page
    assert client.get("/accounts/ACC-1?period=2026-Q9").status_code == 404
    assert client.get("/accounts/NOPE").status_code == 404
    empty = client.get("/accounts/ACC-1?period=2030-Q1").get_data(as_text=True)
    assert "No answers for" in empty


def test_account_manager_dashboard_is_their_portfolio(app, staff) -> None:  # type: ignore[no-untyped-def]
    page = signed_in(app, OWNER_A).get("/?period=2026-Q3").get_data(as_text=True)
    assert "My accounts" in page or "Account manager" in page
    assert "<h3>Segments</h3>" not in page and "Beta GmbH" not in page


def test_admin_upload_imports_and_reports_bad_rows(app, staff, db) -> None:  # type: ignore[no-untyped-def]
    client = signed_in(app, "admin@example.test")
    token = csrf_token(client, "/admin/uploads")
    good = b"indicator,period,target,segment\nnps,2026-Q4,25,\nfcr,2026-Q4,82,Retail\n"
    response = client.post(
        "/admin/uploads",
        data={"kind": "targets", "csrf_token": token, "file": (io.BytesIO(good), "t.csv")},
    )
    assert response.status_code == 302
    assert "Imported 2 targets rows" in client.get("/admin/uploads").get_data(as_text=True)
    bad = b"indicator,period,target\nnps,2026-Q5,25\nbogus,2026-Q4,1\ncsat,2026-Q4,50\n"
    response = client.post(
        "/admin/uploads",
        data={"kind": "targets", "csrf_token": token, "file": (io.BytesIO(bad), "bad.csv")},
    )
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "Nothing was imported" in text and "line 2:" in text and "line 3:" in text
    db.rollback()
    assert (
        db.scalar(select(Target).where(Target.indicator == "csat", Target.period == "2026-Q4"))
        is None
    )
    binary = client.post(
        "/admin/uploads",
        data={
            "kind": "contacts",
            "csrf_token": token,
            "file": (io.BytesIO(b"\x89PNG\x00\x01"), "x.csv"),
        },
    )
    assert binary.status_code == 400 and "NUL byte" in binary.get_data(as_text=True)
    app.config["UPLOAD_MAX_BYTES"] = 2000
    big = client.post(
        "/admin/uploads",
        data={
            "kind": "contacts",
            "csrf_token": token,
            "file": (io.BytesIO(b"a," * 5000), "big.csv"),
        },
    )
    assert big.status_code == 413


def test_admin_manages_users_and_targets(app, staff, db) -> None:  # type: ignore[no-untyped-def]
    client = signed_in(app, "admin@example.test")
    token = csrf_token(client, "/admin/users")
    response = client.post(
        "/admin/users",
        data={
            "email": "new@example.test",
            "name": "Nia New",
            "role": "account_manager",
            "password": "long-password-1",
            "csrf_token": token,
        },
    )
    assert response.status_code == 302
    short = client.post(
        "/admin/users",
        data={"email": "x@example.test", "role": "admin", "password": "short", "csrf_token": token},
    )
    assert short.status_code == 400 and "password: must be at least" in short.get_data(as_text=True)
    page = client.get("/admin/users").get_data(as_text=True)
    user_id = re.search(r'action="/admin/users/(\d+)"[^>]*>\s*<input id="csrf_token"', page)
    assert "Nia New" in page and user_id
    new = app.test_client()
    sign_in(new, "new@example.test", "long-password-1")
    ids = re.findall(r"/admin/users/(\d+)", page)
    from cpi.auth.models import User

    new_id = db.scalar(select(User.id).where(User.email == "new@example.test"))
    assert str(new_id) in ids
    client.post(
        f"/admin/users/{new_id}", data={"role": "enablement", "active": "0", "csrf_token": token}
    )
    assert new.get("/").status_code == 302  # disabled: their session ended
    response = client.post(
        "/admin/targets",
        data={
            "indicator": "ces",
            "period": "2026-Q3",
            "target": "5.5",
            "tolerance": "0.5",
            "csrf_token": token,
        },
    )
    assert response.status_code == 302
    bad = client.post(
        "/admin/targets",
        data={"indicator": "ces", "period": "2026-Q3", "target": "9", "csrf_token": token},
    )
    assert bad.status_code == 400 and "target: must be from 1 to 7" in bad.get_data(as_text=True)
    db.rollback()
    assert db.scalar(select(Target.target).where(Target.indicator == "ces")) == 5.5


def _import(runner, write_csv, kind: str, lines: list[str]) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke("import", kind, str(write_csv(f"{kind}-extra.csv", "\n".join(lines))))
    assert result.exit_code == 0, result.output


def test_dashboards_show_the_comments_of_the_period_and_withhold_thin_accounts(app, staff) -> None:  # type: ignore[no-untyped-def]
    # Every account has two comments in 2026-Q3; ACC-3 has only 3 answers (min_n is 5).
    lead = signed_in(app, "lead@example.test")
    company = lead.get("/?period=2026-Q3").get_data(as_text=True)
    assert "No comments in" not in company
    assert company.count("<blockquote>") == 4  # ACC-1 and ACC-2, not thin ACC-3
    assert "Named praise from a consenting customer" in company
    assert "fewer than 5 answers in 2026-Q3 are not shown" in company
    segment = lead.get("/segments/Health?period=2026-Q3").get_data(as_text=True)
    assert "<blockquote>" not in segment and "are not shown" in segment
    owner = signed_in(app, OWNER_A).get("/?period=2026-Q3").get_data(as_text=True)
    assert owner.count("<blockquote>") == 2 and "are not shown" in owner  # ACC-1's only
    thin = signed_in(app, OWNER_A).get("/accounts/ACC-3?period=2026-Q3").get_data(as_text=True)
    assert "<blockquote>" not in thin and "are not shown" in thin
    # administrators see every comment (the privacy rule's exception, as for the JSON)
    admin = signed_in(app, "admin@example.test").get("/?period=2026-Q3").get_data(as_text=True)
    assert admin.count("<blockquote>") == 5 and "Showing 5 of 6 comments" in admin
    assert "are not shown" not in admin


def test_default_period_is_the_latest_scorable_quarter_per_scope(
    app, staff, runner, write_csv
) -> None:  # type: ignore[no-untyped-def]
    # Two fresh answers in 2026-Q4 for ACC-1: too few to score anything.
    _import(runner, write_csv, "responses", [
        "account_id,contact_email,period,fcr,csat",
        "ACC-1,c0@acc-1.test,2026-Q4,yes,5",
        "ACC-1,c1@acc-1.test,2026-Q4,no,4",
    ])  # fmt: skip
    lead = signed_in(app, "lead@example.test")
    for path in ("/", "/segments/Retail", f"/owners/{OWNER_A}", "/accounts/ACC-1"):
        page = lead.get(path).get_data(as_text=True)
        assert '<option value="2026-Q3" selected>' in page, path
        assert "2026-Q4 (in progress: 2 answers)" in page, path
    owner = signed_in(app, OWNER_A)
    assert (
        owner.get("/accounts/ACC-1/scorecard.pdf")
        .headers["Content-Disposition"]
        .endswith("filename=ACC-1-2026-Q3.pdf")
    )
    # Six more for ACC-2 make 2026-Q4 scorable there (and for Retail and the company) only.
    _import(runner, write_csv, "responses", [
        "account_id,contact_email,period,csat",
        *[f"ACC-2,c{i}@acc-2.test,2026-Q4,5" for i in range(6)],
    ])  # fmt: skip
    assert '<option value="2026-Q4" selected>' in lead.get("/accounts/ACC-2").get_data(as_text=True)
    assert '<option value="2026-Q4" selected>' in lead.get("/").get_data(as_text=True)
    mine = lead.get("/accounts/ACC-1").get_data(as_text=True)
    assert '<option value="2026-Q3" selected>' in mine
    # an explicit ?period= still wins
    assert '<option value="2026-Q2" selected>' in lead.get("/?period=2026-Q2").get_data(
        as_text=True
    )


def test_a_quarter_scorable_by_the_quote_turnaround_alone_is_the_default(
    app, staff, runner, write_csv
) -> None:  # type: ignore[no-untyped-def]
    # The period menu counts answers from the sums; the quote turnaround's count lives
    # in the days histogram only, and must still make a quarter scorable on its own.
    _import(runner, write_csv, "responses", [
        "account_id,contact_email,period,quote_turnaround_days,csat",
        *[f"ACC-2,q{i}@acc-2.test,2026-Q4,{i + 1}.5," for i in range(5)],
        "ACC-2,q9@acc-2.test,2026-Q4,,4",
    ])  # fmt: skip
    lead = signed_in(app, "lead@example.test")
    page = lead.get("/accounts/ACC-2").get_data(as_text=True)
    assert '<option value="2026-Q4" selected>' in page
    # one answer fewer: no indicator reaches 5, the quarter is in progress (6 answers)
    _import(runner, write_csv, "responses", [
        "account_id,contact_email,period,quote_turnaround_days,csat",
        "ACC-1,q0@acc-1.test,2026-Q4,1.5,",
        *[f"ACC-1,q{i}@acc-1.test,2026-Q4,{i}.5,4" for i in range(1, 3)],
        *[f"ACC-1,q{i}@acc-1.test,2026-Q4,,4" for i in range(3, 5)],
    ])  # fmt: skip
    page = lead.get("/accounts/ACC-1").get_data(as_text=True)
    assert '<option value="2026-Q3" selected>' in page
    assert "2026-Q4 (in progress: 5 answers" in page
    assert page.count('<option value="2026" >') == 1  # each year once


def test_in_progress_quarter_shows_its_response_rate(app, staff, runner) -> None:  # type: ignore[no-untyped-def]
    created = runner.invoke("campaign", "create", "--name", "Q4", "--period", "2026-Q4")
    assert created.exit_code == 0, created.output
    assert runner.invoke("send", created.stdout.split()[0]).exit_code == 0
    page = signed_in(app, "lead@example.test").get("/").get_data(as_text=True)
    assert '<option value="2026-Q3" selected>' in page
    assert "2026-Q4 (in progress: 0 answers, response rate 0%)" in page


def test_exports_hold_the_scope_only_and_answers_are_anonymous(
    app, staff, runner, write_csv
) -> None:  # type: ignore[no-untyped-def]
    import csv

    _import(runner, write_csv, "responses", [
        "account_id,contact_email,period,csat,comment",
        "ACC-2,c7@acc-2.test,2026-Q3,4,=HYPERLINK(\"http://evil\")",
    ])  # fmt: skip
    lead = signed_in(app, "lead@example.test")

    def rows(path: str) -> list[dict[str, str]]:
        response = lead.get(path)
        assert response.status_code == 200, path
        return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))

    health = rows("/exports/scorecards.csv?period=2026-Q3&segment=Health")
    assert {r["account_id"] for r in health} == {"ACC-3"}
    owned = rows(f"/exports/scorecards.csv?period=2026-Q3&owner={OWNER_A}")
    assert {r["account_id"] for r in owned} == {"ACC-1", "ACC-3"}
    page = lead.get("/segments/Retail?period=2026-Q3").get_data(as_text=True)
    assert "/exports/scorecards.csv?period=2026-Q3&amp;segment=Retail" in page
    assert "/exports/responses.csv?period=2026-Q3&amp;segment=Retail" in page

    answers = rows("/exports/responses.csv?period=2026-Q3")
    assert {r["account_id"] for r in answers} == {"ACC-1", "ACC-2"}  # ACC-3: 3 answers
    assert len([r for r in answers if r["account_id"] == "ACC-2"]) == 8
    text = lead.get("/exports/responses.csv?period=2026-Q3").get_data(as_text=True)
    assert "@acc-" not in text and "Person " not in text  # no email, no unconsented name
    assert "'=HYPERLINK" in text  # spreadsheet-safe
    from cpi.db import database

    # read while it streams, through a session that is closed when the download ends
    assert database(app).engine.pool.checkedout() == 0
    retail = rows("/exports/responses.csv?period=2026-Q3&segment=Retail")
    assert {r["account_id"] for r in retail} == {"ACC-1", "ACC-2"}
    # account managers get neither the answers export nor another scope
    owner = signed_in(app, OWNER_A)
    assert owner.get("/exports/responses.csv?period=2026-Q3").status_code == 404
    assert owner.get(f"/exports/scorecards.csv?period=2026-Q3&owner={OWNER_B}").status_code == 404


def test_search_finds_ids_with_underscore_and_percent(app, staff, runner, write_csv) -> None:  # type: ignore[no-untyped-def]
    _import(runner, write_csv, "contacts", [
        "account_id,account_name,segment,contact_email",
        "ACC_9,Under Score,Retail,u@under.test",
        "X%1,Per Cent,Retail,p@cent.test",
    ])  # fmt: skip
    lead = signed_in(app, "lead@example.test")

    def found(query: str) -> list[str]:
        page = lead.get("/accounts", query_string={"q": query}).get_data(as_text=True)
        return re.findall(r'href="/accounts/([^"?]+)"', page)

    assert found("C_9") == ["ACC_9"]
    assert found("_") == ["ACC_9"]
    assert found("X%") == ["X%251"]  # the id, URL-quoted in the link
    assert found("%") == ["X%251"]
    assert found("acc-1") == ["ACC-1"]


def test_no_dead_ends(app, runner, write_csv) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(
        "user", "create", "--email", "first@example.test", "--role", "admin",
        env={"CPI_PASSWORD": "password-123"},
    )  # fmt: skip
    assert result.exit_code == 0
    admin = signed_in(app, "first@example.test")
    fresh = admin.get("/").get_data(as_text=True)
    assert "cpi demo" in fresh and "/admin/uploads" in fresh and "cpi campaign create" in fresh
    _import(runner, write_csv, "contacts", [
        "account_id,account_name,segment,owner_email,contact_email",
        "NEW-1,Brand New Ltd,Retail,am@example.test,x@new.test",
    ])  # fmt: skip
    page = admin.get("/accounts/NEW-1").get_data(as_text=True)
    assert "<h1>Brand New Ltd</h1>" in page and "<h1>NEW-1</h1>" not in page
    for path, status in (("/accounts/NOPE", 404), ("/nowhere", 404)):
        response = admin.get(path)
        assert response.status_code == status
        text = response.get_data(as_text=True)
        assert "Sign out" in text and 'aria-label="Main"' in text
    runner.invoke(
        "user", "create", "--email", "am@example.test", "--role", "account_manager",
        env={"CPI_PASSWORD": "password-123"},
    )  # fmt: skip
    forbidden = signed_in(app, "am@example.test").get("/admin/users")
    assert forbidden.status_code == 403
    assert "Sign out" in forbidden.get_data(as_text=True)
    assert "Sign out" not in app.test_client().get("/nowhere").get_data(as_text=True)


def test_segment_and_company_figures_beside_an_account_managers_own(
    app, staff, runner, write_csv
) -> None:  # type: ignore[no-untyped-def]
    owner = signed_in(app, OWNER_A)
    page = owner.get("/accounts/ACC-1?period=2026-Q3").get_data(as_text=True)
    assert "Compared with Segment Retail and Company" in page
    portfolio = owner.get("/?period=2026-Q3").get_data(as_text=True)
    assert "Compared with Segment Health and Segment Retail and Company" in portfolio
    # Owner A's own figures stay; the company figure is withheld: the company minus the
    # Retail segment (both beside ACC-1) is owner A's thin Health account ACC-3 (3 answers).
    assert "75.0%" in page
    block = page.split("Compared with", 1)[1].split("</section>", 1)[0]
    first_row = block.split("<tbody>", 1)[1].split("</tr>", 1)[0]
    assert first_row.count("withheld") == 1
    # Owner B gets a Health account with 2 answers: beside owner A's Health account the
    # segment figure would reveal them, so it is withheld; an enablement lead sees it.
    _import(runner, write_csv, "contacts", [
        "account_id,account_name,segment,owner_email,contact_email",
        f"ACC-4,Delta AG,Health,{OWNER_B},d0@acc-4.test",
        f"ACC-4,Delta AG,Health,{OWNER_B},d1@acc-4.test",
    ])  # fmt: skip
    _import(runner, write_csv, "responses", [
        "account_id,contact_email,period,fcr,csat",
        "ACC-4,d0@acc-4.test,2026-Q3,yes,5",
        "ACC-4,d1@acc-4.test,2026-Q3,no,1",
    ])  # fmt: skip
    thin = owner.get("/accounts/ACC-3?period=2026-Q3").get_data(as_text=True)
    block = thin.split("Compared with", 1)[1].split("</section>", 1)[0]
    assert "withheld" in block and "Delta AG" not in block
    lead = signed_in(app, "lead@example.test").get("/accounts/ACC-3?period=2026-Q3")
    lead_block = lead.get_data(as_text=True).split("Compared with", 1)[1].split("</section>")[0]
    # The lead sees every account and portfolio, so more must be withheld from them in
    # places (the Health year minus its Q3 would be ACC-3's 3 answers of Q2), but the
    # company figure beside the account stays.
    first_row = lead_block.split("<tbody>", 1)[1].split("</tr>", 1)[0]
    assert re.search(r'<td class="num">\d+\.\d%</td>$', first_row.rstrip()), first_row


def test_labels_say_what_a_figure_is(app, staff) -> None:  # type: ignore[no-untyped-def]
    page = signed_in(app, "lead@example.test").get("/?period=2026-Q3").get_data(as_text=True)
    for words in ("median days", "mean value-added contacts per respondent",
                  "share of contacts that added value", ">score 1–7</text>", ">%</text>",
                  ">days</text>"):  # fmt: skip
        assert words in page, words


def test_admin_pages_name_things_and_offer_csv_templates(app, staff, db) -> None:  # type: ignore[no-untyped-def]
    client = signed_in(app, "admin@example.test")
    uploads = client.get("/admin/uploads").get_data(as_text=True)
    assert ">KPIs<" in uploads and "Kpis" not in uploads
    assert uploads.count("20 MB") == 1 and "21 MB" not in uploads
    for page_path in ("/admin/uploads", "/admin/users", "/admin/targets", "/admin/audit"):
        html = client.get(page_path).get_data(as_text=True)
        for target in re.findall(r'<label[^>]* for="([^"]+)"', html):
            assert f'id="{target}"' in html, (page_path, target)
    token = csrf_token(client, "/admin/uploads")
    for kind in ("contacts", "targets", "kpis", "responses"):  # the order a newcomer imports
        template = client.get(f"/admin/uploads/{kind}-template.csv")
        assert template.status_code == 200 and template.mimetype == "text/csv"
        assert f"/admin/uploads/{kind}-template.csv" in uploads
        imported = client.post(
            "/admin/uploads",
            data={"kind": kind, "csrf_token": token,
                  "file": (io.BytesIO(template.get_data()), f"{kind}.csv")},
        )  # fmt: skip
        assert imported.status_code == 302, imported.get_data(as_text=True)[-600:]
    assert client.get("/admin/uploads/nope-template.csv").status_code == 404
    client.post(
        "/admin/targets",
        data={"indicator": "ces", "period": "2026-Q3", "target": "5.5", "csrf_token": token},
    )
    targets = client.get("/admin/targets").get_data(as_text=True)
    assert "Target saved: Customer effort score, 2026-Q3, company-wide = 5.5." in targets
    assert "<td>Customer effort score</td>" in targets and "<td>ces</td>" not in targets
    app.config["UPLOAD_MAX_BYTES"] = 2000
    big = client.post(
        "/admin/uploads",
        data={"kind": "contacts", "csrf_token": token, "file": (io.BytesIO(b"a," * 5000), "b.csv")},
    )
    assert big.status_code == 413
    assert "larger than the 2 kB upload limit" in big.get_data(as_text=True)
