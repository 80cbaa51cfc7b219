"""The ``cpi`` command: score, user create, demo, init."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from cpi.auth.models import User
from cpi.auth.passwords import verify_password
from cpi.models import Account, Contact, KpiFigure, Response, Target
from cpi.scoring import CATALOGUE


@pytest.fixture
def demo(runner):  # type: ignore[no-untyped-def]
    result = runner.invoke("demo")
    assert result.exit_code == 0, result.output
    return result


def counts(db) -> tuple[int, ...]:  # type: ignore[no-untyped-def]
    db.rollback()
    return tuple(
        db.scalar(select(func.count()).select_from(m))
        for m in (Account, Contact, Response, KpiFigure, Target, User)
    )


def test_demo_is_idempotent_and_prints_logins(demo, runner, db) -> None:  # type: ignore[no-untyped-def]
    assert "lead@demo.cpi-tracker.test" in demo.output
    first = counts(db)
    assert first[0] == 40 and first[2] > 500
    again = runner.invoke("demo")
    assert again.exit_code == 0
    assert "nothing changed" in again.output
    assert counts(db) == first
    assert len({a.segment for a in db.scalars(select(Account))}) == 4


def test_score_json_has_the_contract_shape(demo, runner) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(
        "score", "--period", "2026-Q3", "--account", "HC-0007", "--format", "json"
    )
    assert result.exit_code == 0, result.output
    card = json.loads(result.output)
    assert card["scope"] == {"type": "account", "id": "HC-0007", "name": "Northwind Clinics"}
    assert card["period"] == "2026-Q3"
    assert [i["code"] for i in card["indicators"]] == [i.code for i in CATALOGUE]
    keys = {
        "code",
        "name",
        "unit",
        "better",
        "n",
        "value",
        "ci_low",
        "ci_high",
        "kpi",
        "kpi_derived",
        "gap",
        "gap_significant",
        "target",
        "tolerance",
        "status",
        "status_certain",
        "previous",
        "delta",
        "delta_low",
        "delta_high",
        "delta_significant",
    }
    assert all(set(i) == keys for i in card["indicators"])
    fcr = card["indicators"][0]
    # the story: a glowing internal KPI the customers contradict
    assert fcr["kpi"] > 90 and fcr["gap"] < -30
    assert card["invited"] >= card["responses"] > 0
    assert card["response_rate"] == pytest.approx(100 * card["responses"] / card["invited"])


def test_score_table_for_a_segment(demo, runner) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(
        "score", "--period", "2026-Q3", "--segment", "Healthcare", "--format", "table"
    )
    assert result.exit_code == 0, result.output
    assert "Healthcare (segment) · 2026-Q3" in result.output
    assert "First-contact resolution" in result.output


def test_score_for_a_year_and_an_owner(demo, runner) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(
        "score",
        "--period",
        "2026",
        "--owner",
        "anna.kovacs@demo.cpi-tracker.test",
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["scope"]["type"] == "owner"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--period", "2026-Q3", "--account", "NOPE"), "no account 'NOPE'"),
        (("--period", "2026-Q3", "--segment", "Space"), "no segment 'Space'"),
        (("--period", "2026-Q3", "--owner", "who@x.example"), "no accounts owned by"),
        (
            (
                "--period",
                "2031-Q1",
            ),
            "no data for period 2031-Q1",
        ),
        (
            (
                "--period",
                "2026-Q5",
            ),
            "is not a period like 2026-Q3",
        ),
        (("--period", "2026-Q3", "--account", "A", "--segment", "B"), "at most one of"),
    ],
)
def test_score_bad_input(demo, runner, args, message) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke("score", *args, expect_exit="error")
    assert result.exit_code != 0
    assert message in result.output


def test_user_create_hashes_with_argon2(runner, db) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(
        "user",
        "create",
        "--email",
        "Lead@Example.com",
        "--role",
        "enablement",
        env={"CPI_PASSWORD": "correct horse battery"},
    )
    assert result.exit_code == 0, result.output
    user = db.scalar(select(User).where(User.email == "lead@example.com"))
    assert user.password_hash.startswith("$argon2id$")
    assert verify_password(user.password_hash, "correct horse battery")
    assert not verify_password(user.password_hash, "wrong")
    again = runner.invoke(
        "user",
        "create",
        "--email",
        "lead@example.com",
        "--role",
        "enablement",
        env={"CPI_PASSWORD": "correct horse battery"},
        expect_exit=1,
    )
    assert again.exit_code != 0 and "already exists" in again.output


def test_user_create_prompts_for_password(runner, db) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(
        "user",
        "create",
        "--email",
        "am@example.com",
        "--role",
        "account_manager",
        input="a long password\na long password\n",
        env={"CPI_PASSWORD": ""},
    )
    assert result.exit_code == 0, result.output
    assert db.scalar(select(User.role).where(User.email == "am@example.com")) == "account_manager"


def test_short_password_is_refused(runner) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(
        "user",
        "create",
        "--email",
        "x@example.com",
        "--role",
        "admin",
        env={"CPI_PASSWORD": "short"},
        expect_exit=1,
    )
    assert result.exit_code != 0
    assert "password: must be at least" in result.output


def test_dashboard_shows_the_latest_period(demo, client) -> None:  # type: ignore[no-untyped-def]
    from staff_support import sign_in

    assert client.get("/").status_code == 302  # sign-in first
    sign_in(client, "lead@demo.cpi-tracker.test")
    page = client.get("/").get_data(as_text=True)
    assert "2026-Q3" in page and "First-contact resolution" in page
    assert client.get("/?period=2031-Q1").status_code == 200
    assert client.get("/?period=2026-Q9").status_code == 404


def test_healthz(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}
