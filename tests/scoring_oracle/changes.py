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
``significant``.
"""

from __future__ import annotations

from dataclasses import dataclass

from scoring_oracle.catalogue import Indicator
from scoring_oracle.estimates import Estimate
from scoring_oracle.intervals import (
    Interval,
    newcombe_difference,
    normal_difference,
    nps_variance,
    ratio_variance,
    welch_difference,
)
from scoring_oracle.stats import AnswerStats


@dataclass(frozen=True)
class Change:
    """``low``/``high``: the 95% interval of value − previous (None when there
    is none); ``significant``: the change is distinguishable from 0."""

    low: float | None
    high: float | None
    significant: bool


NO_CHANGE = Change(None, None, False)


def _scaled(interval: Interval | None, factor: float) -> Interval | None:
    if interval is None:
        return None
    return interval[0] * factor, interval[1] * factor


def _raw_interval(
    indicator: Indicator, current: AnswerStats, previous: AnswerStats
) -> Interval | None:
    code = indicator.code
    if code == "fcr":
        return _scaled(
            newcombe_difference(current.fcr_yes, current.fcr_n, previous.fcr_yes, previous.fcr_n),
            100.0,
        )
    if code == "csat":
        return _scaled(
            newcombe_difference(
                current.csat_top2, current.csat_n, previous.csat_top2, previous.csat_n
            ),
            100.0,
        )
    if code == "value_added_calls":
        return welch_difference(
            current.calls_n, current.calls_sum, current.calls_sumsq,
            previous.calls_n, previous.calls_sum, previous.calls_sumsq,
        )  # fmt: skip
    if code == "ces":
        return welch_difference(
            current.ces_n, current.ces_sum, current.ces_sumsq,
            previous.ces_n, previous.ces_sum, previous.ces_sumsq,
        )  # fmt: skip
    if code == "nps":
        if current.nps_n <= 0 or previous.nps_n <= 0:
            return None
        difference = (current.nps_promoters - current.nps_detractors) / current.nps_n - (
            previous.nps_promoters - previous.nps_detractors
        ) / previous.nps_n
        return _scaled(
            normal_difference(
                difference,
                nps_variance(current.nps_n, current.nps_promoters, current.nps_detractors),
                nps_variance(previous.nps_n, previous.nps_promoters, previous.nps_detractors),
            ),
            100.0,
        )
    if code == "value_added_share":
        if current.share_x <= 0 or previous.share_x <= 0:
            return None
        difference = current.share_y / current.share_x - previous.share_y / previous.share_x
        return _scaled(
            normal_difference(
                difference,
                ratio_variance(
                    current.share_n, current.share_y, current.share_x,
                    current.share_yy, current.share_xx, current.share_xy,
                ),
                ratio_variance(
                    previous.share_n, previous.share_y, previous.share_x,
                    previous.share_yy, previous.share_xx, previous.share_xy,
                ),
            ),
            100.0,
        )  # fmt: skip
    raise ValueError(f"no change interval for indicator {code!r}")


def _clip(indicator: Indicator, x: float) -> float:
    if indicator.lower is None or indicator.upper is None:
        return x
    span = indicator.upper - indicator.lower
    return min(max(x, -span), span)


def change_interval(
    indicator: Indicator,
    current: AnswerStats,
    previous: AnswerStats,
    current_estimate: Estimate,
    previous_estimate: Estimate,
    *,
    min_n: int,
) -> Change:
    """The 95% interval of ``current_estimate.value − previous_estimate.value``
    and whether it excludes 0 (see the module docs). The estimates are
    ``compute_indicator`` of the same indicator over ``current`` and ``previous``."""
    if (
        current_estimate.value is None
        or previous_estimate.value is None
        or current_estimate.n < max(min_n, 1)
        or previous_estimate.n < max(min_n, 1)
        or current_estimate.ci_low is None
        or current_estimate.ci_high is None
        or previous_estimate.ci_low is None
        or previous_estimate.ci_high is None
    ):
        return NO_CHANGE
    if indicator.kind == "median":
        apart = (
            current_estimate.ci_low > previous_estimate.ci_high
            or current_estimate.ci_high < previous_estimate.ci_low
        )
        return Change(None, None, apart)
    interval = _raw_interval(indicator, current, previous)
    if interval is None:
        return NO_CHANGE
    delta = current_estimate.value - previous_estimate.value
    low = min(_clip(indicator, interval[0]), delta)
    high = max(_clip(indicator, interval[1]), delta)
    return Change(low, high, low > 0.0 or high < 0.0)
