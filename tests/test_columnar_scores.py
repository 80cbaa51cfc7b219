"""On the demo data, every scorecard the app builds (columnar scorer, loaded by
``load_scoring_data``) equals the pure oracle's (tests/scoring_oracle) within 1e-12."""

from __future__ import annotations

from dataclasses import replace

import pytest
from columnar_support import GENERATED_AT, assert_same_card, oracle_card
from sqlalchemy.orm import Session
from support import Runner

from cpi.scorecards.operations import (
    ScoringData,
    latest_period,
    load_scoring_data,
    resolve_scope,
    score,
    score_accounts,
)
from cpi.scoring import AnswerStats, Period, Scope

MIN_N = 5


def _oracle(data: ScoringData, scope: Scope) -> dict:  # type: ignore[type-arg]
    pooled: dict[str, list[AnswerStats]] = {}
    for account in scope.account_ids:
        for quarter, part in data.stats.get(account, {}).items():
            pooled.setdefault(quarter, []).append(part)
    merged = {q: AnswerStats.merge(parts) for q, parts in pooled.items()}
    invited = sum(
        data.invited.get(a, {}).get(str(q), 0)
        for a in scope.account_ids
        for q in data.period.quarters()
    )
    return oracle_card(
        scope, str(data.period), merged, data.kpi_rows, data.target_rows, min_n=MIN_N,
        invited=invited or None,
    )  # fmt: skip


def _scopes(data: ScoringData) -> list[Scope]:
    accounts = data.accounts.values()
    scopes = [resolve_scope(data, "company", None)]
    scopes += [resolve_scope(data, "segment", s) for s in sorted({a.segment for a in accounts})]
    owners = sorted({a.owner_email for a in accounts if a.owner_email})
    scopes += [resolve_scope(data, "owner", o) for o in owners]
    scopes += [resolve_scope(data, "account", a) for a in sorted(data.accounts)]
    return scopes


@pytest.fixture
def demo(runner: Runner, db: Session) -> Period:
    runner.invoke("demo")
    db.rollback()
    latest = latest_period(db)
    assert latest is not None
    return latest


def test_demo_scorecards_equal_the_oracle(demo: Period, db: Session) -> None:
    checked = 0
    loads = [(demo, 3), (demo.previous(), 3), (Period(demo.year), 3), (demo, 0)]
    for period, history in loads:
        data = load_scoring_data(db, period, history=history)
        assert data.accounts and data.sums.sums.size
        for scope in _scopes(data):
            got = score(data, scope, min_n=MIN_N, generated_at=GENERATED_AT).to_dict()
            assert_same_card(got, _oracle(data, scope), f"{period} {scope.type} {scope.id}")
            checked += 1
        if not history:
            continue
        # a trend quarter scored from the same load (as the trend charts do)
        earlier = replace(data, period=period.quarters()[-1].previous())
        company = resolve_scope(earlier, "company", None)
        got = score(earlier, company, min_n=MIN_N, generated_at=GENERATED_AT).to_dict()
        assert_same_card(got, _oracle(earlier, company), f"trend {earlier.period}")
    assert checked > 30


def test_account_cards_are_the_same_whichever_way_they_are_asked_for(
    demo: Period, db: Session
) -> None:
    data = load_scoring_data(db, demo)
    ids = sorted(data.accounts)
    together = score_accounts(data, ids, min_n=MIN_N, generated_at=GENERATED_AT)
    alone = load_scoring_data(db, demo, account_ids=[ids[0]])
    one = score(alone, resolve_scope(alone, "account", ids[0]), min_n=MIN_N,
                generated_at=GENERATED_AT)  # fmt: skip
    assert together[0].to_dict() == one.to_dict()
    assert [c.scope_id for c in together] == ids
