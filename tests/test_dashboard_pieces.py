"""Dashboards from per-period pieces (issue 13 item 3): each piece is cached under the
generations of the quarters it reads, so a write to one quarter recomputes only that
quarter's pieces; the page served after any write must equal one computed afresh."""

from __future__ import annotations

import pickle
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import event, select
from staff_support import OWNER_A, sign_in, small_dataset
from survey_support import GOOD_ANSWERS, open_form, setup_campaign, tokens_by_email

from cpi import generation
from cpi.accounts.models import Account
from cpi.db import database
from cpi.scorecards import cache
from cpi.scorecards.differencing import Universe
from cpi.scorecards.operations import (
    QuarterActivity,
    load_scoring_data,
    quarter_activity,
    resolve_scope,
    score,
)
from cpi.scorecards.overview import Overview, cached_overview, scope_activity
from cpi.scorecards.pieces import Pieces
from cpi.scorecards.reports import build_report
from cpi.scoring import Period

MOMENT = datetime(2026, 1, 1)
Q1, Q2, Q3 = (generation.quarter_row_id(f"2026-Q{q}") for q in (1, 2, 3))


def plain(overview: Overview) -> Overview:
    """The overview without the moments its scorecards were computed at."""
    report = overview.report
    return replace(
        overview,
        report=replace(
            report,
            card=replace(report.card, generated_at=MOMENT),
            benchmarks=tuple(
                replace(b, card=replace(b.card, generated_at=MOMENT)) for b in report.benchmarks
            ),
        ),
    )


VIEWS = (
    ("company", None, Universe()),  # company-wide staff
    ("owner", OWNER_A, Universe(OWNER_A)),  # an account manager (benchmarks, own audit)
)


def overviews(
    app: Any, db: Any, period: str, *, fresh: bool = False, views: Any = VIEWS
) -> list[Overview]:
    """Every view's dashboard as served (from whatever the cache holds), or afresh."""
    db.rollback()  # see what the other sessions committed
    if fresh:
        cache.clear()
    min_n = int(app.config["MIN_N"])
    with app.app_context():
        return [
            plain(
                cached_overview(
                    db,
                    scope_type,
                    scope_id,
                    Period.parse(period),
                    code,
                    min_n=min_n,
                    viewer=viewer,
                    comment_min_answers=min_n,
                )
            )  # fmt: skip
            for scope_type, scope_id, viewer in views
            for code in ("fcr", "csat")
        ]


def assert_served_equals_fresh(app: Any, db: Any) -> None:
    for period in ("2026-Q3", "2026-Q2", "2026"):
        served = overviews(app, db, period)
        assert served == overviews(app, db, period, fresh=True), period
    for period in ("2026-Q3", "2026-Q2", "2026"):
        overviews(app, db, period)  # the cache holds every piece again


def generations(db: Any) -> dict[int, int]:
    db.rollback()
    return generation.generations(db)


def test_pieces_equal_the_report_computed_from_one_load(
    runner: Any, write_csv: Any, app: Any, db: Any
) -> None:
    """The dashboard's report (card, trend, headline, comments) equals the account
    pages' path, which scores every quarter from one load of the whole window."""
    small_dataset(runner, write_csv)
    # KPIs of an earlier quarter too: the trend's points each have their own
    kpis = write_csv("kpis2.csv", "indicator,period,account_id,value\nfcr,2026-Q2,ACC-1,10\n")
    assert runner.invoke("import", "kpis", str(kpis)).exit_code == 0
    min_n = int(app.config["MIN_N"])
    for period in ("2026-Q3", "2026"):
        for scope_type, scope_id, viewer in VIEWS:
            with app.app_context():
                # each from an empty cache: the report's own cards from its one load, the
                # dashboard's from its pieces (both keep them under the same keys)
                cache.clear()
                expected = build_report(db, scope_type, scope_id, period, min_n=min_n,
                                        viewer=viewer, comment_min_answers=min_n,
                                        with_benchmarks=True)  # fmt: skip
                cache.clear()
                page = cached_overview(
                    db, scope_type, scope_id, Period.parse(period), "fcr",
                    min_n=min_n, viewer=viewer, comment_min_answers=min_n,
                )  # fmt: skip
            got = page.report
            assert got.card.indicators == expected.card.indicators
            assert got.card.responses == expected.card.responses > 0
            assert got.charts == expected.charts
            assert (got.previous_hidden, got.headline) == (
                expected.previous_hidden, expected.headline
            )  # fmt: skip
            assert (got.comments, got.comments_total, got.comments_withheld) == (
                expected.comments, expected.comments_total, expected.comments_withheld
            )  # fmt: skip
            assert [(b.label, b.card.indicators, b.withheld) for b in got.benchmarks] == [
                (b.label, b.card.indicators, b.withheld) for b in expected.benchmarks
            ]


