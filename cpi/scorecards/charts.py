"""Trend charts as server-side SVG geometry: the page and the PDF draw the same picture.

``trend_charts`` turns a scope's scorecards for the last quarters into plain
coordinates; ``templates/scorecards/_chart.html`` draws them as inline SVG, so
Jinja escapes every label and no JavaScript is needed to see a figure. Figures
hidden by the privacy rule are left out (a gap in the line), never drawn.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from cpi.scorecards import display
from cpi.scoring import CATALOGUE, IndicatorResult, Scorecard

WIDTH, HEIGHT = 320, 150
LEFT, RIGHT, TOP, BOTTOM = 34, 18, 20, 24
T = TypeVar("T")
FIXED_RANGE = {"percent": (0.0, 100.0), "points": (-100.0, 100.0), "score": (1.0, 7.0)}


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    label: str


@dataclass(frozen=True)
class Chart:
    code: str
    name: str
    width: int
    height: int
    plot_left: float
    plot_right: float
    plot_top: float
    plot_bottom: float
    x_labels: tuple[Point, ...]
    y_ticks: tuple[Point, ...]
    cpi_lines: tuple[str, ...]  # SVG path data, one per unbroken run of shown values
    cpi_points: tuple[Point, ...]
    ci_bands: tuple[str, ...]  # polygon point lists
    kpi_line: str
    kpi_points: tuple[Point, ...]
    target_band: str  # polygon: from the amber threshold to the target
    target_line: str
    # Figures only, no words: a chart is cached and shared by readers of every language
    # (cpi/scorecards/localised.py writes its words in the reader's).
    periods: tuple[str, ...] = ()  # the quarters, oldest first
    latest: IndicatorResult | None = None  # the last quarter's figures

    @property
    def summary(self) -> str:
        """The chart in words (English), for screen readers and text extraction."""
        return _summary(self.code, self.name, self.periods, self.latest)

    @property
    def y_unit(self) -> str:
        """The unit of the vertical axis, printed above it."""
        return display.axis_unit(self.code)

    @property
    def measure(self) -> str:
        """What the figure is ("median days")."""
        return display.measure(self.code)

    @property
    def empty(self) -> bool:
        return not self.cpi_points and not self.kpi_points

    # Lean SVG: one path for all grid lines and one for all KPI markers (fewer nodes
    # for the PDF renderer to lay out), the same picture as a line or square each.
    @property
    def grid_path(self) -> str:
        return "".join(
            f"M{_coordinate(self.plot_left)} {_coordinate(t.y)}H{_coordinate(self.plot_right)}"
            for t in self.y_ticks
        )

    @property
    def kpi_marks(self) -> str:
        corner = _coordinate
        return "".join(f"M{corner(p.x - 2.5)} {corner(p.y - 2.5)}h5v5h-5z" for p in self.kpi_points)


def _coordinate(value: float) -> str:
    """A coordinate to 0.1 without a trailing ".0"."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _nice_ceiling(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 4, 6, 8, 10):  # a quarter of each is a round tick
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude


def _value_range(unit: str, results: Sequence[IndicatorResult]) -> tuple[float, float]:
    if unit in FIXED_RANGE:
        return FIXED_RANGE[unit]
    seen = [0.0]
    for r in results:
        if not display.hidden(r):
            seen += [v for v in (r.value, r.ci_high) if v is not None]
        seen += [v for v in (r.kpi, r.target) if v is not None]
    return 0.0, _nice_ceiling(max(seen) * 1.1)


def _path(points: Sequence[tuple[float, float]]) -> str:
    return " ".join(f"{'M' if i == 0 else 'L'}{x:.1f},{y:.1f}" for i, (x, y) in enumerate(points))


def _runs(items: Sequence[tuple[int, T]]) -> list[list[tuple[int, T]]]:
    """Split (index, item) pairs into runs of consecutive indexes."""
    runs: list[list[tuple[int, T]]] = []
    for index, item in items:
        if runs and runs[-1][-1][0] == index - 1:
            runs[-1].append((index, item))
        else:
            runs.append([(index, item)])
    return runs


