"""One indicator's value and 95% interval from pooled answer statistics."""

from __future__ import annotations

from dataclasses import dataclass

from scoring_oracle.catalogue import Indicator
from scoring_oracle.intervals import (
    Interval,
    SortedHistogram,
    median_interval,
    nps_interval,
    ratio_interval,
    t_interval,
    wilson_interval,
)
from scoring_oracle.stats import AnswerStats


@dataclass(frozen=True)
class Estimate:
    """``value`` is None when n == 0; the interval is None where the
    contract defines none (means and ratios for n < 2, medians for n < 6)."""

    n: int
    value: float | None
    ci_low: float | None
    ci_high: float | None


def _scaled(interval: Interval | None, factor: float) -> Interval | None:
    if interval is None:
        return None
    return interval[0] * factor, interval[1] * factor


def compute_indicator(indicator: Indicator, stats: AnswerStats) -> Estimate:
    """The CPI value and interval of ``indicator`` over ``stats``.

    The interval is clipped to the indicator's possible range; the value
    itself always lies inside it.
    """
    n: int
    value: float | None
    interval: Interval | None
    code = indicator.code
    if code == "fcr":
        n = stats.fcr_n
        value = 100.0 * stats.fcr_yes / n if n else None
        interval = _scaled(wilson_interval(stats.fcr_yes, n), 100.0)
    elif code == "csat":
        n = stats.csat_n
        value = 100.0 * stats.csat_top2 / n if n else None
        interval = _scaled(wilson_interval(stats.csat_top2, n), 100.0)
    elif code == "value_added_calls":
        n = stats.calls_n
        value = stats.calls_sum / n if n else None
        interval = t_interval(n, stats.calls_sum, stats.calls_sumsq)
    elif code == "ces":
        n = stats.ces_n
        value = stats.ces_sum / n if n else None
        interval = t_interval(n, stats.ces_sum, stats.ces_sumsq)
    elif code == "value_added_share":
        n = stats.share_n
        value = 100.0 * stats.share_y / stats.share_x if n and stats.share_x else None
        interval = _scaled(
            ratio_interval(
                n,
                stats.share_y,
                stats.share_x,
                stats.share_yy,
                stats.share_xx,
                stats.share_xy,
            ),
            100.0,
        )
    elif code == "quote_turnaround":
        histogram = SortedHistogram(stats.quote_days)
        n = histogram.n
        value = histogram.median()
        interval = median_interval(histogram)
    elif code == "nps":
        n = stats.nps_n
        value = 100.0 * (stats.nps_promoters - stats.nps_detractors) / n if n else None
        interval = nps_interval(n, stats.nps_promoters, stats.nps_detractors)
    else:
        raise ValueError(f"no scoring rule for indicator {code!r}")
    if value is None:
        return Estimate(n, None, None, None)
    if interval is None:
        return Estimate(n, value, None, None)
    low = min(indicator.clip(interval[0]), value)
    high = max(indicator.clip(interval[1]), value)
    return Estimate(n, value, low, high)
