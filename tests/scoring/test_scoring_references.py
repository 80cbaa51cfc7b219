"""Values and intervals against independent references (statsmodels, scipy, numpy)."""

import math

import numpy as np
import pytest
from scipy import stats as sps
from statsmodels.stats.proportion import proportion_confint

from cpi.scoring import INDICATORS_BY_CODE, Answers, AnswerStats, compute_indicator
from cpi.scoring.intervals import median_rank, t_quantile_975

Z = 1.959963984540054
CASES = range(300)


def random_answers(seed: int) -> list[Answers]:
    rng = np.random.default_rng(seed)
    n = int(rng.choice([0, 1, 2, 3, 5, 6, 7, 10, 25, 60, 200, 1000]))
    answers = []
    for _ in range(n):
        blank = rng.random(7) < 0.15
        total = int(rng.integers(0, 30))
        added = int(rng.integers(0, total + 1))
        days = float(rng.choice([rng.integers(0, 20), round(rng.uniform(0, 365), 1)]))
        answers.append(
            Answers(
                fcr=None if blank[0] else str(rng.choice(["yes", "no", "na"])),  # type: ignore[arg-type]
                contacts_total=None if blank[1] else total,
                contacts_value_added=None if blank[2] else added,
                quote_turnaround_days=None if blank[3] else days,
                csat=None if blank[4] else int(rng.integers(1, 6)),
                nps=None if blank[5] else int(rng.integers(0, 11)),
                ces=None if blank[6] else int(rng.integers(1, 8)),
            )
        )
    return answers


def estimate(code: str, answers: list[Answers]):  # type: ignore[no-untyped-def]
    return compute_indicator(INDICATORS_BY_CODE[code], AnswerStats.from_answers(answers))


def assert_interval(est, low: float, high: float) -> None:  # type: ignore[no-untyped-def]
    assert est.ci_low == pytest.approx(low, abs=1e-9)
    assert est.ci_high == pytest.approx(high, abs=1e-9)


@pytest.mark.parametrize("seed", CASES)
@pytest.mark.parametrize(("code", "field"), [("fcr", "fcr"), ("csat", "csat")])
def test_proportions_match_statsmodels_wilson(seed: int, code: str, field: str) -> None:
    answers = random_answers(seed)
    if field == "fcr":
        usable = [a.fcr == "yes" for a in answers if a.fcr in ("yes", "no")]
    else:
        usable = [a.csat is not None and a.csat >= 4 for a in answers if a.csat is not None]
    est = estimate(code, answers)
    assert est.n == len(usable)
    if not usable:
        assert (est.value, est.ci_low, est.ci_high) == (None, None, None)
        return
    x = sum(usable)
    assert est.value == pytest.approx(100 * x / len(usable), abs=1e-12)
    low, high = proportion_confint(x, len(usable), alpha=0.05, method="wilson")
    assert_interval(est, 100 * max(0.0, low), 100 * min(1.0, high))


@pytest.mark.parametrize("seed", CASES)
@pytest.mark.parametrize(
    ("code", "field", "lower", "upper"),
    [("value_added_calls", "contacts_value_added", 0, 999), ("ces", "ces", 1, 7)],
)
def test_means_match_scipy_t(seed: int, code: str, field: str, lower: float, upper: float) -> None:
    answers = random_answers(seed)
    values = np.array([getattr(a, field) for a in answers if getattr(a, field) is not None])
    est = estimate(code, answers)
    assert est.n == len(values)
    if len(values) == 0:
        assert est.value is None
        return
    assert est.value == pytest.approx(values.mean(), abs=1e-12)
    if len(values) < 2:
        assert (est.ci_low, est.ci_high) == (None, None)
        return
    sem = values.std(ddof=1) / math.sqrt(len(values))
    if sem == 0:
        assert (est.ci_low, est.ci_high) == (values.mean(), values.mean())
        return
    low, high = sps.t.interval(0.95, len(values) - 1, loc=values.mean(), scale=sem)
    assert_interval(est, max(lower, low), min(upper, high))


