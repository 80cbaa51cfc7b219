"""The customer edition as a PowerPoint deck (python-pptx): real text, a native table and a
native chart, so an account manager can restyle it in their own QBR deck.

Slides: title; summary (headline CPIs as a table, what improved); trend (a native line
chart of the customers' figures in percent); comments and actions. Same data, same
language and the same edition rules as the PDF (:class:`CustomerEdition`).
"""

from __future__ import annotations

import io

from flask_babel import force_locale, gettext
from pptx import Presentation
from pptx.chart.data import CategoryChartData
from pptx.enum.chart import XL_CHART_TYPE, XL_LEGEND_POSITION
from pptx.util import Emu, Inches, Pt

from cpi.scorecards.qbr.edition import CustomerEdition, LocalChart
from cpi.scoring import INDICATORS_BY_CODE

TITLE_LAYOUT, TITLE_ONLY_LAYOUT = 0, 5
WIDE = (Inches(13.333), Inches(7.5))  # 16:9


def deck(e: CustomerEdition, customer_logo: bytes | None = None) -> bytes:
    """The deck as .pptx bytes."""
    with force_locale(e.locale):
        presentation = Presentation()
        presentation.slide_width, presentation.slide_height = WIDE
        _title_slide(presentation, e, customer_logo)
        _summary_slide(presentation, e)
        _chart_slide(presentation, e)
        _comments_slide(presentation, e)
        presentation.core_properties.title = f"{e.account_name} · {e.period_words}"
        presentation.core_properties.language = e.locale
        out = io.BytesIO()
        presentation.save(out)
        return out.getvalue()


def _title_slide(presentation: Presentation, e: CustomerEdition, logo: bytes | None) -> None:
    slide = presentation.slides.add_slide(presentation.slide_layouts[TITLE_LAYOUT])
    slide.shapes.title.text = e.account_name
    if e.is_year:
        review = gettext("Annual business review")
    else:
        review = gettext("Quarterly business review")
    slide.placeholders[1].text = f"{review} · {e.period_words}"
    if logo:
        slide.shapes.add_picture(io.BytesIO(logo), Inches(0.5), Inches(0.4), height=Inches(0.9))


def _title_only(presentation: Presentation, title: str) -> object:
    slide = presentation.slides.add_slide(presentation.slide_layouts[TITLE_ONLY_LAYOUT])
    slide.shapes.title.text = title
    slide.shapes.title.text_frame.paragraphs[0].font.size = Pt(30)
    return slide


def _summary_slide(presentation: Presentation, e: CustomerEdition) -> None:
    slide = _title_only(presentation, gettext("How you rate our service"))
    shapes = slide.shapes  # type: ignore[attr-defined]
    answers = shapes.add_textbox(Inches(0.6), Inches(1.35), Inches(12), Inches(0.4))
    answers.text_frame.text = (
        gettext("%(count)s answers from your team", count=e.responses) + f" · {e.period_words}"
    )
    headers = [gettext("Indicator"), gettext("Your answers"), gettext("Change"), gettext("Notes")]
    if e.show_internal:
        headers[3:3] = [gettext("Our internal measure"), gettext("Our target")]
    rows = len(e.tiles) + 1
    height = Inches(0.42) * rows
    table = shapes.add_table(rows, len(headers), Inches(0.6), Inches(1.85), Inches(12.1),
                             Emu(int(height))).table  # fmt: skip
    for column, text in enumerate(headers):
        _cell(table.cell(0, column), text, bold=True)
    for row, t in enumerate(e.tiles, 1):
        arrow = {"up": "▲ ", "down": "▼ "}.get(t.arrow or "", "")
        cells = [t.name, t.value, (arrow + t.change) if t.change else "–", t.note]
        if e.show_internal:
            internal = dict(t.internal)
            cells[3:3] = [
                internal.get(gettext("Our internal measure"), "–"),
                internal.get(gettext("Our target"), "–"),
            ]
        for column, text in enumerate(cells):
            _cell(table.cell(row, column), text, bold=column == 1)
    widths = [2.6, 1.6, 2.6, 5.3] if not e.show_internal else [2.4, 1.4, 2.2, 1.5, 1.3, 3.3]
    for column, width in enumerate(widths):
        table.columns[column].width = Inches(width)
    improved = shapes.add_textbox(Inches(0.6), Inches(1.95) + height, Inches(12), Inches(0.8))
    frame = improved.text_frame
    frame.word_wrap = True
    frame.text = gettext("What improved")
    frame.paragraphs[0].font.bold = True
    lines = e.improved or (gettext("No significant change since the previous quarter."),)
    for line in lines:
        frame.add_paragraph().text = line


