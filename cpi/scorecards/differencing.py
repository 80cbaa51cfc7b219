"""The differencing audit: which figures one viewer may see (SECURITY.md, "Differencing").

The privacy rule hides a figure built on fewer than ``min_n`` answers. On its own
that rule is defeated by subtraction: a portfolio's figure minus its other
accounts' figures is the hidden account's figure, and a year minus three shown
quarters is the fourth. Every figure is a sum over *atoms* (one account's answers
in one quarter), so this module audits, for one viewer and one year, everything
the viewer can see at once: each account, and each portfolio, segment and the
company they can see, for each quarter of the year and the year itself.

The rule (block safety): group the atoms that are not shown on their own by the
set of shown figures that contain them (their *signature*). Whatever sums and
differences of shown figures a viewer forms, they learn at most the sums of these
groups, never less. So every group with a non-empty signature must hold 0 or at
least ``min_n`` answers. When one does not, the cheapest of these is withheld
(complementary suppression), and the audit repeats until no group is too small:

* a figure in the group's signature (an account's year first, then a portfolio,
  a segment, and the company last), or
* one more account-quarter together with the figures that set it apart from the
  group, so that it joins the group.

Withheld figures read "insufficient data" like thin ones (a viewer is not told
why). The audit works per indicator, since each has its own answers; ``n`` (how
many answered) stays visible. Administrators' ``cpi score`` and API JSON are not
filtered (indicators.md, Privacy).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from cpi.scorecards.operations import AccountInfo

Cell = tuple[str, str | None, str]  # (scope type, scope id, period): one figure of one scope
Atom = tuple[str, str]  # (account id, quarter)
# What withholding a figure costs: the lower, the sooner it is withheld.
WEIGHT = {"account-year": 1, "owner": 2, "account": 3, "segment": 4, "company": 5}
# Fields of an indicator that say nothing about the answers (kept when withheld).


@dataclass(frozen=True)
class Universe:
    """Everything one viewer can see: an account manager's own accounts and
    portfolio (``owner``, lower case), or for company-wide staff (``owner`` None)
    every account, portfolio, segment and the company."""

    owner: str | None = None

    def __post_init__(self) -> None:
        if self.owner is not None:
            object.__setattr__(self, "owner", self.owner.strip().lower())

    def accounts(self, accounts: Iterable[AccountInfo]) -> list[AccountInfo]:
        if self.owner is None:
            return list(accounts)
        return [a for a in accounts if (a.owner_email or "").lower() == self.owner]

    def groups(self, accounts: Iterable[AccountInfo]) -> dict[tuple[str, str | None], set[str]]:
        """The aggregate scopes the viewer sees, with their accounts (``accounts``: all).

        An account manager also sees the figures of their accounts' segments and of the
        company beside their own (the pages' comparison figures), so those count too."""
        accounts = list(accounts)
        own = {a.account_id for a in self.accounts(accounts)}
        own_segments = {a.segment for a in accounts if a.account_id in own}
        groups: dict[tuple[str, str | None], set[str]] = defaultdict(set)
        for account in accounts:
            if self.owner is None or own:
                groups[("company", None)].add(account.account_id)
            if self.owner is None or account.segment in own_segments:
                groups[("segment", account.segment)].add(account.account_id)
            if account.owner_email and (self.owner is None or account.account_id in own):
                groups[("owner", account.owner_email.lower())].add(account.account_id)
        return dict(groups)


def _weight(cell: Cell, context_first: bool = False) -> int:
    kind, _, period = cell
    if context_first and kind in ("segment", "company"):
        return 0  # an account manager's comparison figures go before their own
    if kind == "account" and "-" not in period:
        return WEIGHT["account-year"]
    return WEIGHT[kind]


def audit(
    atom_n: Mapping[Atom, int],
    groups: Mapping[tuple[str, str | None], Iterable[str]],
    year: str,
    min_n: int,
    own: Collection[str] | None = None,
) -> frozenset[Cell]:
    """The cells of ``year`` (its quarters and itself) to withhold, for one indicator.

    ``atom_n``: answers per (account, quarter) of the accounts in the viewer's
    figures; ``groups``: the aggregate scopes the viewer sees; ``own``: the accounts
    whose own figures the viewer sees (None: all of ``atom_n``'s). Pure and
    deterministic.
    """
    atoms = {atom: n for atom, n in atom_n.items() if n > 0}
    if own is None and all(n >= min_n for n in atoms.values()):
        # Every account-quarter is shown on its own: no atom lies outside the shown
        # figures, so there is no block to protect (the loop below would find none).
        return frozenset()
    table = AtomTable((a for a, _ in atoms), (q for _, q in atoms))
    return Figures(table, groups, own).withheld(table.matrix(atoms), year, min_n)


class AtomTable:
    """The (account, quarter) atoms of one year as the rows and columns of arrays."""

    def __init__(self, accounts: Iterable[str], quarters: Iterable[str]) -> None:
        self.accounts = tuple(sorted(set(accounts)))
        self.quarters = tuple(sorted(set(quarters)))
        self.row = {account: i for i, account in enumerate(self.accounts)}
        self.column = {quarter: j for j, quarter in enumerate(self.quarters)}
        # The audit looks at small blocks in the order of their first atom by name
        # (str of the atom): each atom's place in that order.
        names = [str((a, q)) for a in self.accounts for q in self.quarters]
        order = np.empty(len(names), dtype=np.int64)
        order[sorted(range(len(names)), key=names.__getitem__)] = np.arange(len(names))
        self.order = order.reshape(len(self.accounts), len(self.quarters))
        self.digest = hashlib.sha256(repr((self.accounts, self.quarters)).encode()).digest()
        self._last_places: tuple[list[Atom], tuple[np.ndarray, np.ndarray]] | None = None

    def matrix(self, atom_n: Mapping[Atom, int]) -> np.ndarray:
        """Answers per atom (0 where none, and for the atoms outside the table)."""
        counts = np.zeros((len(self.accounts), len(self.quarters)), dtype=np.int64)
        if not atom_n:
            return counts
        rows, columns = self._places(list(atom_n))
        values = np.fromiter(atom_n.values(), dtype=np.int64, count=len(atom_n))
        inside = (rows >= 0) & (columns >= 0) & (values > 0)
        counts[rows[inside], columns[inside]] = values[inside]
        return counts

    def _places(self, atoms: list[Atom]) -> tuple[np.ndarray, np.ndarray]:
        """Row and column of each atom (-1 outside the table); the indicators of a year
        count the same atoms in the same order, so the last answer is reused."""
        last = self._last_places  # one tuple, read and replaced whole (threads share tables)
        if last is not None and last[0] == atoms:
            return last[1]
        row, column = self.row.get, self.column.get
        places = (
            np.fromiter((row(a, -1) for a, _ in atoms), dtype=np.int64, count=len(atoms)),
            np.fromiter((column(q, -1) for _, q in atoms), dtype=np.int64, count=len(atoms)),
        )
        self._last_places = (atoms, places)
        return places


@lru_cache(maxsize=16)
def atom_table(accounts: tuple[str, ...], quarters: tuple[str, ...]) -> AtomTable:
    """The table of these accounts and quarters, built once: it depends on nothing else,
    and a request after answers audits the same accounts again."""
    return AtomTable(accounts, quarters)


@dataclass(frozen=True)
class _Class:
    """Atoms that no shown figure tells apart (they lie in the same figures): they are
    always in the same block, so the audit looks at them together."""

    containing: tuple[Cell, ...]  # the figures they lie in
    n: int  # their answers
    first: int  # the place of their first atom in the audit's order (AtomTable.order)
    own: Cell | None  # an account-quarter shown on its own: its own figure


class Figures:
    """The figures one viewer sees over a table's atoms (``groups``; ``own``: the
    accounts whose own figures they see, None: all), ready to audit indicator by
    indicator.

    The audit's unit is a class of atoms lying in the same figures. An account the
    viewer sees on its own has one class per quarter (its own figure sets it apart);
    the other accounts in the viewer's aggregates (an account manager's segments and
    company) fall into one class per quarter and set of aggregates, whatever their
    number: the audit of a manager's year costs about their own accounts, not the
    company's. The withheld cells are exactly those of the audit atom by atom.
    """

    def __init__(
        self,
        table: AtomTable,
        groups: Mapping[tuple[str, str | None], Iterable[str]],
        own: Collection[str] | None,
    ) -> None:
        self.table = table
        self.context_first = own is not None  # an account manager: see _weight
        self.groups = sorted(groups, key=str)
        member = np.zeros((len(self.groups), len(table.accounts)), dtype=bool)
        for g, key in enumerate(self.groups):
            member[g, [table.row[a] for a in set(groups[key]) if a in table.row]] = True
        self.member = member
        if own is None:
            is_own = np.ones(len(table.accounts), dtype=bool)
        else:
            is_own = np.array([a in own for a in table.accounts], dtype=bool)
        self.own_rows = np.flatnonzero(is_own).tolist()
        self.own_groups = {i: np.flatnonzero(member[:, i]).tolist() for i in self.own_rows}
        # The other accounts in some shown aggregate, by the set of aggregates they are in.
        self.others = np.flatnonzero(~is_own & member.any(axis=0))
        if self.others.size:
            sets, inverse = np.unique(member[:, self.others].T, axis=0, return_inverse=True)
            self.other_set = inverse.ravel()
            self.other_groups = [np.flatnonzero(row).tolist() for row in sets]
        else:
            self.other_set, self.other_groups = np.zeros(0, dtype=np.int64), []

    def withheld(self, counts: np.ndarray, year: str, min_n: int) -> frozenset[Cell]:
        """The cells of ``year`` to withhold for one indicator (``counts``: answers per
        atom, rows and columns as the table's)."""
        quarters, accounts, order = self.table.quarters, self.table.accounts, self.table.order
        size: dict[Cell, int] = {}
        group_sizes = self.member.astype(np.int64) @ counts
        year_cells: list[Cell] = []
        quarter_cells: list[list[Cell]] = []
        for g, (kind, key) in enumerate(self.groups):
            year_cells.append((kind, key, year))
            quarter_cells.append([(kind, key, q) for q in quarters])
            for j in np.flatnonzero(group_sizes[g]).tolist():
                size[(kind, key, quarters[j])] = int(group_sizes[g, j])
            if group_sizes[g].any():
                size[(kind, key, year)] = int(group_sizes[g].sum())
        classes: list[_Class] = []
        own = counts[self.own_rows]
        rows, columns = np.nonzero(own > 0)  # each answered atom of an account seen on its own
        account_years: dict[int, Cell] = {}
        for row, j, n, first in zip(
            rows.tolist(), columns.tolist(), own[rows, columns].tolist(),
            order[self.own_rows][rows, columns].tolist(), strict=True,
        ):  # fmt: skip
            i = self.own_rows[row]
            account_year = account_years.get(i)
            if account_year is None:
                account_year = account_years[i] = ("account", accounts[i], year)
                size[account_year] = int(own[row].sum())
            cell: Cell = ("account", accounts[i], quarters[j])
            size[cell] = n
            groups = self.own_groups[i]
            containing = (account_year, cell, *[year_cells[g] for g in groups],
                          *[quarter_cells[g][j] for g in groups])  # fmt: skip
            classes.append(_Class(containing, n, first, cell))
        if self.others.size:
            for j in range(len(quarters)):
                column = counts[self.others, j]
                answered_rows = column > 0
                if not answered_rows.any():
                    continue
                n = np.zeros(len(self.other_groups), dtype=np.int64)
                np.add.at(n, self.other_set, column)
                first = np.full(len(self.other_groups), np.iinfo(np.int64).max)
                np.minimum.at(
                    first, self.other_set[answered_rows], order[self.others[answered_rows], j]
                )
                for s in np.flatnonzero(n).tolist():
                    groups = self.other_groups[s]
                    containing = (*(year_cells[g] for g in groups),
                                  *(quarter_cells[g][j] for g in groups))  # fmt: skip
                    classes.append(_Class(containing, int(n[s]), int(first[s]), None))
        return _protect(classes, size, min_n, self.context_first)


def _protect(
    classes: list[_Class], size: Mapping[Cell, int], min_n: int, context_first: bool
) -> frozenset[Cell]:
    """Withhold figures until every block with a non-empty signature holds 0 or at
    least ``min_n`` answers (the rule in the module's docstring)."""
    shown = {cell for cell, n in size.items() if n >= min_n}
    withheld: set[Cell] = set()
    # The account-quarters that could join a block, by the figures they lie in.
    joiners: dict[Cell, list[_Class]] = defaultdict(list)
    for atom in classes:
        if atom.own is not None:
            for cell in atom.containing:
                joiners[cell].append(atom)

    def signature(atom: _Class) -> frozenset[Cell]:
        return frozenset(c for c in atom.containing if c in shown)

    while True:
        blocks: dict[frozenset[Cell], list[int]] = {}  # signature: [answers, first atom]
        for atom in classes:
            if atom.own not in shown:
                sig = signature(atom)
                if sig:
                    found = blocks.get(sig)
                    if found is None:
                        blocks[sig] = [atom.n, atom.first]
                    else:
                        found[0] += atom.n
                        found[1] = min(found[1], atom.first)
        # Blocks are disjoint: ordered by their first atom, as by their sorted atoms.
        small = sorted(
            ((first, sig) for sig, (n, first) in blocks.items() if n < min_n),
            key=lambda item: item[0],
        )
        if not small:
            return frozenset(withheld)
        touched: set[Cell] = set()
        for _first, sig in small:
            if sig & touched:
                continue  # changed in this round: looked at again in the next
            move = _cheapest_move(sig, joiners, size, shown, signature, context_first)
            shown.difference_update(move)
            withheld.update(move)
            touched.update(move)


def _cheapest_move(
    sig: frozenset[Cell],
    joiners: Mapping[Cell, list[_Class]],
    size: Mapping[Cell, int],
    shown: set[Cell],
    signature: Callable[[_Class], frozenset[Cell]],
    context_first: bool,
) -> frozenset[Cell]:
    def cost(cells: frozenset[Cell]) -> tuple[int, int, int, str]:
        return (
            max(_weight(cell, context_first) for cell in cells),
            len(cells),
            sum(size[c] for c in cells),
            str(sorted(cells)),
        )

    moves = [frozenset({cell}) for cell in sig]
    # An account-quarter shown on its own that joins the block: it must lie in every
    # figure of the signature, so look among those lying in the narrowest one.
    narrowest = min(sig, key=lambda c: (len(joiners.get(c, ())), str(c)))
    for atom in joiners.get(narrowest, ()):
        if atom.own not in shown:
            continue
        other = signature(atom)
        if sig <= other:
            moves.append(frozenset(other - sig))
    return min(moves, key=cost)
