"""Scoring benchmark: score a period for the company and every account vs. a bare GROUP BY.

    python benchmarks/bench_scoring.py [--database-url URL] [--responses 1000000] [--check]

Generates RESPONSES answers over 2,000 accounts and 8 quarters once into a cached
database (benchmarks/.cache/*.sqlite3, or the PostgreSQL database --database-url
names: empty, it is filled; already filled by this script, it is reused), then
measures, after a warm-up, the minimum of --repeats interleaved runs of:

(a) the real code path of "score the company and every account": ``load_scoring_data``
    for one quarter, then the columnar scorer for the company and all accounts (every
    indicator with its interval, KPI, target, status, certainty, previous period and
    change interval), results kept as columns, the company's scorecard built;
(a+) the same, also building all 2,001 Scorecard objects (what a page never needs);
(b) the floor: a hand-written ``SELECT account_id, count(fcr), ... FROM responses
    WHERE period = ? GROUP BY account_id`` that only counts the answers;
(c) when a table of answer sums per account and quarter exists (issue 13 item 1),
    a bare SELECT of the period's rows of it: the floor once the loader reads it.

The goal (issue 13) is (a) <= 2 x the floor. ``--check`` also compares every scorecard
with the pure oracle (tests/scoring_oracle) within 1e-12.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Engine, inspect, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

import cpi.models  # noqa: E402, F401  (registers every table)
from cpi.config import DEFAULTS, tune_garbage_collector  # noqa: E402
from cpi.db import Base, make_engine  # noqa: E402
from cpi.migrate import upgrade  # noqa: E402
from cpi.scorecards.operations import (  # noqa: E402
    ScoringData,
    account_scores,
    load_scoring_data,
    resolve_scope,
    score,
    score_accounts,
)
from cpi.scoring import Period, tdist  # noqa: E402
from cpi.surveys.sums import rebuild as rebuild_sums  # noqa: E402

SEGMENTS = ("Manufacturing", "Healthcare", "Retail", "Public sector", "Logistics")
OWNERS = tuple(f"am{i}@example.com" for i in range(1, 41))
CHUNK = 20_000
GENERATED_AT = datetime(2026, 10, 2, 9, 0, 0)

BASELINE_SQL = """
SELECT account_id,
       count(fcr), count(contacts_total), count(contacts_value_added),
       count(quote_turnaround_days), count(csat), count(nps), count(ces)
