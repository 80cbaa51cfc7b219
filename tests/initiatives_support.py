"""Synthetic data with a known effect, for the initiative tests and benchmark.

``simulate_fcr``: per-account answers in memory (the statistics alone, fast enough for
hundreds of seeded runs). ``seed_database``: the same kind of data written as accounts
and responses, for the report, the CLI and the pages.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlalchemy.orm import Session

from cpi.accounts.models import Account
from cpi.initiatives import effects
from cpi.scoring import INDICATORS_BY_CODE
from cpi.surveys.models import Response
from cpi.surveys.sums import rebuild as rebuild_sums

TREATED_AM = "treated.am@example.com"
OTHER_AMS = ("other.am@example.com", "third.am@example.com")
TRUE_EFFECT = 12.0  # FCR points


@dataclass(frozen=True)
class Simulated:
    did: float | None
    low: float | None
    high: float | None
    significant: bool


def simulate_fcr(
    seed: int, effect_points: float, *, treated: int = 12, untreated: int = 28
) -> Simulated:
    """Treated accounts' FCR rises by ``effect_points`` after the start; untreated flat.
    Each account has its own level (clustered answers) and quarter-to-quarter noise."""
    rng = np.random.default_rng(seed)

    def group(accounts: int, shift: float) -> list[np.ndarray]:
        level = np.clip(0.62 + rng.normal(0, 0.1, accounts), 0.05, 0.95)
        windows = []
        for change in (0.0, shift):
            answers = rng.integers(3, 9, accounts)
            p = np.clip(level + change + rng.normal(0, 0.04, accounts), 0, 1)
            windows.append(np.column_stack([rng.binomial(answers, p), answers]).astype(float))
        return windows

    tb, ta = group(treated, effect_points / 100)
    ub, ua = group(untreated, 0.0)
    measure = effects.indicator_measure(INDICATORS_BY_CODE["fcr"])
    result = effects.difference_in_differences(measure, tb, ta, ub, ua, min_n=5, seed=seed)
    return Simulated(result.did, result.low, result.high, result.significant)


def seed_database(
    session: Session,
    *,
    seed: int = 1,
    effect: float = 0.25,
    quarters: tuple[str, ...] = ("2025-Q2", "2025-Q3", "2025-Q4", "2026-Q1", "2026-Q2"),
    treated_from: str = "2026-Q1",
    accounts_per_owner: int = 8,
    answers: int = 8,
) -> None:
    """Accounts of three account managers (the first is treated); ``answers`` responses
    per account and quarter; the treated accounts' FCR rises by ``effect`` (a share)
    from ``treated_from``. Comments on some "no" answers (for the coaching list)."""
    rng = np.random.default_rng(seed)
    owners = (TREATED_AM, *OTHER_AMS)
    for owner_index, owner in enumerate(owners):
        for number in range(accounts_per_owner):
            account = Account(
                account_id=f"A{owner_index}-{number:02d}",
                name=f"Account {owner_index}-{number}",
                segment="Retail" if number % 2 else "Health",
                owner_email=owner,
            )
            session.add(account)
            session.flush()
            level = float(np.clip(0.55 + rng.normal(0, 0.08), 0.05, 0.9))
            for quarter in quarters:
                p = level + (effect if owner == TREATED_AM and quarter >= treated_from else 0.0)
                for _ in range(answers):
                    fcr = "yes" if rng.random() < p else "no"
                    session.add(
                        Response(
                            account_id=account.id, period=quarter, source="import",
                            fcr=fcr, csat=int(rng.integers(3, 6)), nps=int(rng.integers(5, 11)),
                            ces=int(rng.integers(3, 8)),
                            comment="Had to call back twice" if fcr == "no" and rng.random() < 0.3
                            else None,
                        )
                    )  # fmt: skip
    session.flush()
    rebuild_sums(session)  # answers written as rows: the sums kept on write follow
