"""A dashboard's pieces, each cached under the generations of the quarters it reads.

A survey answer changes one account's answers in one quarter; a dashboard shows a
scope's figures over eight quarters, the period's rankings and the differencing
audit of up to three years. Each piece here reads only a few quarters:

* the scorecard of a scope in a period: the period's quarters and the period before;
* a ranking (one indicator for every segment, portfolio or account): the period's
  quarters (rankings show no change);
* the answer counts that the differencing audit reads: one quarter.

Each is cached under the base generation and those quarters' generations
(``quarters_fingerprint``, cpi.generation): a write to the current quarter leaves
every piece of the quarters before it as it is, and a cold request recomputes the
current quarter's pieces from a load of that period and the one before, not of the
whole window. A write that is not about one quarter's answers (accounts, users,
KPIs, targets, campaigns, an erasure) moves the base: every piece is computed
afresh.

A survey answer writes one account: the pieces of the current period (its load of the
period and the one before, the rankings, a quarter's answer counts) are kept with the
generations they were computed at and, after answers, patched for the accounts the
change log names (``Pieces._latest``): those accounts' sums read again, the segments,
portfolios and accounts holding them scored again. A cold request then reads a few
rows, not the quarter.

Pieces are the figures as computed, the same for every viewer: what one viewer may
see (``Disclosure``) is applied after, per request.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, TypeVar, cast

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from cpi.accounts.models import Account
from cpi.scorecards.cache import changes_since, peek, quarter_state, quarters_fingerprint, store
from cpi.scorecards.differencing import Atom
from cpi.scorecards.disclosure import YearCounts
from cpi.scorecards.operations import (
    AccountInfo,
    ScoringData,
    answer_counts_by_quarter,
    canonical_scopes,
    load_account_sums,
    load_scoring_data,
    periods_needed,
    resolve_scope,
    score,
    score_many,
)
from cpi.scorecards.slices import PeriodSlices, audit_window
from cpi.scoring import IndicatorResult, Period, Scope, Scorecard, SumsColumns

T = TypeVar("T")


@dataclass(frozen=True)
class RankedScope:
    """One scope of a ranking, as computed: how many accounts it holds and its figure."""

    accounts: int
    result: IndicatorResult


@dataclass(frozen=True)
class AccountsOnly:
    """What ``resolve_scope`` reads of a load: the accounts."""

    accounts: dict[str, AccountInfo]


def _quarters(*periods: Period) -> list[str]:
    return sorted({str(q) for period in periods for q in period.quarters()})


def _members(scope: Scope) -> str:
    """A digest of the scope's accounts (a restricted view names the same scope)."""
    return hashlib.sha256("\n".join(sorted(scope.account_ids)).encode()).hexdigest()


