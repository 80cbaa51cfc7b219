"""A load narrowed to one period at a time, and the window of quarters a page reads.

Below the reports (cpi.scorecards.reports) and the dashboard pieces
(cpi.scorecards.pieces), which both score many periods of one load.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from copy import copy
from dataclasses import replace
from typing import Any

from cpi.scorecards.operations import ScoringData, history_quarters
from cpi.scoring import KpiRow, Period, TargetRow

# The quarters a trend shows (a page, a PDF): the period's last quarter and the seven before.
TREND_QUARTERS = 8


class PeriodSlices:
    """``data`` narrowed to what scoring one period reads: the KPI and target rows of the
    period and of its quarters (the rows ``score`` keeps), indexed by period once, in
    their original order. A page scoring a dozen periods then never re-reads every
    KPI row of every quarter loaded for each of them."""

    def __init__(self, data: ScoringData) -> None:
        self.data = data
        self._kpis: dict[str, list[tuple[int, KpiRow]]] = defaultdict(list)
        for index, row in enumerate(data.kpi_rows):
            self._kpis[row.period].append((index, row))
        self._targets: dict[str, list[tuple[int, TargetRow]]] = defaultdict(list)
        for index, target in enumerate(data.target_rows):
            self._targets[target.period].append((index, target))
        self._done: dict[Period, tuple[ScoringData, dict[str | None, list[KpiRow]]]] = {}

    @staticmethod
    def _of(rows: Mapping[str, list[tuple[int, Any]]], wanted: set[Period]) -> list[Any]:
        chosen = [item for text, items in rows.items() if _parsed(text) in wanted for item in items]
        return [row for _index, row in sorted(chosen, key=lambda item: item[0])]

    def __reduce__(self) -> tuple[type[PeriodSlices], tuple[ScoringData]]:
        # Pickled (the shared cache, Redis) as its load alone: the slices are rebuilt.
        return (PeriodSlices, (self.data,))

    def with_sums(self, data: ScoringData) -> PeriodSlices:
        """These slices for ``data``: the same load with other sums (answers written since),
        its KPI and target rows the same; each period's rows and indexes are kept."""
        slices = copy(self)
        slices.data = data
        slices._done = {
            period: (
                replace(
                    sliced, sums=data.sums, sum_rows=data.sum_rows, shared=sliced.shared.rows_only()
                ),
                by_account,
            )  # fmt: skip
            for period, (sliced, by_account) in self._done.items()
        }
        return slices

    def __call__(self, period: Period) -> tuple[ScoringData, dict[str | None, list[KpiRow]]]:
        """The narrowed data (its period set to ``period``) and its KPI rows by account."""
        if period not in self._done:
            wanted = {period, *period.quarters()}
            # Its own shared state: the KPI and target indexes a load keeps are built from
            # the rows of the first copy scored, which here holds one period's rows only.
            data = replace(
                self.data,
                period=period,
                kpi_rows=self._of(self._kpis, wanted),
                target_rows=self._of(self._targets, wanted),
                shared=type(self.data.shared)(),
            )
            self._done[period] = (data, data.kpis_by_account())
        return self._done[period]


def _parsed(text: str) -> Period | None:
    try:
        return Period.parse(text)
    except ValueError:
        return None


def audit_window(period: Period) -> tuple[Period, int]:
    """What to load (a period and its ``history``, see ``periods_needed``) so that the
    page's quarters and every quarter of the years they fall in are covered: the audit
    of each year the page shows then reads the same sums (one load per page). A
    quarter's data is loaded up to its year's last quarter (KPIs of the quarters only:
    a quarter's page reads no year rows)."""
    load = period if period.is_year else Period(period.year, 4)
    oldest = history_quarters(period, TREND_QUARTERS)[0]
    last = load.quarters()[-1]
    start = Period(oldest.previous().year, 1)  # the oldest quarter is compared with the one before
    return load, (last.year - start.year) * 4 + (last.quarter or 4) - (start.quarter or 1)
