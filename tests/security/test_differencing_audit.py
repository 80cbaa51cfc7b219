"""The differencing audit (cpi.scorecards.differencing.audit) checked by brute force.

For random small companies (accounts in segments and portfolios, answers per
quarter), every figure the audit leaves shown is a known sum. Exact linear algebra
over those sums then decides, for every group of answers not shown on its own,
whether any combination of shown figures isolates it: none may isolate a group of
fewer than min_n answers (SECURITY.md, "Differencing").
"""

from __future__ import annotations

from fractions import Fraction
from itertools import combinations

from hypothesis import given, settings
from hypothesis import strategies as st

from cpi.scorecards.differencing import Universe, audit
from cpi.scorecards.operations import AccountInfo

YEAR = "2026"
QUARTERS = [f"{YEAR}-Q{q}" for q in (1, 2, 3, 4)]
MIN_N = 5


def rank(rows: list[list[Fraction]]) -> int:
    rows = [row[:] for row in rows if any(row)]
    found = 0
    columns = len(rows[0]) if rows else 0
    for column in range(columns):
        pivot = next((i for i in range(found, len(rows)) if rows[i][column]), None)
        if pivot is None:
            continue
        rows[found], rows[pivot] = rows[pivot], rows[found]
        for i in range(len(rows)):
            if i != found and rows[i][column]:
                factor = rows[i][column] / rows[found][column]
                rows[i] = [a - factor * b for a, b in zip(rows[i], rows[found], strict=True)]
        found += 1
    return found


def cells_of(accounts: list[AccountInfo], universe: Universe) -> dict[tuple, set]:  # type: ignore[type-arg]
    """Every figure the viewer can ask for, with the (account, quarter) atoms it sums."""
    seen = universe.accounts(accounts)
    cells: dict[tuple, set] = {}  # type: ignore[type-arg]
    for account in seen:
        cells[("account", account.account_id, YEAR)] = {(account.account_id, q) for q in QUARTERS}
        for q in QUARTERS:
            cells[("account", account.account_id, q)] = {(account.account_id, q)}
    for (kind, key), members in universe.groups(seen).items():
        cells[(kind, key, YEAR)] = {(a, q) for a in members for q in QUARTERS}
        for q in QUARTERS:
            cells[(kind, key, q)] = {(a, q) for a in members}
    return cells


companies = st.lists(
    st.tuples(
        st.sampled_from(["Retail", "Health", "Energy"]),
        st.sampled_from(["a@x.test", "b@x.test", None]),
        st.lists(st.sampled_from([0, 0, 1, 2, 3, 4, 6, 9]), min_size=4, max_size=4),
    ),
    min_size=1,
    max_size=5,
)


@settings(max_examples=150, deadline=None)
@given(companies, st.sampled_from([None, "a@x.test"]))
def test_no_combination_of_shown_figures_isolates_fewer_than_min_n_answers(
    company: list[tuple[str, str | None, list[int]]], owner: str | None
) -> None:
    accounts = [AccountInfo(f"A{i}", f"A{i}", seg, who) for i, (seg, who, _) in enumerate(company)]
    universe = Universe(owner)
    seen = universe.accounts(accounts)
    atom_n = {
        (f"A{i}", q): n
        for i, (_, _, answers) in enumerate(company)
        for q, n in zip(QUARTERS, answers, strict=True)
        if f"A{i}" in {a.account_id for a in seen}
    }
    withheld = audit(atom_n, universe.groups(seen), YEAR, MIN_N)
    cells = cells_of(accounts, universe)
    size = {cell: sum(atom_n.get(a, 0) for a in atoms) for cell, atoms in cells.items()}
    shown = [c for c in cells if size[c] >= MIN_N and c not in withheld]
    # the primary rule still holds: nothing below min_n is shown
    assert all(size[c] >= MIN_N for c in shown)
    known = {next(iter(cells[c])) for c in shown if c[0] == "account" and c[2] != YEAR}
    unknown = sorted(a for a, n in atom_n.items() if n > 0 and a not in known)
    if not unknown:
        return
    rows = [[Fraction(int(a in cells[c])) for a in unknown] for c in shown]
    base = rank(rows)
    for size_of_group in range(1, min(len(unknown), 6) + 1):
        for group in combinations(range(len(unknown)), size_of_group):
            answers = sum(atom_n[unknown[i]] for i in group)
            if answers >= MIN_N:
                continue
            vector = [Fraction(int(i in group)) for i in range(len(unknown))]
            assert rank(rows + [vector]) > base, (
                f"shown figures isolate {[unknown[i] for i in group]} ({answers} answers)"
            )


