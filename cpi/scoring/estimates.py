"""Each indicator's value and 95% interval, for a column of scopes at once."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from cpi.scoring.catalogue import Indicator
from cpi.scoring.columns import FloatArray, IntArray, SumsColumns
from cpi.scoring.intervals import (
    Bounds,
    median_ranks,
    nps_bounds,
    ratio_bounds,
    ratio_of,
    t_bounds,
    t_quantiles_975,
    wilson_bounds,
)
from cpi.scoring.stats import AnswerStats


@dataclass(frozen=True)
class Estimate:
    """``value`` is None when n == 0; the interval is None where the
    contract defines none (means and ratios for n < 2, medians for n < 6)."""

    n: int
    value: float | None
    ci_low: float | None
    ci_high: float | None


@dataclass(frozen=True, eq=False)
class Estimates:
    """One indicator over a column of scopes; NaN where ``Estimate`` has None."""

    n: IntArray
    value: FloatArray
    ci_low: FloatArray
    ci_high: FloatArray

    def estimate(self, row: int) -> Estimate:
        return Estimate(
            int(self.n[row]),
            _optional(self.value[row]),
            _optional(self.ci_low[row]),
            _optional(self.ci_high[row]),
        )


def _optional(value: np.float64) -> float | None:
    number = float(value)
    return None if math.isnan(number) else number


def _percent(fraction: FloatArray, n: IntArray) -> FloatArray:
    """100·x/n as the pure formula ``100.0 * x / n`` (NaN for n = 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(n > 0, 100.0 * fraction / np.where(n > 0, n, 1), np.nan)


def _scaled(bounds: Bounds, factor: float) -> Bounds:
    return bounds[0] * factor, bounds[1] * factor


def _order_statistics(columns: SumsColumns, ranks: IntArray) -> FloatArray:
    """The k-th smallest day (1-based) of each row's histogram, for each row of ``ranks``
    (one row of k per statistic, a column per row of ``columns``) in one search; NaN
    where k is out of range."""
    cumulative = np.cumsum(columns.days_counts)
    before = np.concatenate(([0], cumulative))  # answers before each entry
    start = before[columns.days_offsets[:-1]]
    n = before[columns.days_offsets[1:]] - start
    out = np.full(ranks.shape, np.nan)
    ok = (ranks >= 1) & (ranks <= n)
    if ok.any():
        wanted = (start + ranks)[ok]
        out[ok] = columns.days_values[np.searchsorted(cumulative, wanted, side="left")]
    return out


def _median(columns: SumsColumns) -> tuple[IntArray, FloatArray, Bounds]:
    n = columns.quote_n()
    rank = median_ranks(n)
    has = rank >= 1
    ranks = (n + 1) // 2, n // 2, n // 2 + 1, np.where(has, rank, 0), np.where(has, n + 1 - rank, 0)
    odd, low_middle, high_middle, low, high = _order_statistics(columns, np.stack(ranks))
    value = np.where(n % 2 == 1, odd, (low_middle + high_middle) / 2.0)
    value = np.where(n > 0, value, np.nan)
    return n, value, (np.where(has, low, np.nan), np.where(has, high, np.nan))


_COUNTS = {
    "fcr": ("fcr_yes", "fcr_no"),
    "csat": ("csat_n",),
    "value_added_calls": ("calls_n",),
    "ces": ("ces_n",),
    "value_added_share": ("share_n",),
    "nps": ("nps_n",),
}


# the means (t intervals on n − 1 degrees of freedom) and the prefix of their sums
_MEANS = {"value_added_calls": "calls", "ces": "ces"}


def solve_t_quantiles(*columns: SumsColumns) -> None:
    """Solve the t quantiles that the means' intervals over ``columns`` need (n − 1
    degrees of freedom for each n >= 2) in one vectorised call, so that
    ``estimate_columns`` finds them solved: a solve costs about as much for a few
    values as for a few hundred."""
    counts = np.concatenate(
        [table.column(f"{prefix}_n") for table in columns for prefix in _MEANS.values()]
    )
    t_quantiles_975(np.unique(counts[counts >= 2]) - 1)


def answer_counts(indicator: Indicator, columns: SumsColumns) -> IntArray:
    """n of ``indicator`` for every row: the answers it counts (blanks and "not
    applicable" left out)."""
    if indicator.code == "quote_turnaround":
        return columns.quote_n()
    names = _COUNTS.get(indicator.code)
    if names is None:
        raise ValueError(f"no scoring rule for indicator {indicator.code!r}")
    total = columns.column(names[0])
    for name in names[1:]:
        total = total + columns.column(name)
    return total


def estimate_columns(indicator: Indicator, columns: SumsColumns) -> Estimates:
    """The CPI value and interval of ``indicator`` for every row of ``columns``.

    The interval is clipped to the indicator's possible range; the value
    itself always lies inside it.
    """
    c = columns.column
    code = indicator.code
    n = answer_counts(indicator, columns)
    value: FloatArray
    bounds: Bounds
    if code in ("fcr", "csat"):
        hits = c("fcr_yes") if code == "fcr" else c("csat_top2")
        value = _percent(hits.astype(np.float64), n)
        bounds = _scaled(wilson_bounds(hits, n), 100.0)
    elif code in _MEANS:
        prefix = _MEANS[code]
        total = c(f"{prefix}_sum")
        value = ratio_of(total, n)
        bounds = t_bounds(n, total, c(f"{prefix}_sumsq"))
    elif code == "value_added_share":
        y, x = c("share_y"), c("share_x")
        fine = (n > 0) & (x != 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            value = np.where(fine, 100.0 * y / np.where(fine, x, 1), np.nan)
        ratio = ratio_bounds(n, y, x, c("share_yy"), c("share_xx"), c("share_xy"))
        bounds = _scaled(ratio, 100.0)
    elif code == "quote_turnaround":
        _, value, bounds = _median(columns)
    elif code == "nps":
        net = (c("nps_promoters") - c("nps_detractors")).astype(np.float64)
        value = _percent(net, n)
        bounds = nps_bounds(n, c("nps_promoters"), c("nps_detractors"))
    else:
        raise ValueError(f"no scoring rule for indicator {code!r}")
    low, high = bounds
    missing = np.isnan(value) | np.isnan(low) | np.isnan(high)
    lower = -np.inf if indicator.lower is None else indicator.lower
    upper = np.inf if indicator.upper is None else indicator.upper
    low = np.where(missing, np.nan, np.minimum(np.clip(low, lower, upper), value))
    high = np.where(missing, np.nan, np.maximum(np.clip(high, lower, upper), value))
    return Estimates(np.asarray(n, dtype=np.int64), value, low, high)


def compute_indicator(indicator: Indicator, stats: AnswerStats) -> Estimate:
    """``estimate_columns`` of one scope (a few hundred µs: for many scopes, use
    ``compute_indicators`` or ``estimate_columns``)."""
    return estimate_columns(indicator, SumsColumns.from_stats([stats])).estimate(0)


def compute_indicators(indicator: Indicator, stats: Sequence[AnswerStats]) -> list[Estimate]:
    """``compute_indicator`` of each of many scopes, in one column."""
    estimates = estimate_columns(indicator, SumsColumns.from_stats(stats))
    return [estimates.estimate(i) for i in range(len(stats))]
