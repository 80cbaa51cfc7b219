"""95% confidence intervals in pure Python (no numpy/scipy at run time).

The tests check every function here against statsmodels and scipy.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Mapping
from fractions import Fraction
from functools import lru_cache

Z = 1.959963984540054  # standard normal 0.975 quantile
ALPHA_HALF = 0.025
Interval = tuple[float, float]


# -- proportions ---------------------------------------------------------------


def wilson_interval(successes: int, n: int, z: float = Z) -> Interval | None:
    """Wilson score interval for ``successes`` of ``n``, as fractions 0-1."""
    if n <= 0:
        return None
    p = successes / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return max(0.0, centre - half), min(1.0, centre + half)


# -- Student t -------------------------------------------------------------------


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction for the incomplete beta (modified Lentz)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = 1.0
    d = 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 100_000):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-16:
            return h
    raise ArithmeticError("incomplete beta did not converge")  # pragma: no cover


def _log_beta(a: float, b: float) -> float:
    return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)


def regularized_incomplete_beta(a: float, b: float, x: float) -> float:
    """I_x(a, b) for a, b > 0 and 0 <= x <= 1."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = a * math.log(x) + b * math.log1p(-x) - _log_beta(a, b)
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _betacf(a, b, x) / a
    return 1.0 - math.exp(log_front) * _betacf(b, a, 1.0 - x) / b


def t_upper_tail(t: float, df: float) -> float:
    """P(T > t) for Student's t with ``df`` > 0 (fractional allowed) degrees of freedom, t >= 0."""
    x = df / (df + t * t)
    return 0.5 * regularized_incomplete_beta(df / 2.0, 0.5, x)


def _t_pdf(t: float, df: float) -> float:
    log_pdf = (
        math.lgamma((df + 1) / 2.0)
        - math.lgamma(df / 2.0)
        - 0.5 * math.log(df * math.pi)
        - (df + 1) / 2.0 * math.log1p(t * t / df)
    )
    return math.exp(log_pdf)


LARGE_DF = 200.0


