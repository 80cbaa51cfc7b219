"""Return on investment of an initiative: every line of the calculation, nothing hidden.
Pure arithmetic on plain numbers (no Flask, no SQLAlchemy).

* costs = every cost line (fees, materials, other) + participants' hours x hourly cost;
* benefits = approved case studies + (when chosen) the measured benefit;
* measured benefit = the outcome's difference in differences, turned the way that is
  better for the business (a fall in churn or in cost to serve is a gain), per
  account-quarter (rates as fractions: +5 points of renewal = 0.05 renewals) x the
  treated account-quarters in the after window with that outcome recorded x the value
  per unit the user entered. Its 95% interval comes from the DiD's interval, and is
  carried into the benefits, the ROI and the multiple (all monotone in the benefit);
* ROI % = (benefits − costs) / costs x 100; return multiple = benefits / costs; both
  None without costs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

# Which way an outcome is better; rates are in percent in the effects.
OUTCOME_BETTER: dict[str, str] = {
    "renewed": "higher",
    "churned": "lower",
    "revenue": "higher",
    "expansion_revenue": "higher",
    "referrals": "higher",
    "cost_to_serve": "lower",
}
RATE_OUTCOMES = frozenset({"renewed", "churned"})


@dataclass(frozen=True)
class MeasuredBenefit:
    """The measured benefit of one outcome; ``value`` None when the DiD could not be
    computed (``reason`` says why)."""

    outcome: str
    did: float | None
    did_low: float | None
    did_high: float | None
    units: int
    value_per_unit: float
    value: float | None
    low: float | None
    high: float | None
    reason: str | None = None


def measured_benefit(
    outcome: str,
    did: float | None,
    did_low: float | None,
    did_high: float | None,
    *,
    units: int,
    value_per_unit: float,
    reason: str | None = None,
) -> MeasuredBenefit:
    """DiD (rates in percent points) x ``units`` (treated account-quarters after) x value."""
    if did is None:
        return MeasuredBenefit(outcome, None, None, None, units, value_per_unit, None, None,
                               None, reason or "not enough data")  # fmt: skip
    sign = 1.0 if OUTCOME_BETTER[outcome] == "higher" else -1.0
    scale = 0.01 if outcome in RATE_OUTCOMES else 1.0

    def money(x: float) -> float:
        return sign * x * scale * units * value_per_unit

    value = money(did)
    low = high = None
    if did_low is not None and did_high is not None:
        low, high = sorted((money(did_low), money(did_high)))
    return MeasuredBenefit(outcome, did, did_low, did_high, units, value_per_unit, value, low,
                           high)  # fmt: skip


@dataclass(frozen=True)
class Roi:
    costs: float
    case_studies: float
    measured: float | None
    benefits: float
    benefits_low: float | None
    benefits_high: float | None
    roi_percent: float | None
    roi_low: float | None
    roi_high: float | None
    return_multiple: float | None
    multiple_low: float | None
    multiple_high: float | None


def roi_percent(benefits: float, costs: float) -> float | None:
    return (benefits - costs) / costs * 100.0 if costs > 0 else None


def return_multiple(benefits: float, costs: float) -> float | None:
    return benefits / costs if costs > 0 else None


def compute_roi(
    costs: float, case_studies: Sequence[float], measured: MeasuredBenefit | None = None
) -> Roi:
    """The ROI from the total cost, the approved case studies' amounts and the measured
    benefit (None: not counted; a benefit without a value counts as nothing)."""
    from_cases = float(sum(case_studies))
    measured_value = measured.value if measured is not None else None
    benefits = from_cases + (measured_value or 0.0)
    low: float | None
    high: float | None
    if measured_value is None:
        low = high = benefits
    elif measured is not None and measured.low is not None and measured.high is not None:
        low, high = from_cases + measured.low, from_cases + measured.high
    else:
        low = high = None

    def bound(function: Callable[[float, float], float | None], x: float | None) -> float | None:
        return None if x is None else function(x, costs)

    carried = measured_value is not None
    return Roi(
        costs=costs,
        case_studies=from_cases,
        measured=measured_value,
        benefits=benefits,
        benefits_low=low if carried else None,
        benefits_high=high if carried else None,
        roi_percent=roi_percent(benefits, costs),
        roi_low=bound(roi_percent, low) if carried else None,
        roi_high=bound(roi_percent, high) if carried else None,
        return_multiple=return_multiple(benefits, costs),
        multiple_low=bound(return_multiple, low) if carried else None,
        multiple_high=bound(return_multiple, high) if carried else None,
    )
