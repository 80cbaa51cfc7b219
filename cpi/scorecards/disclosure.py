"""The differencing audit applied (SECURITY.md, "Differencing"): each year's withheld
figures for one viewer, kept in the cache, and scorecards as that viewer may see them.
The audit itself is cpi.scorecards.differencing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from cpi.scorecards.cache import cached, quarters_fingerprint
from cpi.scorecards.differencing import Atom, AtomTable, Cell, Figures, Universe, atom_table
from cpi.scorecards.operations import (
    AccountInfo,
    ScoringData,
    answer_counts_by_quarter,
    load_scoring_data,
)
from cpi.scoring import IndicatorResult, Period, Scorecard

# Fields of an indicator that say nothing about the answers (kept when withheld).
KEPT_FIELDS = frozenset(
    {"code", "name", "unit", "better", "n", "kpi", "kpi_derived", "target", "tolerance"}
)


@dataclass(frozen=True)
class YearCounts:
    """What the audit of a year reads: every account, and the answers per indicator of
    each (account, quarter) of the year with answers ({code: {(account_id, quarter): n}};
    accounts outside a viewer's figures are left out by the audit)."""

    accounts: tuple[AccountInfo, ...]
    per_code: Mapping[str, Mapping[Atom, int]]
    _tables: dict[int, tuple[AtomTable, dict[str, np.ndarray]]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def table(self, year: int) -> tuple[AtomTable, dict[str, np.ndarray]]:
        """The year's atoms as a table, and each indicator's answers on it: built once
        for every viewer audited from these counts (a batch's account managers)."""
        if year not in self._tables:
            quarters = [str(q) for q in Period(year).quarters()]
            names = {a.account_id for a in self.accounts}
            counted: list[Any] = []  # the indicators count the same atoms, as a rule
            for atoms in self.per_code.values():
                if not any(atoms.keys() == other for other in counted):
                    counted.append(atoms.keys())
                    names.update(account for account, _ in atoms)
            table = atom_table(tuple(sorted(names)), tuple(quarters))
            self._tables[year] = (table, {c: table.matrix(a) for c, a in self.per_code.items()})
        return self._tables[year]


def withheld_cells(
    session: Session,
    universe: Universe,
    year: int,
    min_n: int,
    fingerprint: str,
    *,
    counts: Callable[[], YearCounts] | None = None,
) -> frozenset[Any]:
    """(scope type, scope id, period, indicator code) of every figure of ``year`` withheld
    from ``universe``; reused while the data (``fingerprint``) is unchanged. ``counts``:
    what gives the year's answer counts (cpi.scorecards.pieces; else a load of the year)."""
    key = ("disclosure", str(session.get_bind().url), universe, year, min_n, fingerprint)

    def compute() -> frozenset[Any]:
        found = counts() if counts is not None else year_counts(session, year)
        return _withheld_cells(universe, year, min_n, found)

    return cached(key, compute, small=True)


def year_counts(
    session: Session, year: int, data: ScoringData | Callable[[], ScoringData] | None = None
) -> YearCounts:
    """The year's answer counts from ``data`` (sums covering the year's four quarters, or
    what loads them), else from a load of the year."""
    if callable(data):  # loaded only now that the year's audit is not in the cache
        data = data()
    if data is None:
        # The year's last quarter with three quarters of history: the year's four quarters.
        data = load_scoring_data(session, Period(year, 4), history=3)
    quarters = sorted(str(q) for q in Period(year).quarters())
    # every account's n per indicator and quarter from the loaded sums, in one go
    per_code = answer_counts_by_quarter(data, ((a, q) for a in data.accounts for q in quarters))
    return YearCounts(tuple(data.accounts.values()), per_code)


def _withheld_cells(
    universe: Universe, year: int, min_n: int, counts: YearCounts
) -> frozenset[Any]:
    # Every account: an account manager's segment and company figures hold others' too.
    accounts = counts.accounts
    own = {a.account_id for a in universe.accounts(accounts)}
    own_only = None if universe.owner is None else own  # company-wide staff see every account
    groups = universe.groups(accounts)
    table, per_code = counts.table(year)
    figures: Figures | None = None
    withheld: set[Any] = set()
    done: dict[bytes, frozenset[Cell]] = {}
    # The audit is a pure function of its inputs: its result is kept under a digest of
    # them, so a year whose answers a write did not touch is not audited again.
    shown_groups = sorted((key, sorted(accounts)) for key, accounts in groups.items())
    owned = sorted(own_only) if own_only is not None else None
    context = repr((str(year), min_n, owned, shown_groups)).encode()
    for code, matrix in per_code.items():
        answered = matrix.tobytes()
        if answered in done:  # indicators answered alike are audited once
            pass
        elif own_only is None and not ((matrix > 0) & (matrix < min_n)).any():
            done[answered] = frozenset()  # audit()'s own first answer, without the digest
        else:
            digest = hashlib.sha256(context)
            digest.update(table.digest)
            digest.update(answered)
            if figures is None:
                figures = Figures(table, groups, own_only)

            def run(figures: Figures = figures, matrix: np.ndarray = matrix) -> frozenset[Cell]:
                return figures.withheld(matrix, str(year), min_n)

            done[answered] = cached(("audit", digest.hexdigest()), run, small=True)
        withheld.update((kind, key, period, code) for kind, key, period in done[answered])
    return frozenset(withheld)


class Lazy:
    """A value computed on first call and kept (a load the audit may not need)."""

    def __init__(self, load: Callable[[], ScoringData]) -> None:
        self._load = load
        self.value: ScoringData | None = None

    def __call__(self) -> ScoringData:
        if self.value is None:
            self.value = self._load()
        return self.value


class Disclosure:
    """Applies the audit to scorecards: withheld figures become "insufficient".
    ``universe`` None: an administrator, who sees every figure as computed."""

    def __init__(
        self,
        session: Session,
        universe: Universe | None,
        min_n: int,
        *,
        counts: Callable[[int], YearCounts] | None = None,
    ) -> None:
        """``counts``: gives a year's answer counts (called only when its audit is not
        cached; else the year is loaded).

        A year's audit is cached under the generations of its own quarters
        (``quarters_fingerprint``): a write to another year leaves it as it is."""
        self.session = session
        self.universe = universe
        self.min_n = min_n
        self._years: dict[int, frozenset[Any]] = {}
        self._year_of: dict[str, int | None] = {}
        self._counts = counts

    def preload(self, *periods: Period) -> Disclosure:
        """Audit the periods' years now (a streamed CSV must not read the database later)."""
        for period in periods:
            self._withheld("company", None, str(period), "")
        return self

    def _withheld(self, scope_type: str, scope_id: str | None, period: str, code: str) -> bool:
        year = self._year_of.get(period, 0)
        if year == 0:  # a ranking asks for 2,000 figures of one period: parsed once
            try:
                year = self._year_of[period] = Period.parse(period).year
            except ValueError:
                year = self._year_of[period] = None
        if year is None:
            return False
        if year not in self._years and self.universe is not None:
            fingerprint = quarters_fingerprint(
                self.session, [str(q) for q in Period(year).quarters()]
            )
            counts = self._counts
            self._years[year] = withheld_cells(
                self.session, self.universe, year, self.min_n, fingerprint,
                counts=(lambda: counts(year)) if counts is not None else None,
            )  # fmt: skip
        withheld = self._years.get(year)
        if not withheld:
            return False
        scope_id = scope_id.lower() if scope_type == "owner" and scope_id else scope_id
        return (scope_type, scope_id, period, code) in withheld

    def card(self, card: Scorecard) -> Scorecard:
        """The scorecard as this viewer may see it."""
        if self.universe is None:
            return card
        try:
            before = str(Period.parse(card.period).previous())
        except ValueError:
            before = None
        results = tuple(
            self._seen(card.scope_type, card.scope_id, card.period, before, result)
            for result in card.indicators
        )
        return replace(card, indicators=results)

    def result(
        self, scope_type: str, scope_id: str | None, period: Period, result: IndicatorResult
    ) -> IndicatorResult:
        """One indicator of a scope's scorecard as this viewer may see it (``card``'s rule,
        for a ranking that shows one indicator of many scopes)."""
        if self.universe is None:
            return result
        return self._seen(scope_type, scope_id, str(period), str(period.previous()), result)

    def _seen(
        self,
        scope_type: str,
        scope_id: str | None,
        period: str,
        before: str | None,
        result: IndicatorResult,
    ) -> IndicatorResult:
        if self._withheld(scope_type, scope_id, period, result.code):
            return withhold(result)
        if before and self._withheld(scope_type, scope_id, before, result.code):
            return without_previous(result)
        return result


def _emptied(result: IndicatorResult, names: Callable[[str], bool]) -> IndicatorResult:
    """The named fields emptied: False where the field is a plain flag, else None."""
    changes: dict[str, Any] = {
        f.name: False if str(f.type) == "bool" else None for f in fields(result) if names(f.name)
    }
    return replace(result, **changes)


def withhold(result: IndicatorResult) -> IndicatorResult:
    """Every figure drawn from the answers removed (any field, present or added later)."""
    emptied = _emptied(result, lambda name: name not in KEPT_FIELDS)
    return replace(emptied, status="insufficient")


def without_previous(result: IndicatorResult) -> IndicatorResult:
    return _emptied(result, lambda name: name == "previous" or name.startswith("delta"))


def rounded(card: dict[str, Any], decimals: Mapping[str, int]) -> dict[str, Any]:
    """A JSON scorecard with every figure at display precision (percents to 0.1)."""
    for indicator in card["indicators"]:
        places = decimals[indicator["code"]]
        for name, value in indicator.items():
            if isinstance(value, float):
                indicator[name] = round(value, places)
    if isinstance(card.get("response_rate"), float):
        card["response_rate"] = round(card["response_rate"], 1)
    return card
