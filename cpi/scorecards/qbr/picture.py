"""A trend chart as a PNG (Pillow), drawn from the same geometry and labels as its SVG.

Pillow is already WeasyPrint's own dependency, needs no browser or system library
beyond FreeType, and runs the same here and in CI; the text uses DejaVu Sans (the
PDF's font, with Cyrillic), else Pillow's built-in font.
"""

from __future__ import annotations

import io

from PIL import Image, ImageDraw, ImageFont

from cpi.scorecards.qbr.edition import LocalChart

SCALE = 4  # 320 x 150 units -> 1280 x 600 pixels
BLUE, BAND, GRID, TEXT = (31, 95, 191), (218, 229, 246), (230, 233, 239), (74, 83, 97)
KPI, TARGET = (138, 90, 0), (200, 228, 208)


def _font(size: float) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.truetype("DejaVuSans.ttf", round(size * SCALE))
    except OSError:
        return ImageFont.load_default(size=round(size * SCALE))


def _points(text: str) -> list[tuple[float, float]]:
    """``"x,y x,y"`` (a polygon) or ``"Mx,y Lx,y"`` (a path) -> scaled pixel points."""
    found = []
    for pair in text.replace("M", " ").replace("L", " ").split():
        x, y = pair.split(",")
        found.append((float(x) * SCALE, float(y) * SCALE))
    return found


def chart_png(lc: LocalChart) -> bytes:
    c = lc.chart
    image = Image.new("RGB", (c.width * SCALE, c.height * SCALE), "white")
    draw = ImageDraw.Draw(image)
    small, tiny = _font(9), _font(8.5)
    for x, y, label in lc.y_ticks:
        draw.line([(c.plot_left * SCALE, y * SCALE), (c.plot_right * SCALE, y * SCALE)], GRID, 2)
        draw.text((x * SCALE, y * SCALE), label, fill=TEXT, font=small, anchor="rm")
    if lc.show_internal and c.target_band:
        draw.polygon(_points(c.target_band), fill=TARGET)
    for band in c.ci_bands:
        draw.polygon(_points(band), fill=BAND)
    if lc.show_internal and c.kpi_line:
        draw.line(_points(c.kpi_line), KPI, round(1.6 * SCALE))
    for line in c.cpi_lines:
        draw.line(_points(line), BLUE, round(2.4 * SCALE), joint="curve")
    radius = 3.2 * SCALE
    for p in c.cpi_points:
        x, y = p.x * SCALE, p.y * SCALE
        draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=BLUE)
    for x, y, label in lc.x_labels:
        draw.text((x * SCALE, y * SCALE), label, fill=TEXT, font=tiny, anchor="ms")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
