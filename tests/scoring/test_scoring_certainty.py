"""status_certain, and targets and statuses for years."""

import numpy as np
import pytest

from cpi.scoring import (
    INDICATORS_BY_CODE,
    Answers,
    AnswerStats,
    Scope,
    TargetRow,
    find_target,
    score_scope,
    status,
    status_certain,
)

FCR = INDICATORS_BY_CODE["fcr"]
QUOTE = INDICATORS_BY_CODE["quote_turnaround"]
ACME = Scope("account", "ACME", "Acme", frozenset({"ACME"}), "industrial")
RETAIL = Scope("account", "SHOP", "Shop", frozenset({"SHOP"}), "retail")
COMPANY = Scope("company", None, "Company", frozenset({"ACME", "SHOP"}))


def certain_by_sides(better: str, value: float, low: float, high: float, target: float,
                     tolerance: float) -> bool:  # fmt: skip
    """indicators.md read literally: the interval lies on the value's side of every boundary."""
    if better == "higher":
        boundaries = (target, target - tolerance)

        def side(x: float, b: float) -> bool:
            return x >= b
    else:
        boundaries = (target, target + tolerance)

        def side(x: float, b: float) -> bool:
            return x <= b

    return all(side(low, b) == side(value, b) == side(high, b) for b in boundaries)


@pytest.mark.parametrize("seed", range(300))
@pytest.mark.parametrize("indicator", [FCR, QUOTE], ids=["higher", "lower"])
def test_status_certain_matches_the_sides_of_every_boundary(seed: int, indicator) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    grid = np.arange(0, 101, 5.0)  # on a grid, so values and bounds often sit on a boundary
    target, tolerance = float(rng.choice(grid[1:])), float(rng.choice([5.0, 10.0, 20.0]))
    low, value, high = sorted(float(x) for x in rng.choice(grid, 3))
    found = status(indicator, 10, value, target, tolerance)
    assert found in ("green", "amber", "red")
    expected = certain_by_sides(indicator.better, value, low, high, target, tolerance)
    assert status_certain(indicator, found, low, high, target, tolerance) is expected
    # a zero-width interval at the value is always certain
    assert status_certain(indicator, found, value, value, target, tolerance) is True


def test_status_certain_examples() -> None:
    # the example: an NPS of 60 from −10 to 100 against a target of 50 is not solid green
    nps = INDICATORS_BY_CODE["nps"]
    assert status_certain(nps, "green", -10.0, 100.0, 50.0, 5.0) is False
    assert status_certain(nps, "green", 50.0, 100.0, 50.0, 5.0) is True  # low on the target
    assert status_certain(FCR, "amber", 72.0, 79.9, 80.0, 8.0) is True
    assert status_certain(FCR, "amber", 72.0, 80.0, 80.0, 8.0) is False  # reaches green
    assert status_certain(FCR, "amber", 71.9, 79.0, 80.0, 8.0) is False  # reaches red
    assert status_certain(FCR, "red", 10.0, 71.9, 80.0, 8.0) is True
    assert status_certain(FCR, "red", 10.0, 72.0, 80.0, 8.0) is False
    assert status_certain(QUOTE, "green", 1.0, 5.0, 5.0, 0.5) is True
    assert status_certain(QUOTE, "amber", 5.1, 5.5, 5.0, 0.5) is True
    assert status_certain(QUOTE, "amber", 5.0, 5.5, 5.0, 0.5) is False
    assert status_certain(QUOTE, "red", 5.6, 9.0, 5.0, 0.5) is True
    assert status_certain(QUOTE, "red", 5.5, 9.0, 5.0, 0.5) is False


def test_status_certain_null_and_false() -> None:
    assert status_certain(FCR, None, 1.0, 2.0, None, None) is None
    assert status_certain(FCR, "insufficient", 1.0, 2.0, 80.0, 8.0) is None
    assert status_certain(FCR, "green", None, None, 80.0, 8.0) is False


def answers(**fields: list) -> AnswerStats:  # type: ignore[type-arg]
    n = max(len(v) for v in fields.values())
    return AnswerStats.from_answers(
        [Answers(**{k: v[i] for k, v in fields.items()}) for i in range(n)]
    )


