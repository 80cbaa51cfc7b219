"""Trend charts from fixed inputs: the geometry is worked out by hand from the plot's
frame (320 x 150, plot from x=34 to 302 and y=20 to 126), not copied from our output."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import pytest
from flask import Flask

from cpi.scorecards.charts import chart
from cpi.scoring import INDICATORS_BY_CODE, IndicatorResult

SVG = "{http://www.w3.org/2000/svg}"
PLOT_TOP, PLOT_BOTTOM, PLOT_LEFT, PLOT_RIGHT = 20.0, 126.0, 34.0, 302.0


def result(code: str, value: float | None, **fields: Any) -> IndicatorResult:
    indicator = INDICATORS_BY_CODE[code]
    base: dict[str, Any] = {
        "code": code, "name": indicator.name, "unit": indicator.unit,
        "better": indicator.better, "n": 12, "value": value, "ci_low": None, "ci_high": None,
        "kpi": None, "kpi_derived": False, "gap": None, "gap_significant": False,
        "target": None, "tolerance": None, "status": "green", "status_certain": True,
        "previous": None, "delta": None, "delta_low": None, "delta_high": None,
        "delta_significant": False,
    }  # fmt: skip
    return IndicatorResult(**{**base, **fields})


def percent_y(value: float) -> float:
    """Where a percentage sits on the fixed 0-100 axis."""
    return PLOT_BOTTOM - value / 100 * (PLOT_BOTTOM - PLOT_TOP)


def coordinates(path: str) -> list[float]:
    """A path's points as x1, y1, x2, y2, ... (``M34.0,73.0 L168.0,62.4``)."""
    return [float(v) for step in path.split() for v in step.lstrip("ML").split(",")]


def corners(polygon: str) -> list[tuple[float, float]]:
    pairs = [xy.split(",") for xy in polygon.split()]
    return [(float(x), float(y)) for x, y in pairs]


def parse(markup: object) -> ET.Element:
    return ET.fromstring(str(markup))  # noqa: S314 (our own template's output, not untrusted)


def test_a_hidden_quarter_breaks_the_line_and_is_not_drawn() -> None:
    periods = ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]
    results = [
        result("fcr", 50.0, ci_low=40.0, ci_high=60.0),
        result("fcr", 60.0, ci_low=55.0, ci_high=65.0),
        result("fcr", 99.0, status="insufficient"),
        result("fcr", 120.0),  # beyond the axis: drawn on its edge
    ]
    c = chart("fcr", "First contact resolution", periods, results)

    step = (PLOT_RIGHT - PLOT_LEFT) / 3
    assert [p.x for p in c.x_labels] == pytest.approx([PLOT_LEFT + i * step for i in range(4)])
    assert [p.label for p in c.x_labels] == ["Q1 ’26", "Q2 ’26", "Q3 ’26", "Q4 ’26"]
    assert [t.label for t in c.y_ticks] == ["0", "25", "50", "75", "100"]
    assert [t.y for t in c.y_ticks] == pytest.approx([percent_y(v) for v in (0, 25, 50, 75, 100)])

    assert len(c.cpi_lines) == 2  # the hidden third quarter leaves a gap
    first = coordinates(c.cpi_lines[0])
    assert first == pytest.approx(
        [PLOT_LEFT, percent_y(50), PLOT_LEFT + step, percent_y(60)], abs=0.05
    )
    assert coordinates(c.cpi_lines[1]) == pytest.approx([PLOT_RIGHT, PLOT_TOP], abs=0.05)
    assert [p.label for p in c.cpi_points] == ["50.0%", "60.0%", "120.0%"]
    assert "99" not in " ".join(c.cpi_lines) + c.summary
    assert len(c.ci_bands) == 1  # only the first run has two quarters with an interval
    assert len(c.ci_bands[0].split()) == 4
    assert c.summary.startswith("First contact resolution (")
    assert c.summary.endswith("), 2026-Q1 to 2026-Q4. Customers: 120.0%.")


def test_kpi_and_target_band_follow_the_better_direction() -> None:
    periods = ["2026-Q2", "2026-Q3"]
    higher = [result("csat", 80.0, kpi=70.0, target=85.0, tolerance=5.0) for _ in periods]
    c = chart("csat", "Customer satisfaction", periods, higher)
    assert coordinates(c.kpi_line) == pytest.approx(
        [PLOT_LEFT, percent_y(70), PLOT_RIGHT, percent_y(70)], abs=0.05
    )
    assert [p.label for p in c.kpi_points] == ["70.0%", "70.0%"]
    # higher is better: the band runs from the target down to the amber threshold (80)
    assert sorted({y for _x, y in corners(c.target_band)}) == pytest.approx(
        [percent_y(85), percent_y(80)], abs=0.05
    )
    assert coordinates(c.target_line) == pytest.approx(
        [PLOT_LEFT, percent_y(85), PLOT_RIGHT, percent_y(85)], abs=0.05
    )
    assert c.summary.endswith("Customers: 80.0%. Internal KPI: 70.0%. Target: 85.0%.")

    lower = [result("quote_turnaround", 3.0, target=2.0, tolerance=1.0)]
    single = chart("quote_turnaround", "Quote turnaround", ["2026-Q3"], lower)
    # one quarter sits in the middle; a lower-is-better band reaches up to 3 days
    middle = (PLOT_LEFT + PLOT_RIGHT) / 2
    assert single.cpi_points[0].x == pytest.approx(middle)
    assert single.cpi_lines == (f"M{middle:.1f},{single.cpi_points[0].y:.1f}",)
    assert single.target_line == "" and single.kpi_line == ""
    band = corners(single.target_band)
    assert sorted({x for x, _y in band}) == pytest.approx([middle - 6, middle + 6])
    top = min(y for _x, y in band)
    assert top == pytest.approx(single.cpi_points[0].y, abs=0.05)  # 3 days: the amber edge
    # a days axis is open-ended: its top is a round number above every figure
    assert float(single.y_ticks[-1].label) >= 3.0 * 1.1


def test_the_svg_is_well_formed_and_escapes_labels(app: Flask) -> None:
    name = 'Net <promoter> & "score"'
    results = [result("nps", v) for v in (-20.0, 10.0, 35.0)]
    c = chart("nps", name, ["2026-Q1", "2026-Q2", "2026-Q3"], results)
    from cpi.scorecards import localised

    template = app.jinja_env.get_template("scorecards/_chart.html")
    with app.test_request_context():  # an English reader
        figure = parse(template.module.trend_chart(c, localised))  # type: ignore[attr-defined]
    svg = figure.find(f"{SVG}svg")
    assert svg is not None and svg.get("viewBox") == "0 0 320 150"
    assert len(svg.findall(f"{SVG}circle")) == 3
    assert svg.findtext(f"{SVG}title") == c.summary and name in c.summary
    tick_labels = [t.text for t in svg.findall(f"{SVG}text") if t.get("text-anchor") == "end"]
    assert tick_labels == ["-100", "-50", "0", "50", "100"]

    empty = chart("nps", name, ["2026-Q3"], [result("nps", 40.0, status="insufficient")])
    assert empty.empty
    with app.test_request_context():
        drawn = parse(template.module.trend_chart(empty, localised))  # type: ignore[attr-defined]
    assert not drawn.findall(f".//{SVG}circle")
    assert "No figures to show yet" in "".join(drawn.itertext())
