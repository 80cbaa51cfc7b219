"""Scoring benchmark: score a period for the company and every account vs. a bare GROUP BY.

    python benchmarks/bench_scoring.py [--database-url URL] [--responses 1000000]

Generates RESPONSES answers over 2,000 accounts and 8 quarters into a fresh
database (a temporary SQLite file unless --database-url names an empty
PostgreSQL database), then measures, median of --repeats runs:

(a) the real code path of a scorecard run: ``load_scoring_data`` for one
    quarter, ``score`` for the company and ``score_accounts`` for all
    accounts, every indicator with its interval, KPI, target and previous
    period;
(b) a hand-written ``SELECT account_id, count(fcr), ... FROM responses
    WHERE period = ? GROUP BY account_id`` that only counts the answers.

The goal (issue 3) is (a) <= 2 x (b). The figures are recorded in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Engine, inspect, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

import cpi.models  # noqa: E402, F401  (registers every table)
from cpi.db import Base, make_engine  # noqa: E402
from cpi.migrate import upgrade  # noqa: E402
from cpi.scorecards.operations import (  # noqa: E402
    load_scoring_data,
    resolve_scope,
    score,
    score_accounts,
)
from cpi.scoring import Period  # noqa: E402
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


def run_scoring(engine: Engine, period: str) -> tuple[int, int]:
    """(a): the real code path; returns (scorecards, total answers) as a check."""
    with Session(engine) as session:
        data = load_scoring_data(session, period)
        company = score(
            data, resolve_scope(data, "company", None), min_n=5, generated_at=GENERATED_AT
        )
        cards = score_accounts(data, sorted(data.accounts), min_n=5, generated_at=GENERATED_AT)
    return len(cards) + 1, company.responses


def run_baseline(engine: Engine, period: str) -> list[Any]:
    """(b): the hand-written GROUP BY that only counts answers."""
    with engine.connect() as connection:
        return list(connection.execute(text(BASELINE_SQL), {"period": period}))


def timed(function: Callable[[], Any], repeats: int) -> tuple[float, float, Any]:
    """Median wall time and median CPU time of this process (the machine may be shared:
    with SQLite all the work is in this process, so CPU time is the steadier figure)."""
    function()  # warm the caches once; every measured run does the full work
    walls, cpus = [], []
    result = None
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        result = function()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus), result


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


def _account_pks(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return dict(connection.execute(text("SELECT account_id, id FROM accounts")).all())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url", help="an empty database (default: a temporary SQLite file)"
    )
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--accounts", type=int, default=2_000)
    parser.add_argument("--quarters", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--period", default="2026-Q3", help="the last generated quarter")
    args = parser.parse_args(argv)

    scratch = None
    url = args.database_url
    if not url:
        scratch = Path(tempfile.mkdtemp(prefix="cpi-bench-"))
        url = f"sqlite:///{scratch / 'bench.sqlite3'}"
    engine = make_engine(url)
    try:
        if "responses" in inspect(engine).get_table_names():
            raise SystemExit(
                f"{engine.url.render_as_string()}: not empty; give a freshly created database"
            )
        upgrade(engine)
        periods = quarters(args.quarters, Period.parse(args.period))
        start = time.perf_counter()
        generate(engine, args.responses, args.accounts, periods)
        print(
            f"database: {engine.dialect.name}; generated {args.responses:,} responses, "
            f"{args.accounts:,} accounts, quarters {periods[0]}..{periods[-1]} "
            f"in {time.perf_counter() - start:.1f} s"
        )
        period = periods[-1]
        base_wall, base_cpu, baseline = timed(lambda: run_baseline(engine, period), args.repeats)
        wall, cpu, (cards, answered) = timed(lambda: run_scoring(engine, period), args.repeats)
        check_same_answers(engine, period, baseline)
        ratio = wall / base_wall
        print(f"period {period}: {answered:,} responses, {cards:,} scorecards; "
              f"median of {args.repeats} runs, wall (CPU of this process)")  # fmt: skip
        print(f"(a) scoring company + every account: {wall * 1000:8.1f} ms ({cpu * 1000:.1f} ms)")
        print(f"(b) bare GROUP BY counting answers:  {base_wall * 1000:8.1f} ms "
              f"({base_cpu * 1000:.1f} ms)")  # fmt: skip
        print(f"ratio (a)/(b): {ratio:.2f} wall, {cpu / base_cpu:.2f} CPU (goal <= 2): "
              f"{'met' if ratio <= 2 else 'MISSED'}")  # fmt: skip
    finally:
        engine.dispose()
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
