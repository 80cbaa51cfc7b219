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

Both are answered from indexes built once per set of rows (``KpiIndex``,
``TargetIndex``): each row's period is parsed once, and a scope's own row is a
dictionary look-up, so scoring thousands of scopes never rescans the rows.

Targets (``find_target``) match the indicator and the period; a year without
a year row of its own (for its segment or company-wide) takes the mean of its
quarters' targets, each quarter resolved the same way (segment row first),
over the quarters that have one; the tolerance likewise. None when no quarter
has a target.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import compress
from operator import itemgetter, not_
from typing import Literal, NamedTuple

import numpy as np
import numpy.typing as npt

from cpi.scoring.catalogue import INDICATORS_BY_CODE, Indicator
from cpi.scoring.periods import Period

ScopeType = Literal["account", "segment", "owner", "company"]


class KpiRow(NamedTuple):
    """An imported KPI figure. ``account_id`` set: an account row;
    only ``segment`` set: a segment row; neither: company-wide. (A NamedTuple: a
    load builds thousands, and a frozen dataclass costs several times more each.)"""

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


@dataclass(frozen=True, slots=True)  # slots: one object less per scope (thousands a load)
class Scope:
    """Whose answers are pooled. ``segment`` is the account's segment for an
    account scope, the segment itself for a segment scope, else None."""

    type: ScopeType
    id: str | None
    name: str | None
    account_ids: frozenset[str]
    segment: str | None = None


class _Figure(NamedTuple):
    # a NamedTuple, not a dataclass: one is built per KPI row (thousands per load)
    value: float
    numerator: float | None = None
    denominator: float | None = None


def _blank(text: str | None) -> bool:
    return text is None or text.strip() == ""


@lru_cache(maxsize=4096)
def _period_of(text: str) -> Period | None:
    try:
        return Period.parse(text)
    except ValueError:
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
    """``row.value_for(indicator)`` with the row's fraction, if it has one (inlined:
    called for every KPI row of a load)."""
    value, numerator, denominator = row.value, row.numerator, row.denominator
    fraction = numerator is not None and denominator is not None and denominator != 0
    if value is not None:
        value = float(value)
    elif fraction:
        assert numerator is not None and denominator is not None
        scale = 100.0 if indicator.is_percent else 1.0
        value = scale * float(numerator) / float(denominator)
    else:
        return None
    if fraction:
        return _Figure(value, float(numerator), float(denominator))  # type: ignore[arg-type]
    return _Figure(value)


class _KpiPeriod:
    """One indicator's KPI rows of one period, indexed by whose they are.

    The account rows with a figure are kept as parallel lists in row order (value,
    numerator and denominator, None without a fraction), not as an object per row:
    a load holds thousands of them and a company scope combines them all."""

    def __init__(self, indicator: Indicator) -> None:
        self.indicator = indicator
        # each account's first row: its index in the lists below (None: no figure)
        self.account_first: dict[str, int | None] = {}
        self.segment_first: dict[str, _Figure | None] = {}
        self.company_first: tuple[_Figure | None] | None = None
        self.accounts: list[str] = []
        self.values: list[float] = []
        self.numerators: list[float | None] = []
        self.denominators: list[float | None] = []
        self._by_account: dict[str, list[int]] | None = None
        self._account_values: dict[str, float] | None = None

    def add_all(self, rows: Iterable[tuple[int, KpiRow]]) -> None:
        """Index the rows (position, row), given in position order; each row's figure
        is ``_figure``'s, inlined (one loop over thousands of rows per load)."""
        indicator = self.indicator
        scale = 100.0 if indicator.is_percent else 1.0
        account_first = self.account_first
        accounts, values = self.accounts, self.values
        numerators, denominators = self.numerators, self.denominators
        for _, row in rows:
            account = row.account_id
            if account is None or not account.strip():
                figure = _figure(indicator, row)
                if not _blank(row.segment):
                    self.segment_first.setdefault(str(row.segment), figure)
                elif self.company_first is None:
                    self.company_first = (figure,)
                continue
            value, numerator, denominator = row.value, row.numerator, row.denominator
            fraction = numerator is not None and denominator is not None and denominator != 0
            if value is not None:
                value = float(value)
            elif fraction:
                value = scale * float(numerator) / float(denominator)  # type: ignore[arg-type]
            account = str(account)
            if value is None:
                account_first.setdefault(account, None)
                continue
            if account not in account_first:
                account_first[account] = len(values)
            accounts.append(account)
            values.append(value)
            if fraction:
                numerators.append(float(numerator))  # type: ignore[arg-type]
                denominators.append(float(denominator))  # type: ignore[arg-type]
            else:
                numerators.append(None)
                denominators.append(None)

    def _figure_at(self, index: int) -> _Figure:
        numerator, denominator = self.numerators[index], self.denominators[index]
        if numerator is None:
            return _Figure(self.values[index])
        return _Figure(self.values[index], numerator, denominator)

    def account_values(self) -> dict[str, float]:
        """Each account's own figure (NaN: its first row has none); made once."""
        if self._account_values is None:
            values = self.values
            self._account_values = {
                account: np.nan if index is None else values[index]
                for account, index in self.account_first.items()
            }
        return self._account_values

    def own(self, scope: Scope) -> _Figure | None:
        if scope.type == "account":
            index = self.account_first.get(scope.id or "") if scope.id is not None else None
            return None if index is None else self._figure_at(index)
        if scope.type == "segment" and scope.segment is not None:
            return self.segment_first.get(scope.segment)
        if scope.type == "company" and self.company_first is not None:
            return self.company_first[0]
        return None

    def derived(self, scope: Scope) -> _Figure | None:
        """From the account rows inside the scope, in the rows' order."""
        if scope.type == "company" and not scope.account_ids:
            return self._combine_at(None)
        if len(scope.account_ids) < len(self.values):
            if self._by_account is None:
                self._by_account = {}
                for index, account in enumerate(self.accounts):
                    self._by_account.setdefault(account, []).append(index)
            by_account = self._by_account
            return self._combine_at(
                sorted(i for account in scope.account_ids for i in by_account.get(account, ()))
            )
        inside = map(scope.account_ids.__contains__, self.accounts)
        return self._combine_at(list(compress(range(len(self.accounts)), inside)))

    def _combine_at(self, indexes: list[int] | None) -> _Figure | None:
        """``_combine`` of the account rows at ``indexes`` (None: all), in that order."""
        values: Sequence[float]
        numerators: Sequence[float | None]
        denominators: Sequence[float | None]
        if indexes is None:
            values, numerators, denominators = self.values, self.numerators, self.denominators
        elif len(indexes) > 1:  # gathered in C: a company scope combines thousands of rows
            pick = itemgetter(*indexes)
            values, numerators = pick(self.values), pick(self.numerators)
            denominators = pick(self.denominators)
        else:
            values = [self.values[i] for i in indexes]
            numerators = [self.numerators[i] for i in indexes]
            denominators = [self.denominators[i] for i in indexes]
        if not values:
            return None
        if None not in numerators:
            numerator = sum(numerators)  # type: ignore[arg-type]
            denominator = sum(denominators)  # type: ignore[arg-type]
            if denominator:
                scale = 100.0 if self.indicator.is_percent else 1.0
                return _Figure(scale * numerator / denominator, numerator, denominator)
        return _Figure(sum(values) / len(values))