FROM responses
WHERE period = :period
GROUP BY account_id
"""


def quarters(count: int, last: Period) -> list[str]:
    periods = [last]
    while len(periods) < count:
        periods.append(periods[-1].previous())
    return [str(p) for p in reversed(periods)]


def chunks(rows: Iterator[dict[str, Any]], size: int = CHUNK) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _maybe(rng: random.Random, blank_share: float, value: Any) -> Any:
    return None if rng.random() < blank_share else value


def answers(rng: random.Random, mood: float) -> dict[str, Any]:
    """One respondent's answers; ``mood`` (0-1) is the account's general satisfaction."""
    happy = rng.random() < mood
    total = rng.randint(0, 25)
    added = rng.randint(0, total) if total else 0
    days = round(rng.lognormvariate(1.3 if happy else 1.9, 0.5) * 2) / 2
    return {
        "fcr": _maybe(rng, 0.05, rng.choice(("yes", "yes", "no", "na")) if happy else "no"),
        "contacts_total": _maybe(rng, 0.1, total),
        "contacts_value_added": _maybe(rng, 0.12, added),
        "quote_turnaround_days": _maybe(rng, 0.35, min(days, 365.0)),
        "csat": _maybe(rng, 0.03, rng.randint(4, 5) if happy else rng.randint(1, 4)),
        "nps": _maybe(rng, 0.05, rng.randint(7, 10) if happy else rng.randint(0, 8)),
        "ces": _maybe(rng, 0.08, rng.randint(4, 7) if happy else rng.randint(1, 5)),
    }


def generate(engine: Engine, responses: int, accounts: int, periods: list[str]) -> None:
    """Fill the database with SQLAlchemy Core executemany, in chunks."""
    tables = Base.metadata.tables
    rng = random.Random(20261002)  # noqa: S311 - synthetic data
    per_account = -(-responses // (accounts * len(periods)))  # contacts needed per account
    created = datetime(2026, 1, 1)
    with engine.begin() as connection:
        connection.execute(
            tables["accounts"].insert(),
            [
                {
                    "id": a + 1,
                    "account_id": f"ACC-{a + 1:05d}",
                    "name": f"Account {a + 1}",
                    "segment": SEGMENTS[a % len(SEGMENTS)],
                    "owner_email": OWNERS[a % len(OWNERS)],
                    "created_at": created,
                }
                for a in range(accounts)
            ],
        )
        contacts = (
            {
                "id": a * per_account + c + 1,
                "account_id": a + 1,
                "email": f"person{c}@acc{a + 1}.example.com",
                "created_at": created,
            }
            for a in range(accounts)
            for c in range(per_account)
        )
        for batch in chunks(contacts):
            connection.execute(tables["contacts"].insert(), batch)
        kpi_rows, target_rows = kpis_and_targets(rng, accounts, periods)
        for batch in chunks(iter(kpi_rows)):
            connection.execute(tables["kpi_figures"].insert(), batch)
        connection.execute(tables["targets"].insert(), target_rows)

    moods = [rng.uniform(0.3, 0.9) for _ in range(accounts)]
    slots = [(a, c) for a in range(accounts) for c in range(per_account)]
    remaining = responses
    inserted = 0
    start = time.perf_counter()
    for index, period in enumerate(periods):
        count = remaining // (len(periods) - index)
        remaining -= count
        # Spread the quarter's answers evenly over the accounts, arriving in random order.
        chosen = [slots[i] for i in _even_slots(count, accounts, per_account)]
        rng.shuffle(chosen)
        submitted = datetime(int(period[:4]), 3 * int(period[-1]), 15)
        rows = (
            {
                "account_id": a + 1,
                "contact_id": a * per_account + c + 1,
                "period": period,
                "source": "import",
                "submitted_at": submitted,
                "name_consent": False,
                **answers(rng, moods[a]),
            }
            for a, c in chosen
        )
        with engine.begin() as connection:
            for batch in chunks(rows):
                connection.execute(tables["responses"].insert(), batch)
                inserted += len(batch)
                _progress(f"generating: {inserted:,} responses", start)
    print(file=sys.stderr)
    # Written straight into responses: the answer sums are recomputed from them.
    with Session(engine) as session:
        rebuild_sums(session)
        session.commit()
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    else:
        with engine.connect() as connection:
            connection.execute(text("ANALYZE"))


def _even_slots(count: int, accounts: int, per_account: int) -> list[int]:
    """``count`` (account, contact) slot indexes, as evenly spread over accounts as possible."""
    return [(i % accounts) * per_account + i // accounts for i in range(count)]


def kpis_and_targets(
    rng: random.Random, accounts: int, periods: list[str]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Account KPI rows for three indicators (fcr as a fraction), segment and company rows
    for csat, and company and segment targets for every indicator."""
    kpis: list[dict[str, Any]] = []
    for period in periods:
        for a in range(accounts):
            account_key = f"account:ACC-{a + 1:05d}"
            tickets = rng.randint(20, 400)
            resolved = rng.randint(tickets // 2, tickets)
            kpis.append(
                {"indicator": "fcr", "period": period, "scope_key": account_key,
                 "account_id": a + 1, "segment": None, "value": 100.0 * resolved / tickets,
                 "numerator": resolved, "denominator": tickets}
            )  # fmt: skip
            kpis.append(
                {"indicator": "quote_turnaround", "period": period, "scope_key": account_key,
                 "account_id": a + 1, "segment": None, "value": rng.uniform(1, 8),
                 "numerator": None, "denominator": None}
            )  # fmt: skip
            kpis.append(
                {"indicator": "csat", "period": period, "scope_key": account_key,
                 "account_id": a + 1, "segment": None, "value": rng.uniform(60, 98),
                 "numerator": None, "denominator": None}
            )  # fmt: skip
        for segment in SEGMENTS:
            kpis.append(
                {"indicator": "csat", "period": period, "scope_key": f"segment:{segment}",
                 "account_id": None, "segment": segment, "value": rng.uniform(70, 95),
                 "numerator": None, "denominator": None}
            )  # fmt: skip
        kpis.append(
            {"indicator": "nps", "period": period, "scope_key": "company", "account_id": None,
             "segment": None, "value": rng.uniform(10, 40), "numerator": None,
             "denominator": None}
        )  # fmt: skip
    targets = [
        {"indicator": code, "period": period, "segment_key": segment, "target": target,
         "tolerance": None}
        for period in periods
        for code, target in (("fcr", 75.0), ("value_added_calls", 4.0),
                             ("value_added_share", 40.0), ("quote_turnaround", 5.0),
                             ("csat", 80.0), ("nps", 30.0), ("ces", 5.5))
        for segment in ("", SEGMENTS[0], SEGMENTS[1])
    ]  # fmt: skip
    return kpis, targets


def _progress(message: str, start: float) -> None:
    if sys.stderr.isatty():
        print(f"\r{message} ({time.perf_counter() - start:.0f} s)", end="", file=sys.stderr)


def run_scoring(engine: Engine, period: str, *, all_cards: bool = False) -> tuple[int, int]:
    """(a): the real code path; returns (scopes scored, company answers) as a check.

    The t quantiles solved in earlier runs are forgotten first: a cold score after new
    answers meets new Welch degrees of freedom."""
    tdist._SOLVED.clear()
    with Session(engine) as session:
        data = load_scoring_data(session, period)
        company = score(
            data, resolve_scope(data, "company", None), min_n=5, generated_at=GENERATED_AT
        )
        if all_cards:
            scored = len(score_accounts(data, sorted(data.accounts), min_n=5))
        else:
            scored = len(account_scores(data, min_n=5)[1])
    return scored + 1, company.responses


def run_score_only(data: ScoringData) -> int:
    """The columnar scoring of (a) on data already loaded (nothing kept from earlier runs)."""
    tdist._SOLVED.clear()
    fresh = replace(data, shared=type(data.shared)())
    score(fresh, resolve_scope(fresh, "company", None), min_n=5, generated_at=GENERATED_AT)
    return len(account_scores(fresh, min_n=5)[1]) + 1


def oracle_inputs(data: ScoringData) -> Callable[[], int]:
    """The pure scorer this replaced (tests/scoring_oracle), scoring the same company and
    accounts from the same loaded sums, as the old ``score``/``score_accounts`` did."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    import scoring_oracle as oracle
    from columnar_support import oracle_kpis, oracle_scope, oracle_stats, oracle_targets

    stats = {
        a: {q: oracle_stats(s) for q, s in by_quarter.items()}
        for a, by_quarter in data.stats.items()
    }
    kpis = oracle_kpis(data.kpi_rows)
    by_account: dict[str | None, list[Any]] = {}
    for row in kpis:
        by_account.setdefault(row.account_id, []).append(row)
    targets = oracle_targets(data.target_rows)
    period = str(data.period)
    company = oracle_scope(resolve_scope(data, "company", None))
    accounts = [oracle_scope(resolve_scope(data, "account", a)) for a in sorted(data.accounts)]

    def pooled(scope: Any) -> dict[str, Any]:
        parts: dict[str, list[Any]] = {}
        for account in scope.account_ids:
            for quarter, part in stats.get(account, {}).items():
                parts.setdefault(quarter, []).append(part)
        return {q: oracle.AnswerStats.merge(group) for q, group in parts.items()}

    def run() -> int:
        oracle.t_quantile_975.cache_clear()
        oracle.score_scope(company, period, pooled(company), kpis, targets, min_n=5)
        for scope in accounts:
            own = by_account.get(scope.id, [])
            oracle.score_scope(scope, period, pooled(scope), own, targets, min_n=5)
        return len(accounts) + 1

    return run


def run_load_only(engine: Engine, period: str) -> int:
    with Session(engine) as session:
        return len(load_scoring_data(session, period).sum_rows)


def run_baseline(engine: Engine, period: str) -> list[Any]:
    """(b): the hand-written GROUP BY that only counts answers."""
    with engine.connect() as connection:
        return list(connection.execute(text(BASELINE_SQL), {"period": period}))


def sums_select(engine: Engine) -> str | None:
    """(c): a bare SELECT of a quarter's rows of the answer sums table, if there is one."""
    inspector = inspect(engine)
    for table in sorted(inspector.get_table_names()):
        if "sums" not in table:
            continue
        columns = {c["name"] for c in inspector.get_columns(table)}
        for column in ("period", "quarter"):
            if column in columns:
                return f"SELECT * FROM {table} WHERE {column} = :period"  # noqa: S608
    return None


def run_sums_select(engine: Engine, sql: str, period: str) -> list[Any]:
    with engine.connect() as connection:
        return list(connection.execute(text(sql), {"period": period}))


def interleaved(
    functions: dict[str, Callable[[], Any]], repeats: int
) -> tuple[dict[str, float], dict[str, float]]:
    """Minimum wall time and minimum CPU time (of this thread) of each function over
    ``repeats`` rounds, the functions interleaved within a round (so a busy moment of the
    shared machine hits all of them), after one warm-up round. With SQLite all the work
    is in this thread, so CPU time is the steadier figure on a shared machine; with
    PostgreSQL it leaves out the server."""
    for function in functions.values():
        function()
    best = dict.fromkeys(functions, float("inf"))
    cpu = dict.fromkeys(functions, float("inf"))
    for _ in range(repeats):
        for name, function in functions.items():
            start, start_cpu = time.perf_counter(), time.thread_time()
            function()
            cpu[name] = min(cpu[name], time.thread_time() - start_cpu)
            best[name] = min(best[name], time.perf_counter() - start)
    return best, cpu


def check_same_answers(engine: Engine, period: str, baseline: list[Any]) -> None:
    """The scorecards see the same answers the GROUP BY counts."""
    with Session(engine) as session:
        data = load_scoring_data(session, period)
        cards = {
            card.scope_id: card for card in score_accounts(data, sorted(data.accounts), min_n=5)
        }
    names = {a_pk: a_id for a_id, a_pk in _account_pks(engine).items()}
    for account_pk, _fcr, _total, calls, days, csat, nps, ces in baseline:
        card = cards[names[account_pk]]
        seen = tuple(
            card.indicator(code).n
            for code in ("value_added_calls", "quote_turnaround", "csat", "nps", "ces")
        )
        if seen != (calls, days, csat, nps, ces):
            raise SystemExit(f"mismatch for account {names[account_pk]}: {seen}")


def check_against_oracle(engine: Engine, period: str) -> None:
    """Every scorecard (company, segments, owners, accounts) equals the pure oracle's."""
    tests = Path(__file__).resolve().parent.parent / "tests"
    sys.path.insert(0, str(tests))
    from columnar_support import assert_same_card, oracle_card

    from cpi.scoring import AnswerStats

    with Session(engine) as session:
        data = load_scoring_data(session, period)
    accounts = data.accounts.values()
    scopes = [resolve_scope(data, "company", None)]
    scopes += [resolve_scope(data, "segment", s) for s in sorted({a.segment for a in accounts})]
    scopes += [resolve_scope(data, "owner", o) for o in sorted({a.owner_email for a in accounts})]
    scopes += [resolve_scope(data, "account", a) for a in sorted(data.accounts)]
    by_account = data.kpis_by_account()
    for scope in scopes:
        pooled: dict[str, list[AnswerStats]] = {}
        for account in scope.account_ids:
            for quarter, part in data.stats.get(account, {}).items():
                pooled.setdefault(quarter, []).append(part)
        merged = {q: AnswerStats.merge(parts) for q, parts in pooled.items()}
        kpis = by_account.get(scope.id, []) if scope.type == "account" else data.kpi_rows
        invited = sum(
            data.invited.get(a, {}).get(q, 0) for a in scope.account_ids for q in (period,)
        )
        want = oracle_card(
            scope, period, merged, kpis, data.target_rows, min_n=5, invited=invited or None
        )
        got = score(data, scope, min_n=5, generated_at=GENERATED_AT).to_dict()
        assert_same_card(got, want, f"{scope.type} {scope.id}")
    print(f"check: {len(scopes):,} scorecards equal the oracle's within 1e-12")


def _account_pks(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return dict(connection.execute(text("SELECT account_id, id FROM accounts")).all())


def prepare(engine: Engine, args: argparse.Namespace, periods: list[str]) -> None:
    """Generate the data once: reuse a database this script filled with the same sizes."""
    tables = inspect(engine).get_table_names()
    if "responses" in tables:
        with engine.connect() as connection:
            responses = connection.scalar(text("SELECT count(*) FROM responses"))
            accounts = connection.scalar(text("SELECT count(*) FROM accounts"))
        if (responses, accounts) == (args.responses, args.accounts):
            upgrade(engine)  # a database filled by an older checkout: bring it to head
            print(f"database: {engine.dialect.name}; reusing {responses:,} responses, "
                  f"{accounts:,} accounts")  # fmt: skip
            return
        raise SystemExit(
            f"{engine.url.render_as_string()}: holds other data; give a fresh database"
        )
    upgrade(engine)
    start = time.perf_counter()
    generate(engine, args.responses, args.accounts, periods)
    print(
        f"database: {engine.dialect.name}; generated {args.responses:,} responses, "
        f"{args.accounts:,} accounts, quarters {periods[0]}..{periods[-1]} "
        f"in {time.perf_counter() - start:.1f} s"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url", help="an empty or previously filled database (default: a cached "
        "SQLite file under benchmarks/.cache/)"
    )  # fmt: skip
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--accounts", type=int, default=2_000)
    parser.add_argument("--quarters", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--period", default="2026-Q3", help="the last generated quarter")
    parser.add_argument("--check", action="store_true", help="compare with the pure oracle")
    args = parser.parse_args(argv)
    # As the app's processes run (web workers, `cpi score`): its collector thresholds
    # (CPI_GC_THRESHOLD, cpi.config), not Python's, which collect during the large loads.
    tune_garbage_collector(os.environ.get("CPI_GC_THRESHOLD", DEFAULTS["GC_THRESHOLD"]))

    url = args.database_url
    if not url:
        cache = Path(__file__).resolve().parent / ".cache"
        cache.mkdir(exist_ok=True)
        name = f"scoring-{args.responses}-{args.accounts}-{args.quarters}-{args.period}.sqlite3"
        url = f"sqlite:///{cache / name}"
    engine = make_engine(url)
    try:
        periods = quarters(args.quarters, Period.parse(args.period))
        prepare(engine, args, periods)
        period = periods[-1]
        measured: dict[str, Callable[[], Any]] = {
            "floor": lambda: run_baseline(engine, period),
            "scoring": lambda: run_scoring(engine, period),
            "cards": lambda: run_scoring(engine, period, all_cards=True),
            "load": lambda: run_load_only(engine, period),
        }
        with Session(engine) as session:
            loaded = load_scoring_data(session, period)
        measured["columnar"] = lambda: run_score_only(loaded)
        measured["oracle"] = oracle_inputs(loaded)
        sums_sql = sums_select(engine)
        if sums_sql:
            measured["sums"] = lambda: run_sums_select(engine, sums_sql, period)
        best, cpu = interleaved(measured, args.repeats)
        check_same_answers(engine, period, run_baseline(engine, period))
        scored, answered = run_scoring(engine, period)
        floor = best["floor"]
        print(f"period {period}: {answered:,} responses, {scored:,} scopes scored; "
              f"minimum of {args.repeats} interleaved runs after a warm-up")  # fmt: skip
        rows = [
            ("(a) load + score company and every account (columns)", best["scoring"]),
            ("    of which load_scoring_data", best["load"]),
            ("(a+) the same, building all 2,001 Scorecard objects", best["cards"]),
            ("(b) floor: bare GROUP BY counting answers", floor),
        ]
        if sums_sql:
            rows.append(("(c) floor: bare SELECT of the sums rows", best["sums"]))
        names = ["scoring", "load", "cards", "floor"] + (["sums"] if sums_sql else [])
        floor_cpu = cpu["floor"]
        in_process = engine.dialect.name == "sqlite"  # PostgreSQL's floor runs in the server
        for (label, seconds), name in zip(rows, names, strict=True):
            cpu_ratio = f"  {cpu[name] / floor_cpu:5.2f}x" if in_process else ""
            print(f"{label:<56} {seconds * 1000:8.1f} ms  {seconds / floor:5.2f}x (b)   "
                  f"cpu {cpu[name] * 1000:6.1f} ms{cpu_ratio}")  # fmt: skip
        speedup = best["oracle"] / best["columnar"]
        print(f"scoring alone (loaded data): columnar {best['columnar'] * 1000:.1f} ms, "
              f"the pure scorer it replaced {best['oracle'] * 1000:.1f} ms: "
              f"{speedup:.1f}x faster")  # fmt: skip
        ratio = best["scoring"] / floor
        print(f"ratio (a)/(b): {ratio:.2f} (goal <= 2): {'met' if ratio <= 2 else 'MISSED'}")
        if in_process:
            print(f"ratio (a)/(b) by CPU time: {cpu['scoring'] / floor_cpu:.2f}")
        if sums_sql:
            print(f"ratio (a)/(c): {best['scoring'] / best['sums']:.2f}")
        if args.check:
            check_against_oracle(engine, period)
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
