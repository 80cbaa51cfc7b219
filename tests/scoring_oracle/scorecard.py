"""The scorecard: every catalogue indicator for one scope and period.

The same ``Scorecard`` feeds the page, the PDF and the JSON output; values
are unrounded (pages round for display). Privacy filtering (hiding figures
with status ``insufficient`` from staff) is the presentation layer's job:
the scorecard carries every value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from scoring_oracle.catalogue import CATALOGUE, Better, Unit
from scoring_oracle.changes import change_interval
from scoring_oracle.compare import (
    KpiRow,
    Scope,
    ScopeType,
    Status,
    TargetRow,
    find_target,
    resolve_kpi,
    status,
    status_certain,
)
from scoring_oracle.estimates import compute_indicator
from scoring_oracle.periods import Period
from scoring_oracle.stats import AnswerStats


@dataclass(frozen=True)
class IndicatorResult:
    code: str
    name: str
    unit: Unit
    better: Better
    n: int
    value: float | None
    ci_low: float | None
    ci_high: float | None
    kpi: float | None
    kpi_derived: bool
    gap: float | None
    gap_significant: bool
    target: float | None
    tolerance: float | None
    status: Status | None
    status_certain: bool | None
    previous: float | None
    delta: float | None
    delta_low: float | None
    delta_high: float | None
    delta_significant: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Scorecard:
    scope_type: ScopeType
    scope_id: str | None
    scope_name: str | None
    period: str
    generated_at: datetime
    responses: int
    invited: int | None
    response_rate: float | None
    indicators: tuple[IndicatorResult, ...]

    def indicator(self, code: str) -> IndicatorResult:
        for result in self.indicators:
            if result.code == code:
                return result
        raise KeyError(code)

    def to_dict(self) -> dict[str, Any]:
        """The JSON scorecard of docs/interfaces.md."""
        return {
            "scope": {
                "type": self.scope_type,
                "id": self.scope_id,
                "name": self.scope_name,
            },
            "period": self.period,
            "generated_at": iso_utc(self.generated_at),
            "responses": self.responses,
            "invited": self.invited,
            "response_rate": self.response_rate,
            "indicators": [result.to_dict() for result in self.indicators],
        }


def iso_utc(moment: datetime) -> str:
    """``2026-10-02T09:14:03Z``; a naive datetime is taken to be UTC."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.replace(tzinfo=None, microsecond=0).isoformat() + "Z"


def pooled_stats(period: Period, stats_by_period: Mapping[Period, AnswerStats]) -> AnswerStats:
    """A quarter's stats, or the sum of a year's four quarters."""
    return AnswerStats.merge(stats_by_period[q] for q in period.quarters() if q in stats_by_period)


def _quarterly(stats_by_period: Mapping[str, AnswerStats]) -> dict[Period, AnswerStats]:
    quarterly: dict[Period, AnswerStats] = {}
    for key, stats in stats_by_period.items():
        period = Period.parse(key)
        if period.is_year:
            raise ValueError(f"stats_by_period must be keyed by quarter, got the year {key!r}")
        quarterly[period] = quarterly[period] + stats if period in quarterly else stats
    return quarterly


def score_scope(
    scope: Scope,
    period: Period | str,
    stats_by_period: Mapping[str, AnswerStats],
    kpi_rows: Iterable[KpiRow],
    target_rows: Iterable[TargetRow],
    *,
    min_n: int = 5,
    invited: int | None = None,
    generated_at: datetime | None = None,
) -> Scorecard:
    """Score every catalogue indicator for ``scope`` in ``period``.

    ``stats_by_period`` holds the scope's stats per *quarter* (keys like
    ``"2026-Q3"``); it should include the previous period's quarters for
    ``previous``/``delta``. A year pools its quarters.
    """
    period = Period.parse(period)
    quarterly = _quarterly(stats_by_period)
    current = pooled_stats(period, quarterly)
    before = pooled_stats(period.previous(), quarterly)
    # Each indicator only looks at its own rows: group them once.
    kpis: dict[str, list[KpiRow]] = {}
    for kpi_row in kpi_rows:
        kpis.setdefault(kpi_row.indicator, []).append(kpi_row)
    targets: dict[str, list[TargetRow]] = {}
    for target_row in target_rows:
        targets.setdefault(target_row.indicator, []).append(target_row)
    results = []
    for indicator in CATALOGUE:
        estimate = compute_indicator(indicator, current)
        previous_estimate = compute_indicator(indicator, before)
        previous = previous_estimate.value
        change = change_interval(
            indicator, current, before, estimate, previous_estimate, min_n=min_n
        )
        kpi, kpi_derived = resolve_kpi(indicator, scope, period, kpis.get(indicator.code, ()))
        target, tolerance = find_target(indicator, scope, period, targets.get(indicator.code, ()))
        value = estimate.value
        has_interval = estimate.ci_low is not None and estimate.ci_high is not None
        gap_significant = (
            kpi is not None
            and has_interval
            and not (estimate.ci_low or 0.0) <= kpi <= (estimate.ci_high or 0.0)
        )
        current_status = status(indicator, estimate.n, value, target, tolerance, min_n)
        results.append(
            IndicatorResult(
                code=indicator.code,
                name=indicator.name,
                unit=indicator.unit,
                better=indicator.better,
                n=estimate.n,
                value=value,
                ci_low=estimate.ci_low,
                ci_high=estimate.ci_high,
                kpi=kpi,
                kpi_derived=kpi_derived,
                gap=value - kpi if value is not None and kpi is not None else None,
                gap_significant=gap_significant,
                target=target,
                tolerance=tolerance,
                status=current_status,
                status_certain=status_certain(
                    indicator, current_status, estimate.ci_low, estimate.ci_high, target, tolerance
                ),
                previous=previous,
                delta=(value - previous if value is not None and previous is not None else None),
                delta_low=change.low,
                delta_high=change.high,
                delta_significant=change.significant,
            )
        )
    responses = current.responses
    return Scorecard(
        scope_type=scope.type,
        scope_id=scope.id,
        scope_name=scope.name,
        period=str(period),
        generated_at=generated_at or datetime.now(UTC),
        responses=responses,
        invited=invited,
        response_rate=100.0 * responses / invited if invited else None,
        indicators=tuple(results),
    )