def test_a_write_to_a_past_quarter_moves_only_that_quarter_and_the_pages_follow(
    runner: Any, write_csv: Any, app: Any, db: Any
) -> None:
    small_dataset(runner, write_csv)
    assert_served_equals_fresh(app, db)
    before = generations(db)
    # a changed answer (same person and quarter: updated in place) in 2026-Q2, and a new
    # one in 2026-Q1, by people already known (a new contact would be a base change)
    more = write_csv(
        "past.csv",
        "account_id,contact_email,period,csat,comment\n"
        "ACC-1,c2@acc-1.test,2026-Q2,1,Changed my mind\n"
        "ACC-2,c3@acc-2.test,2026-Q1,1,Late but honest\n",
    )
    assert runner.invoke("import", "responses", str(more)).exit_code == 0
    after = generations(db)
    assert after[generation.ROW_ID] == before[generation.ROW_ID] + 1
    assert after.get(Q2, 0) == before.get(Q2, 0) + 1  # the quarters written
    assert after.get(Q1, 0) == before.get(Q1, 0) + 1
    assert after.get(Q3, 0) == before.get(Q3, 0)  # not the quarter after it
    assert after.get(generation.BASE_ROW_ID, 0) == before.get(generation.BASE_ROW_ID, 0)
    misses = cache.stats["misses"]
    q3 = overviews(app, db, "2026-Q3")
    assert cache.stats["misses"] > misses  # its trend's 2026-Q2 point, its audit
    assert q3 == overviews(app, db, "2026-Q3", fresh=True)
    assert_served_equals_fresh(app, db)


def test_a_kpi_import_and_an_erasure_move_the_base(
    runner: Any, write_csv: Any, app: Any, db: Any
) -> None:
    small_dataset(runner, write_csv)
    assert_served_equals_fresh(app, db)
    base = generations(db).get(generation.BASE_ROW_ID, 0)
    kpis = write_csv("kpis2.csv", "indicator,period,account_id,value\nfcr,2026-Q2,ACC-1,10\n")
    assert runner.invoke("import", "kpis", str(kpis)).exit_code == 0
    assert generations(db)[generation.BASE_ROW_ID] == base + 1
    assert_served_equals_fresh(app, db)
    result = runner.invoke("contact", "forget", "c1@acc-1.test")
    assert result.exit_code == 0, result.output
    assert generations(db)[generation.BASE_ROW_ID] == base + 2
    assert_served_equals_fresh(app, db)


def test_a_survey_answer_moves_its_quarter_not_the_base(
    app: Any, runner: Any, write_csv: Any, client: Any, db: Any
) -> None:
    campaign_id = setup_campaign(runner, write_csv)
    assert runner.invoke("send", str(campaign_id)).exit_code == 0
    tokens = tokens_by_email(app)
    before = generations(db)
    csrf = open_form(client, tokens["bob@acme.test"])
    data = {**GOOD_ANSWERS, "csrf_token": csrf}
    assert client.post(f"/s/{tokens['bob@acme.test']}", data=data).status_code == 303
    after = generations(db)
    assert after[generation.ROW_ID] == before.get(generation.ROW_ID, 0) + 1
    assert after[Q3] == before.get(Q3, 0) + 1
    assert after.get(generation.BASE_ROW_ID, 0) == before.get(generation.BASE_ROW_ID, 0)
    # and the dashboard served after it equals one computed afresh
    answer_again_and_compare(app, db, client)