def test_the_issue_example_withholds_a_second_figure() -> None:
    """A portfolio of three accounts, one with 4 answers: the portfolio's quarter goes
    (an account manager's accounts are what a QBR shows), the accounts stay."""
    atoms = {("BIG-1", "2026-Q3"): 8, ("BIG-2", "2026-Q3"): 6, ("HID", "2026-Q3"): 4}
    withheld = audit(atoms, {("owner", "am"): ["BIG-1", "BIG-2", "HID"]}, YEAR, MIN_N)
    assert ("owner", "am", "2026-Q3") in withheld
    assert not any(cell[0] == "account" and cell[2] != YEAR for cell in withheld)


def test_a_single_thin_account_in_a_company_costs_one_more_account_not_the_company() -> None:
    atoms = {(f"A{i}", "2026-Q3"): 20 + i for i in range(6)} | {("THIN", "2026-Q3"): 2}
    groups = {
        ("company", None): [f"A{i}" for i in range(6)] + ["THIN"],
        ("segment", "Retail"): [f"A{i}" for i in range(6)] + ["THIN"],
    }
    withheld = audit(atoms, groups, YEAR, MIN_N)
    assert not any(cell[0] in ("company", "segment") for cell in withheld)
    assert ("account", "A0", "2026-Q3") in withheld  # the smallest other account joins THIN


def test_the_audit_counts_answers_as_scoring_does() -> None:
    """The audit reads n from the sums (answer_counts); it must be compute_indicator's n."""
    import random

    from cpi.scoring import CATALOGUE, Answers, AnswerStats, compute_indicator
    from cpi.scoring.columns import SumsColumns
    from cpi.scoring.estimates import answer_counts

    rng = random.Random(13)
    for _ in range(50):
        answers = [
            Answers(
                fcr=rng.choice((None, "yes", "no", "na")),
                contacts_total=rng.choice((None, 0, 3, 9)),
                contacts_value_added=rng.choice((None, 0, 2)),
                quote_turnaround_days=rng.choice((None, 1.5, 4.0)),
                csat=rng.choice((None, 1, 5)),
                nps=rng.choice((None, 0, 7, 10)),
                ces=rng.choice((None, 2, 6)),
            )
            for _ in range(rng.randint(0, 12))
        ]
        stats = AnswerStats.from_answers(answers)
        for indicator in CATALOGUE:
            counted = answer_counts(indicator, SumsColumns.from_stats([stats]))
            assert counted.tolist() == [compute_indicator(indicator, stats).n]


larger_companies = st.lists(
    st.tuples(
        st.sampled_from(["Retail", "Health", "Energy"]),
        st.sampled_from(["a@x.test", "b@x.test", "c@x.test", None]),
        st.lists(st.sampled_from([0, 0, 1, 2, 3, 4, 5, 6, 9, 30]), min_size=4, max_size=4),
    ),
    min_size=1,
    max_size=24,
)


@settings(max_examples=300, deadline=None)
@given(
    larger_companies,
    st.sampled_from([None, "a@x.test", "b@x.test"]),
    st.sampled_from([3, 5, 8]),
    st.booleans(),
)
def test_the_audit_withholds_exactly_what_the_atom_by_atom_audit_withholds(
    company: list[tuple[str, str | None, list[int]]], owner: str | None, min_n: int, all_atoms: bool
) -> None:
    """audit() looks at classes of atoms that no figure tells apart (a manager's other
    accounts in their segments and company merged per quarter): its answer must be the
    original atom-by-atom audit's (audit_oracle), cell for cell, for every viewer."""
    from audit_oracle import audit as audit_atom_by_atom

    accounts = [AccountInfo(f"A{i}", f"A{i}", seg, who) for i, (seg, who, _) in enumerate(company)]
    universe = Universe(owner)
    groups = universe.groups(accounts)
    own = None if owner is None else {a.account_id for a in universe.accounts(accounts)}
    in_view = set().union(*groups.values(), own or {a.account_id for a in accounts})
    atom_n = {
        (f"A{i}", q): n
        for i, (_, _, answers) in enumerate(company)
        for q, n in zip(QUARTERS, answers, strict=True)
        if all_atoms or f"A{i}" in in_view  # atoms outside the viewer's figures: ignored
    }
    expected = audit_atom_by_atom(atom_n, groups, YEAR, min_n, own=own)
    assert audit(atom_n, groups, YEAR, min_n, own=own) == expected
