"""The scorecard: every catalogue indicator for many scopes and one period at once.

``score_scopes`` scores a column of scopes from their pooled sums and keeps the
results as columns (``ScoreColumns``); ``IndicatorResult``/``Scorecard`` objects are
built only for the scopes shown (``ScoreColumns.card``). ``score_scope`` is the
column of length one.

The same ``Scorecard`` feeds the page, the PDF and the JSON output; values
are unrounded (pages round for display). Privacy filtering (hiding figures
with status ``insufficient`` from staff) is the presentation layer's job:
the scorecard carries every value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from cpi.scoring.catalogue import CATALOGUE, Better, Indicator, Unit
from cpi.scoring.changes import Changes, change_columns
from cpi.scoring.columns import SumsColumns
from cpi.scoring.compare import KpiIndex, KpiRow, Scope, ScopeType, TargetIndex, TargetRow
from cpi.scoring.estimates import Estimates, estimate_columns, solve_t_quantiles
from cpi.scoring.periods import Period
from cpi.scoring.stats import AnswerStats
from cpi.scoring.status import (
    CERTAINTY,
    STATUSES,
    Status,
    certainty_columns,
    status_columns,
)


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


def _optional(value: float) -> float | None:
    return None if value != value else value  # NaN is "none"


@dataclass(frozen=True, eq=False)
class IndicatorColumns:
    """One indicator's results over the scored scopes (NaN: None)."""

    indicator: Indicator
    estimates: Estimates
    previous: npt.NDArray[np.float64]
    kpi: npt.NDArray[np.float64]
    kpi_derived: npt.NDArray[np.bool_]
    gap_significant: npt.NDArray[np.bool_]
    target: npt.NDArray[np.float64]
    tolerance: npt.NDArray[np.float64]
    status: npt.NDArray[np.int8]
    status_certain: npt.NDArray[np.int8]
    change: Changes

    def result(self, row: int) -> IndicatorResult:
        indicator = self.indicator
        value = _optional(float(self.estimates.value[row]))
        previous = _optional(float(self.previous[row]))
        kpi = _optional(float(self.kpi[row]))
        change = self.change.change(row)
        certain = int(self.status_certain[row])
        return IndicatorResult(
            code=indicator.code,
            name=indicator.name,
            unit=indicator.unit,
            better=indicator.better,
            n=int(self.estimates.n[row]),
            value=value,
            ci_low=_optional(float(self.estimates.ci_low[row])),
            ci_high=_optional(float(self.estimates.ci_high[row])),
            kpi=kpi,
            kpi_derived=bool(self.kpi_derived[row]),
            gap=value - kpi if value is not None and kpi is not None else None,
            gap_significant=bool(self.gap_significant[row]),
            target=_optional(float(self.target[row])),
            tolerance=_optional(float(self.tolerance[row])),
            status=STATUSES[int(self.status[row])],
            status_certain=CERTAINTY[certain],
            previous=previous,
            delta=value - previous if value is not None and previous is not None else None,
            delta_low=change.low,
            delta_high=change.high,
            delta_significant=change.significant,
        )


@dataclass(frozen=True, eq=False)
class ScoreColumns:
    """Every catalogue indicator for ``scopes`` in ``period``, as columns."""

    scopes: tuple[Scope, ...]
    period: Period
    responses: npt.NDArray[np.int64]
    indicators: tuple[IndicatorColumns, ...]

    def __len__(self) -> int:
        return len(self.scopes)

    def indicator(self, code: str) -> IndicatorColumns:
        for columns in self.indicators:
            if columns.indicator.code == code:
                return columns
        raise KeyError(code)

    def card(
        self, row: int, *, invited: int | None = None, generated_at: datetime | None = None
    ) -> Scorecard:
        """The scorecard of the scope in row ``row``."""
        scope = self.scopes[row]
        responses = int(self.responses[row])
        return Scorecard(
            scope_type=scope.type,
            scope_id=scope.id,
            scope_name=scope.name,
            period=str(self.period),
            generated_at=generated_at or datetime.now(UTC),
            responses=responses,
            invited=invited,
            response_rate=100.0 * responses / invited if invited else None,
            indicators=tuple(columns.result(row) for columns in self.indicators),
        )


def score_scopes(
    scopes: Sequence[Scope],
    period: Period | str,
    current: SumsColumns,
    previous: SumsColumns,
    kpis: KpiIndex,
    targets: TargetIndex,
    *,
    min_n: int = 5,
) -> ScoreColumns:
    """Score every catalogue indicator for each scope in ``period``.

    ``current``/``previous``: each scope's sums pooled over the period and over the
    period before (row i is ``scopes[i]``).
    """
    period = Period.parse(period)
    if not len(current) == len(previous) == len(scopes):
        raise ValueError("one row of current and previous sums per scope")
    # A target depends on the scope's segment alone: resolved once per segment.
    first_of_segment: dict[str | None, Scope] = {}
    for scope in scopes:
        first_of_segment.setdefault(scope.segment, scope)
    segment_index = {segment: i for i, segment in enumerate(first_of_segment)}
    segment_of = np.array([segment_index[scope.segment] for scope in scopes], dtype=np.int64)
    segment_scopes = list(first_of_segment.values())
    solve_t_quantiles(current, previous)
    results = []
    for indicator in CATALOGUE:
        now = estimate_columns(indicator, current)
        before = estimate_columns(indicator, previous)
        kpi, kpi_derived = kpis.columns(indicator, scopes, period)
        target, tolerance = targets.columns(indicator, segment_scopes, period)
        target, tolerance = target[segment_of], tolerance[segment_of]
        has_interval = ~np.isnan(now.ci_low) & ~np.isnan(now.ci_high)
        inside = (now.ci_low <= kpi) & (kpi <= now.ci_high)
        codes = status_columns(indicator, now.n, now.value, target, tolerance, min_n)
        results.append(
            IndicatorColumns(
                indicator=indicator,
                estimates=now,
                previous=before.value,
                kpi=kpi,
                kpi_derived=kpi_derived,
                gap_significant=~np.isnan(kpi) & has_interval & ~inside,
                target=target,
                tolerance=tolerance,
                status=codes,
                status_certain=certainty_columns(
                    indicator, codes, now.ci_low, now.ci_high, target, tolerance
                ),
                change=change_columns(indicator, current, previous, now, before, min_n=min_n),
            )
        )
    return ScoreColumns(tuple(scopes), period, current.column("responses"), tuple(results))


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
    kpi_rows: Iterable[KpiRow] | KpiIndex,
    target_rows: Iterable[TargetRow] | TargetIndex,
    *,
    min_n: int = 5,
    invited: int | None = None,
    generated_at: datetime | None = None,
) -> Scorecard:
    """Score every catalogue indicator for ``scope`` in ``period``: ``score_scopes``
    of one scope.

    ``stats_by_period`` holds the scope's stats per *quarter* (keys like
    ``"2026-Q3"``); it should include the previous period's quarters for
    ``previous``/``delta``. A year pools its quarters.
    """
    period = Period.parse(period)
    quarterly = _quarterly(stats_by_period)
    sums = SumsColumns.from_stats(
        [pooled_stats(period, quarterly), pooled_stats(period.previous(), quarterly)]
    )
    kpis = kpi_rows if isinstance(kpi_rows, KpiIndex) else KpiIndex(kpi_rows)
    targets = target_rows if isinstance(target_rows, TargetIndex) else TargetIndex(target_rows)
    columns = score_scopes(
        [scope], period, sums.take([0]), sums.take([1]), kpis, targets, min_n=min_n
    )
    return columns.card(0, invited=invited, generated_at=generated_at)