@contextmanager
def full_sums_reads(app: Any) -> Iterator[list[str]]:
    """The statements that read every account's answer sums of some quarters (a whole
    load's, ``load_scoring_data`` without ``account_ids``), while the block runs."""
    reads: list[str] = []

    def spy(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "answer_sums.responses >" in statement and "answer_sums.account_id IN" not in statement:
            reads.append(statement)

    engine = database(app).engine
    event.listen(engine, "before_cursor_execute", spy)
    try:
        yield reads
    finally:
        event.remove(engine, "before_cursor_execute", spy)


def activities(app: Any, db: Any) -> list[dict[str, QuarterActivity]]:
    """The period menu's activity of the company and of a segment, as served."""
    with app.app_context():
        return [
            scope_activity(db, scope_type, scope_id, min_n=int(app.config["MIN_N"]))
            for scope_type, scope_id in (("company", None), ("segment", "Healthcare"))
        ]


def answer_again_and_compare(app: Any, db: Any, client: Any) -> None:
    """Another answer: the page served (the period's sums, the accounts ranking and the
    comments read again for the accounts the answers were for only, from the change log)
    and the period menu's activity (that quarter's counts only) equal ones computed
    afresh."""
    company = VIEWS[:1]
    first = overviews(app, db, "2026-Q3", views=company)
    assert first[0].report.comments_withheld == 1  # too few answers per account to show
    assert activities(app, db) == activities(app, db)  # now in the cache
    since = generations(db)[Q3]
    tokens = tokens_by_email(app)
    for email, comment in (("cara@globex.test", "Slow"), ("ann@acme.test", "")):
        csrf = open_form(client, tokens[email])
        data = {**GOOD_ANSWERS, "csat": "1", "comment": comment, "csrf_token": csrf}
        assert client.post(f"/s/{tokens[email]}", data=data).status_code == 303
    now = generations(db)[Q3]
    with app.app_context():
        changed = cache.changes_since(db, "2026-Q3", since, now)
        pks = set(db.scalars(select(Account.id).where(Account.account_id != "INITECH")))
    assert now == since + 2 and changed == pks  # GLOBEX-1 and ACME-001
    with full_sums_reads(app) as reads:
        served = overviews(app, db, "2026-Q3", views=company)
        activity = activities(app, db)
    assert reads == []  # the period's load was patched, not read again
    assert served == overviews(app, db, "2026-Q3", fresh=True, views=company)
    min_n = int(app.config["MIN_N"])
    with app.app_context():
        assert activity == [
            quarter_activity(db, scope_type, scope_id, min_n=min_n)
            for scope_type, scope_id in (("company", None), ("segment", "Healthcare"))
        ]
    assert activity[0]["2026-Q3"].responses == 3
    assert served[0].report.card.responses == 3 and served[0].report.comments_withheld == 2


@pytest.mark.parametrize("quarter", ["2026-Q3", "1999-Q4", "0001-Q1"])
def test_quarter_rows_never_meet_the_global_and_base_rows(quarter: str) -> None:
    row = generation.quarter_row_id(quarter)
    assert row is not None and row > generation.BASE_ROW_ID
    assert generation.row_quarter(row) == quarter
    assert generation.row_quarter(generation.ROW_ID) is None
    assert generation.row_quarter(generation.BASE_ROW_ID) is None
    assert generation.quarter_row_id("2026") is None and generation.quarter_row_id("x") is None


def test_the_lead_s_page_is_served(runner: Any, write_csv: Any, client: Any) -> None:
    small_dataset(runner, write_csv)
    sign_in(client, "lead@example.test", "password-123")

    def page() -> str:
        # The forms' CSRF tokens are signed with a timestamp: they differ by the second.
        html = client.get("/?period=2026-Q3").get_data(as_text=True)
        return re.sub(r'(name="csrf_token"[^>]*value=")[^"]*', r"\1", html)

    first = page()
    assert "Beta GmbH" in first and page() == first


def test_a_kept_load_travels_through_the_shared_cache_as_its_rows(
    runner: Any, write_csv: Any, app: Any, db: Any
) -> None:
    """In Redis a kept load is pickled without its indexes and scores (rebuilt on use):
    what it scores is the same."""
    small_dataset(runner, write_csv)
    period = Period.parse("2026-Q3")
    with app.app_context():
        slices = Pieces(db, period, min_n=5)._load(["2026-Q3"])
        company = resolve_scope(slices.data, "company", None)
        expected = score(slices(period)[0], company, min_n=5)  # indexes and scores built
        blob = pickle.dumps(slices, protocol=pickle.HIGHEST_PROTOCOL)
        again = pickle.loads(blob)  # noqa: S301 - this test's own bytes
    assert slices(period)[0].shared.scores and slices(period)[0].shared.kpi_index is not None
    assert again(period)[0].shared.scores == {} and again(period)[0].shared.kpi_index is None
    assert replace(score(again(period)[0], company, min_n=5), generated_at=None) == replace(
        expected, generated_at=None
    )


def account_pages(app: Any, db: Any, *, fresh: bool = False) -> list[Any]:
    """ACC-1's page report, as company-wide staff and as its manager see it (from whatever
    the cache holds, or afresh), without the moments its scorecards were computed at."""
    db.rollback()
    if fresh:
        cache.clear()
    min_n = int(app.config["MIN_N"])
    pages = []
    with app.app_context():
        for viewer in (Universe(), Universe(OWNER_A)):
            report = build_report(db, "account", "ACC-1", "2026-Q3", min_n=min_n, viewer=viewer,
                                  comment_min_answers=min_n, with_benchmarks=True)  # fmt: skip
            pages.append(plain(Overview(report=report, indicator=None, rankings=())).report)  # type: ignore[arg-type]
    return pages


def test_an_account_page_after_answers_reads_only_the_accounts_written(
    app: Any, runner: Any, write_csv: Any, client: Any, db: Any
) -> None:
    """The account page's audit counts and its segment and company figures come from the
    dashboard's pieces: after answers to another account, a cold page reads that
    account's sums only, and equals the page computed afresh."""
    small_dataset(runner, write_csv)
    campaign_id = setup_campaign(runner, write_csv)
    assert runner.invoke("send", str(campaign_id)).exit_code == 0
    before = account_pages(app, db)
    assert [b.label for b in before[0].benchmarks] == ["Segment Retail", "Company"]
    with app.app_context():  # the page's figures as computed, from one load of the period
        data = load_scoring_data(db, "2026-Q3")
        company = score(data, resolve_scope(data, "company", None), min_n=int(app.config["MIN_N"]))
    assert before[0].benchmarks[1].card.indicators == company.indicators
    tokens = tokens_by_email(app)
    for email in ("cara@globex.test", "ann@acme.test"):
        csrf = open_form(client, tokens[email])
        data_ = {**GOOD_ANSWERS, "csat": "1", "csrf_token": csrf}
        assert client.post(f"/s/{tokens[email]}", data=data_).status_code == 303
    with full_sums_reads(app) as reads:
        served = account_pages(app, db)
    assert reads == []  # the pieces were patched, not read again
    assert served == account_pages(app, db, fresh=True)
    company_after = served[0].benchmarks[1].card
    assert company_after.responses == company.responses + 2