def _t_series(df: float, terms: int = 4) -> float:
    """The Cornish-Fisher expansion of t(0.975, df) in powers of 1/df."""
    z = Z
    g = (
        (z**3 + z) / 4,
        (5 * z**5 + 16 * z**3 + 3 * z) / 96,
        (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384,
        (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / 92160,
    )
    return z + sum(g[k] / df ** (k + 1) for k in range(terms))


# Welch's df are fractional and differ per scope: a dashboard re-scored after a data change
# meets the same ones again (about 20 µs each to compute).
@lru_cache(maxsize=65536)
def t_quantile_975(df: float) -> float:
    """t(0.975, df), the two-sided 95% critical value of Student's t.

    ``df`` may be fractional (Welch–Satterthwaite); it must be at least 1.
    """
    if not df >= 1:  # also rejects NaN
        raise ValueError("degrees of freedom must be at least 1")
    if df == 1:
        return math.tan(math.pi * (0.975 - 0.5))
    if df == 2:
        p = 0.975
        return (2 * p - 1) / math.sqrt(2 * p * (1 - p))
    if df > LARGE_DF:
        # Far out, lgamma's rounding (~1e-16 of lgamma(df/2)) would dominate the
        # Newton solution; the Cornish-Fisher series (Abramowitz & Stegun
        # 26.7.5) to 1/df⁴ is exact to ~1e-12 there (1e-14 from df = 1000).
        return _t_series(df)
    # Cornish-Fisher start, then Newton. The tail is convex and decreasing,
    # so Newton from below the root climbs to it monotonically; the start is
    # below the root for every df >= 1 (the t quantile exceeds its expansion),
    # and within 1e-5 of it from df = 10 on. Convergence is quadratic: after a
    # step of relative size 1e-8 the error left is of order 1e-16.
    t = _t_series(df)
    for _ in range(200):
        step = (t_upper_tail(t, df) - ALPHA_HALF) / _t_pdf(t, df)
        t += step
        if abs(step) <= 1e-8 * t:
            break
    return t


def t_interval(n: int, total: float, sum_squares: float) -> Interval | None:
    """mean ± t(0.975, n−1)·s/√n from n, Σx and Σx² (exact for ints)."""
    if n < 2:
        return None
    if type(total) is int and type(sum_squares) is int:
        # s² = (nΣx² − (Σx)²) / (n(n−1)) exactly: int / int is correctly rounded,
        # so this is the same float as the Fraction path below, only faster.
        variance_ints = _sample_variance(n, total, sum_squares)
        half = t_quantile_975(n - 1) * math.sqrt(variance_ints / n)
        centre = total / n
        return centre - half, centre + half
    mean = Fraction(total) / n
    ss = Fraction(sum_squares) - Fraction(total) * Fraction(total) / n
    variance = max(Fraction(0), ss / (n - 1))
    half = t_quantile_975(n - 1) * math.sqrt(float(variance) / n)
    centre = float(mean)
    return centre - half, centre + half


# -- median ----------------------------------------------------------------------


@lru_cache(maxsize=4096)
def median_rank(n: int) -> int | None:
    """l, the largest integer with P(Binomial(n, ½) <= l−1) <= 0.025.

    The interval is then [x₍l₎, x₍n+1−l₎]. None when no l >= 1 exists
    (n < 6). Exact integer arithmetic up to n = 1000, log space beyond,
    starting 20 standard deviations below the mean (the mass below is
    under 1e-80).
    """
    if n < 1:
        return None
    if n <= 1000:
        limit = 2**n  # compare 40·Σ C(n, i) with 2ⁿ, i.e. CDF with 1/40
        cumulative = 0
        k = -1
        term = 1
        while True:
            cumulative += term
            if 40 * cumulative > limit:
                break
            k += 1
            term = term * (n - k) // (k + 1)
        return k + 1 if k >= 0 else None
    sd = math.sqrt(n) / 2.0
    start = max(0, int(n / 2.0 - 20.0 * sd))
    log_term = (
        math.lgamma(n + 1) - math.lgamma(start + 1) - math.lgamma(n - start + 1) - n * math.log(2.0)
    )
    term_value = math.exp(log_term)
    probability = 0.0
    i = start
    while True:
        probability += term_value
        if probability > ALPHA_HALF:
            break
        term_value *= (n - i) / (i + 1)
        i += 1
    # i is the first k with CDF(k) > 0.025, so l − 1 = i − 1
    return i if i >= 1 else None


class SortedHistogram:
    """Order statistics of a value -> count histogram, 1-based."""

    def __init__(self, histogram: Mapping[float, int]) -> None:
        self.values = sorted(v for v, c in histogram.items() if c > 0)
        self.cumulative: list[int] = []
        running = 0
        for value in self.values:
            running += histogram[value]
            self.cumulative.append(running)
        self.n = running

    def order_statistic(self, k: int) -> float:
        if not 1 <= k <= self.n:
            raise IndexError(f"order statistic {k} of {self.n}")
        return self.values[bisect_left(self.cumulative, k)]

    def median(self) -> float | None:
        if self.n == 0:
            return None
        if self.n % 2:
            return self.order_statistic((self.n + 1) // 2)
        low = self.order_statistic(self.n // 2)
        high = self.order_statistic(self.n // 2 + 1)
        return (low + high) / 2.0


def median_interval(histogram: SortedHistogram) -> Interval | None:
    rank = median_rank(histogram.n)
    if rank is None:
        return None
    return (
        histogram.order_statistic(rank),
        histogram.order_statistic(histogram.n + 1 - rank),
    )


# -- ratio and NPS ----------------------------------------------------------------


def ratio_variance(
    n: int, sum_y: int, sum_x: int, sum_yy: int, sum_xx: int, sum_xy: int
) -> float | None:
    """var(R) of R = Σy/Σx by the delta method: Σ(y − Rx)² / ((n−1)·n·x̄²), as a fraction².

    Σ(y − Rx)² is computed exactly with integers, so there is no cancellation
    however large the sums. None for n < 2 or Σx <= 0.
    """
    if n < 2 or sum_x <= 0:
        return None
    # Σ(y − Rx)² · (Σx)², an integer; one int / int division (correctly rounded)
    # gives var(R) = Σ(y − Rx)² · n / ((n−1) · (Σx)²) without any cancellation.
    residual_scaled = sum_yy * sum_x * sum_x - 2 * sum_y * sum_x * sum_xy + sum_y * sum_y * sum_xx
    return max(0, residual_scaled) * n / ((n - 1) * sum_x**4)


def ratio_interval(
    n: int, sum_y: int, sum_x: int, sum_yy: int, sum_xx: int, sum_xy: int
) -> Interval | None:
    """R ± z·√var(R), R = Σy/Σx, var = Σ(y − Rx)² / ((n−1)·n·x̄²)."""
    variance = ratio_variance(n, sum_y, sum_x, sum_yy, sum_xx, sum_xy)
    if variance is None:
        return None
    half = Z * math.sqrt(variance)
    centre = sum_y / sum_x
    return centre - half, centre + half


def nps_variance(n: int, promoters: int, detractors: int) -> float | None:
    """(P + D − (P − D)²) / n with P, D the promoter and detractor shares (fractions)."""
    if n <= 0:
        return None
    # with P, D as counts: ((p + d)·n − (p − d)²) / n³, exactly.
    net = promoters - detractors
    return max(0, (promoters + detractors) * n - net * net) / n**3


def nps_interval(n: int, promoters: int, detractors: int) -> Interval | None:
    """NPS ± 100·z·√((P + D − (P − D)²)/n), in points."""
    variance = nps_variance(n, promoters, detractors)
    if variance is None:
        return None
    half = 100.0 * Z * math.sqrt(variance)
    centre = 100 * (promoters - detractors) / n
    return centre - half, centre + half


# -- differences between two periods ---------------------------------------------


def newcombe_difference(x1: int, n1: int, x2: int, n2: int) -> Interval | None:
    """Newcombe's hybrid score interval for p₁ − p₂ (fractions), p = x / n.

    From the two Wilson intervals (l₁, u₁), (l₂, u₂):
    [d − √((p₁ − l₁)² + (u₂ − p₂)²), d + √((u₁ − p₁)² + (p₂ − l₂)²)]
    (Newcombe 1998, method 10; statsmodels ``confint_proportions_2indep``
    with ``method="newcomb", compare="diff"``). None when either n is 0.
    """
    first = wilson_interval(x1, n1)
    second = wilson_interval(x2, n2)
    if first is None or second is None:
        return None
    p1, p2 = x1 / n1, x2 / n2
    difference = p1 - p2
    below = math.hypot(p1 - first[0], second[1] - p2)
    above = math.hypot(first[1] - p1, p2 - second[0])
    return difference - below, difference + above


def _sample_variance(n: int, total: int, sum_squares: int) -> float:
    """s² with n − 1, from integer sums, as one correctly rounded division."""
    return max(0, n * sum_squares - total * total) / (n * (n - 1))


def welch_difference(
    n1: int, total1: int, sum_squares1: int, n2: int, total2: int, sum_squares2: int
) -> Interval | None:
    """Welch's 95% interval for mean₁ − mean₂ (unequal variances).

    (m₁ − m₂) ± t(0.975, ν)·√(s₁²/n₁ + s₂²/n₂), ν by Welch–Satterthwaite:
    (v₁ + v₂)² / (v₁²/(n₁−1) + v₂²/(n₂−1)), vᵢ = sᵢ²/nᵢ. None when either n < 2.
    When both samples have no spread the interval is the difference itself.
    """
    if n1 < 2 or n2 < 2:
        return None
    v1 = _sample_variance(n1, total1, sum_squares1) / n1
    v2 = _sample_variance(n2, total2, sum_squares2) / n2
    difference = total1 / n1 - total2 / n2
    if v1 + v2 == 0:
        return difference, difference
    df = (v1 + v2) ** 2 / (v1 * v1 / (n1 - 1) + v2 * v2 / (n2 - 1))
    # ν lies between min(n₁, n₂) − 1 and n₁ + n₂ − 2 mathematically; keep rounding inside.
    df = min(max(df, float(min(n1, n2) - 1)), float(n1 + n2 - 2))
    half = t_quantile_975(df) * math.sqrt(v1 + v2)
    return difference - half, difference + half


def normal_difference(
    difference: float, variance1: float | None, variance2: float | None
) -> Interval | None:
    """difference ± z·√(var₁ + var₂); None when either variance is missing."""
    if variance1 is None or variance2 is None:
        return None
    half = Z * math.sqrt(variance1 + variance2)
    return difference - half, difference + half