class Pieces:
    """The pieces of the dashboards of one period, for one request: each read from the
    cache, or computed from one load (made only if a piece is missing)."""

    def __init__(self, session: Session, period: Period, *, min_n: int) -> None:
        self.session = session
        self.period = period
        self.min_n = min_n
        self.url = str(session.get_bind().url)
        self._loads: dict[tuple[str, ...], tuple[ScoringData, PeriodSlices]] = {}
        self._accounts: dict[str, AccountInfo] | None = None
        self._seen: dict[Hashable, Any] = {}  # pieces already looked up in this request

    # --- the loads behind missing pieces -------------------------------------------

    def _load(self, quarters: Iterable[str]) -> PeriodSlices:
        """Sums covering ``quarters``: the period and the one before when that is enough
        (a write to the current quarter; kept across requests, see ``_narrow``), else the
        page's whole audit window (made once; every later piece reads it)."""
        wanted = set(quarters)
        narrow = periods_needed(self.period)
        # The period's own pieces always read the narrow load, even when the window is
        # loaded: it is the load kept in the cache and patched after answers.
        candidates = [tuple(narrow)] if wanted <= set(narrow) else list(self._loads)
        for covered in candidates:
            if covered in self._loads and wanted <= set(covered):
                return self._loads[covered][1]
        if wanted <= set(narrow):
            covered, slices = tuple(narrow), self._narrow(narrow)
        else:
            load, history = audit_window(self.period)
            covered = tuple(periods_needed(load, history))
            if not wanted <= set(covered):  # not a quarter of this page: load its own
                latest = Period.parse(max(wanted))
                load, history = latest, len(_between(min(wanted), latest))
                covered = tuple(periods_needed(load, history))
            data = replace(load_scoring_data(self.session, load, history=history), period=load)
            slices = PeriodSlices(data)
        self._loads[covered] = (slices.data, slices)
        if self._accounts is None:
            self._accounts = slices.data.accounts
        return slices

    def _narrow(self, quarters: list[str]) -> PeriodSlices:
        """The load of the period and the one before (``quarters``), kept in the cache:
        after writes to those quarters' answers, the last one with the sums of the
        accounts written since read again (``_latest``)."""

        def patch(slices: PeriodSlices, written: dict[int, str]) -> PeriodSlices:
            accounts = {pk: slices.data.accounts[name] for pk, name in written.items()}
            fresh = load_account_sums(self.session, self.period, accounts)
            return slices.with_sums(_with_accounts(slices.data, set(written.values()), *fresh))

        return self._latest(
            ("load", str(self.period)),
            quarters,
            lambda: PeriodSlices(load_scoring_data(self.session, self.period)),
            patch,
        )

    def _latest(
        self,
        name: Hashable,
        quarters: list[str],
        afresh: Callable[[], T],
        patch: Callable[[T, dict[int, str]], T],
    ) -> T:
        """A piece that reads the answers of ``quarters``, kept in the cache with the
        generations it was computed at (``quarter_state``). After writes to those
        quarters' answers, the last one is patched for the accounts written since
        (``patch(value, {pk: account id})``) when the change log covers every write
        (``changes_since``); else (or when another write moved the base) computed
        afresh."""
        key = (name, self.url)
        if key in self._seen:
            return cast(T, self._seen[key])
        states = [quarter_state(self.session, q) for q in quarters]
        found, latest = peek(key, piece=True)
        if found and latest[0] == states:
            value = latest[1]
        else:
            changed = self._changed_since(quarters, latest[0], states) if found else None
            if changed is None:
                value = afresh()
            else:
                value = patch(latest[1], self._written(changed)) if changed else latest[1]
            store(key, (states, value), piece=True)
        self._seen[key] = value
        return cast(T, value)

    def _changed_since(
        self, quarters: list[str], then: list[tuple[int, int]], now: list[tuple[int, int]]
    ) -> set[int] | None:
        """The account pks whose answers in ``quarters`` were written between the states
        ``then`` and ``now`` (``quarter_state``); None when the base moved or the change
        log does not cover every write."""
        changed: set[int] = set()
        for quarter, (base, value), (base_then, value_then) in zip(
            quarters, now, then, strict=True
        ):
            since = changes_since(self.session, quarter, value_then, value)
            if base != base_then or since is None:
                return None
            changed |= since
        return changed

    def _written(self, changed: set[int]) -> dict[int, str]:
        """The account id of each account pk ``changed``."""
        key = ("written", *sorted(changed))
        if key not in self._seen:
            rows = self.session.execute(
                select(Account.id, Account.account_id).where(Account.id.in_(sorted(changed)))
            )
            self._seen[key] = {pk: account_id for pk, account_id in rows}
        return cast(dict[int, str], self._seen[key])

    def _cached(self, key: Hashable, compute: Any) -> Any:
        if key in self._seen:
            return self._seen[key]
        found, value = peek(key, piece=True)
        if not found:
            value = compute()
            store(key, value, piece=True)
        self._seen[key] = value
        return value

    # --- the pieces ----------------------------------------------------------------

    def accounts(self) -> dict[str, AccountInfo]:
        """Every account (base generation only)."""
        if self._accounts is None:
            key = ("accounts", self.url, quarters_fingerprint(self.session, ()))
            self._accounts = self._cached(key, self._read_accounts)
        return self._accounts

    def _read_accounts(self) -> dict[str, AccountInfo]:
        rows = self.session.execute(
            select(Account.account_id, Account.name, Account.segment, Account.owner_email)
        )
        return {account_id: AccountInfo(account_id, *rest) for account_id, *rest in rows}

    def scope(self, scope_type: str, scope_id: str | None) -> Scope:
        """The scope as ``resolve_scope`` names it (ScopeNotFound if unknown)."""
        accounts = cast(ScoringData, AccountsOnly(self.accounts()))
        return resolve_scope(accounts, scope_type, scope_id)

    def card(
        self, scope: Scope, period: Period, compute: Callable[[], Scorecard] | None = None
    ) -> Scorecard:
        """The scope's scorecard for ``period`` (with its change since the period before).
        ``compute`` scores it when it is not cached, from a load the caller holds (an
        account page loads its own account); by default, from this page's loads."""
        quarters = _quarters(period, period.previous())
        key = (
            "card", self.url, scope.type, scope.id, _members(scope), str(period), self.min_n,
            quarters_fingerprint(self.session, quarters),
        )  # fmt: skip

        def from_loads() -> Scorecard:
            data, _by_account = self._load(quarters)(period)
            return score(data, scope, min_n=self.min_n)

        return cast(Scorecard, self._cached(key, compute or from_loads))

    def ranking(self, kind: str, code: str) -> Mapping[str | None, RankedScope]:
        """Every scope of ``kind`` (segment, owner, account) in the period, one indicator,
        the period's figures only (no change since the period before). After answers,
        only the scopes holding an account written since are scored again (the others'
        sums, KPIs and targets are unchanged; ``_latest``)."""
        quarters = _quarters(self.period)

        def ranked(scopes: Callable[[ScoringData], list[Scope]]) -> dict[str | None, RankedScope]:
            key = ("period-only", str(self.period))
            if key not in self._seen:  # one for every ranking of the request
                self._seen[key] = period_only(self._load(quarters)(self.period)[0])
            data = self._seen[key]
            return _ranked(data, scopes(data), code, self.min_n)

        def patch(
            before: dict[str | None, RankedScope], written: dict[int, str]
        ) -> dict[str | None, RankedScope]:
            names = list(written.values())
            return {**before, **ranked(lambda data: canonical_scopes(data, kind, names))}

        return self._latest(
            ("ranking", kind, str(self.period), code, self.min_n),
            quarters,
            lambda: ranked(lambda data: canonical_scopes(data, kind)),
            patch,
        )

    def quarter_counts(self, quarter: str) -> dict[str, dict[Atom, int]]:
        """Answers per indicator of every account with answers in ``quarter``; after
        answers, counted again for the accounts written since only (``_latest``)."""

        def counted(names: Iterable[str] | None) -> dict[str, dict[Atom, int]]:
            data = self._load([quarter]).data
            chosen = data.accounts if names is None else names
            return answer_counts_by_quarter(data, ((a, quarter) for a in chosen))

        def patch(
            before: dict[str, dict[Atom, int]], written: dict[int, str]
        ) -> dict[str, dict[Atom, int]]:
            names = set(written.values())
            fresh = counted(names)
            return {
                code: {
                    **{atom: n for atom, n in atoms.items() if atom[0] not in names},
                    **fresh.get(code, {}),
                }
                for code, atoms in before.items()
            }

        return self._latest(("counts", quarter), [quarter], lambda: counted(None), patch)

    def year_counts(self, year: int) -> YearCounts:
        """What the differencing audit of ``year`` reads, from the quarters' counts."""
        per_code: dict[str, dict[Atom, int]] = {}
        for quarter in _quarters(Period(year)):
            for code, atoms in self.quarter_counts(quarter).items():
                per_code.setdefault(code, {}).update(atoms)
        return YearCounts(tuple(self.accounts().values()), per_code)


