"""Change intervals (delta_low, delta_high, delta_significant) against statsmodels and scipy.

Each seeded case draws two periods of answers from different distributions (so
that some changes are real), scores the current quarter with ``score_scope`` and
recomputes the interval of the change from the raw answers with the reference
libraries. ``delta`` = current − previous, so the current period is sample 1.
"""

import math
import warnings

import numpy as np
import pytest
import scoring_oracle as oracle
from scipy import stats as sps
from statsmodels.stats.proportion import confint_proportions_2indep

from cpi.scoring import (
    INDICATORS_BY_CODE,
    Answers,
    AnswerStats,
    Scope,
    change_interval,
    compute_indicator,
    newcombe_difference,
    score_scope,
    t_quantile_975,
    welch_difference,
)
from cpi.scoring.intervals import t_quantiles_975

Z = 1.959963984540054
CASES = range(300)
MIN_N = 5
ACME = Scope("account", "ACME-001", "Acme", frozenset({"ACME-001"}), "industrial")
SIZES = [0, 1, 2, 4, 5, 6, 8, 12, 20, 40, 80, 250]


def period_answers(rng: np.random.Generator, n: int) -> list[Answers]:
    """n respondents; each period has its own tilt, so changes are sometimes real."""
    yes = rng.uniform(0.05, 0.95)
    high_ces = int(rng.integers(1, 8))
    nps_weights = rng.dirichlet(np.ones(11) * rng.uniform(0.3, 3))
    csat_weights = rng.dirichlet(np.ones(5))
    share = rng.uniform(0, 1)
    days_scale = rng.uniform(1, 30)
    answers = []
    for _ in range(n):
        blank = rng.random(7) < 0.1
        total = int(rng.integers(0, 25))
        added = int(rng.binomial(total, share))
        ces = int(np.clip(high_ces + rng.integers(-1, 2), 1, 7))
        answers.append(
            Answers(
                fcr=None if blank[0] else ("yes" if rng.random() < yes else "no"),
                contacts_total=None if blank[1] else total,
                contacts_value_added=None if blank[2] else added,
                quote_turnaround_days=None if blank[3] else round(rng.exponential(days_scale), 1),
                csat=None if blank[4] else int(rng.choice(5, p=csat_weights)) + 1,
                nps=None if blank[5] else int(rng.choice(11, p=nps_weights)),
                ces=None if blank[6] else ces,
            )
        )
    return answers


def two_periods(seed: int) -> tuple[list[Answers], list[Answers], dict]:  # type: ignore[type-arg]
    rng = np.random.default_rng(10_000 + seed)
    current = period_answers(rng, int(rng.choice(SIZES)))
    previous = period_answers(rng, int(rng.choice(SIZES)))
    stats = {
        "2026-Q3": AnswerStats.from_answers(current),
        "2026-Q2": AnswerStats.from_answers(previous),
    }
    card = score_scope(ACME, "2026-Q3", stats, [], [], min_n=MIN_N)
    return current, previous, {r.code: r for r in card.indicators}


def assert_change(result, low: float, high: float, span: float) -> None:  # type: ignore[no-untyped-def]
    low, high = max(-span, low), min(span, high)
    assert result.delta_low == pytest.approx(low, abs=1e-9)
    assert result.delta_high == pytest.approx(high, abs=1e-9)
    assert result.delta_low <= result.delta <= result.delta_high
    assert result.delta_significant is bool(low > 0 or high < 0)


def assert_none(result) -> None:  # type: ignore[no-untyped-def]
    assert (result.delta_low, result.delta_high, result.delta_significant) == (None, None, False)


SIGNIFICANT: dict[str, set[bool]] = {}


