"""KPI derivation, targets and status."""

import pytest

from cpi.scoring import (
    INDICATORS_BY_CODE,
    KpiRow,
    Scope,
    TargetRow,
    find_target,
    resolve_kpi,
    status,
)

FCR = INDICATORS_BY_CODE["fcr"]
CES = INDICATORS_BY_CODE["ces"]
QUOTE = INDICATORS_BY_CODE["quote_turnaround"]

ACME = Scope("account", "ACME", "Acme", frozenset({"ACME"}), "industrial")
INDUSTRIAL = Scope("segment", "industrial", "Industrial", frozenset({"ACME", "BETA"}), "industrial")
OWNER = Scope("owner", "am@example.com", "A. Manager", frozenset({"ACME", "GAMMA"}))
COMPANY = Scope("company", None, "Company", frozenset({"ACME", "BETA", "GAMMA"}))


def row(
    period: str,
    account: str | None,
    segment: str | None,
    value: float | None,
    num: float | None = None,
    den: float | None = None,
    indicator: str = "fcr",
) -> KpiRow:
    return KpiRow(indicator, period, account, segment, value, num, den)


ACCOUNT_ROWS = [
    row("2026-Q3", "ACME", "industrial", 80.0, 8, 10),
    row("2026-Q3", "BETA", "industrial", 50.0, 15, 30),
    row("2026-Q3", "GAMMA", "retail", 100.0, 5, 5),
]


def test_own_rows_win() -> None:
    rows = [*ACCOUNT_ROWS, row("2026-Q3", "", "industrial", 70.0), row("2026-Q3", None, None, 77.0)]
    assert resolve_kpi(FCR, ACME, "2026-Q3", rows) == (80.0, False)
    assert resolve_kpi(FCR, INDUSTRIAL, "2026-Q3", rows) == (70.0, False)
    assert resolve_kpi(FCR, COMPANY, "2026-Q3", rows) == (77.0, False)


def test_derived_by_sums_when_every_row_has_both() -> None:
    assert resolve_kpi(FCR, INDUSTRIAL, "2026-Q3", ACCOUNT_ROWS) == (pytest.approx(57.5), True)
    assert resolve_kpi(FCR, COMPANY, "2026-Q3", ACCOUNT_ROWS) == (pytest.approx(2800 / 45), True)
    # owners never have their own row, even when a company row exists
    rows = [*ACCOUNT_ROWS, row("2026-Q3", None, None, 1.0)]
    assert resolve_kpi(FCR, OWNER, "2026-Q3", rows) == (pytest.approx(1300 / 15), True)


def test_derived_by_mean_when_a_row_lacks_the_fraction() -> None:
    rows = [row("2026-Q3", "ACME", None, 80.0, 8, 10), row("2026-Q3", "BETA", None, 50.0)]
    assert resolve_kpi(FCR, INDUSTRIAL, "2026-Q3", rows) == (65.0, True)


def test_non_percent_sums_are_not_scaled() -> None:
    rows = [
        row("2026-Q3", "ACME", None, None, 12, 2, "ces"),
        row("2026-Q3", "BETA", None, None, 10, 2, "ces"),
    ]
    assert resolve_kpi(CES, INDUSTRIAL, "2026-Q3", rows) == (5.5, True)
    assert resolve_kpi(CES, ACME, "2026-Q3", rows) == (6.0, False)


def test_no_kpi() -> None:
    assert resolve_kpi(FCR, ACME, "2026-Q2", ACCOUNT_ROWS) == (None, False)
    assert resolve_kpi(CES, INDUSTRIAL, "2026-Q3", ACCOUNT_ROWS) == (None, False)
    lone = Scope("account", "DELTA", None, frozenset({"DELTA"}), "retail")
    assert resolve_kpi(FCR, lone, "2026-Q3", ACCOUNT_ROWS) == (None, False)


def test_year_from_its_quarters() -> None:
    rows = [
        row("2026-Q1", "ACME", None, 50.0, 5, 10),
        row("2026-Q2", "ACME", None, 100.0, 30, 30),
    ]
    assert resolve_kpi(FCR, ACME, "2026", rows) == (pytest.approx(87.5), True)
    rows.append(row("2026-Q3", "ACME", None, 90.0))
    assert resolve_kpi(FCR, ACME, "2026", rows) == (pytest.approx(80.0), True)
    rows.append(row("2026", "ACME", None, 42.0))
    assert resolve_kpi(FCR, ACME, "2026", rows) == (42.0, False)


def test_year_of_a_segment_from_quarters_derived_from_accounts() -> None:
    rows = [
        row("2026-Q1", "ACME", None, 80.0, 8, 10),
        row("2026-Q1", "BETA", None, 50.0, 15, 30),
        row("2026-Q2", "", "industrial", 60.0, 6, 10),
    ]
    assert resolve_kpi(FCR, INDUSTRIAL, "2026", rows) == (pytest.approx(2900 / 50), True)


def test_target_segment_beats_company_and_tolerance_default() -> None:
    targets = [
        TargetRow("fcr", "2026-Q3", None, 80.0, None),
        TargetRow("fcr", "2026-Q3", "industrial", 70.0, 3.0),
        TargetRow("fcr", "2026-Q2", "industrial", 10.0, 1.0),
        TargetRow("nps", "2026-Q3", None, -20.0, None),
    ]
    assert find_target(FCR, ACME, "2026-Q3", targets) == (70.0, 3.0)
    assert find_target(FCR, INDUSTRIAL, "2026-Q3", targets) == (70.0, 3.0)
    assert find_target(FCR, OWNER, "2026-Q3", targets) == (80.0, pytest.approx(8.0))
    assert find_target(FCR, COMPANY, "2026-Q3", targets) == (80.0, pytest.approx(8.0))
    assert find_target(INDICATORS_BY_CODE["nps"], COMPANY, "2026-Q3", targets) == (
        -20.0,
        pytest.approx(2.0),
    )
    assert find_target(FCR, COMPANY, "2026-Q1", targets) == (None, None)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(80.0, "green"), (90.0, "green"), (72.0, "amber"), (71.99, "red"), (10.0, "red")],
)
def test_status_higher_is_better(value: float, expected: str) -> None:
    assert status(FCR, 10, value, 80.0, 8.0) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(5.0, "green"), (1.0, "green"), (5.5, "amber"), (5.51, "red"), (30.0, "red")],
)
def test_status_mirrored_for_quote_turnaround(value: float, expected: str) -> None:
    assert status(QUOTE, 10, value, 5.0, 0.5) == expected


def test_status_insufficient_and_no_target() -> None:
    assert status(FCR, 4, 100.0, 80.0, 8.0) == "insufficient"
    assert status(FCR, 4, 100.0, None, None) == "insufficient"
    assert status(FCR, 4, 100.0, 80.0, 8.0, min_n=3) == "green"
    assert status(FCR, 5, 100.0, None, None) is None
    assert status(FCR, 0, None, 80.0, 8.0, min_n=0) is None
