"""Turning a Report into HTML for the PDF, and the PDF itself (used by the web and the CLI)."""

from __future__ import annotations

import os
from datetime import UTC, datetime

from flask import current_app, render_template

from cpi.scorecards import localised
from cpi.scorecards.pdf import LOGO_URL, asset_url, render_pdf
from cpi.scorecards.reports import Report

PAGE_SIZES = {"A4": "A4", "LETTER": "letter", "US-LETTER": "letter", "US LETTER": "letter"}


def page_size() -> str:
    size = str(current_app.config.get("PAGE_SIZE", "A4")).strip().upper()
    return PAGE_SIZES.get(size, "A4")


def logo_path() -> str | None:
    """The configured company logo file (CPI_COMPANY_LOGO), if it exists."""
    path = current_app.config.get("COMPANY_LOGO")
    return str(path) if path and os.path.isfile(str(path)) else None


def pdf_html(report: Report, *, generated_at: datetime | None = None) -> str:
    return render_template(
        "scorecards/pdf.html",
        report=report,
        card=report.card,
        fmt=localised,
        min_n=report.min_n,
        page_size=page_size(),
        asset=asset_url,
        logo_url=LOGO_URL if logo_path() else asset_url("img/logo.svg"),
        company_name=current_app.config.get("COMPANY_NAME", "CPI Tracker"),
        generated=(generated_at or datetime.now(UTC)).strftime("%d %b %Y"),
    )


def report_pdf(report: Report) -> bytes:
    return render_pdf(
        pdf_html(report),
        current_app.static_folder or "",
        logo_path(),
        recycle_after=int(current_app.config["PDF_RECYCLE_AFTER"]),
    )


def pdf_filename(scope_id: str | None, period: str) -> str:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in (scope_id or "company"))
    return f"{safe}-{period}.pdf"
