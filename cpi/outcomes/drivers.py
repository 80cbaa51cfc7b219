"""The driver view: across accounts, how each CPI goes with each outcome.

For each indicator, the accounts with at least ``min_n`` answers in the window are
split at the median of their values into the better half and the worse half (for
"lower is better" indicators the lower half is the better one). For each outcome, each
half's value is pooled over its accounts' quarters (Σ / count; yes/no outcomes as
percent), with a 95% interval that treats the account as the unit (the ratio estimator
with delta-method variance, as for the value-added share: quarters of one account are
not independent), and the difference better − worse ± z·√(var₁ + var₂).

It shows association, never causation: accounts that differ in one CPI differ in
many other ways too. Only the initiative report's comparison with untreated accounts
says anything about an effect.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cpi.accounts.models import Account
from cpi.outcomes.models import BINARY_OUTCOMES, OUTCOME_FIELDS, Outcome
from cpi.scorecards.operations import history_quarters, load_scoring_data
from cpi.scoring import CATALOGUE, AnswerStats, Period, Z
from cpi.scoring.estimates import compute_indicators

MIN_ACCOUNTS = 2
CAVEAT = (
    "Association across accounts, not cause and effect: accounts that differ in one "
    "indicator differ in other ways too."
)


def pooled_rate(parts: Sequence[tuple[float, float]], scale: float = 1.0) -> dict[str, Any]:
    """Σy / Σx over accounts (y: sum of the outcome, x: quarters known) with the
    account-level delta-method interval. ``value`` None without data."""
    parts = [(y, x) for y, x in parts if x > 0]
    k = len(parts)
    total_y = sum(y for y, _ in parts)
    total_x = sum(x for _, x in parts)
    if not k or total_x <= 0:
        return {"value": None, "low": None, "high": None, "variance": None, "accounts": k,
                "n": int(total_x)}  # fmt: skip
    ratio = total_y / total_x
    variance = None
    low = high = None
    if k >= MIN_ACCOUNTS:
        mean_x = total_x / k
        residuals = sum((y - ratio * x) ** 2 for y, x in parts)
        variance = residuals / ((k - 1) * k * mean_x * mean_x)
        half = Z * math.sqrt(variance)
        low, high = scale * (ratio - half), scale * (ratio + half)
    return {"value": scale * ratio, "low": low, "high": high,
            "variance": None if variance is None else variance * scale * scale,
            "accounts": k, "n": int(total_x)}  # fmt: skip


def latest_outcome_period(session: Session) -> Period | None:
    latest = session.scalar(select(func.max(Outcome.period)))
    return Period.parse(latest) if latest else None


def driver_view(
    session: Session,
    *,
    min_n: int,
    owner: str | None = None,
    period: Period | str | None = None,
    quarters: int = 4,
) -> dict[str, Any]:
    """Every indicator x outcome comparison over the window of ``quarters`` quarters
    ending with ``period`` (default: the latest quarter with outcomes). ``owner``: only
    that account manager's accounts (what an account manager sees)."""
    last = Period.parse(period) if period is not None else latest_outcome_period(session)
    if last is None:
        return {"quarters": [], "rows": [], "caveat": CAVEAT}
    window = [str(q) for q in history_quarters(last, quarters)]
    data = load_scoring_data(session, last.quarters()[-1], history=quarters)
    accounts = [
        a for a in data.accounts.values()
        if owner is None or (a.owner_email or "").lower() == owner.lower()
    ]  # fmt: skip
    outcome_sums: dict[str, dict[str, tuple[float, float]]] = defaultdict(dict)
    for account_id, *values in session.execute(
        select(Account.account_id, *(getattr(Outcome, n) for n in OUTCOME_FIELDS))
        .join(Account, Account.id == Outcome.account_id)
        .where(Outcome.period.in_(window))
    ):
        for name, value in zip(OUTCOME_FIELDS, values, strict=True):
            if value is not None:
                y, x = outcome_sums[name].get(account_id, (0.0, 0.0))
                outcome_sums[name][account_id] = (y + float(value), x + 1.0)

    # every account's sums over the window, merged once and scored in one column
    window_stats = [
        AnswerStats.merge(
            data.stats.get(account.account_id, {}).get(q, AnswerStats()) for q in window
        )
        for account in accounts
    ]
    rows = []
    for indicator in CATALOGUE:
        values: dict[str, float] = {}
        estimates = compute_indicators(indicator, window_stats) if accounts else []
        for account, estimate in zip(accounts, estimates, strict=True):
            if estimate.value is not None and estimate.n >= max(min_n, 1):
                values[account.account_id] = estimate.value
        if len(values) < 2 * MIN_ACCOUNTS:
            continue
        threshold = statistics.median(values.values())
        if indicator.better == "higher":
            better = [a for a, v in values.items() if v >= threshold]
        else:
            better = [a for a, v in values.items() if v <= threshold]
        worse = [a for a in values if a not in set(better)]
        for name in OUTCOME_FIELDS:
            scale = 100.0 if name in BINARY_OUTCOMES else 1.0
            sums = outcome_sums.get(name, {})
            high = pooled_rate([sums[a] for a in better if a in sums], scale)
            low = pooled_rate([sums[a] for a in worse if a in sums], scale)
            rows.append(_row(indicator.code, indicator.better, threshold, name, high, low, min_n))
    return {"quarters": window, "rows": rows, "caveat": CAVEAT}


def _row(
    code: str,
    better: str,
    threshold: float,
    outcome: str,
    high: dict[str, Any],
    low: dict[str, Any],
    min_n: int,
) -> dict[str, Any]:
    enough = (
        high["value"] is not None and low["value"] is not None
        and high["accounts"] >= max(min_n, MIN_ACCOUNTS)
        and low["accounts"] >= max(min_n, MIN_ACCOUNTS)
    )  # fmt: skip
    difference = diff_low = diff_high = None
    if enough and high["variance"] is not None and low["variance"] is not None:
        difference = high["value"] - low["value"]
        half = Z * math.sqrt(high["variance"] + low["variance"])
        diff_low, diff_high = difference - half, difference + half
    shown = {key: value for key, value in high.items() if key != "variance"}
    other = {key: value for key, value in low.items() if key != "variance"}
    if not enough:
        shown["value"] = shown["low"] = shown["high"] = None
        other["value"] = other["low"] = other["high"] = None
    return {
        "indicator": code,
        "split": ">=" if better == "higher" else "<=",
        "threshold": threshold,
        "outcome": outcome,
        "better": shown,
        "worse": other,
        "difference": difference,
        "difference_low": diff_low,
        "difference_high": diff_high,
        "significant": diff_low is not None and (diff_low > 0 or diff_high < 0),  # type: ignore[operator]
        "reason": None if enough else "not enough accounts",
    }