@pytest.mark.parametrize("seed", CASES)
def test_median_matches_scipy_quantile_test(seed: int) -> None:
    answers = random_answers(seed)
    days = np.array(
        [a.quote_turnaround_days for a in answers if a.quote_turnaround_days is not None]
    )
    est = estimate("quote_turnaround", answers)
    assert est.n == len(days)
    if len(days) == 0:
        assert est.value is None
        return
    median = float(np.median(days))
    assert est.value == pytest.approx(median, abs=1e-12)
    ci = sps.quantile_test(days, q=median, p=0.5).confidence_interval(0.95)
    if math.isnan(ci.low) or math.isnan(ci.high):
        assert len(days) < 6
        assert (est.ci_low, est.ci_high) == (None, None)
    else:
        assert (est.ci_low, est.ci_high) == (ci.low, ci.high)


@pytest.mark.parametrize("seed", CASES)
def test_value_added_share_matches_numpy_delta_method(seed: int) -> None:
    answers = random_answers(seed)
    pairs = [
        (a.contacts_value_added, a.contacts_total)
        for a in answers
        if a.contacts_value_added is not None and a.contacts_total
    ]
    est = estimate("value_added_share", answers)
    assert est.n == len(pairs)
    if not pairs:
        assert est.value is None
        return
    y = np.array([p[0] for p in pairs], dtype=float)
    x = np.array([p[1] for p in pairs], dtype=float)
    ratio = y.sum() / x.sum()
    assert est.value == pytest.approx(100 * ratio, abs=1e-9)
    n = len(pairs)
    if n < 2:
        assert (est.ci_low, est.ci_high) == (None, None)
        return
    var = ((y - ratio * x) ** 2).sum() / ((n - 1) * n * x.mean() ** 2)
    half = Z * math.sqrt(var)
    assert_interval(est, max(0.0, 100 * (ratio - half)), min(100.0, 100 * (ratio + half)))


@pytest.mark.parametrize("seed", CASES)
def test_nps_matches_numpy(seed: int) -> None:
    answers = random_answers(seed)
    scores = np.array([a.nps for a in answers if a.nps is not None])
    est = estimate("nps", answers)
    assert est.n == len(scores)
    if len(scores) == 0:
        assert est.value is None
        return
    p = np.mean(scores >= 9)
    d = np.mean(scores <= 6)
    nps = 100 * (p - d)
    assert est.value == pytest.approx(nps, abs=1e-9)
    half = 100 * Z * math.sqrt((p + d - (p - d) ** 2) / len(scores))
    assert_interval(est, max(-100.0, nps - half), min(100.0, nps + half))


@pytest.mark.parametrize("df", [*range(1, 400), 500, 1000, 5000, 10**4, 10**5, 199_999])
def test_t_quantile_matches_scipy(df: int) -> None:
    assert abs(t_quantile_975(df) - sps.t.ppf(0.975, df)) < 1e-9


@pytest.mark.parametrize("n", [*range(1, 60), 999, 1000, 1001, 12_345, 100_000, 200_000])
def test_median_rank_matches_scipy_binomial(n: int) -> None:
    expected = int(sps.binom(n, 0.5).ppf(0.025))  # smallest k with CDF(k) >= 0.025
    if n < 6:
        assert median_rank(n) is None
    else:
        assert median_rank(n) == expected
        assert sps.binom(n, 0.5).cdf(expected - 1) <= 0.025 < sps.binom(n, 0.5).cdf(expected)


def test_large_median_interval_is_fast_and_right() -> None:
    rng = np.random.default_rng(7)
    days = np.round(rng.gamma(2.0, 3.0, size=200_000), 1)
    values, counts = np.unique(days, return_counts=True)
    stats = AnswerStats(
        responses=len(days),
        quote_days={float(v): int(c) for v, c in zip(values, counts, strict=True)},
    )
    est = compute_indicator(INDICATORS_BY_CODE["quote_turnaround"], stats)
    median = float(np.median(days))
    ci = sps.quantile_test(days, q=median, p=0.5).confidence_interval(0.95)
    assert est.value == pytest.approx(median)
    assert (est.ci_low, est.ci_high) == (ci.low, ci.high)