def test_scorecard_status_certain_in_context() -> None:
    # 60 yes of 60: Wilson low ≈ 94 ≥ target 90 → certain green; 5 of 5: low ≈ 57 → uncertain
    targets = [TargetRow("fcr", "2026-Q3", None, 90.0, None),
               TargetRow("ces", "2026-Q3", None, 5.0, None)]  # fmt: skip
    many = score_scope(ACME, "2026-Q3", {"2026-Q3": answers(fcr=["yes"] * 60)}, [], targets)
    few = score_scope(ACME, "2026-Q3", {"2026-Q3": answers(fcr=["yes"] * 5)}, [], targets)
    thin = score_scope(ACME, "2026-Q3", {"2026-Q3": answers(fcr=["yes"] * 4)}, [], targets)
    assert (many.indicator("fcr").status, many.indicator("fcr").status_certain) == ("green", True)
    assert (few.indicator("fcr").status, few.indicator("fcr").status_certain) == ("green", False)
    assert thin.indicator("fcr").status == "insufficient"
    assert thin.indicator("fcr").status_certain is None
    assert many.indicator("nps").status_certain is None  # no target: status null
    # CES of one answer repeated 5 times: a zero-width t interval is certain
    one = score_scope(ACME, "2026-Q3", {"2026-Q3": answers(ces=[6] * 5)}, [], targets)
    assert (one.indicator("ces").status, one.indicator("ces").status_certain) == ("green", True)


# -- years -----------------------------------------------------------------------------


def test_year_target_is_the_mean_of_its_quarters_targets() -> None:
    rows = [
        TargetRow("fcr", "2026-Q1", None, 70.0, None),  # tolerance 7
        TargetRow("fcr", "2026-Q2", None, 80.0, 2.0),
        TargetRow("fcr", "2026-Q3", "industrial", 90.0, 4.0),  # beats the company's Q3 row
        TargetRow("fcr", "2026-Q3", None, 60.0, None),
        TargetRow("fcr", "2025-Q4", None, 10.0, None),  # another year: ignored
        TargetRow("nps", "2026-Q4", None, 30.0, None),  # another indicator: ignored
    ]
    target, tolerance = find_target(FCR, ACME, "2026", rows)
    assert target == pytest.approx((70 + 80 + 90) / 3)
    assert tolerance == pytest.approx((7 + 2 + 4) / 3)
    target, tolerance = find_target(FCR, RETAIL, "2026", rows)  # retail: the company's Q3
    assert (target, tolerance) == (pytest.approx(70.0), pytest.approx((7 + 2 + 6) / 3))
    assert find_target(FCR, COMPANY, "2026", rows) == (pytest.approx(70.0),
                                                       pytest.approx(5.0))  # fmt: skip
    assert find_target(FCR, ACME, "2027", rows) == (None, None)
    assert find_target(INDICATORS_BY_CODE["nps"], ACME, "2026", rows) == (30.0, pytest.approx(3.0))


def test_a_year_row_beats_the_quarters() -> None:
    rows = [
        TargetRow("fcr", "2026", None, 75.0, 1.0),
        TargetRow("fcr", "2026-Q1", "industrial", 99.0, None),
    ]
    assert find_target(FCR, ACME, "2026", rows) == (75.0, 1.0)
    assert find_target(FCR, ACME, "2026-Q1", rows) == (99.0, pytest.approx(9.9))


def test_year_gets_a_status_from_its_quarters_targets() -> None:
    stats = {
        "2026-Q1": answers(fcr=["yes"] * 30 + ["no"] * 10),
        "2026-Q2": answers(fcr=["yes"] * 30 + ["no"] * 10),
    }
    rows = [TargetRow("fcr", "2026-Q1", None, 80.0, None),
            TargetRow("fcr", "2026-Q2", None, 70.0, None)]  # fmt: skip
    fcr = score_scope(ACME, "2026", stats, [], rows).indicator("fcr")
    assert (fcr.value, fcr.target, fcr.tolerance) == (75.0, 75.0, pytest.approx(7.5))
    assert fcr.status == "green" and fcr.status_certain is False
