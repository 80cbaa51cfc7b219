"""Student's t: the two-sided 95% critical value t(0.975, df), for arrays of df.

One definition, vectorised: a scope's interval and a whole column of scopes use the
same Newton solve (the scalar ``t_quantile_975`` is a column of length one). df may
be fractional (Welch–Satterthwaite); it must be at least 1.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

Z = 1.959963984540054  # standard normal 0.975 quantile
ALPHA_HALF = 0.025
LARGE_DF = 200.0


def _lgamma(values: FloatArray) -> FloatArray:
    return np.fromiter(map(math.lgamma, values.tolist()), np.float64, values.size)


def _betacf(a: FloatArray, b: FloatArray, x: FloatArray) -> FloatArray:
    """Continued fraction for the incomplete beta (modified Lentz), element-wise; each
    element stops at its own convergence, as a scalar loop would.

    The arithmetic is in place (a Welch column solves thousands of t quantiles per
    scoring), and without Lentz's guard against a vanishing denominator: where
    ``regularized_incomplete_beta`` calls it (x below the mean of the beta
    distribution) the denominators stay away from 0; a result that is not finite
    raises rather than pass unnoticed."""
    result = np.empty_like(x)
    index = np.arange(x.size)
    qab, qap = a + b, a + 1.0
    c = np.ones_like(x)
    d = 1.0 / (1.0 - qab * x / qap)
    h = d.copy()
    even, odd, work = np.empty_like(x), np.empty_like(x), np.empty_like(x)
    for m in range(1, 100_000):
        m2 = 2 * m
        # d_2m = m (b - m) x / ((a + 2m - 1)(a + 2m))
        np.add(a, m2, out=even)
        np.subtract(even, 1.0, out=work)
        work *= even
        np.subtract(b, m, out=odd)
        odd *= x
        odd *= m
        odd /= work
        d *= odd
        d += 1.0
        np.divide(1.0, d, out=d)
        np.divide(odd, c, out=c)
        c += 1.0
        np.multiply(d, c, out=work)
        h *= work
        # d_2m+1 = -(a + m)(a + b + m) x / ((a + 2m)(a + 2m + 1)), its sign folded below
        np.add(a, m, out=odd)
        np.add(qab, m, out=work)
        odd *= work
        odd *= x
        np.add(even, 1.0, out=work)
        work *= even
        odd /= work
        d *= odd
        np.subtract(1.0, d, out=d)
        np.divide(1.0, d, out=d)
        np.divide(odd, c, out=c)
        np.subtract(1.0, c, out=c)
        np.multiply(d, c, out=work)
        h *= work
        done = work == 1.0  # |delta - 1| < 1e-16: delta is 1.0 to the bit
        if done.any():
            result[index[done]] = h[done]
            keep = ~done
            if not keep.any():
                if not np.isfinite(result).all():
                    raise ArithmeticError("incomplete beta: a vanishing denominator")
                return result
            index = index[keep]
            a, b, x, qab, c, d, h = (v[keep] for v in (a, b, x, qab, c, d, h))
            even, odd, work = np.empty_like(x), np.empty_like(x), np.empty_like(x)
    raise ArithmeticError("incomplete beta did not converge")  # pragma: no cover


def regularized_incomplete_beta(
    a: FloatArray, b: FloatArray, x: FloatArray, log_beta: FloatArray | None = None
) -> FloatArray:
    """I_x(a, b) for a, b > 0 and 0 <= x <= 1, element-wise."""
    a, b, x = np.broadcast_arrays(
        np.asarray(a, np.float64), np.asarray(b, np.float64), np.asarray(x, np.float64)
    )
    out = np.where(x <= 0.0, 0.0, 1.0)
    inside = (x > 0.0) & (x < 1.0)
    if not inside.any():
        return out
    a, b, x = a[inside], b[inside], x[inside]
    if log_beta is None:
        log_beta = _lgamma(a) + _lgamma(b) - _lgamma(a + b)
    else:
        log_beta = np.broadcast_to(log_beta, inside.shape)[inside]
    front = np.exp(a * np.log(x) + b * np.log1p(-x) - log_beta)
    direct = x < (a + 1.0) / (a + b + 2.0)
    value = np.empty_like(x)
    if direct.any():
        value[direct] = front[direct] * _betacf(a[direct], b[direct], x[direct]) / a[direct]
    flipped = ~direct
    if flipped.any():
        a2, b2, x2 = b[flipped], a[flipped], 1.0 - x[flipped]
        value[flipped] = 1.0 - front[flipped] * _betacf(a2, b2, x2) / b[flipped]
    out[inside] = value
    return out


def t_upper_tails(t: FloatArray, df: FloatArray, log_beta: FloatArray | None = None) -> FloatArray:
    """P(T > t) for Student's t with ``df`` > 0 degrees of freedom, t >= 0."""
    x = df / (df + t * t)
    return 0.5 * regularized_incomplete_beta(df / 2.0, np.full_like(df, 0.5), x, log_beta)