@pytest.mark.parametrize("seed", CASES)
@pytest.mark.parametrize("code", ["fcr", "csat"])
def test_proportions_match_statsmodels_newcombe(seed: int, code: str) -> None:
    current, previous, results = two_periods(seed)
    result = results[code]

    def successes(answers: list[Answers]) -> tuple[int, int]:
        if code == "fcr":
            usable = [a.fcr == "yes" for a in answers if a.fcr in ("yes", "no")]
        else:
            usable = [a.csat >= 4 for a in answers if a.csat is not None]
        return sum(usable), len(usable)

    (x1, n1), (x2, n2) = successes(current), successes(previous)
    if min(n1, n2) < MIN_N:
        assert_none(result)
        return
    low, high = confint_proportions_2indep(x1, n1, x2, n2, method="newcomb", compare="diff")
    assert result.delta == pytest.approx(100 * (x1 / n1 - x2 / n2), abs=1e-9)
    assert_change(result, 100 * low, 100 * high, 100)
    SIGNIFICANT.setdefault(code, set()).add(result.delta_significant)


@pytest.mark.parametrize("seed", CASES)
@pytest.mark.parametrize(
    ("code", "field", "span"),
    [("value_added_calls", "contacts_value_added", 999), ("ces", "ces", 6)],
)
def test_means_match_scipy_welch(seed: int, code: str, field: str, span: float) -> None:
    current, previous, results = two_periods(seed)
    result = results[code]
    a = np.array([getattr(x, field) for x in current if getattr(x, field) is not None], float)
    b = np.array([getattr(x, field) for x in previous if getattr(x, field) is not None], float)
    if min(len(a), len(b)) < MIN_N:
        assert_none(result)
        return
    if a.var() == 0 and b.var() == 0:  # scipy gives nan; no spread: the difference itself
        difference = a.mean() - b.mean()
        assert (result.delta_low, result.delta_high) == (difference, difference)
        assert result.delta_significant is bool(difference != 0)
        return
    with warnings.catch_warnings():  # one sample without spread: scipy warns, and is exact
        warnings.simplefilter("ignore", RuntimeWarning)
        ci = sps.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
    assert_change(result, ci.low, ci.high, span)
    SIGNIFICANT.setdefault(code, set()).add(result.delta_significant)


@pytest.mark.parametrize("seed", CASES)
def test_nps_difference_matches_numpy(seed: int) -> None:
    current, previous, results = two_periods(seed)
    result = results["nps"]
    a = np.array([x.nps for x in current if x.nps is not None])
    b = np.array([x.nps for x in previous if x.nps is not None])
    if min(len(a), len(b)) < MIN_N:
        assert_none(result)
        return

    def share_and_variance(scores: np.ndarray) -> tuple[float, float]:
        p, d = np.mean(scores >= 9), np.mean(scores <= 6)
        return p - d, (p + d - (p - d) ** 2) / len(scores)

    (nps1, var1), (nps2, var2) = share_and_variance(a), share_and_variance(b)
    half = Z * math.sqrt(var1 + var2)
    assert_change(result, 100 * (nps1 - nps2 - half), 100 * (nps1 - nps2 + half), 200)
    SIGNIFICANT.setdefault("nps", set()).add(result.delta_significant)


@pytest.mark.parametrize("seed", CASES)
def test_value_added_share_difference_matches_numpy_delta_method(seed: int) -> None:
    current, previous, results = two_periods(seed)
    result = results["value_added_share"]

    def pairs(answers: list[Answers]) -> tuple[np.ndarray, np.ndarray]:
        kept = [
            (x.contacts_value_added, x.contacts_total)
            for x in answers
            if x.contacts_value_added is not None and x.contacts_total
        ]
        return np.array([y for y, _ in kept], float), np.array([x for _, x in kept], float)

    (y1, x1), (y2, x2) = pairs(current), pairs(previous)
    if min(len(y1), len(y2)) < MIN_N:
        assert_none(result)
        return

    def ratio_and_variance(y: np.ndarray, x: np.ndarray) -> tuple[float, float]:
        r = y.sum() / x.sum()
        n = len(y)
        return r, float(np.sum((y - r * x) ** 2) / ((n - 1) * n * x.mean() ** 2))

    (r1, v1), (r2, v2) = ratio_and_variance(y1, x1), ratio_and_variance(y2, x2)
    half = Z * math.sqrt(v1 + v2)
    assert_change(result, 100 * (r1 - r2 - half), 100 * (r1 - r2 + half), 100)
    SIGNIFICANT.setdefault("value_added_share", set()).add(result.delta_significant)


