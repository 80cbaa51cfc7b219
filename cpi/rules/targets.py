"""The one rule for a target (and for any figure of an indicator): inside the
indicator's scale. The admin page and the targets/KPI imports word it alike, in the
reader's language on a page (English on the command line)."""

from __future__ import annotations

import math

from flask_babel import gettext

from cpi.scoring.catalogue import Indicator


def range_problem(indicator: Indicator, value: float) -> str | None:
    """Why ``value`` cannot be a figure or target of ``indicator``, or None."""
    low, high = indicator.lower, indicator.upper
    if not math.isfinite(value):
        return str(gettext("must be a number"))
    if (low is None or value >= low) and (high is None or value <= high):
        return None
    if low is None:
        return str(gettext("must be at most %(high)s", high=f"{high:g}"))
    if high is None:
        return str(gettext("must be at least %(low)s", low=f"{low:g}"))
    return str(gettext("must be from %(low)s to %(high)s", low=f"{low:g}", high=f"{high:g}"))


def tolerance_problem(tolerance: float) -> str | None:
    """A target's tolerance: a distance, so zero or more."""
    if not math.isfinite(tolerance) or tolerance < 0:
        return str(gettext("must be zero or more"))
    return None
