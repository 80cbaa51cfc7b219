"""Coaching focus: per account manager, the indicators where their accounts' customers
lag the rest of the company significantly, with the comments behind them. The list an
enablement lead starts a coaching plan from (and pre-fills "create an initiative" with).

The comparison: the manager's portfolio pooled over the window against every other
account pooled over the same window, with the interval of the scorecards' change
comparisons (indicators.md: Newcombe for proportions, Welch for means, normal for NPS
and the ratio; a median lags only when the two intervals do not overlap). Both sides
need ``min_n`` answers. Ordered by the size of the gap relative to the indicator's range
(the headline rule), largest first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cpi.accounts.models import Account
from cpi.initiatives.operations import Viewer
from cpi.scorecards.operations import history_quarters, latest_period, load_scoring_data
from cpi.scoring import (
    CATALOGUE,
    AnswerStats,
    Indicator,
    Period,
    change_interval,
    compute_indicator,
)
from cpi.surveys.models import Response

MAX_COMMENTS = 5
# An answer that speaks against the indicator: its comment explains a lag.
UNFAVOURABLE: dict[str, Any] = {
    "fcr": Response.fcr == "no",
    "csat": Response.csat <= 3,
    "nps": Response.nps <= 6,
    "ces": Response.ces <= 3,
    "quote_turnaround": Response.quote_turnaround_days > 5,
    "value_added_calls": Response.contacts_value_added == 0,
    "value_added_share": Response.contacts_value_added * 2 < Response.contacts_total,
}


@dataclass
class Lag:
    indicator: str
    name: str
    unit: str
    value: float
    n: int
    company: float
    company_n: int
    gap: float
    gap_low: float | None
    gap_high: float | None
    size: float
    comments: list[str] = field(default_factory=list)


def _range(indicator: Indicator, company: float) -> float:
    if indicator.unit == "percent":
        return 100.0
    if indicator.code == "nps":
        return 200.0
    if indicator.code == "ces":
        return 6.0
    return abs(company) or 1.0


def _lags(portfolio: AnswerStats, rest: AnswerStats, *, min_n: int) -> list[tuple[Indicator, Lag]]:
    found = []
    for indicator in CATALOGUE:
        mine = compute_indicator(indicator, portfolio)
        others = compute_indicator(indicator, rest)
        if mine.value is None or others.value is None:
            continue
        change = change_interval(indicator, portfolio, rest, mine, others, min_n=min_n)
        gap = mine.value - others.value
        worse = gap < 0 if indicator.better == "higher" else gap > 0
        if not (change.significant and worse):
            continue
        found.append(
            (indicator, Lag(indicator.code, indicator.name, indicator.unit, mine.value, mine.n,
                            others.value, others.n, gap, change.low, change.high,
                            abs(gap) / _range(indicator, others.value)))
        )  # fmt: skip
    found.sort(key=lambda pair: (-pair[1].size, pair[0].code))
    return found


def coaching_focus(
    session: Session,
    *,
    viewer: Viewer,
    min_n: int,
    period: Period | str | None = None,
    quarters: int = 2,
) -> dict[str, Any]:
    """``{"quarters": [...], "managers": [{"owner", "accounts", "lags": [...],
    "prefill": {...}}]}`` for every account manager (an account manager: only themself).

    ``period``: the last quarter of the window (default: the latest with answers)."""
    last = Period.parse(period) if period is not None else latest_period(session)
    if last is None:
        return {"quarters": [], "managers": []}
    window = [str(q) for q in history_quarters(last, quarters)]
    data = load_scoring_data(session, last.quarters()[-1], history=quarters)
    by_owner: dict[str, list[str]] = {}
    for info in data.accounts.values():
        if info.owner_email:
            by_owner.setdefault(info.owner_email.lower(), []).append(info.account_id)
    if not viewer.sees_everything:
        me = (viewer.email or "").lower()
        by_owner = {owner: accounts for owner, accounts in by_owner.items() if owner == me}

    def pooled(accounts: Sequence[str]) -> AnswerStats:
        return AnswerStats.merge(
            data.stats.get(a, {}).get(q, AnswerStats()) for a in accounts for q in window
        )

    managers = []
    for owner, accounts in sorted(by_owner.items()):
        mine = set(accounts)
        rest = [a for a in data.accounts if a not in mine]
        lags = _lags(pooled(accounts), pooled(rest), min_n=min_n)
        for indicator, lag in lags:
            lag.comments = _comments(session, accounts, window, indicator.code)
        managers.append({
            "owner": owner,
            "accounts": len(accounts),
            "lags": [lag.__dict__ for _, lag in lags],
            "prefill": {"participants": owner,
                        "indicators": ",".join(lag.indicator for _, lag in lags)},
        })  # fmt: skip
    return {"quarters": window, "managers": managers}


def _comments(
    session: Session, accounts: Sequence[str], window: Sequence[str], code: str
) -> list[str]:
    """The latest comments of respondents whose answer speaks against the indicator
    (never with a name: a comment is shown without its author here)."""
    return list(
        session.scalars(
            select(Response.comment)
            .join(Account, Account.id == Response.account_id)
            .where(Account.account_id.in_(list(accounts)), Response.period.in_(list(window)))
            .where(Response.comment.is_not(None), UNFAVOURABLE[code])
            .order_by(Response.period.desc(), Response.id.desc())
            .limit(MAX_COMMENTS)
        )
    )
