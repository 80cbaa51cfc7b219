"""Is a change from the period before real? A 95% interval for ``delta``.

``delta`` = value − previous (current period minus the period before), and the
interval is for that same difference, in the indicator's unit:

* ``fcr``, ``csat``: Newcombe's hybrid score interval for p₁ − p₂;
* ``value_added_calls``, ``ces``: Welch's interval (Welch–Satterthwaite df);
* ``nps``: difference ± z·√(var₁ + var₂) with the NPS variances;
* ``value_added_share``: difference ± z·√(var₁ + var₂), delta-method variances;
* ``quote_turnaround`` (a median): no interval; significant only when the two
  periods' intervals do not overlap.

No interval and not significant when either period has fewer than ``min_n``
answers or no interval of its own. Bounds are clipped to the range a
difference can take (±100 points for percents, ±200 for NPS, ±6 for CES,
±999 for contacts); 0 is inside that range, so clipping never changes
``significant``. Computed for a column of scopes at once (``change_columns``);
``change_interval`` is the column of length one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from cpi.scoring.catalogue import Indicator
from cpi.scoring.columns import FloatArray, SumsColumns
from cpi.scoring.estimates import Estimate, Estimates
from cpi.scoring.intervals import (
    Bounds,
    newcombe_bounds,
    normal_difference_bounds,
    nps_variances,
    ratio_of,
    ratio_variances,
    welch_bounds,
)
from cpi.scoring.stats import AnswerStats


@dataclass(frozen=True)
class Change:
    """``low``/``high``: the 95% interval of value − previous (None when there
    is none); ``significant``: the change is distinguishable from 0."""

    low: float | None
    high: float | None
    significant: bool


NO_CHANGE = Change(None, None, False)


@dataclass(frozen=True, eq=False)
class Changes:
    """One indicator's change intervals over a column of scopes (NaN: none)."""

    low: FloatArray
    high: FloatArray
    significant: npt.NDArray[np.bool_]

    def change(self, row: int) -> Change:
        low, high = float(self.low[row]), float(self.high[row])
        return Change(
            None if np.isnan(low) else low,
            None if np.isnan(high) else high,
            bool(self.significant[row]),
        )


def _fraction(numerator: npt.ArrayLike, denominator: npt.ArrayLike) -> FloatArray:
    return ratio_of(numerator, denominator)


def _raw_bounds(indicator: Indicator, current: SumsColumns, previous: SumsColumns) -> Bounds:
    c, p = current.column, previous.column
    code = indicator.code
    if code in ("fcr", "csat"):
        if code == "fcr":
            x1, n1 = c("fcr_yes"), c("fcr_yes") + c("fcr_no")
            x2, n2 = p("fcr_yes"), p("fcr_yes") + p("fcr_no")
        else:
            x1, n1, x2, n2 = c("csat_top2"), c("csat_n"), p("csat_top2"), p("csat_n")
        low, high = newcombe_bounds(x1, n1, x2, n2)
        return low * 100.0, high * 100.0
    if code in ("value_added_calls", "ces"):
        prefix = "calls" if code == "value_added_calls" else "ces"
        names = (f"{prefix}_n", f"{prefix}_sum", f"{prefix}_sumsq")
        return welch_bounds(*(c(name) for name in names), *(p(name) for name in names))
    if code == "nps":
        names = ("nps_n", "nps_promoters", "nps_detractors")
        n1, promoters1, detractors1 = (c(name) for name in names)
        n2, promoters2, detractors2 = (p(name) for name in names)
        difference = _fraction(promoters1 - detractors1, n1) - _fraction(
            promoters2 - detractors2, n2
        )
        low, high = normal_difference_bounds(
            difference,
            nps_variances(n1, promoters1, detractors1),
            nps_variances(n2, promoters2, detractors2),
        )
        return low * 100.0, high * 100.0
    if code == "value_added_share":
        share = ("share_n", "share_y", "share_x", "share_yy", "share_xx", "share_xy")
        first, second = [c(name) for name in share], [p(name) for name in share]
        difference = _fraction(first[1], first[2]) - _fraction(second[1], second[2])
        positive = (first[2] > 0) & (second[2] > 0)
        low, high = normal_difference_bounds(
            difference, ratio_variances(*first), ratio_variances(*second)
        )
        return (
            np.where(positive, low * 100.0, np.nan),
            np.where(positive, high * 100.0, np.nan),
        )
    raise ValueError(f"no change interval for indicator {code!r}")


def change_columns(
    indicator: Indicator,
    current: SumsColumns,
    previous: SumsColumns,
    current_estimates: Estimates,
    previous_estimates: Estimates,
    *,
    min_n: int,
) -> Changes:
    """The 95% interval of value − previous for every row, and whether it excludes 0
    (see the module docs). The estimates are ``estimate_columns`` of the same
    indicator over ``current`` and ``previous``."""
    floor = max(min_n, 1)
    now, before = current_estimates, previous_estimates
    usable = (
        ~np.isnan(now.value)
        & ~np.isnan(before.value)
        & (now.n >= floor)
        & (before.n >= floor)
        & ~np.isnan(now.ci_low)
        & ~np.isnan(before.ci_low)
    )
    nothing = np.full(usable.shape, np.nan)
    if indicator.kind == "median":
        apart = (now.ci_low > before.ci_high) | (now.ci_high < before.ci_low)
        return Changes(nothing, nothing.copy(), usable & apart)
    if not usable.any():
        return Changes(nothing, nothing.copy(), np.zeros(usable.shape, dtype=bool))
    # every row at once (the formulas give NaN where a row has no interval), then keep
    # the usable rows
    with np.errstate(divide="ignore", invalid="ignore"):
        raw_low, raw_high = _raw_bounds(indicator, current, previous)
    delta = now.value - before.value
    if indicator.lower is None or indicator.upper is None:
        span = np.inf
    else:
        span = indicator.upper - indicator.lower
    low = np.minimum(np.clip(raw_low, -span, span), delta)
    high = np.maximum(np.clip(raw_high, -span, span), delta)
    defined = usable & ~np.isnan(raw_low) & ~np.isnan(raw_high)
    out_low = np.where(defined, low, np.nan)
    out_high = np.where(defined, high, np.nan)
    significant = defined & ((low > 0.0) | (high < 0.0))
    return Changes(out_low, out_high, significant)


def change_interval(
    indicator: Indicator,
    current: AnswerStats,
    previous: AnswerStats,
    current_estimate: Estimate,
    previous_estimate: Estimate,
    *,
    min_n: int,
) -> Change:
    """``change_columns`` of one scope. The estimates are ``compute_indicator`` of the
    same indicator over ``current`` and ``previous``."""
    columns = SumsColumns.from_stats([current, previous])
    now = columns.take([0])
    before = columns.take([1])
    return change_columns(
        indicator,
        now,
        before,
        _as_estimates(current_estimate),
        _as_estimates(previous_estimate),
        min_n=min_n,
    ).change(0)


def _as_estimates(estimate: Estimate) -> Estimates:
    """The given estimate as a column (callers pass ``compute_indicator``'s)."""

    def column(value: float | None) -> FloatArray:
        return np.array([np.nan if value is None else value])

    return Estimates(
        np.array([estimate.n], dtype=np.int64),
        column(estimate.value),
        column(estimate.ci_low),
        column(estimate.ci_high),
    )
