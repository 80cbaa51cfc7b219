"""Survey submits per second through the WSGI app vs raw SQLAlchemy Core inserts.

    python benchmarks/bench_submits.py [--submits 3000] [--processes 2] [--threads 8]

On a SQLite file in WAL mode (the default database), every submit goes through
the whole app: Flask routing, the rate limiter, the session cookie and CSRF
check, the token lookup, answer validation, one ``INSERT ... ON CONFLICT``
upsert plus the invitation update, one commit (``BEGIN IMMEDIATE``), a 303
redirect. The app runs in ``--processes`` processes (like gunicorn workers, one
per CPU), each driven by ``--threads`` clients (Flask's test client, no HTTP
parsing); each client is one respondent's browser posting for many invitations.
The same rows are then inserted with plain SQLAlchemy Core, one transaction per
row over as many threads, and in one ``executemany``.

Prints submits/s, lost rows (accepted but not in the database) and the number of
"database is locked" errors. Goal: >= 500 submits/s, 0 lost, 0 locked.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import re
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import delete, func, insert, select  # noqa: E402
from sqlalchemy.exc import OperationalError  # noqa: E402

from cpi import create_app  # noqa: E402
from cpi.accounts.models import Account, Contact  # noqa: E402
from cpi.db import database, make_engine  # noqa: E402
from cpi.migrate import upgrade  # noqa: E402
from cpi.surveys.campaigns import create_campaign  # noqa: E402
from cpi.surveys.invitations import add_invitation  # noqa: E402
from cpi.surveys.models import Invitation, Response  # noqa: E402
from cpi.surveys.tokens import issue_token  # noqa: E402
from cpi.timeutil import utcnow  # noqa: E402

ANSWERS = {
    "fcr": "yes",
    "contacts_total": "5",
    "contacts_value_added": "3",
    "quote_turnaround_days": "2.5",
    "csat": "4",
    "nps": "9",
    "ces": "6",
    "comment": "Helpful and quick.",
}


class LockCounter(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.locked = 0

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage() + (str(record.exc_info[1]) if record.exc_info else "")
        if "database is locked" in text:
            self.locked += 1


def seed(url: str, secret: str, contacts: int) -> list[str]:
    """Accounts, contacts, an open campaign and one invitation per contact; the tokens."""
    engine = make_engine(url)
    upgrade(engine)
    now = utcnow()
    with engine.begin() as connection:
        connection.execute(
            insert(Account),
            [
                {"account_id": f"ACC-{a:03d}", "name": f"Account {a}", "segment": "Bench",
                 "created_at": now}
                for a in range(50)
            ],
        )  # fmt: skip
        ids = dict(connection.execute(select(Account.account_id, Account.id)).all())
        connection.execute(
            insert(Contact),
            [
                {"account_id": ids[f"ACC-{i % 50:03d}"], "email": f"c{i}@bench.test",
                 "created_at": now}
                for i in range(contacts)
            ],
        )  # fmt: skip
    from sqlalchemy.orm import Session

    tokens = []
    with Session(engine) as session:
        campaign = create_campaign(session, name="bench", period="2026-Q3")
        campaign.status = "open"
        for contact in session.scalars(select(Contact).order_by(Contact.id)):
            issued = issue_token(secret)
            add_invitation(session, campaign, contact, issued.token_hash, issued.salt)
            tokens.append(issued.token)
        session.commit()
    engine.dispose()
    return tokens


def _app_worker(url: str, tmp: str, tokens: list[str], threads: int, start_barrier: Any,
                results: Any) -> None:  # fmt: skip
    """One server process (like one gunicorn worker): its own app, ``threads`` clients."""
    app = create_app(
        {"DATABASE_URL": url, "SECRET_KEY": "bench-secret", "INSTANCE_PATH": tmp,
         "MAIL_URL": f"file://{tmp}/outbox"}
    )  # fmt: skip
    counter = LockCounter()
    app.logger.addHandler(counter)
    logging.getLogger().addHandler(counter)
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    clients = []
    for chunk in (tokens[i::threads] for i in range(threads)):
        client = app.test_client()
        page = client.get(f"/s/{chunk[0]}").get_data(as_text=True)
        match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
        assert match, "no CSRF token on the survey page"
        clients.append((client, match.group(1), chunk))

    def worker(client: Any, csrf: str, chunk: list[str]) -> None:
        mine: dict[int, int] = {}
        for token in chunk:
            status = client.post(f"/s/{token}", data={**ANSWERS, "csrf_token": csrf}).status_code
            mine[status] = mine.get(status, 0) + 1
        with lock:
            for status, n in mine.items():
                statuses[status] = statuses.get(status, 0) + n

    workers = [threading.Thread(target=worker, args=c) for c in clients]
    start_barrier.wait()
    cpu_start = time.process_time()
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    cpu = time.process_time() - cpu_start
    database(app).engine.dispose()
    results.put((statuses, counter.locked, cpu))


def run_together(target: Any, arg_sets: list[tuple[Any, ...]]) -> tuple[float, list[Any]]:
    """One forked process per argument tuple (each also gets a start barrier and a
    result queue); all start at once; the seconds until every one has reported."""
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(len(arg_sets) + 1)
    results = context.Queue()
    children = [context.Process(target=target, args=(*args, barrier, results)) for args in arg_sets]
    for child in children:
        child.start()
    barrier.wait()
    start = time.perf_counter()
    collected = [results.get() for _ in children]
    elapsed = time.perf_counter() - start
    for child in children:
        child.join()
    return elapsed, collected


def merge_counts(parts: Any) -> dict[int, int]:
    merged: dict[int, int] = {}
    for part in parts:
        for key, n in part.items():
            merged[key] = merged.get(key, 0) + n
    return merged


def bench_app(url: str, tmp: Path, tokens: list[str], processes: int, threads: int
              ) -> dict[str, Any]:  # fmt: skip
    elapsed, collected = run_together(
        _app_worker, [(url, str(tmp), tokens[i::processes], threads) for i in range(processes)]
    )
    statuses = merge_counts(child_statuses for child_statuses, _, _ in collected)
    engine = make_engine(url)
    with engine.connect() as connection:
        stored = connection.scalar(select(func.count()).select_from(Response))
        answered = connection.scalar(
            select(func.count()).where(Invitation.answered_at.is_not(None))
        )
    engine.dispose()
    return {
        "seconds": elapsed,
        "rate": len(tokens) / elapsed,
        "statuses": statuses,
        "accepted": statuses.get(303, 0),
        "stored": stored,
        "answered": answered,
        "locked": sum(locked for _, locked, _ in collected),
        "cpu_seconds": sum(cpu for _, _, cpu in collected),
    }


def response_rows(url: str) -> list[dict[str, Any]]:
    engine = make_engine(url)
    with engine.connect() as connection:
        rows = [
            dict(row._mapping)
            for row in connection.execute(
                select(Response.__table__).order_by(Response.id)  # type: ignore[arg-type]
            )
        ]
    engine.dispose()
    for row in rows:
        row.pop("id")
    return rows


def bench_core(url: str, rows: list[dict[str, Any]], threads: int) -> dict[str, Any]:
    """The same rows, one transaction each over the same threads, then one executemany."""
    engine = make_engine(url, pool_size=threads, max_overflow=0)
    writer = engine.execution_options(cpi_write=True)
    with writer.begin() as connection:
        connection.execute(delete(Response))
    locked = 0
    lock = threading.Lock()
    chunks = [rows[i::threads] for i in range(threads)]
    ready = threading.Barrier(threads + 1)

    def worker(chunk: list[dict[str, Any]]) -> None:
        nonlocal locked
        ready.wait()
        for row in chunk:
            try:
                with writer.begin() as connection:
                    connection.execute(insert(Response), row)
            except OperationalError as error:
                if "database is locked" in str(error):
                    with lock:
                        locked += 1

    workers = [threading.Thread(target=worker, args=(chunk,)) for chunk in chunks]
    for thread in workers:
        thread.start()
    ready.wait()
    start = time.perf_counter()
    for thread in workers:
        thread.join()
    per_row = time.perf_counter() - start
    with writer.begin() as connection:
        stored = connection.scalar(select(func.count()).select_from(Response))
        connection.execute(delete(Response))
    start = time.perf_counter()
    with writer.begin() as connection:
        connection.execute(insert(Response), rows)
    bulk = time.perf_counter() - start
    engine.dispose()
    return {
        "per_row_rate": len(rows) / per_row,
        "bulk_rate": len(rows) / bulk,
        "stored": stored,
        "locked": locked,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submits", type=int, default=3000)
    parser.add_argument("--processes", type=int, default=2, help="app processes (workers)")
    parser.add_argument("--threads", type=int, default=8, help="client threads per process")
    args = parser.parse_args()
    load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
    tmp = Path(tempfile.mkdtemp(prefix="cpi-bench-"))
    try:
        url = f"sqlite:///{tmp / 'bench.sqlite3'}"
        tokens = seed(url, "bench-secret", args.submits)
        app_result = bench_app(url, tmp, tokens, args.processes, args.threads)
        core_result = bench_core(url, response_rows(url), args.processes * args.threads)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    lost = app_result["accepted"] - app_result["stored"]
    print(f"load average before the run: {load_before}")
    print(
        f"SQLite WAL, {args.submits} submits, {args.processes} app processes x "
        f"{args.threads} threads, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}"
    )
    print(
        f"  through the WSGI app : {app_result['rate']:8.0f} submits/s "
        f"({app_result['seconds']:.2f} s; statuses {app_result['statuses']})"
    )
    cpu_per_submit = app_result["cpu_seconds"] / args.submits
    print(
        f"  app CPU per submit  : {cpu_per_submit * 1000:8.2f} ms -> at most "
        f"{(os.cpu_count() or 1) / cpu_per_submit:.0f} submits/s on {os.cpu_count()} idle CPUs"
    )
    print(f"  raw Core, 1 tx/row  : {core_result['per_row_rate']:8.0f} rows/s")
    print(f"  raw Core, executemany: {core_result['bulk_rate']:7.0f} rows/s")
    print(f"  app/Core (1 tx/row) : {app_result['rate'] / core_result['per_row_rate']:8.2f}")
    print(
        f"  accepted {app_result['accepted']}, stored {app_result['stored']}, lost {lost}; "
        f"answered invitations {app_result['answered']}"
    )
    print(f"  'database is locked': app {app_result['locked']}, Core {core_result['locked']}")
    goal = app_result["rate"] >= 500 and lost == 0 and app_result["locked"] == 0
    print(f"  goal (>= 500 submits/s, 0 lost, 0 locked): {'met' if goal else 'NOT met'}")


if __name__ == "__main__":
    main()