def t_upper_tail(t: float, df: float) -> float:
    return float(t_upper_tails(np.array([t], np.float64), np.array([df], np.float64))[0])


def _t_series(df: FloatArray, terms: int = 4) -> FloatArray:
    """The Cornish-Fisher expansion of t(0.975, df) in powers of 1/df."""
    z = Z
    g = (
        (z**3 + z) / 4,
        (5 * z**5 + 16 * z**3 + 3 * z) / 96,
        (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384,
        (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / 92160,
    )
    total = np.zeros_like(df)
    for k in range(terms):
        total = total + g[k] / df ** (k + 1)
    return z + total


def _newton(df: FloatArray) -> FloatArray:
    """t(0.975, df) for 2 < df <= LARGE_DF by Newton from the Cornish-Fisher start.

    The tail is convex and decreasing, so Newton from below the root climbs to it
    monotonically; the start is below the root for every df >= 1 and within 1e-5 of
    it from df = 10 on. Convergence is quadratic: after a step of relative size 1e-8
    the error left is of order 1e-16. Each element stops at its own convergence.
    """
    t = _t_series(df)
    half_df = df / 2.0
    # (df + 1) / 2 is df / 2 + 0.5 to the bit (halving is exact): two lgamma columns
    lgamma_half, lgamma_half_up = _lgamma(half_df), _lgamma(half_df + 0.5)
    log_beta = lgamma_half + math.lgamma(0.5) - lgamma_half_up
    log_pdf_front = lgamma_half_up - lgamma_half - 0.5 * np.log(df * math.pi)
    active = np.arange(df.size)
    for _ in range(200):
        ta, da = t[active], df[active]
        pdf = np.exp(log_pdf_front[active] - (da + 1) / 2.0 * np.log1p(ta * ta / da))
        step = (t_upper_tails(ta, da, log_beta[active]) - ALPHA_HALF) / pdf
        ta = ta + step
        t[active] = ta
        active = active[~(np.abs(step) <= 1e-8 * ta)]
        if active.size == 0:
            break
    return t


def t_quantiles_975(df: npt.ArrayLike) -> FloatArray:
    """t(0.975, df) element-wise; ValueError if any df is below 1 (or NaN)."""
    df = np.asarray(df, dtype=np.float64)
    if not np.all(df >= 1):
        raise ValueError("degrees of freedom must be at least 1")
    out = np.empty_like(df)
    one, two, large = df == 1, df == 2, df > LARGE_DF
    out[one] = math.tan(math.pi * (0.975 - 0.5))
    p = 0.975
    out[two] = (2 * p - 1) / math.sqrt(2 * p * (1 - p))
    # Far out, lgamma's rounding (~1e-16 of lgamma(df/2)) would dominate the Newton
    # solution; the Cornish-Fisher series (Abramowitz & Stegun 26.7.5) to 1/df⁴ is
    # exact to ~1e-12 there (1e-14 from df = 1000).
    out[large] = _t_series(df[large])
    middle = ~(one | two | large)
    if middle.any():
        # integer df (t intervals) repeat across scopes, and re-scoring unchanged data
        # meets the same Welch df again: solve each value once.
        unique, inverse = np.unique(df[middle], return_inverse=True)
        keys = unique.tolist()
        missing = [key for key in keys if key not in _SOLVED]
        if missing:
            if len(_SOLVED) + len(missing) > _SOLVED_MAX:
                _SOLVED.clear()
            _SOLVED.update(zip(missing, _newton(np.array(missing)).tolist(), strict=True))
        out[middle] = np.array([_SOLVED[key] for key in keys])[inverse]
    return out


_SOLVED: dict[float, float] = {}
_SOLVED_MAX = 65536


def t_quantile_975(df: float) -> float:
    """t(0.975, df) of one df: the column of length one."""
    return float(t_quantiles_975(np.array([df], dtype=np.float64))[0])