_INDICATOR_PERIOD = itemgetter(0, 1)  # a KpiRow's (indicator, period)


class KpiIndex:
    """KPI rows indexed once by indicator and (parsed) period; each (indicator, period)
    is sorted by whose rows they are the first time it is asked for."""

    def __init__(self, kpi_rows: Iterable[KpiRow]) -> None:
        listed = list(kpi_rows)
        raw: defaultdict[tuple[str, str], list[tuple[int, KpiRow]]] = defaultdict(list)
        # (indicator, period) of each row taken in C; thousands of rows a load
        for entry, key in zip(enumerate(listed), map(_INDICATOR_PERIOD, listed), strict=True):
            raw[key].append(entry)
        # every spelling of a period ("2026-Q3", "2026-q3 ") is one period
        self._raw: dict[tuple[str, Period], list[list[tuple[int, KpiRow]]]] = {}
        for (code, text), rows in raw.items():
            period = _period_of(text) if isinstance(text, str) else None
            if period is not None and code in INDICATORS_BY_CODE:
                self._raw.setdefault((code, period), []).append(rows)
        self._periods: dict[tuple[str, Period], _KpiPeriod] = {}

    def _rows(self, code: str, period: Period) -> _KpiPeriod | None:
        key = (code, period)
        found = self._periods.get(key)
        if found is None:
            spellings = self._raw.get(key)
            if spellings is None:
                return None
            rows = (
                spellings[0]
                if len(spellings) == 1
                else sorted(
                    (entry for group in spellings for entry in group), key=lambda entry: entry[0]
                )
            )
            found = self._periods[key] = _KpiPeriod(INDICATORS_BY_CODE[code])
            found.add_all(rows)
        return found

    def _single(
        self, indicator: Indicator, scope: Scope, period: Period
    ) -> tuple[_Figure | None, bool]:
        rows = self._rows(indicator.code, period)
        if rows is None:
            return None, scope.type != "account"
        own = rows.own(scope)
        if own is not None:
            return own, False
        if scope.type == "account":
            return None, False
        return rows.derived(scope), True

    def resolve(
        self, indicator: Indicator, scope: Scope, period: Period
    ) -> tuple[float | None, bool]:
        """The scope's KPI and whether it was derived (see the module docs)."""
        figure, derived = self._single(indicator, scope, period)
        if figure is None and period.is_year:
            quarter_figures = [
                f
                for q in period.quarters()
                for f in [self._single(indicator, scope, q)[0]]
                if f is not None
            ]
            figure, derived = _combine(indicator, quarter_figures), True
        if figure is None:
            return None, False
        return figure.value, derived

    def columns(
        self, indicator: Indicator, scopes: Sequence[Scope], period: Period
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
        """``resolve`` for every scope: (KPI, NaN for none; derived)."""
        values = np.full(len(scopes), np.nan)
        derived = np.zeros(len(scopes), dtype=bool)
        wanted = [period, *period.quarters()] if period.is_year else [period]
        if not any((indicator.code, p) in self._raw for p in wanted):
            return values, derived
        rows = self._rows(indicator.code, period)
        # an account's KPI in a quarter is its own row's, never derived
        own = [s.type == "account" for s in scopes] if not period.is_year else []
        if any(own):
            get, nan = (rows.account_values() if rows is not None else {}).get, np.nan
            mine = zip(scopes, own, strict=True)
            values = np.fromiter(
                (get(s.id or "", nan) if account else nan for s, account in mine),
                dtype=np.float64,
                count=len(scopes),
            )
        others = range(len(scopes)) if not own else compress(range(len(scopes)), map(not_, own))
        for i in others:
            value, derived[i] = self.resolve(indicator, scopes[i], period)
            if value is not None:
                values[i] = value
        return values, derived


def resolve_kpi(
    indicator: Indicator,
    scope: Scope,
    period: Period | str,
    kpi_rows: Iterable[KpiRow] | KpiIndex,
) -> tuple[float | None, bool]:
    """The scope's KPI and whether it was derived (see the module docs)."""
    index = kpi_rows if isinstance(kpi_rows, KpiIndex) else KpiIndex(kpi_rows)
    return index.resolve(indicator, scope, Period.parse(period))


class TargetIndex:
    """Target rows indexed once by indicator and (parsed) period."""

    def __init__(self, target_rows: Iterable[TargetRow]) -> None:
        # (code, period) -> (first company-wide row, {segment: first row})
        self._periods: dict[tuple[str, Period], tuple[list[TargetRow], dict[str, TargetRow]]] = {}
        for row in target_rows:
            period = _period_of(row.period) if isinstance(row.period, str) else None
            if period is None:
                continue
            company, segments = self._periods.setdefault((row.indicator, period), ([], {}))
            if _blank(row.segment):
                if not company:
                    company.append(row)
            else:
                segments.setdefault(str(row.segment), row)
        self._found: dict[tuple[str, Period, str | None], tuple[float | None, float | None]] = {}

    def _of_period(
        self, indicator: Indicator, segment: str | None, period: Period
    ) -> tuple[float, float] | None:
        entry = self._periods.get((indicator.code, period))
        if entry is None:
            return None
        company, segments = entry
        chosen = segments.get(segment) if segment is not None else None
        chosen = chosen or (company[0] if company else None)
        if chosen is None:
            return None
        target = float(chosen.target)
        tolerance = float(chosen.tolerance) if chosen.tolerance is not None else 0.1 * abs(target)
        return target, tolerance

    def find(
        self, indicator: Indicator, segment: str | None, period: Period
    ) -> tuple[float | None, float | None]:
        """(target, tolerance) for a scope in ``segment`` (see the module docs)."""
        key = (indicator.code, period, segment)
        if key not in self._found:
            self._found[key] = self._find(indicator, segment, period)
        return self._found[key]

    def _find(
        self, indicator: Indicator, segment: str | None, period: Period
    ) -> tuple[float | None, float | None]:
        own = self._of_period(indicator, segment, period)
        if own is not None:
            return own
        if period.is_year:
            quarterly = [
                found
                for quarter in period.quarters()
                for found in [self._of_period(indicator, segment, quarter)]
                if found is not None
            ]
            if quarterly:
                count = len(quarterly)
                return (
                    sum(target for target, _ in quarterly) / count,
                    sum(tolerance for _, tolerance in quarterly) / count,
                )
        return None, None

    def columns(
        self, indicator: Indicator, scopes: Sequence[Scope], period: Period
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """``find`` for every scope: (target, tolerance), NaN for none."""
        by_segment = {
            segment: self.find(indicator, segment, period)
            for segment in {scope.segment for scope in scopes}
        }
        pairs = [by_segment[scope.segment] for scope in scopes]
        targets = np.array([np.nan if t is None else t for t, _ in pairs], dtype=np.float64)
        tolerances = np.array([np.nan if t is None else t for _, t in pairs], dtype=np.float64)
        return targets, tolerances


def find_target(
    indicator: Indicator,
    scope: Scope,
    period: Period | str,
    target_rows: Iterable[TargetRow] | TargetIndex,
) -> tuple[float | None, float | None]:
    """(target, tolerance): the scope's segment row beats the company-wide
    row; tolerance defaults to 10% of |target|. A year without a row of its
    own: the mean of its quarters' (target, tolerance), over the quarters that
    have a target (see the module docs)."""
    index = target_rows if isinstance(target_rows, TargetIndex) else TargetIndex(target_rows)
    return index.find(indicator, scope.segment, Period.parse(period))