def _ranked(
    data: ScoringData, scopes: list[Scope], code: str, min_n: int
) -> dict[str | None, RankedScope]:
    """The scopes' figures of one indicator, by scope id (each scope a row of its own:
    scoring some scopes gives each the figure that scoring them all does)."""
    column = score_many(data, scopes, min_n=min_n).indicator(code)
    return {scope.id: RankedScope(len(scope.account_ids), column.result(row))
            for row, scope in enumerate(scopes)}  # fmt: skip


def period_only(data: ScoringData) -> ScoringData:
    """``data`` with the sums of the period's own quarters only (rankings score the
    period, not its change from the previous one)."""
    quarters = {str(q) for q in data.period.quarters()}
    kept = sorted((row, key) for key, row in data.sum_rows.items() if key[1] in quarters)
    return replace(
        data,
        sums=data.sums.take([row for row, _ in kept]),
        sum_rows={key: new_row for new_row, (_, key) in enumerate(kept)},
        shared=data.shared.rows_only(),  # scores kept with a load belong to that load
    )


def _with_accounts(
    data: ScoringData,
    names: set[str],
    fresh: SumsColumns,
    fresh_rows: dict[tuple[str, str], int],
) -> ScoringData:
    """``data`` with the sums of the accounts ``names`` read again (``fresh``, each
    (account_id, quarter)'s row in ``fresh_rows``): their rows in ``data`` dropped, the
    fresh ones appended. Sums pool by integer addition and sorted histograms, so the
    order of rows changes no figure."""
    kept = [(key, row) for key, row in data.sum_rows.items() if key[0] not in names]
    sum_rows = {key: new_row for new_row, (key, _) in enumerate(kept)}
    sum_rows.update({key: len(kept) + row for key, row in fresh_rows.items()})
    old = data.sums.take([row for _, row in kept])
    sums = SumsColumns(
        np.concatenate((old.sums, fresh.sums)),
        np.concatenate((old.days_offsets[:-1], fresh.days_offsets + old.days_offsets[-1])),
        np.concatenate((old.days_values, fresh.days_values)),
        np.concatenate((old.days_counts, fresh.days_counts)),
    )
    return replace(data, sums=sums, sum_rows=sum_rows, shared=data.shared.rows_only())


def _between(first: str, last: Period) -> list[Period]:
    """The quarters after ``first`` up to ``last``'s last quarter."""
    quarters = []
    quarter = last.quarters()[-1]
    while str(quarter) > first:
        quarters.append(quarter)
        quarter = quarter.previous()
    return quarters
