"""Comparing CPIs with internal KPIs and targets.

KPI resolution (``resolve_kpi``), in this order:

1. The scope's own row for the indicator and period: the account's row for
   an account scope; the segment row (no account, that segment) for a
   segment scope; the row naming neither for the company. An owner's
   portfolio never has a row of its own. ``derived`` is False.
2. Otherwise, derived from the *account* rows of the accounts in scope for
   that period: Σ numerator / Σ denominator (×100 for percent indicators)
   when every such row gives both and Σ denominator > 0, else the unweighted
   mean of the account values. (A company scope with an empty
   ``account_ids`` takes every account row.) A row without a value but with numerator and
   denominator counts with numerator/denominator as its value; a row with
   neither is ignored.
3. For a year still without a figure: each of its quarters is resolved by
   1-2, then combined the same way: Σ/Σ over the quarters when every
   resolved quarter carries a numerator and denominator (its own row's, or
   the Σ of its account rows), else the unweighted mean of the quarter
   values. Quarters without any KPI are left out.

Targets (``find_target``) match the indicator and the period; a year without
a year row of its own (for its segment or company-wide) takes the mean of its
quarters' targets, each quarter resolved the same way (segment row first),
over the quarters that have one; the tolerance likewise. None when no quarter
has a target.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from scoring_oracle.catalogue import Indicator
from scoring_oracle.periods import Period

ScopeType = Literal["account", "segment", "owner", "company"]
Status = Literal["insufficient", "green", "amber", "red"]


@dataclass(frozen=True)
class KpiRow:
    """An imported KPI figure. ``account_id`` set: an account row;
    only ``segment`` set: a segment row; neither: company-wide."""

    indicator: str
    period: str
    account_id: str | None
    segment: str | None
    value: float | None
    numerator: float | None = None
    denominator: float | None = None

    @property
    def has_fraction(self) -> bool:
        return self.numerator is not None and self.denominator is not None and self.denominator != 0

    def value_for(self, indicator: Indicator) -> float | None:
        """The row's value, else numerator/denominator (as percent)."""
        if self.value is not None:
            return float(self.value)
        if self.has_fraction:
            assert self.numerator is not None and self.denominator is not None
            scale = 100.0 if indicator.is_percent else 1.0
            return scale * float(self.numerator) / float(self.denominator)
        return None


@dataclass(frozen=True)
class TargetRow:
    indicator: str
    period: str
    segment: str | None
    target: float
    tolerance: float | None = None


@dataclass(frozen=True)
class Scope:
    """Whose answers are pooled. ``segment`` is the account's segment for an
    account scope, the segment itself for a segment scope, else None."""

    type: ScopeType
    id: str | None
    name: str | None
    account_ids: frozenset[str]
    segment: str | None = None


@dataclass(frozen=True)
class _Figure:
    value: float
    numerator: float | None = None
    denominator: float | None = None


def _blank(text: str | None) -> bool:
    return text is None or text.strip() == ""


def _same_period(text: str, period: Period) -> bool:
    try:
        return Period.parse(text) == period
    except ValueError:
        return False


def _own_row(scope: Scope, rows: Sequence[KpiRow]) -> KpiRow | None:
    for row in rows:
        no_account = _blank(row.account_id)
        no_segment = _blank(row.segment)
        if scope.type == "account" and not no_account and row.account_id == scope.id:
            return row
        if (
            scope.type == "segment"
            and no_account
            and not no_segment
            and row.segment == scope.segment
        ):
            return row
        if scope.type == "company" and no_account and no_segment:
            return row
    return None


def _combine(indicator: Indicator, figures: Sequence[_Figure]) -> _Figure | None:
    if not figures:
        return None
    if all(f.numerator is not None and f.denominator is not None for f in figures):
        numerator = sum(f.numerator or 0.0 for f in figures)
        denominator = sum(f.denominator or 0.0 for f in figures)
        if denominator:
            scale = 100.0 if indicator.is_percent else 1.0
            return _Figure(scale * numerator / denominator, numerator, denominator)
    return _Figure(sum(f.value for f in figures) / len(figures))


def _figure(indicator: Indicator, row: KpiRow) -> _Figure | None:
    value = row.value_for(indicator)
    if value is None:
        return None
    if row.has_fraction:
        assert row.numerator is not None and row.denominator is not None
        return _Figure(value, float(row.numerator), float(row.denominator))
    return _Figure(value)