def _cell(cell: object, text: str, *, bold: bool = False) -> None:
    frame = cell.text_frame  # type: ignore[attr-defined]
    frame.text = text
    frame.word_wrap = True
    for paragraph in frame.paragraphs:
        paragraph.font.size = Pt(12)
        paragraph.font.bold = bold


def percent_charts(e: CustomerEdition) -> list[LocalChart]:
    """The charts that share one scale (percent) and so fit one native chart."""
    return [c for c in e.charts if INDICATORS_BY_CODE[c.chart.code].unit == "percent"]


def _chart_slide(presentation: Presentation, e: CustomerEdition) -> None:
    slide = _title_only(presentation, gettext("Trends over the last quarters"))
    shapes = slide.shapes  # type: ignore[attr-defined]
    charts = percent_charts(e)
    if not charts:
        shapes.add_textbox(Inches(0.6), Inches(2), Inches(12), Inches(1)).text_frame.text = gettext(
            "Thank you to everyone who answered our survey."
        )
        return
    data = CategoryChartData(number_format="0.0")
    data.categories = [label for _x, _y, label in charts[0].x_labels]
    for chart in charts:
        data.add_series(chart.name, [None if v is None else round(v, 1) for v in chart.values])
    frame = shapes.add_chart(XL_CHART_TYPE.LINE_MARKERS, Inches(0.6), Inches(1.4),
                             Inches(12.1), Inches(5.6), data)  # fmt: skip
    native = frame.chart
    native.has_legend = True
    native.legend.position = XL_LEGEND_POSITION.BOTTOM
    native.legend.include_in_layout = False
    axis = native.value_axis
    axis.minimum_scale, axis.maximum_scale = 0, 100
    axis.has_title = True
    axis.axis_title.text_frame.text = "%"


def _comments_slide(presentation: Presentation, e: CustomerEdition) -> None:
    slide = _title_only(presentation, gettext("What you told us"))
    shapes = slide.shapes  # type: ignore[attr-defined]
    left = shapes.add_textbox(Inches(0.6), Inches(1.4), Inches(6.6), Inches(5.6)).text_frame
    left.word_wrap = True
    if e.comments:
        for number, comment in enumerate(e.comments):
            paragraph = left.paragraphs[0] if number == 0 else left.add_paragraph()
            paragraph.text = f"“{comment.text}”"
            paragraph.font.size = Pt(14)
            by = left.add_paragraph()
            by.text = "— " + (comment.author or gettext("a member of your team"))
            by.font.size = Pt(11)
    else:
        left.text = gettext("Thank you to everyone who answered our survey.")
    right = shapes.add_textbox(Inches(7.5), Inches(1.4), Inches(5.3), Inches(5.6)).text_frame
    right.word_wrap = True
    right.text = gettext("What we will work on")
    right.paragraphs[0].font.bold = True
    right.paragraphs[0].font.size = Pt(18)
    actions = e.actions or (gettext("We will agree the next steps with you in our review."),)
    for number, action in enumerate(actions, 1):
        paragraph = right.add_paragraph()
        paragraph.text = f"{number}. {action}" if e.actions else action
        paragraph.font.size = Pt(14)