@pytest.mark.parametrize("seed", CASES)
def test_median_change_is_significant_when_scipy_intervals_do_not_overlap(seed: int) -> None:
    current, previous, results = two_periods(seed)
    result = results["quote_turnaround"]
    assert (result.delta_low, result.delta_high) == (None, None)
    a = np.array([x.quote_turnaround_days for x in current if x.quote_turnaround_days is not None])
    b = np.array([x.quote_turnaround_days for x in previous if x.quote_turnaround_days is not None])
    if min(len(a), len(b)) < max(MIN_N, 6):  # no order-statistic interval below n = 6
        assert result.delta_significant is False
        return
    first = sps.quantile_test(a, q=np.median(a)).confidence_interval(0.95)
    second = sps.quantile_test(b, q=np.median(b)).confidence_interval(0.95)
    apart = first.low > second.high or first.high < second.low
    assert result.delta_significant is bool(apart)
    SIGNIFICANT.setdefault("quote_turnaround", set()).add(bool(apart))


def test_the_seeded_cases_hold_both_significant_and_insignificant_changes() -> None:
    # runs after the parametrised cases above (file order): every kind saw both outcomes
    for code in ("fcr", "csat", "value_added_calls", "ces", "nps", "value_added_share"):
        assert SIGNIFICANT.get(code) == {True, False}, code
    assert True in SIGNIFICANT.get("quote_turnaround", set())


# -- the t quantile at fractional degrees of freedom ------------------------------


