"""The response rate over time as server-side SVG geometry (drawn by
templates/campaigns/_rate_chart.html, like cpi/scorecards/charts.py: no script needed)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

WIDTH, HEIGHT = 360, 160
LEFT, RIGHT, TOP, BOTTOM = 34, 14, 14, 24


@dataclass(frozen=True)
class Tick:
    x: float
    y: float
    label: str


@dataclass(frozen=True)
class RateChart:
    width: int
    height: int
    plot_left: float
    plot_right: float
    plot_top: float
    plot_bottom: float
    line: str  # SVG path data
    points: tuple[Tick, ...]
    x_labels: tuple[Tick, ...]
    y_ticks: tuple[Tick, ...]
    summary: str

    @property
    def empty(self) -> bool:
        return not self.points


def rate_chart(
    answers_by_day: Sequence[tuple[date, int]],
    invited: int,
    start: date | None,
    end: date,
    axis_end: date | None = None,
) -> RateChart:
    """The cumulative response rate (answers so far / invited) at the end of each day,
    from ``start`` to ``end`` (today, or the closing day); the axis runs on to
    ``axis_end`` (the closing day of an open campaign) so that the line shows how far
    the campaign has come."""
    right, bottom = WIDTH - RIGHT, HEIGHT - BOTTOM
    y_ticks = tuple(
        Tick(LEFT - 4, bottom - (bottom - TOP) * value / 100, f"{value}%")
        for value in (0, 25, 50, 75, 100)
    )
    days = [day for day, _ in answers_by_day]
    first = min([d for d in (start, *days[:1]) if d is not None], default=None)
    if first is None or not invited:
        return RateChart(WIDTH, HEIGHT, LEFT, right, TOP, bottom, "", (), (), y_ticks,
                         "No answers yet.")  # fmt: skip
    last = max(end, days[-1]) if days else end
    axis_last = max(last, axis_end or last, date.fromordinal(first.toordinal() + 1))
    span = (axis_last - first).days

    def x(day: date) -> float:
        return LEFT + (right - LEFT) * (day - first).days / span

    def y(rate: float) -> float:
        return bottom - (bottom - TOP) * rate / 100

    points, total = [Tick(x(first), y(0.0), f"{first.isoformat()}: 0%")], 0
    for day, count in answers_by_day:
        total += count
        rate = 100.0 * total / invited
        points.append(Tick(x(day), y(rate), f"{day.isoformat()}: {rate:.1f}%"))
    final_rate = 100.0 * total / invited
    if days and last > days[-1]:
        points.append(Tick(x(last), y(final_rate), f"{last.isoformat()}: {final_rate:.1f}%"))
    # A step line: the rate holds until the next day with answers.
    path = f"M{points[0].x:.1f},{points[0].y:.1f}"
    for previous, point in zip(points, points[1:], strict=False):
        path += f" H{point.x:.1f} V{point.y:.1f}" if point.y != previous.y else f" H{point.x:.1f}"
    x_labels = (Tick(LEFT, HEIGHT - 8, first.strftime("%d %b")),
                Tick(right, HEIGHT - 8, axis_last.strftime("%d %b")))  # fmt: skip
    summary = (
        f"Response rate from {first.isoformat()} to {last.isoformat()}: "
        f"{total} of {invited} answered ({final_rate:.1f}%)."
    )
    return RateChart(WIDTH, HEIGHT, LEFT, right, TOP, bottom, path, tuple(points), x_labels,
                     y_ticks, summary)  # fmt: skip
