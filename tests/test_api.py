"""GET /api/scorecard: the JSON shape of `cpi score`, with roles and the min_n rule."""

from __future__ import annotations

import json
from typing import Any

import pytest
from staff_support import OWNER_A, small_dataset

from cpi.scoring import CATALOGUE


@pytest.fixture
def data(runner: Any, write_csv: Any) -> None:
    small_dataset(runner, write_csv)


def sign_in_as(client: Any, email: str) -> None:
    from staff_support import sign_in

    sign_in(client, email, "password-123")


def cli_json(runner: Any, *args: str) -> dict[str, Any]:
    result = runner.invoke("score", "--period", "2026-Q3", "--format", "json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)  # type: ignore[no-any-return]


def test_admin_gets_the_same_figures_as_cpi_score(data: None, client: Any, runner: Any) -> None:
    sign_in_as(client, "admin@example.test")
    response = client.get("/api/scorecard?period=2026-Q3&account=ACC-3")
    assert response.status_code == 200
    payload = response.get_json()
    expected = cli_json(runner, "--account", "ACC-3")
    assert [i["code"] for i in payload["indicators"]] == [i.code for i in CATALOGUE]
    for got, want in zip(payload["indicators"], expected["indicators"], strict=True):
        got.pop("name"), want.pop("name")
        assert got == pytest.approx(want)
    # the administrator keeps thin figures, marked insufficient (indicators.md, Privacy)
    fcr = payload["indicators"][0]
    assert fcr["status"] == "insufficient" and fcr["value"] is not None


def test_staff_never_get_a_thin_figure(data: None, client: Any) -> None:
    sign_in_as(client, "lead@example.test")
    payload = client.get("/api/scorecard?period=2026-Q3&account=ACC-3").get_json()
    assert payload["responses"] == 3
    for indicator in payload["indicators"]:
        assert indicator["status"] in ("insufficient", None)
        assert indicator["value"] is None and indicator["ci_low"] is None
        assert indicator["gap"] is None and indicator["delta"] is None
        assert indicator["delta_low"] is None and indicator["delta_high"] is None
        assert indicator["delta_significant"] is False and indicator["status_certain"] is None
    company = client.get("/api/scorecard?period=2026-Q3").get_json()
    assert company["scope"]["type"] == "company"
    assert company["indicators"][0]["value"] is not None


def test_account_managers_see_only_their_accounts(data: None, client: Any) -> None:
    sign_in_as(client, OWNER_A)
    assert client.get("/api/scorecard?period=2026-Q3&account=ACC-1").status_code == 200
    for query in ("account=ACC-2", "segment=Retail", "owner=owner.b@example.test", ""):
        assert client.get(f"/api/scorecard?period=2026-Q3&{query}").status_code == 404, query
    mine = client.get(f"/api/scorecard?period=2026-Q3&owner={OWNER_A}")
    assert mine.status_code == 200 and mine.get_json()["scope"]["type"] == "owner"


def test_bad_requests(data: None, client: Any) -> None:
    assert client.get("/api/scorecard?period=2026-Q3").status_code == 302  # not signed in
    sign_in_as(client, "lead@example.test")
    assert client.get("/api/scorecard?period=2026-Q9").status_code == 404
    assert client.get("/api/scorecard?period=2026-Q3&account=NOPE").status_code == 404
    assert client.get("/api/scorecard?period=2026-Q3&account=A&segment=B").status_code == 400
