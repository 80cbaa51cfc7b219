"""The whole scorecard and its JSON shape."""

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from statsmodels.stats.proportion import confint_proportions_2indep

from cpi.scoring import CATALOGUE, Answers, AnswerStats, KpiRow, Scope, TargetRow, score_scope

ACME = Scope("account", "ACME-001", "Acme Industrial", frozenset({"ACME-001"}), "industrial")
KEYS = [
    "code", "name", "unit", "better", "n", "value", "ci_low", "ci_high", "kpi", "kpi_derived",
    "gap", "gap_significant", "target", "tolerance", "status", "status_certain", "previous",
    "delta", "delta_low", "delta_high", "delta_significant",
]  # fmt: skip
MOMENT = datetime(2026, 10, 2, 9, 14, 3, 123456, tzinfo=UTC)


def fcr_stats(yes: int, no: int) -> AnswerStats:
    return AnswerStats.from_answers([Answers(fcr="yes")] * yes + [Answers(fcr="no")] * no)


def test_json_shape_and_values() -> None:
    card = score_scope(
        ACME,
        "2026-Q3",
        {"2026-Q3": fcr_stats(9, 5), "2026-Q2": fcr_stats(4, 3)},
        [KpiRow("fcr", "2026-Q3", "ACME-001", "industrial", 86.0, None, None)],
        [TargetRow("fcr", "2026-Q3", None, 80.0, None)],
        invited=20,
        generated_at=MOMENT,
    )
    data = json.loads(json.dumps(card.to_dict()))
    assert list(data) == [
        "scope", "period", "generated_at", "responses", "invited", "response_rate", "indicators",
    ]  # fmt: skip
    assert data["scope"] == {"type": "account", "id": "ACME-001", "name": "Acme Industrial"}
    assert data["period"] == "2026-Q3"
    assert data["generated_at"] == "2026-10-02T09:14:03Z"
    assert (data["responses"], data["invited"], data["response_rate"]) == (14, 20, 70.0)
    assert [i["code"] for i in data["indicators"]] == [i.code for i in CATALOGUE]
    assert all(list(i) == KEYS for i in data["indicators"])
    fcr = data["indicators"][0]
    assert fcr["name"] == "First-contact resolution"
    assert fcr["n"] == 14
    assert fcr["value"] == pytest.approx(900 / 14)
    assert fcr["kpi"] == 86.0 and fcr["kpi_derived"] is False
    assert fcr["gap"] == pytest.approx(900 / 14 - 86.0)
    assert fcr["gap_significant"] is True  # 86 lies above the Wilson interval
    assert fcr["ci_high"] < 86.0
    assert (fcr["target"], fcr["tolerance"], fcr["status"]) == (80.0, pytest.approx(8.0), "red")
    assert fcr["previous"] == pytest.approx(400 / 7)
    assert fcr["delta"] == pytest.approx(900 / 14 - 400 / 7)
    # red, and the Wilson interval reaches above target − tolerance (72): uncertain
    assert fcr["ci_high"] >= 72.0 and fcr["status_certain"] is False
    low, high = confint_proportions_2indep(9, 14, 4, 7, method="newcomb", compare="diff")
    assert (fcr["delta_low"], fcr["delta_high"]) == (
        pytest.approx(100 * low, abs=1e-9),
        pytest.approx(100 * high, abs=1e-9),
    )
    assert fcr["delta_significant"] is False
    ces = data["indicators"][-1]
    assert ces["value"] is None and ces["n"] == 0 and ces["status"] == "insufficient"
    assert ces["kpi"] is None and ces["gap"] is None and ces["gap_significant"] is False
    assert ces["target"] is None and ces["previous"] is None and ces["delta"] is None
    assert ces["status_certain"] is None
    assert (ces["delta_low"], ces["delta_high"], ces["delta_significant"]) == (None, None, False)


def test_previous_across_year_boundary_and_year_pooling() -> None:
    stats = {"2025-Q4": fcr_stats(1, 1), "2026-Q1": fcr_stats(3, 1), "2026-Q2": fcr_stats(0, 4)}
    card = score_scope(ACME, "2026-Q1", stats, [], [])
    fcr = card.indicator("fcr")
    assert (fcr.value, fcr.previous, fcr.delta) == (75.0, 50.0, 25.0)
    year = score_scope(ACME, "2026", stats, [], []).indicator("fcr")
    assert (year.n, year.value, year.previous, year.delta) == (8, 37.5, 50.0, -12.5)


def test_gap_not_significant_inside_interval_or_without_interval() -> None:
    kpi = [
        KpiRow("fcr", "2026-Q3", "ACME-001", None, 60.0),
        KpiRow("ces", "2026-Q3", "ACME-001", None, 9.0),
    ]
    stats = {"2026-Q3": fcr_stats(9, 5) + AnswerStats.from_answers([Answers(ces=5)])}
    card = score_scope(ACME, "2026-Q3", stats, kpi, [])
    assert card.indicator("fcr").gap_significant is False
    ces = card.indicator("ces")
    assert (ces.gap, ces.ci_low, ces.gap_significant) == (-4.0, None, False)


def test_min_n_and_response_rate() -> None:
    stats = {"2026-Q3": fcr_stats(3, 1)}
    targets = [TargetRow("fcr", "2026-Q3", None, 50.0, 5.0)]
    assert (
        score_scope(ACME, "2026-Q3", stats, [], targets).indicator("fcr").status == "insufficient"
    )
    card = score_scope(ACME, "2026-Q3", stats, [], targets, min_n=4, invited=0)
    assert card.indicator("fcr").status == "green"
    assert (card.invited, card.response_rate) == (0, None)
    assert score_scope(ACME, "2026-Q3", stats, [], []).response_rate is None


def test_generated_at_is_utc_z() -> None:
    local = datetime(2026, 10, 2, 11, 14, 3, tzinfo=timezone(timedelta(hours=2)))
    card = score_scope(ACME, "2026-Q3", {}, [], [], generated_at=local)
    assert card.to_dict()["generated_at"] == "2026-10-02T09:14:03Z"
    assert score_scope(ACME, "2026-Q3", {}, [], []).to_dict()["generated_at"].endswith("Z")


def test_year_keys_are_refused() -> None:
    with pytest.raises(ValueError, match="quarter"):
        score_scope(ACME, "2026", {"2026": fcr_stats(1, 1)}, [], [])