@pytest.mark.parametrize("seed", range(60))
def test_t_quantile_matches_scipy_for_fractional_df(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for df in (rng.uniform(1, 2), rng.uniform(2, 10), rng.uniform(10, 400), rng.uniform(1e3, 1e6)):
        assert t_quantile_975(float(df)) == pytest.approx(sps.t.ppf(0.975, df), rel=1e-10)


def test_t_quantile_columns_match_scipy_and_the_oracle_to_1e13() -> None:
    # a column over both ways the solve evaluates the tail (below df 40 and from there)
    df = np.concatenate([np.linspace(2.001, 200.0, 3000), [39.999, 40.0, 40.001, 200.0]])
    got = t_quantiles_975(df)
    assert np.max(np.abs(got - sps.t.ppf(0.975, df)) / got) < 1e-13
    want = np.array([oracle.t_quantile_975(float(v)) for v in df])
    assert np.max(np.abs(got - want) / got) < 1e-13


def test_t_quantile_refuses_df_below_one() -> None:
    for bad in (0.999, 0, -1, math.nan):
        with pytest.raises(ValueError, match="degrees of freedom"):
            t_quantile_975(bad)


# -- edges ---------------------------------------------------------------------------


def test_newcombe_at_zero_and_all_successes() -> None:
    for x1, n1, x2, n2 in [(0, 5, 0, 7), (5, 5, 7, 7), (0, 5, 7, 7), (5, 5, 0, 9), (0, 1, 1, 1)]:
        low, high = confint_proportions_2indep(x1, n1, x2, n2, method="newcomb", compare="diff")
        got = newcombe_difference(x1, n1, x2, n2)
        assert got is not None
        assert got == (pytest.approx(low, abs=1e-12), pytest.approx(high, abs=1e-12))
        assert -1.0 <= got[0] <= got[1] <= 1.0
    assert newcombe_difference(0, 0, 3, 5) is None
    # all no → all yes is a real change; all no in both is not
    assert newcombe_difference(6, 6, 0, 6)[0] > 0  # type: ignore[index]
    low, high = newcombe_difference(0, 6, 0, 6)  # type: ignore[misc]
    assert low < 0 < high


def test_welch_without_spread_and_below_two() -> None:
    assert welch_difference(5, 35, 245, 5, 30, 180) == (1.0, 1.0)  # all 7 vs all 6
    assert welch_difference(5, 35, 245, 5, 35, 245) == (0.0, 0.0)
    assert welch_difference(1, 7, 49, 5, 30, 180) is None
    # one side without spread: df = n₂ − 1 and the interval is the other side's t interval
    low, high = welch_difference(5, 35, 245, 4, 18, 86)  # type: ignore[misc]
    b = np.array([3.0, 4.0, 5.0, 6.0])
    half = sps.t.ppf(0.975, 3) * b.std(ddof=1) / 2
    assert (low, high) == (pytest.approx(7 - 4.5 - half), pytest.approx(7 - 4.5 + half))


def stats_of(**answers: list) -> AnswerStats:  # type: ignore[type-arg]
    n = max(len(v) for v in answers.values())
    return AnswerStats.from_answers(
        [Answers(**{k: v[i] for k, v in answers.items() if i < len(v)}) for i in range(n)]
    )


def test_zero_variance_means_are_significant_when_they_differ() -> None:
    stats = {"2026-Q3": stats_of(ces=[7] * 6), "2026-Q2": stats_of(ces=[6] * 6)}
    ces = score_scope(ACME, "2026-Q3", stats, [], []).indicator("ces")
    assert (ces.delta, ces.delta_low, ces.delta_high, ces.delta_significant) == (1, 1, 1, True)
    stats = {"2026-Q3": stats_of(ces=[7] * 6), "2026-Q2": stats_of(ces=[7] * 6)}
    ces = score_scope(ACME, "2026-Q3", stats, [], []).indicator("ces")
    assert (ces.delta, ces.delta_low, ces.delta_high, ces.delta_significant) == (0, 0, 0, False)


def test_below_min_n_or_missing_previous_gives_no_interval() -> None:
    big = stats_of(fcr=["yes"] * 40, nps=[10] * 40, ces=[7] * 20 + [1] * 20)
    small = stats_of(fcr=["no"] * 4, nps=[0] * 4, ces=[1] * 4)
    for stats in (
        {"2026-Q3": big},  # no previous quarter at all
        {"2026-Q3": big, "2026-Q2": small},  # previous below min_n
        {"2026-Q3": small, "2026-Q2": big},  # current below min_n
    ):
        card = score_scope(ACME, "2026-Q3", stats, [], [], min_n=5)
        for result in card.indicators:
            assert_none(result)
    # with min_n = 4 the same 4 answers count, and the slides are real
    card = score_scope(ACME, "2026-Q3", {"2026-Q3": small, "2026-Q2": big}, [], [], min_n=4)
    for code in ("fcr", "nps", "ces"):
        assert card.indicator(code).delta_significant is True, code
        assert card.indicator(code).delta_high < 0


def test_nps_change_is_clipped_to_its_range() -> None:
    # all promoters → all detractors with one answer each side (min_n = 1)
    stats = {"2026-Q3": stats_of(nps=[0]), "2026-Q2": stats_of(nps=[10])}
    nps = score_scope(ACME, "2026-Q3", stats, [], [], min_n=1).indicator("nps")
    # zero variance on both sides: the interval is the change itself
    assert (nps.delta, nps.delta_low, nps.delta_high) == (-200, -200, -200)
    # NPS 0 (var ½) after −100 (var 0): 100 ± 196·√½ reaches past +200
    stats = {"2026-Q3": stats_of(nps=[0, 10]), "2026-Q2": stats_of(nps=[0])}
    nps = score_scope(ACME, "2026-Q3", stats, [], [], min_n=1).indicator("nps")
    assert nps.delta == 100 and nps.delta_high == 200
    assert nps.delta_low == pytest.approx(100 - 100 * Z * math.sqrt(0.5))


def test_change_interval_of_a_median_without_intervals() -> None:
    indicator = INDICATORS_BY_CODE["quote_turnaround"]
    current = stats_of(quote_turnaround_days=[1.0] * 5)
    previous = stats_of(quote_turnaround_days=[30.0] * 5)
    change = change_interval(
        indicator, current, previous,
        compute_indicator(indicator, current), compute_indicator(indicator, previous), min_n=5,
    )  # fmt: skip
    assert (change.low, change.high, change.significant) == (None, None, False)  # n < 6
    current = stats_of(quote_turnaround_days=[1.0] * 6)
    previous = stats_of(quote_turnaround_days=[30.0] * 6)
    change = change_interval(
        indicator, current, previous,
        compute_indicator(indicator, current), compute_indicator(indicator, previous), min_n=5,
    )  # fmt: skip
    assert (change.low, change.high, change.significant) == (None, None, True)