def _resolve_single(
    indicator: Indicator, scope: Scope, period: Period, rows: Sequence[KpiRow]
) -> tuple[_Figure | None, bool]:
    in_period = [
        r for r in rows if r.indicator == indicator.code and _same_period(r.period, period)
    ]
    own = _own_row(scope, in_period)
    if own is not None:
        figure = _figure(indicator, own)
        if figure is not None:
            return figure, False
    if scope.type == "account":
        return None, False
    # a company scope with no account list means every account
    everyone = scope.type == "company" and not scope.account_ids
    account_figures = [
        f
        for r in in_period
        if not _blank(r.account_id) and (r.account_id in scope.account_ids or everyone)
        for f in [_figure(indicator, r)]
        if f is not None
    ]
    return _combine(indicator, account_figures), True


def resolve_kpi(
    indicator: Indicator,
    scope: Scope,
    period: Period | str,
    kpi_rows: Iterable[KpiRow],
) -> tuple[float | None, bool]:
    """The scope's KPI and whether it was derived (see the module docs)."""
    period = Period.parse(period)
    rows = [r for r in kpi_rows if r.indicator == indicator.code]
    figure, derived = _resolve_single(indicator, scope, period, rows)
    if figure is None and period.is_year:
        quarter_figures = [
            f
            for q in period.quarters()
            for f in [_resolve_single(indicator, scope, q, rows)[0]]
            if f is not None
        ]
        figure, derived = _combine(indicator, quarter_figures), True
    if figure is None:
        return None, False
    return figure.value, derived


def _target_of_period(
    indicator: Indicator, scope: Scope, period: Period, rows: Sequence[TargetRow]
) -> tuple[float, float] | None:
    company: TargetRow | None = None
    segment: TargetRow | None = None
    for row in rows:
        if row.indicator != indicator.code or not _same_period(row.period, period):
            continue
        if _blank(row.segment):
            company = company or row
        elif scope.segment is not None and row.segment == scope.segment:
            segment = segment or row
    chosen = segment or company
    if chosen is None:
        return None
    target = float(chosen.target)
    tolerance = float(chosen.tolerance) if chosen.tolerance is not None else 0.1 * abs(target)
    return target, tolerance


def find_target(
    indicator: Indicator,
    scope: Scope,
    period: Period | str,
    target_rows: Iterable[TargetRow],
) -> tuple[float | None, float | None]:
    """(target, tolerance): the scope's segment row beats the company-wide
    row; tolerance defaults to 10% of |target|. A year without a row of its
    own: the mean of its quarters' (target, tolerance), over the quarters that
    have a target (see the module docs)."""
    period = Period.parse(period)
    rows = [row for row in target_rows if row.indicator == indicator.code]
    own = _target_of_period(indicator, scope, period, rows)
    if own is not None:
        return own
    if period.is_year:
        quarterly = [
            found
            for quarter in period.quarters()
            for found in [_target_of_period(indicator, scope, quarter, rows)]
            if found is not None
        ]
        if quarterly:
            count = len(quarterly)
            return (
                sum(target for target, _ in quarterly) / count,
                sum(tolerance for _, tolerance in quarterly) / count,
            )
    return None, None


def status(
    indicator: Indicator,
    n: int,
    value: float | None,
    target: float | None,
    tolerance: float | None,
    min_n: int = 5,
) -> Status | None:
    """``insufficient`` below min_n answers (whether or not there is a
    target); else green/amber/red against the target, mirrored for
    lower-is-better indicators; None without a target or a value."""
    if n < min_n:
        return "insufficient"
    if value is None or target is None:
        return None
    slack = tolerance if tolerance is not None else 0.1 * abs(target)
    if indicator.better == "higher":
        if value >= target:
            return "green"
        return "amber" if value >= target - slack else "red"
    if value <= target:
        return "green"
    return "amber" if value <= target + slack else "red"


def status_certain(
    indicator: Indicator,
    current: Status | None,
    ci_low: float | None,
    ci_high: float | None,
    target: float | None,
    tolerance: float | None,
) -> bool | None:
    """Whether the whole interval lies in the status's band.

    None when the status is None or ``insufficient``; False without an
    interval. For "higher is better": green needs low ≥ target; amber needs
    low ≥ target − tolerance and high < target; red needs high < target −
    tolerance. Mirrored for "lower is better" (green: high ≤ target; amber:
    low > target and high ≤ target + tolerance; red: low > target + tolerance),
    the same inclusive boundaries as ``status``.
    """
    if current is None or current == "insufficient" or target is None:
        return None
    if ci_low is None or ci_high is None:
        return False
    slack = tolerance if tolerance is not None else 0.1 * abs(target)
    if indicator.better == "higher":
        if current == "green":
            return ci_low >= target
        if current == "amber":
            return ci_low >= target - slack and ci_high < target
        return ci_high < target - slack
    if current == "green":
        return ci_high <= target
    if current == "amber":
        return ci_low > target and ci_high <= target + slack
    return ci_low > target + slack
