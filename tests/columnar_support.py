"""Comparing the columnar scorer (cpi.scoring) with the pure oracle (tests/scoring_oracle)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import scoring_oracle as oracle

import cpi.scoring as columnar

TOLERANCE = 1e-12
NUMBERS = (
    "value", "ci_low", "ci_high", "kpi", "gap", "target", "tolerance",
    "previous", "delta", "delta_low", "delta_high",
)  # fmt: skip
EXACT = (
    "code", "n", "kpi_derived", "gap_significant", "status", "status_certain",
    "delta_significant",
)  # fmt: skip
GENERATED_AT = datetime(2026, 10, 2, 9, 0, 0)


def oracle_stats(stats: columnar.AnswerStats) -> oracle.AnswerStats:
    return oracle.AnswerStats(
        quote_days=dict(stats.quote_days),
        **{name: getattr(stats, name) for name in columnar.INT_FIELDS},
    )


def oracle_scope(scope: columnar.Scope) -> oracle.Scope:
    return oracle.Scope(scope.type, scope.id, scope.name, scope.account_ids, scope.segment)


def oracle_kpis(rows: Iterable[columnar.KpiRow]) -> list[oracle.KpiRow]:
    return [
        oracle.KpiRow(r.indicator, r.period, r.account_id, r.segment, r.value, r.numerator,
                      r.denominator)
        for r in rows
    ]  # fmt: skip


def oracle_targets(rows: Iterable[columnar.TargetRow]) -> list[oracle.TargetRow]:
    return [oracle.TargetRow(r.indicator, r.period, r.segment, r.target, r.tolerance) for r in rows]


def oracle_card(
    scope: columnar.Scope,
    period: str,
    stats_by_quarter: Mapping[str, columnar.AnswerStats],
    kpi_rows: Iterable[columnar.KpiRow],
    target_rows: Iterable[columnar.TargetRow],
    *,
    min_n: int,
    invited: int | None = None,
) -> dict[str, Any]:
    card = oracle.score_scope(
        oracle_scope(scope),
        period,
        {q: oracle_stats(s) for q, s in stats_by_quarter.items()},
        oracle_kpis(kpi_rows),
        oracle_targets(target_rows),
        min_n=min_n,
        invited=invited,
        generated_at=GENERATED_AT,
    )
    return card.to_dict()


def close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=TOLERANCE, abs_tol=TOLERANCE)


def assert_same_card(got: dict[str, Any], want: dict[str, Any], where: str = "") -> None:
    """Two scorecard dicts agree: every number within 1e-12, everything else equal."""
    for key in ("scope", "period", "responses", "invited"):
        assert got[key] == want[key], f"{where} {key}: {got[key]!r} != {want[key]!r}"
    assert close(got["response_rate"], want["response_rate"]), where
    assert [r["code"] for r in got["indicators"]] == [r["code"] for r in want["indicators"]]
    for mine, theirs in zip(got["indicators"], want["indicators"], strict=True):
        label = f"{where} {mine['code']}"
        assert set(mine) == set(theirs), label
        for name in NUMBERS:
            assert close(mine[name], theirs[name]), (
                f"{label} {name}: {mine[name]!r} != {theirs[name]!r}"
            )
        for name in EXACT:
            assert mine[name] == theirs[name], f"{label} {name}: {mine[name]!r} != {theirs[name]!r}"
        for name in ("name", "unit", "better"):
            assert mine[name] == theirs[name], label