@dataclass(frozen=True)
class _Scale:
    low: float
    high: float
    step: float
    offset: float = 0.0  # a single quarter sits in the middle, not on the left edge

    def x(self, index: int) -> float:
        return LEFT + self.offset + index * self.step

    def y(self, value: float) -> float:
        value = min(max(value, self.low), self.high)
        bottom = HEIGHT - BOTTOM
        return bottom - (value - self.low) / (self.high - self.low) * (bottom - TOP)

    def xy(self, index: int, value: float) -> str:
        return f"{self.x(index):.1f},{self.y(value):.1f}"


def _ci_band(scale: _Scale, run: Sequence[tuple[int, IndicatorResult]]) -> str | None:
    bounds = [(i, r.ci_low, r.ci_high) for i, r in run]
    with_ci = [(i, lo, hi) for i, lo, hi in bounds if lo is not None and hi is not None]
    if len(with_ci) < 2:
        return None
    upper = [scale.xy(i, hi) for i, _lo, hi in with_ci]
    lower = [scale.xy(i, lo) for i, lo, _hi in reversed(with_ci)]
    return " ".join(upper + lower)


def _target_band(scale: _Scale, targets: Sequence[tuple[int, float, float]]) -> str:
    """The band between each quarter's target and its amber threshold."""
    if not targets:
        return ""
    if len(targets) == 1:  # one quarter only: a short band around its point
        i, target, edge = targets[0]
        left, right = scale.x(i) - 6, scale.x(i) + 6
        top_y, edge_y = scale.y(target), scale.y(edge)
        corners = ((left, top_y), (right, top_y), (right, edge_y), (left, edge_y))
        return " ".join(f"{cx:.1f},{cy:.1f}" for cx, cy in corners)
    top = [scale.xy(i, target) for i, target, _edge in targets]
    bottom = [scale.xy(i, edge) for i, _target, edge in reversed(targets)]
    return " ".join(top + bottom)


def chart(
    code: str, name: str, periods: Sequence[str], results: Sequence[IndicatorResult]
) -> Chart:
    scale = _scale(periods, results)
    cpi_lines, ci_bands, cpi_points = _customer_series(scale, results)
    kpi_line, kpi_points = _kpi_series(code, scale, results)
    target_band, target_line = _target_series(scale, results)
    return Chart(
        code=code,
        name=name,
        width=WIDTH,
        height=HEIGHT,
        plot_left=LEFT,
        plot_right=WIDTH - RIGHT,
        plot_top=TOP,
        plot_bottom=HEIGHT - BOTTOM,
        x_labels=_x_labels(scale, periods),
        y_ticks=_y_ticks(scale),
        cpi_lines=cpi_lines,
        cpi_points=cpi_points,
        ci_bands=ci_bands,
        kpi_line=kpi_line,
        kpi_points=kpi_points,
        target_band=target_band,
        target_line=target_line,
        periods=tuple(periods),
        latest=results[-1] if results else None,
    )


def _scale(periods: Sequence[str], results: Sequence[IndicatorResult]) -> _Scale:
    """The value range of the indicator's unit, and one step per quarter across the plot."""
    low, high = _value_range(results[0].unit if results else "percent", results)
    span = WIDTH - RIGHT - LEFT
    step = span / max(len(periods) - 1, 1)
    return _Scale(low, high, step, span / 2 if len(periods) == 1 else 0.0)


def _x_labels(scale: _Scale, periods: Sequence[str]) -> tuple[Point, ...]:
    return tuple(Point(scale.x(i), HEIGHT - 8, _short(p)) for i, p in enumerate(periods))


def _y_ticks(scale: _Scale) -> tuple[Point, ...]:
    """Five ticks: the range's ends and its quarters."""
    ticks = [scale.low + (scale.high - scale.low) * k / 4 for k in range(5)]
    return tuple(Point(LEFT - 4, scale.y(t), _tick(t)) for t in ticks)


