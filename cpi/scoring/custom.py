"""Figures of custom survey questions: counts, shares with Wilson intervals, and means
with Student t intervals (docs/indicators.md's rules for proportions and means).

Pure: answers counted by value in, figures out. Below ``min_n`` answers nothing but
the count is given (``enough`` is false): the page says "not enough answers".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cpi.scoring.intervals import t_interval, wilson_interval


@dataclass(frozen=True)
class Share:
    """``count`` of ``n`` answers chose ``value``; percentages 0-100."""

    value: str
    count: int
    n: int
    percent: float
    low: float
    high: float


@dataclass(frozen=True)
class Mean:
    value: float
    low: float | None
    high: float | None


@dataclass(frozen=True)
class CustomFigures:
    n: int
    enough: bool
    # yes/no: "yes"; options: every option; scale: the top box ("top")
    shares: tuple[Share, ...] = ()
    mean: Mean | None = None


def share(value: str, count: int, n: int) -> Share:
    low, high = wilson_interval(count, n) or (0.0, 0.0)
    return Share(value, count, n, 100.0 * count / n, 100.0 * low, 100.0 * high)


def choice_figures(counts: Mapping[str, int], shown: Sequence[str], min_n: int) -> CustomFigures:
    """Shares of the answers in ``shown`` (each with its Wilson interval)."""
    n = sum(counts.values())
    if n < max(min_n, 1):
        return CustomFigures(n, False)
    return CustomFigures(n, True, tuple(share(v, counts.get(v, 0), n) for v in shown))


def scale_figures(counts: Mapping[int, int], top: Sequence[int], min_n: int) -> CustomFigures:
    """Mean (t interval; none for n < 2) and the top-box share (Wilson) of a scale."""
    n = sum(counts.values())
    if n < max(min_n, 1):
        return CustomFigures(n, False)
    total = sum(value * count for value, count in counts.items())
    squares = sum(value * value * count for value, count in counts.items())
    interval = t_interval(n, total, squares)
    mean = Mean(total / n, *(interval or (None, None)))
    top_count = sum(counts.get(value, 0) for value in top)
    return CustomFigures(n, True, (share("top", top_count, n),), mean)
