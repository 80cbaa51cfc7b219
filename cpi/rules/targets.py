"""The one rule for a target (and for any figure of an indicator): inside the
indicator's scale. The admin page and the targets/KPI imports word it alike."""

from __future__ import annotations

import math

from cpi.scoring.catalogue import Indicator


def range_problem(indicator: Indicator, value: float) -> str | None:
    """Why ``value`` cannot be a figure or target of ``indicator``, or None."""
    low, high = indicator.lower, indicator.upper
    if not math.isfinite(value):
        return "must be a number"
    if (low is None or value >= low) and (high is None or value <= high):
        return None
    if low is None:
        return f"must be at most {high:g}"
    if high is None:
        return f"must be at least {low:g}"
    return f"must be from {low:g} to {high:g}"


def tolerance_problem(tolerance: float) -> str | None:
    """A target's tolerance: a distance, so zero or more."""
    if not math.isfinite(tolerance) or tolerance < 0:
        return "must be zero or more"
    return None
