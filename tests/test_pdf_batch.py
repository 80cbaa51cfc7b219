"""``cpi scorecard --all-accounts``: the batch builds every account's page from data
loaded once, and each page is the page one account's PDF gets (what its account
manager may see, SECURITY.md "Differencing")."""

from __future__ import annotations

import zipfile
from datetime import UTC, datetime

import pytest
from sqlalchemy import event
from staff_support import OWNER_A, OWNER_B, small_dataset
from support import pdf_text

from cpi.db import database, get_session
from cpi.scorecards.batch import AccountPages
from cpi.scorecards.differencing import Universe
from cpi.scorecards.rendering import pdf_html, report_pdf
from cpi.scorecards.reports import PDF_COMMENTS, build_report
from cpi.scoring import Period

PERIOD = "2026-Q3"
WHEN = datetime(2026, 10, 2, tzinfo=UTC)


@pytest.fixture
def demo(runner):  # type: ignore[no-untyped-def]
    runner.invoke("demo")


@pytest.fixture
def thin(runner, write_csv):  # type: ignore[no-untyped-def]
    """Owner A's ACC-3 has 3 answers (below min_n): their portfolio minus ACC-1 would
    give it away, so the audit withholds figures from owner A's pages."""
    small_dataset(runner, write_csv)


def single_report(session, account_id: str, owner: str | None, min_n: int, viewer=True):  # type: ignore[no-untyped-def]
    """One account's PDF report, built on its own (the viewer: its account manager)."""
    return build_report(
        session, "account", account_id, PERIOD, min_n=min_n, comment_limit=PDF_COMMENTS,
        viewer=Universe(owner) if viewer else None, comment_min_answers=min_n,
    )  # fmt: skip


def batch_and_single_pages(app) -> tuple[int, set[Universe]]:  # type: ignore[no-untyped-def]
    """Every account's batch page against its page built on its own; the loads of the
    scoring data the batch made, and the viewers it audited for."""
    engine = database(app).engine
    loads: list[str] = []

    def seen(conn, cursor, statement: str, *args) -> None:  # type: ignore[no-untyped-def]
        # The stored sums: read once by each load of the scoring data.
        if "FROM answer_sums" in statement and "GROUP BY" not in statement:
            loads.append(statement)

    with app.app_context():
        session = get_session()
        min_n = int(app.config["MIN_N"])
        event.listen(engine, "before_cursor_execute", seen)
        try:
            pages = AccountPages(session, Period.parse(PERIOD), None, min_n=min_n)
            batch = {account_id: pdf_html(pages.report(account_id), generated_at=WHEN)
                     for account_id in pages.ids}  # fmt: skip
        finally:
            event.remove(engine, "before_cursor_execute", seen)
        owners = {pages.data.accounts[a].owner_email for a in pages.ids}
        assert len(batch) >= 3 and len(owners) >= 2
        for account_id, html in batch.items():
            owner = pages.data.accounts[account_id].owner_email
            single = single_report(session, account_id, owner, min_n)
            assert html == pdf_html(single, generated_at=WHEN), account_id
        assert set(pages.views) == {Universe(owner) for owner in owners}
    return len(loads), set(pages.views)


def test_batch_pages_equal_single_account_pages_over_years_of_demo_data(app, demo) -> None:  # type: ignore[no-untyped-def]
    loads, _viewers = batch_and_single_pages(app)
    # The period with its trend, and every account over the years shown (the audits
    # of every manager and year): two loads, not one per manager and year.
    assert loads == 2


def test_batch_pages_are_what_each_account_manager_sees(app, thin) -> None:  # type: ignore[no-untyped-def]
    loads, viewers = batch_and_single_pages(app)
    assert loads == 2
    assert viewers == {Universe(OWNER_A), Universe(OWNER_B)}  # one audit each, not per account


def test_batch_rejects_an_unknown_account(app, demo) -> None:  # type: ignore[no-untyped-def]
    with app.app_context(), pytest.raises(LookupError, match="NOPE"):
        AccountPages(get_session(), Period.parse(PERIOD), ["NOPE"], min_n=5)


@pytest.mark.slow
def test_batch_pdfs_read_like_single_account_pdfs(app, thin, runner, tmp_path) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "cards.zip"
    runner.invoke("scorecard", "--period", PERIOD, "--all-accounts", "-o", str(target))
    with app.app_context():
        session = get_session()
        min_n = int(app.config["MIN_N"])
        pages = AccountPages(session, Period.parse(PERIOD), None, min_n=min_n)
        chosen = set(pages.ids)  # ACC-1, ACC-2 and the thin ACC-3
        assert len(chosen) == 3
        with zipfile.ZipFile(target) as archive:
            assert len(archive.namelist()) == len(pages.ids)
            for account_id in sorted(chosen):
                owner = pages.data.accounts[account_id].owner_email
                single = report_pdf(single_report(session, account_id, owner, min_n))
                batch = archive.read(f"{account_id}-{PERIOD}.pdf")
                assert pdf_text(batch, layout=True) == pdf_text(single, layout=True), account_id