def _line(scale: _Scale, points: Sequence[tuple[int, float]]) -> str:
    """A path through the points, or nothing when there is no line to draw (one point)."""
    if len(points) < 2:
        return ""
    return _path([(scale.x(i), scale.y(v)) for i, v in points])


def _shown(results: Sequence[IndicatorResult]) -> list[tuple[int, IndicatorResult, float]]:
    """The quarters whose customer figure may be drawn (hidden ones leave a gap)."""
    return [
        (i, r, r.value)
        for i, r in enumerate(results)
        if not display.hidden(r) and r.value is not None
    ]


def _customer_series(
    scale: _Scale, results: Sequence[IndicatorResult]
) -> tuple[tuple[str, ...], tuple[str, ...], tuple[Point, ...]]:
    """The customers' figures: lines and confidence bands per unbroken run, and the points."""
    shown = _shown(results)
    lines: list[str] = []
    bands: list[str] = []
    for run in _runs([(i, (r, v)) for i, r, v in shown]):
        lines.append(_path([(scale.x(i), scale.y(v)) for i, (_r, v) in run]))
        band = _ci_band(scale, [(i, r) for i, (r, _v) in run])
        if band:
            bands.append(band)
    points = tuple(Point(scale.x(i), scale.y(v), display.value(r)) for i, r, v in shown)
    return tuple(lines), tuple(bands), points


def _kpi_series(
    code: str, scale: _Scale, results: Sequence[IndicatorResult]
) -> tuple[str, tuple[Point, ...]]:
    """The internal KPI: always shown (it does not rest on customers' answers)."""
    kpis = [(i, r.kpi) for i, r in enumerate(results) if r.kpi is not None]
    points = tuple(Point(scale.x(i), scale.y(v), display.number(code, v)) for i, v in kpis)
    return _line(scale, kpis), points


def _target_series(scale: _Scale, results: Sequence[IndicatorResult]) -> tuple[str, str]:
    """The target band (target to amber threshold) and the target line."""
    sign = -1.0 if results and results[0].better == "higher" else 1.0
    targets = [
        (i, r.target, r.target + sign * (r.tolerance or 0.0))
        for i, r in enumerate(results)
        if r.target is not None
    ]
    line = _line(scale, [(i, t) for i, t, _edge in targets])
    return _target_band(scale, targets), line


def _summary(code: str, name: str, periods: Sequence[str], latest: IndicatorResult | None) -> str:
    """The chart in words: the range of quarters, then the latest quarter's figures."""
    words = [f"{name} ({display.measure(code)})"]
    words[0] += f", {periods[0]} to {periods[-1]}." if periods else "."
    if latest is not None:
        words += _latest_words(code, latest)
    return " ".join(words)


def _latest_words(code: str, last: IndicatorResult) -> list[str]:
    words = [f"Customers: {display.value(last)}."]
    if last.kpi is not None:
        words.append(f"Internal KPI: {display.number(code, last.kpi)}.")
    if last.target is not None:
        words.append(f"Target: {display.number(code, last.target)}.")
    return words


def _short(period: str) -> str:
    """``2026-Q3`` -> ``Q3 ’26``: eight labels fit under a small chart."""
    if "-Q" in period:
        year, quarter = period.split("-")
        return f"{quarter} ’{year[2:]}"
    return period


def _tick(value: float) -> str:
    return f"{value:.0f}" if abs(value - round(value)) < 1e-9 else f"{value:.1f}"


def trend_charts(history: Sequence[Scorecard]) -> tuple[Chart, ...]:
    """One chart per catalogue indicator over the scorecards (oldest first)."""
    periods = [card.period for card in history]
    return tuple(
        chart(
            indicator.code, indicator.name, periods, [c.indicator(indicator.code) for c in history]
        )
        for indicator in CATALOGUE
    )
