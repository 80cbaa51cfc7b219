"""The staff pages: dashboard, perception-gap ranking, drill-down, account page, admin."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select
from staff_support import OWNER_A, csrf_token, sign_in, small_dataset

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
    assert "Trend, last 8 quarters" in page and page.count("<svg") == 7
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
    assert bad.status_code == 400 and "target: must be between 1 and 7" in bad.get_data(
        as_text=True
    )
    db.rollback()
    assert db.scalar(select(Target.target).where(Target.indicator == "ces")) == 5.5
