"""An account's QBR documents: the customer edition (HTML, PDF, deck, chart files) and the
internal edition (the scorecard PDF, without the comments the account manager hid)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime

from flask import current_app, get_template_attribute, render_template
from flask_babel import force_locale
from sqlalchemy.orm import Session

from cpi.accounts.models import Account
from cpi.scorecards.differencing import Universe
from cpi.scorecards.disclosure import Disclosure
from cpi.scorecards.operations import history_quarters, load_scoring_data, resolve_scope
from cpi.scorecards.pdf import LOGO_URL, asset_url, render_pdf
from cpi.scorecards.qbr import edition as editions
from cpi.scorecards.qbr import operations
from cpi.scorecards.qbr.edition import CustomerEdition, LocalChart, PrintedComment
from cpi.scorecards.rendering import logo_path, page_size, report_pdf
from cpi.scorecards.reports import (
    Comment,
    Report,
    build_report,
    owner_names,
    report_from_data,
    score_at,
    trim_leading_empty,
)
from cpi.scorecards.slices import TREND_QUARTERS
from cpi.scoring import Period, Scorecard

CUSTOMER_LOGO_FILE = "customer-logo.png"


def default_page_size(language: str) -> str:
    """Letter for English when the app prints on Letter (CPI_PAGE_SIZE); A4 otherwise
    (the other languages' countries all use A4)."""
    return "letter" if language == "en" and page_size() == "letter" else "A4"


def account_report(
    session: Session,
    account: Account,
    period: Period | str,
    *,
    viewer: Universe | None,
    hidden: list[int],
    comment_min_answers: int,
) -> Report:
    """The account's report as the viewer may see it, without the hidden comments."""
    min_n = int(current_app.config["MIN_N"])
    report = build_report(session, "account", account.account_id, period, min_n=min_n,
                          viewer=viewer, comment_min_answers=comment_min_answers)  # fmt: skip
    offered = operations.account_comments(session, account, period, min_answers=comment_min_answers)
    kept = [c for c in offered if c.id not in set(hidden)]
    comments = tuple(Comment(c.text, c.author, c.period, False) for c in kept)
    return replace(report, comments=comments, comments_total=len(comments))


def _report_and_trend(
    session: Session, account: Account, period: Period | str, viewer: Universe | None
) -> tuple[Report, list[Scorecard]]:
    """The account's report (comments are chosen separately) and the scorecards of its
    trend quarters, as the viewer may see them: the deck's native chart needs the values."""
    min_n = int(current_app.config["MIN_N"])
    data = load_scoring_data(
        session, period, history=TREND_QUARTERS - 1, account_ids=[account.account_id]
    )
    scope = resolve_scope(data, "account", account.account_id)
    disclosure = Disclosure(session, viewer, min_n)
    by_account = data.kpis_by_account()
    report = report_from_data(data, scope, min_n=min_n, owner_names=owner_names(session),
                              by_account=by_account, disclosure=disclosure)  # fmt: skip
    trend = trim_leading_empty([
        score_at(data, scope, quarter, min_n=min_n, by_account=by_account, disclosure=disclosure)
        for quarter in history_quarters(data.period, TREND_QUARTERS)
    ])  # fmt: skip
    return report, trend


def customer_edition(
    session: Session,
    account: Account,
    period: Period | str,
    *,
    choices: operations.Choices,
    viewer: Universe | None,
    comment_min_answers: int,
    language: str | None = None,
    internal: bool | None = None,
) -> CustomerEdition:
    """``language``/``internal``: override the saved choice (a download's or command's)."""
    report, trend = _report_and_trend(session, account, period, viewer)
    locale = language or choices.language or operations.account_language(session, account)
    offered = operations.account_comments(session, account, period, min_answers=comment_min_answers)
    printed = [
        PrintedComment(c.text, c.author, c.period)
        for c in operations.printed_comments(offered, choices)
    ]
    return editions.build(
        report,
        trend,
        account_name=account.name,
        locale=locale,
        page_size=choices.page_size or default_page_size(locale),
        actions=choices.actions,
        comments=printed,
        show_internal=choices.show_internal if internal is None else internal,
        today=datetime.now(UTC).date(),
    )


def customer_html(
    e: CustomerEdition, *, asset: object = asset_url, our_logo: str | None = None,
    customer_logo: str | None = None,
) -> str:  # fmt: skip
    """The customer edition's HTML; by default addressed for the PDF renderer."""
    if our_logo is None:
        our_logo = LOGO_URL if logo_path() else asset_url("img/logo.svg")
    with force_locale(e.locale):
        return render_template(
            "qbr/customer.html",
            e=e,
            asset=asset,
            our_logo=our_logo,
            customer_logo=customer_logo,
            company_name=current_app.config.get("COMPANY_NAME", "CPI Tracker"),
        )


@contextmanager
def asset_folder(customer_logo: bytes | None) -> Iterator[str]:
    """The folder the renderer may read: the app's static files, plus the customer's logo
    (checked and re-encoded on upload) in a private copy of that folder's layout."""
    static = current_app.static_folder or ""
    if not customer_logo:
        yield static
        return
    with tempfile.TemporaryDirectory(prefix="cpi-qbr-") as folder:
        for entry in os.scandir(static):
            os.symlink(entry.path, os.path.join(folder, entry.name))
        with open(os.path.join(folder, CUSTOMER_LOGO_FILE), "wb") as handle:
            handle.write(customer_logo)
        yield folder


def customer_pdf(e: CustomerEdition, customer_logo: bytes | None) -> bytes:
    with asset_folder(customer_logo) as folder:
        html = customer_html(
            e, customer_logo=asset_url(CUSTOMER_LOGO_FILE) if customer_logo else None
        )
        return render_pdf(html, folder, logo_path())


def internal_pdf(report: Report) -> bytes:
    return report_pdf(report)


def chart_svg(chart: LocalChart) -> str:
    """One trend chart as a standalone SVG file (white background, labels in its language)."""
    draw = get_template_attribute("qbr/_chart.html", "qbr_chart")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + str(draw(chart, True)).strip() + "\n"


def filename(account_id: str, period: str, suffix: str, edition: str = "customer") -> str:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in account_id)
    kind = "QBR" if edition == "customer" else "scorecard"
    return f"{safe}-{period}-{kind}.{suffix}"
