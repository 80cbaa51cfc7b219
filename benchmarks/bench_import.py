"""CSV import benchmark: ``cpi import responses`` of ROWS rows against a bare executemany.

    python benchmarks/bench_import.py [--rows 1000000] [--accounts 2000]
                                      [--database-url postgresql+psycopg://.../empty_db]

Creates a fresh database (a temporary SQLite file unless --database-url names an
empty PostgreSQL database), imports ACCOUNTS accounts with their contacts, writes a
responses CSV of ROWS rows (8 quarters), then measures:

(a) ``cpi import responses FILE``: the real command in its own process (start-up,
    parsing and checking every cell, the upsert, the answer sums, one commit);
    wall time, rows/s and the process's peak RSS;
(b) the floor: the same rows, already parsed, written with a bare DB-API
    ``executemany`` into a scratch table without indexes, in one transaction; run
    before and after (a), after a warm-up, and the faster run is kept.

It prints (a), (b) and (a) / (b), then checks the answer sums (``cpi sums check``).
Issue 13's goal: (a) >= 50,000 rows/s on SQLite and PostgreSQL.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import inspect, make_url  # noqa: E402

from cpi.db import make_engine  # noqa: E402

QUARTERS = [f"{year}-Q{q}" for year in (2025, 2026) for q in (1, 2, 3, 4)]
CHUNK = 50_000
FLOOR_COLUMNS = (
    "account_id integer, contact_id integer, period varchar(7), fcr varchar(3), "
    "contacts_total integer, contacts_value_added integer, quote_turnaround_days float, "
    "csat integer, nps integer, ces integer"
)


def write_files(folder: Path, rows: int, accounts: int) -> tuple[Path, Path]:
    rng = random.Random(13)
    per_account = -(-rows // (accounts * len(QUARTERS)))
    contacts, responses = folder / "contacts.csv", folder / "responses.csv"
    with open(contacts, "w", encoding="utf-8") as out:
        out.write("account_id,account_name,segment,owner_email,contact_email\n")
        for a in range(accounts):
            for c in range(per_account):
                out.write(f"A{a:05d},Account {a},Segment {a % 5},am{a % 40}@example.com,"
                          f"person{c}@account{a}.example.com\n")  # fmt: skip
    with open(responses, "w", encoding="utf-8") as out:
        out.write("account_id,contact_email,period,fcr,contacts_total,contacts_value_added,"
                  "quote_turnaround_days,csat,nps,ces\n")  # fmt: skip
        written = 0
        for quarter in QUARTERS:
            for a in range(accounts):
                for c in range(per_account):
                    if written == rows:
                        return contacts, responses
                    total = rng.randint(0, 12)
                    out.write(
                        f"A{a:05d},person{c}@account{a}.example.com,{quarter},"
                        f"{rng.choice(('yes', 'no', 'na', ''))},{total},{rng.randint(0, total)},"
                        f"{rng.choice(('0.5', '1', '2', '3', '5', '8', ''))},{rng.randint(1, 5)},"
                        f"{rng.randint(0, 10)},{rng.randint(1, 7)}\n"
                    )
                    written += 1
    return contacts, responses


CPU_SECONDS: list[float] = []  # user + system of each ``cpi`` process run


def cpi(env: dict[str, str], *args: str) -> tuple[float, float]:
    """Run ``cpi ARGS``; return (wall seconds, peak RSS in MB) of that process."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-c", "from cpi.cli import cli; cli()", *args], env=env
    )
    _pid, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    CPU_SECONDS.append(usage.ru_utime + usage.ru_stime)
    if process.returncode != 0:
        raise SystemExit(f"cpi {' '.join(args)} failed ({process.returncode})")
    return elapsed, usage.ru_maxrss / 1024


class ServerCpu:
    """CPU seconds of the PostgreSQL backends serving DATABASE while it runs, read from
    /proc every 0.2 s (the server on this machine): the import's work on the server,
    which its own CPU time leaves out. The last 0.2 s of a backend may be missed."""

    def __init__(self, url: str) -> None:
        self.url, self.stop = url, threading.Event()
        self.seconds: dict[int, float] = {}
        self.thread = threading.Thread(target=self.poll, daemon=True)

    def __enter__(self) -> ServerCpu:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop.set()
        self.thread.join()

    def poll(self) -> None:
        engine = make_engine(self.url)
        with engine.connect() as connection:
            me = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
            while not self.stop.wait(0.2):
                for (pid,) in connection.exec_driver_sql(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                ):
                    if pid != me:
                        self.seconds[pid] = max(self.seconds.get(pid, 0.0), _cpu_seconds(pid))
                connection.rollback()
        engine.dispose()

    @property
    def total(self) -> float:
        return sum(self.seconds.values())


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def parsed_rows(path: Path, contact_ids: dict[tuple[str, str], tuple[int, int]]) -> Iterator[Any]:
    def number(text: str, kind: Any) -> Any:
        return kind(text) if text else None

    with open(path, encoding="utf-8", newline="") as source:
        reader = csv.reader(source)
        next(reader)
        for account, email, period, fcr, total, added, days, csat, nps, ces in reader:
            account_pk, contact_id = contact_ids[(account, email)]
            yield (account_pk, contact_id, period, fcr or None, number(total, int),
                   number(added, int), number(days, float), number(csat, int),
                   number(nps, int), number(ces, int))  # fmt: skip


