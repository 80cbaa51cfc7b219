"""Did an initiative move a figure? Difference in differences with an account-level
cluster bootstrap. Pure: plain numbers and numpy in, plain results out (no Flask, no
SQLAlchemy, no I/O), so the report page, the PDF, the JSON and the tests share it.

The method (README, "Enablement initiatives"):

* Every figure is a *pooled* value over a group's accounts in a window, computed from
  additive per-account sums (the CPI definitions of indicators.md; for outcomes, a sum
  and a count). A :class:`Measure` says which sums and how the value follows from them.
* ``did`` = (treated_after − treated_before) − (untreated_after − untreated_before).
* Its 95% interval: a cluster bootstrap over accounts, stratified by group. Each of
  ``resamples`` (≥ 2,000) draws the treated accounts with replacement, and the untreated
  accounts likewise; an account comes with both its windows, so within-account
  correlation is kept. The percentile interval (2.5%, 97.5%) of the resampled ``did``
  is reported; the generator is seeded, so a report is reproducible.
* ``significant``: the interval excludes 0.
* Not computed ("not enough answers") when any of the four cells has fewer than
  ``min_n`` answers, or a group has fewer than ``MIN_ACCOUNTS`` accounts with answers
  ("not enough accounts": a bootstrap over one cluster says nothing).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from cpi.scoring import AnswerStats, Indicator

FloatArray = npt.NDArray[np.float64]

RESAMPLES = 2000
MIN_ACCOUNTS = 2
DEFAULT_SEED = 20161
NOT_ENOUGH_ANSWERS = "not enough answers"
NOT_ENOUGH_ACCOUNTS = "not enough accounts"


@dataclass(frozen=True)
class Measure:
    """How a pooled value follows from additive per-account sums.

    ``value(pooled)`` takes a (rows × features) array of pooled sums and returns one
    value per row (NaN where undefined) and one ``n`` (answers counted) per row."""

    code: str
    features: int
    value: Callable[[FloatArray], tuple[FloatArray, FloatArray]]
    labels: tuple[str, ...] = field(default=())


def _ratio(numerator: FloatArray, denominator: FloatArray, scale: float = 1.0) -> FloatArray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(
            denominator > 0, scale * numerator / np.where(denominator > 0, denominator, 1), np.nan
        )


def _median_measure(days: Sequence[float]) -> Callable[[FloatArray], tuple[FloatArray, FloatArray]]:
    values = np.asarray(days, dtype=float)

    def value(pooled: FloatArray) -> tuple[FloatArray, FloatArray]:
        n = pooled.sum(axis=1)
        if values.size == 0:
            return np.full(len(pooled), np.nan), n
        cumulative = np.cumsum(pooled, axis=1)
        low_rank = np.floor((n + 1) / 2)
        high_rank = np.floor(n / 2) + 1
        low = values[np.argmax(cumulative >= low_rank[:, None], axis=1)]
        high = values[np.argmax(cumulative >= high_rank[:, None], axis=1)]
        return np.where(n > 0, (low + high) / 2.0, np.nan), n

    return value


def indicator_measure(indicator: Indicator, days: Sequence[float] = ()) -> Measure:
    """The measure of a catalogue indicator; ``days``: the sorted distinct quote
    turnaround values (the histogram's bins) for ``quote_turnaround``."""
    code = indicator.code
    if code in ("fcr", "csat"):
        return Measure(code, 2, lambda p: (_ratio(p[:, 0], p[:, 1], 100.0), p[:, 1]))
    if code in ("value_added_calls", "ces"):
        return Measure(code, 2, lambda p: (_ratio(p[:, 0], p[:, 1]), p[:, 1]))
    if code == "value_added_share":
        return Measure(code, 3, lambda p: (_ratio(p[:, 0], p[:, 1], 100.0), p[:, 2]))
    if code == "nps":
        return Measure(code, 3, lambda p: (_ratio(p[:, 0] - p[:, 1], p[:, 2], 100.0), p[:, 2]))
    if code == "quote_turnaround":
        return Measure(code, len(days), _median_measure(days))
    raise ValueError(f"no measure for indicator {code!r}")


def indicator_sums(
    indicator: Indicator, stats: AnswerStats, days: Sequence[float] = ()
) -> list[float]:
    """One account's sums for :func:`indicator_measure` (same feature order)."""
    code = indicator.code
    if code == "fcr":
        return [stats.fcr_yes, stats.fcr_n]
    if code == "csat":
        return [stats.csat_top2, stats.csat_n]
    if code == "value_added_calls":
        return [stats.calls_sum, stats.calls_n]
    if code == "ces":
        return [stats.ces_sum, stats.ces_n]
    if code == "value_added_share":
        return [stats.share_y, stats.share_x, stats.share_n]
    if code == "nps":
        return [stats.nps_promoters, stats.nps_detractors, stats.nps_n]
    if code == "quote_turnaround":
        return [float(stats.quote_days.get(d, 0)) for d in days]
    raise ValueError(f"no measure for indicator {code!r}")


def quote_days(stats: Sequence[AnswerStats]) -> list[float]:
    """The sorted distinct quote turnaround values over some stats (the median's bins)."""
    return sorted({d for s in stats for d, c in s.quote_days.items() if c})


def mean_measure(code: str, scale: float = 1.0) -> Measure:
    """A pooled mean Σvalue / count (``scale`` 100 for a yes/no rate in percent);
    features: (Σ value, count)."""
    return Measure(code, 2, lambda p: (_ratio(p[:, 0], p[:, 1], scale), p[:, 1]))


@dataclass(frozen=True)
class Cell:
    """One group in one window: the pooled value (None when not shown), its answers and
    how many accounts contributed answers."""

    value: float | None
    n: int
    accounts: int


@dataclass(frozen=True)
class Effect:
    """A difference in differences and its bootstrap interval. ``reason`` says why
    ``did`` is None ("not enough answers" / "not enough accounts")."""

    treated_before: Cell
    treated_after: Cell
    untreated_before: Cell
    untreated_after: Cell
    did: float | None
    low: float | None
    high: float | None
    significant: bool
    reason: str | None
    resamples: int
    treated_accounts: int
    untreated_accounts: int


def _cell(measure: Measure, rows: FloatArray, min_n: int) -> tuple[Cell, float | None]:
    """The cell as shown (value None below min_n) and the raw pooled value."""
    if rows.shape[0] == 0:
        return Cell(None, 0, 0), None
    values, n = measure.value(rows.sum(axis=0, keepdims=True))
    accounts = int(np.count_nonzero(measure.value(rows)[1] > 0))
    raw = None if np.isnan(values[0]) else float(values[0])
    count = int(n[0])
    shown = raw if count >= max(min_n, 1) else None
    return Cell(shown, count, accounts), raw


def as_matrix(rows: Sequence[Sequence[float]], features: int) -> FloatArray:
    if not rows:
        return np.zeros((0, features))
    return np.asarray(rows, dtype=float).reshape(len(rows), features)


def difference_in_differences(
    measure: Measure,
    treated_before: FloatArray,
    treated_after: FloatArray,
    untreated_before: FloatArray,
    untreated_after: FloatArray,
    *,
    min_n: int,
    resamples: int = RESAMPLES,
    seed: int = DEFAULT_SEED,
) -> Effect:
    """The DiD of ``measure`` with its cluster-bootstrap interval (module docs).

    Each array is (accounts × features) of one group's sums in one window; row i of
    ``*_before`` and ``*_after`` is the same account (zeros where it had no answers)."""
    if (
        treated_before.shape != treated_after.shape
        or untreated_before.shape != untreated_after.shape
    ):
        raise ValueError("before and after must hold the same accounts in the same order")
    cells = [
        _cell(measure, rows, min_n)
        for rows in (treated_before, treated_after, untreated_before, untreated_after)
    ]
    shown = [cell for cell, _ in cells]
    raw = [value for _, value in cells]
    treated_accounts = _active(measure, treated_before, treated_after)
    untreated_accounts = _active(measure, untreated_before, untreated_after)
    counts = (int(treated_accounts.sum()), int(untreated_accounts.sum()))

    def effect(
        did: float | None, low: float | None, high: float | None, reason: str | None, done: int
    ) -> Effect:
        significant = low is not None and high is not None and (low > 0 or high < 0)
        return Effect(
            shown[0], shown[1], shown[2], shown[3], did, low, high, significant, reason, done,
            counts[0], counts[1],
        )  # fmt: skip

    if any(cell.n < max(min_n, 1) for cell in shown) or any(v is None for v in raw):
        return effect(None, None, None, NOT_ENOUGH_ANSWERS, 0)
    if treated_accounts.sum() < MIN_ACCOUNTS or untreated_accounts.sum() < MIN_ACCOUNTS:
        return effect(None, None, None, NOT_ENOUGH_ACCOUNTS, 0)
    tb, ta, ub, ua = (float(v) for v in raw)  # type: ignore[arg-type]
    did = (ta - tb) - (ua - ub)

    rng = np.random.default_rng(seed)
    tb_rows, ta_rows = treated_before[treated_accounts], treated_after[treated_accounts]
    ub_rows, ua_rows = untreated_before[untreated_accounts], untreated_after[untreated_accounts]
    draws_treated = _draws(rng, len(tb_rows), resamples)
    draws_untreated = _draws(rng, len(ub_rows), resamples)
    boot = (
        measure.value(draws_treated @ ta_rows)[0]
        - measure.value(draws_treated @ tb_rows)[0]
        - (
            measure.value(draws_untreated @ ua_rows)[0]
            - measure.value(draws_untreated @ ub_rows)[0]
        )
    )
    boot = boot[~np.isnan(boot)]
    if boot.size < 0.95 * resamples:
        # Too many resamples without answers in some cell: the interval would be biased.
        return effect(did, None, None, NOT_ENOUGH_ANSWERS, int(boot.size))
    low, high = np.quantile(boot, [0.025, 0.975])
    return effect(did, min(float(low), did), max(float(high), did), None, int(boot.size))


def _active(measure: Measure, before: FloatArray, after: FloatArray) -> npt.NDArray[np.bool_]:
    """Accounts with answers in either window (the clusters that are resampled)."""
    if before.shape[0] == 0:
        return np.zeros(0, dtype=bool)
    return (measure.value(before)[1] > 0) | (measure.value(after)[1] > 0)


def _draws(rng: np.random.Generator, accounts: int, resamples: int) -> FloatArray:
    """(resamples × accounts) multiplicities: how often each account is drawn (drawing
    ``accounts`` indices with replacement per resample, counted with one bincount)."""
    picks = rng.integers(0, accounts, size=(resamples, accounts))
    picks += np.arange(resamples)[:, None] * accounts
    counts = np.bincount(picks.ravel(), minlength=resamples * accounts)
    return counts.reshape(resamples, accounts).astype(float)


@dataclass(frozen=True)
class TrendPoint:
    """One quarter of the parallel-trends chart: both groups' values (None below min_n)."""

    period: str
    treated: float | None
    treated_n: int
    untreated: float | None
    untreated_n: int


def trend_point(
    measure: Measure, period: str, treated: FloatArray, untreated: FloatArray, *, min_n: int
) -> TrendPoint:
    t_cell, _ = _cell(measure, treated, min_n)
    u_cell, _ = _cell(measure, untreated, min_n)
    return TrendPoint(period, t_cell.value, t_cell.n, u_cell.value, u_cell.n)


def sums_matrix(
    accounts: Sequence[str],
    sums_by_account: Mapping[str, Sequence[float]],
    features: int,
) -> FloatArray:
    """Rows in ``accounts`` order; an account without sums is a row of zeros."""
    zero = [0.0] * features
    return as_matrix([list(sums_by_account.get(a, zero)) for a in accounts], features)
