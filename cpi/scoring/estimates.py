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


def _order_statistics(
    columns: SumsColumns, k: IntArray, cumulative: IntArray | None = None
) -> FloatArray:
    """The k-th smallest day (1-based) of each row's histogram; NaN where k is out of range.
    (``cumulative``: ``np.cumsum(columns.days_counts)``, when the caller has it.)"""
    if cumulative is None:
        cumulative = np.cumsum(columns.days_counts)
    base = np.concatenate(([0], cumulative))[columns.days_offsets[:-1]]
    n = columns.quote_n()
    out = np.full(k.shape, np.nan)
    ok = (k >= 1) & (k <= n)
    if ok.any():
        out[ok] = columns.days_values[np.searchsorted(cumulative, base[ok] + k[ok], side="left")]
    return out


def _median(columns: SumsColumns) -> tuple[IntArray, FloatArray, Bounds]:
    n = columns.quote_n()
    cumulative = np.cumsum(columns.days_counts)
    odd = _order_statistics(columns, (n + 1) // 2, cumulative)
    low_middle = _order_statistics(columns, n // 2, cumulative)
    high_middle = _order_statistics(columns, n // 2 + 1, cumulative)
    value = np.where(n % 2 == 1, odd, (low_middle + high_middle) / 2.0)
    value = np.where(n > 0, value, np.nan)
    rank = median_ranks(n)
    has = rank >= 1
    low = np.where(has, _order_statistics(columns, np.where(has, rank, 0), cumulative), np.nan)
    high = np.where(
        has, _order_statistics(columns, np.where(has, n + 1 - rank, 0), cumulative), np.nan
    )
    return n, value, (low, high)


_COUNTS = {
    "fcr": ("fcr_yes", "fcr_no"),
    "csat": ("csat_n",),
    "value_added_calls": ("calls_n",),
    "ces": ("ces_n",),
    "value_added_share": ("share_n",),
    "nps": ("nps_n",),
}


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
    elif code in ("value_added_calls", "ces"):
        prefix = "calls" if code == "value_added_calls" else "ces"
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
