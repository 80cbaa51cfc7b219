"""A figure's status against its target (green, amber, red, insufficient) and whether
the whole interval agrees with it, for a column of scopes at once; ``status`` and
``status_certain`` are the columns of length one."""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt

from cpi.scoring.catalogue import Indicator

Status = Literal["insufficient", "green", "amber", "red"]

STATUSES: tuple[Status | None, ...] = (None, "insufficient", "green", "amber", "red")
NO_STATUS, INSUFFICIENT, GREEN, AMBER, RED = range(5)
# status_certain as a code: -1 None, 0 False, 1 True
CERTAINTY: tuple[bool | None, ...] = (False, True, None)


def status_columns(
    indicator: Indicator,
    n: npt.NDArray[np.int64],
    value: npt.NDArray[np.float64],
    target: npt.NDArray[np.float64],
    tolerance: npt.NDArray[np.float64],
    min_n: int = 5,
) -> npt.NDArray[np.int8]:
    """``status`` of every row as an index into ``STATUSES``."""
    slack = np.where(np.isnan(tolerance), 0.1 * np.abs(target), tolerance)
    if indicator.better == "higher":
        green, amber = value >= target, value >= target - slack
    else:
        green, amber = value <= target, value <= target + slack
    rated = np.where(green, GREEN, np.where(amber, AMBER, RED))
    rated = np.where(np.isnan(value) | np.isnan(target), NO_STATUS, rated)
    return np.where(n < min_n, INSUFFICIENT, rated).astype(np.int8)


def certainty_columns(
    indicator: Indicator,
    codes: npt.NDArray[np.int8],
    ci_low: npt.NDArray[np.float64],
    ci_high: npt.NDArray[np.float64],
    target: npt.NDArray[np.float64],
    tolerance: npt.NDArray[np.float64],
) -> npt.NDArray[np.int8]:
    """``status_certain`` of every row: -1 None, 0 False, 1 True."""
    slack = np.where(np.isnan(tolerance), 0.1 * np.abs(target), tolerance)
    if indicator.better == "higher":
        green = ci_low >= target
        amber = (ci_low >= target - slack) & (ci_high < target)
        red = ci_high < target - slack
    else:
        green = ci_high <= target
        amber = (ci_low > target) & (ci_high <= target + slack)
        red = ci_low > target + slack
    certain = np.where(codes == GREEN, green, np.where(codes == AMBER, amber, red))
    certain = certain & ~np.isnan(ci_low) & ~np.isnan(ci_high)
    unrated = (codes == NO_STATUS) | (codes == INSUFFICIENT) | np.isnan(target)
    return np.where(unrated, -1, certain.astype(np.int8)).astype(np.int8)


def _column(value: float | None) -> npt.NDArray[np.float64]:
    return np.array([np.nan if value is None else value], dtype=np.float64)


def status(
    indicator: Indicator,
    n: int,
    value: float | None,
    target: float | None,
    tolerance: float | None,
    min_n: int = 5,
) -> Status | None:
    """``insufficient`` below min_n answers (whether or not there is a
    target); else green/amber/red against the target, mirrored for
    lower-is-better indicators; None without a target or a value."""
    code = status_columns(
        indicator,
        np.array([n], dtype=np.int64),
        _column(value),
        _column(target),
        _column(tolerance),
        min_n,
    )
    return STATUSES[int(code[0])]


def status_certain(
    indicator: Indicator,
    current: Status | None,
    ci_low: float | None,
    ci_high: float | None,
    target: float | None,
    tolerance: float | None,
) -> bool | None:
    """Whether the whole interval lies in the status's band.

    None when the status is None or ``insufficient``; False without an
    interval. For "higher is better": green needs low ≥ target; amber needs
    low ≥ target − tolerance and high < target; red needs high < target −
    tolerance. Mirrored for "lower is better" (green: high ≤ target; amber:
    low > target and high ≤ target + tolerance; red: low > target + tolerance),
    the same inclusive boundaries as ``status``.
    """
    code = certainty_columns(
        indicator,
        np.array([STATUSES.index(current)], dtype=np.int8),
        _column(ci_low),
        _column(ci_high),
        _column(target),
        _column(tolerance),
    )
    return CERTAINTY[int(code[0])]