def floor(url: str, path: Path, contact_ids: dict[tuple[str, str], tuple[int, int]],
          limit: int | None = None) -> tuple[float, int]:  # fmt: skip
    """Seconds to executemany + commit the rows into a fresh scratch table."""
    engine = make_engine(url)
    connection = engine.raw_connection()
    marks = "?" if engine.dialect.name == "sqlite" else "%s"
    insert = f"INSERT INTO bench_floor VALUES ({', '.join([marks] * 10)})"  # noqa: S608
    cursor = connection.cursor()
    cursor.execute("DROP TABLE IF EXISTS bench_floor")
    cursor.execute(f"CREATE TABLE bench_floor ({FLOOR_COLUMNS})")
    connection.commit()
    spent, count = 0.0, 0
    if engine.dialect.name == "sqlite":
        # The engine leaves transactions to its caller (isolation_level None): without
        # this BEGIN every row was its own transaction, a floor ~10x too slow.
        started = time.perf_counter()
        cursor.execute("BEGIN")
        spent += time.perf_counter() - started
    rows = parsed_rows(path, contact_ids)
    while limit is None or count < limit:
        chunk = [row for _, row in zip(range(CHUNK), rows, strict=False)]
        if not chunk:
            break
        started = time.perf_counter()
        cursor.executemany(insert, chunk)
        spent += time.perf_counter() - started
        count += len(chunk)
    started = time.perf_counter()
    connection.commit()
    spent += time.perf_counter() - started
    cursor.execute("DROP TABLE bench_floor")
    connection.commit()
    connection.close()
    engine.dispose()
    return spent, count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--accounts", type=int, default=2000)
    parser.add_argument("--database-url", help="an empty PostgreSQL database (default: SQLite)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="cpi-bench-import-") as tmp:
        folder = Path(tmp)
        url = args.database_url or f"sqlite:///{folder / 'bench.sqlite3'}"
        engine = make_engine(url)
        if inspect(engine).get_table_names():
            raise SystemExit(f"{make_url(url).database}: not empty; give an empty database")
        engine.dispose()
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
            "CPI_DATABASE_URL": url,
            "CPI_INSTANCE_PATH": str(folder / "instance"),
            "CPI_SECRET_KEY": "bench",
            "CPI_IMPORT_MAX_BYTES": str(10**10),
            "CPI_REDIS_URL": "",
        }
        cpi(env, "init")
        contacts, responses = write_files(folder, args.rows, args.accounts)
        cpi(env, "import", "contacts", str(contacts))
        engine = make_engine(url)
        with engine.connect() as connection:
            contact_ids = {
                (account_id, email): (account_pk, contact_id)
                for contact_id, account_pk, account_id, email in connection.exec_driver_sql(
                    "SELECT contacts.id, accounts.id, accounts.account_id, contacts.email "
                    "FROM contacts JOIN accounts ON accounts.id = contacts.account_id"
                )
            }
        engine.dispose()
        floor(url, responses, contact_ids, limit=CHUNK)  # warm-up
        floors = [floor(url, responses, contact_ids)[0]]
        dialect = make_url(url).get_backend_name()
        server = ServerCpu(url) if dialect == "postgresql" else None
        if server is not None:
            with server:
                seconds, peak_mb = cpi(env, "import", "responses", str(responses))
        else:
            seconds, peak_mb = cpi(env, "import", "responses", str(responses))
        floors.append(floor(url, responses, contact_ids)[0])
        floor_seconds = min(floors)
        print(f"database: {dialect}; {args.rows:,} responses, {args.accounts:,} accounts, "
              f"{len(QUARTERS)} quarters")  # fmt: skip
        print(f"cpi import responses: {seconds:.1f} s, {args.rows / seconds:,.0f} rows/s, "
              f"peak RSS {peak_mb:.0f} MB, its CPU time {CPU_SECONDS[-1]:.1f} s")  # fmt: skip
        if server is not None:
            both = CPU_SECONDS[-1] + server.total
            print(f"  the server's CPU time for it: about {server.total:.1f} s (its backend, "
                  f"read from /proc); client + server {both:.1f} s")  # fmt: skip
        print(f"floor (bare executemany, no indexes): {floor_seconds:.1f} s, "
              f"{args.rows / floor_seconds:,.0f} rows/s (runs: "
              f"{', '.join(f'{f:.1f}' for f in floors)} s)")  # fmt: skip
        print(f"ratio import / floor: {seconds / floor_seconds:.2f}x; load average "
              f"{os.getloadavg()[0]:.1f}")  # fmt: skip
        started = time.perf_counter()
        cpi(env, "sums", "check")
        print(f"cpi sums check: {time.perf_counter() - started:.1f} s")
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(f"(this benchmark process: peak RSS {usage.ru_maxrss / 1024:.0f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
