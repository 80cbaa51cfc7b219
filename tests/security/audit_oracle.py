"""The differencing audit as first written, atom by atom: the oracle that
cpi.scorecards.differencing.audit (which looks at classes of atoms no figure tells
apart, for speed) must equal exactly (tests/security/test_differencing_audit.py)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from cpi.scorecards.differencing import Atom, Cell, _weight


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
    by_account: dict[str, list[Atom]] = defaultdict(list)
    for atom in sorted(atoms):
        by_account[atom[0]].append(atom)
    members: dict[Cell, list[Atom]] = {}
    for account, account_atoms in by_account.items():
        if own is not None and account not in own:
            continue  # inside the viewer's aggregates only, never shown on its own
        members[("account", account, year)] = account_atoms
        for atom in account_atoms:
            members[("account", account, atom[1])] = [atom]
    for (kind, key), group_accounts in groups.items():
        chosen = [atom for account in sorted(set(group_accounts)) for atom in by_account[account]]
        if not chosen:
            continue
        members[(kind, key, year)] = chosen
        for atom in chosen:
            members.setdefault((kind, key, atom[1]), []).append(atom)
    size = {cell: sum(atoms[a] for a in inside) for cell, inside in members.items()}
    containing: dict[Atom, list[Cell]] = defaultdict(list)
    for cell in sorted(members, key=str):
        for atom in members[cell]:
            containing[atom].append(cell)
    shown = {cell for cell, n in size.items() if n >= min_n}
    withheld: set[Cell] = set()

    def own_cell(atom: Atom) -> Cell:
        return ("account", atom[0], atom[1])

    def signature(atom: Atom) -> frozenset[Cell]:
        return frozenset(c for c in containing[atom] if c in shown)

    while True:
        blocks: dict[frozenset[Cell], list[Atom]] = defaultdict(list)
        for atom in sorted(atoms):
            if own_cell(atom) not in shown:
                sig = signature(atom)
                if sig:
                    blocks[sig].append(atom)
        small = [
            (sig, block) for sig, block in blocks.items() if sum(atoms[a] for a in block) < min_n
        ]
        if not small:
            return frozenset(withheld)
        touched: set[Cell] = set()
        for sig, block in sorted(small, key=lambda item: sorted(map(str, item[1]))):
            if sig & touched:
                continue  # changed in this round: looked at again in the next
            move = _cheapest_move(
                sig, block, members, size, shown, signature, own_cell, own is not None
            )
            shown.difference_update(move)
            withheld.update(move)
            touched.update(move)


def _cheapest_move(
    sig: frozenset[Cell],
    block: list[Atom],
    members: Mapping[Cell, list[Atom]],
    size: Mapping[Cell, int],
    shown: set[Cell],
    signature: Any,
    own_cell: Any,
    context_first: bool = False,
) -> frozenset[Cell]:
    def cost(cells: frozenset[Cell]) -> tuple[int, int, int, str]:
        return (
            max(_weight(cell, context_first) for cell in cells),
            len(cells),
            sum(size[c] for c in cells),
            str(sorted(cells)),
        )

    moves = [frozenset({cell}) for cell in sig]
    # An account-quarter that joins the block: it must lie in every figure of the
    # signature, so look among the members of the signature's smallest figure.
    narrowest = min(sig, key=lambda c: (len(members[c]), str(c)))
    for atom in members[narrowest]:
        if atom in block or own_cell(atom) not in shown:
            continue
        other = signature(atom)
        if sig <= other:
            moves.append(frozenset(other - sig))
    return min(moves, key=cost)
