"""Survey submits per second through a real gunicorn (4 workers) over loopback HTTP.

    python benchmarks/bench_load.py [--db sqlite,postgresql] [--submits 4000]
                                    [--workers 4] [--clients 4] [--threads 4]

For each database: a fresh database with one open campaign and one invitation per
submit (bench_submits.seed), gunicorn started with the documented config
(``-c python:cpi.gunicorn_conf``), then ``--clients`` client processes of
``--threads`` threads each send every submit once (GET the form once per thread for
the session cookie and CSRF token, then one POST per invitation; gunicorn's sync
workers close each connection); a warm-up of a quarter as many submits goes first,
unmeasured, so that no worker is timed while it imports and connects (a cold run
measured 315/s where a warm one got 594/s). Rows are counted afterwards: accepted (303) minus
stored = lost. Then the same rows are inserted with SQLAlchemy Core in the same run,
one transaction per row over the same number of threads (the ceiling), and in one
executemany. Loopback only; everything stops by itself.

PostgreSQL: ``--pg-url`` (default the local server) must allow CREATE DATABASE; a
database ``cpi_bench_<pid>`` is created and dropped.
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_submits import ANSWERS, seed  # noqa: E402
from sqlalchemy import create_engine, delete, func, insert, select, text  # noqa: E402
from sqlalchemy.exc import OperationalError  # noqa: E402

from cpi.db import make_engine  # noqa: E402
from cpi.surveys.models import Invitation, Response  # noqa: E402

SECRET = "bench-secret"
WARM_UP_SHARE = 0.25  # of --submits, sent first and not measured (cold workers)


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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_gunicorn(url: str, tmp: Path, workers: int) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CPI_")}
    env.update(
        CPI_DATABASE_URL=url, CPI_SECRET_KEY=SECRET, CPI_INSTANCE_PATH=str(tmp),
        CPI_MAIL_URL=f"file://{tmp}/outbox", CPI_BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY=str(workers), CPI_LOG_LEVEL="WARNING",
    )  # fmt: skip
    log = open(tmp / "gunicorn.log", "ab")  # noqa: SIM115 - handed to the child
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "python:cpi.gunicorn_conf", "cpi:create_app()"],
        env=env, cwd=ROOT, stdout=log, stderr=log, start_new_session=True,
    )  # fmt: skip
    log.close()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            status, _, _ = request(port, "GET", "/healthz")
            if status == 200:
                return process, port
        except OSError:
            time.sleep(0.2)
    stop(process)
    raise SystemExit("gunicorn did not start:\n" + (tmp / "gunicorn.log").read_text())


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


def request(
    port: int,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def _client(port: int, tokens: list[str], threads: int, barrier: Any, results: Any) -> None:
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    prepared = []
    for chunk in (tokens[i::threads] for i in range(threads)):
        status, headers, body = request(port, "GET", f"/s/{chunk[0]}")
        cookie = headers.get("set-cookie", "").split(";", 1)[0]
        match = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', body)
        assert status == 200 and match and cookie, (status, body[:300])
        prepared.append((chunk, cookie, match.group(1).decode()))

    def send(chunk: list[str], cookie: str, csrf: str) -> None:
        form = urllib.parse.urlencode({**ANSWERS, "csrf_token": csrf}).encode()
        headers = {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"}
        mine: dict[int, int] = {}
        for token in chunk:
            try:
                status = request(port, "POST", f"/s/{token}", form, headers)[0]
            except OSError:
                status = 0
            mine[status] = mine.get(status, 0) + 1
        with lock:
            for key, n in mine.items():
                statuses[key] = statuses.get(key, 0) + n

    workers = [threading.Thread(target=send, args=p) for p in prepared]
    barrier.wait()
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    results.put(statuses)


def drive(port: int, tokens: list[str], clients: int, threads: int) -> tuple[float, dict[int, int]]:
    elapsed, collected = run_together(
        _client, [(port, tokens[i::clients], threads) for i in range(clients)]
    )
    return elapsed, merge_counts(collected)


def group_cpu_seconds(pgid: int) -> float:
    """User + system CPU of every live process in the process group (gunicorn's)."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def count_rows(url: str) -> tuple[int, int]:
    engine = make_engine(url)
    with engine.connect() as connection:
        stored = connection.scalar(select(func.count()).select_from(Response)) or 0
        answered = (
            connection.scalar(select(func.count()).where(Invitation.answered_at.is_not(None))) or 0
        )
    engine.dispose()
    return stored, answered


def run(label: str, url: str, tmp: Path, args: argparse.Namespace) -> dict[str, Any]:
    warm_up = int(args.submits * WARM_UP_SHARE)
    tokens = seed(url, SECRET, warm_up + args.submits)
    warm_tokens, tokens = tokens[:warm_up], tokens[warm_up:]
    server, port = start_gunicorn(url, tmp, args.workers)
    try:
        # Every worker imports, connects and fills its caches here, not in the figure.
        drive(port, warm_tokens, args.clients, args.threads)
        cpu_before = group_cpu_seconds(server.pid)
        elapsed, statuses = drive(port, tokens, args.clients, args.threads)
        server_cpu = group_cpu_seconds(server.pid) - cpu_before
    finally:
        stop(server)
    stored, answered = count_rows(url)
    stored, answered = stored - warm_up, answered - warm_up
    ceiling = bench_core(url, response_rows(url), args.clients * args.threads)
    accepted = statuses.get(303, 0)
    result = {
        "label": label,
        "rate": len(tokens) / elapsed,
        "seconds": elapsed,
        "statuses": statuses,
        "accepted": accepted,
        "stored": stored,
        "answered": answered,
        "lost": accepted - stored,
        "errors": sum(n for key, n in statuses.items() if key != 303),
        "core_per_row": ceiling["per_row_rate"],
        "core_bulk": ceiling["bulk_rate"],
        "cpu_ms": 1000 * server_cpu / len(tokens),
    }
    print(
        f"{label:<10} {result['rate']:7.0f} submits/s ({elapsed:.1f} s) | "
        f"raw insert 1 tx/row {result['core_per_row']:7.0f}/s, executemany "
        f"{result['core_bulk']:7.0f}/s | app/ceiling {result['rate'] / result['core_per_row']:.2f}"
        f" | accepted {accepted}, stored {stored}, lost {result['lost']}, "
        f"errors {result['errors']} {statuses}",
        flush=True,
    )
    print(
        f"{'':<10} gunicorn CPU {result['cpu_ms']:.2f} ms per submit -> at most "
        f"{1000 / result['cpu_ms'] * (os.cpu_count() or 1):.0f} submits/s on "
        f"{os.cpu_count()} idle CPUs for the web tier alone",
        flush=True,
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--submits", type=int, default=4000)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--clients", type=int, default=4, help="client processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per client process")
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    print(
        f"{args.submits} submits, gunicorn {args.workers} sync workers, {args.clients} client "
        f"processes x {args.threads} threads, loopback HTTP, {os.cpu_count()} CPUs "
        f"(clients and server share them), Python {sys.version.split()[0]}",
        flush=True,
    )
    goals = {"sqlite": 500, "postgresql": 1500}
    results = []
    for name in args.db.split(","):
        tmp = Path(tempfile.mkdtemp(prefix="cpi-load-"))
        try:
            if name == "sqlite":
                results.append(run("SQLite", f"sqlite:///{tmp / 'load.sqlite3'}", tmp, args))
            else:
                admin = create_engine(args.pg_url, isolation_level="AUTOCOMMIT")
                database = f"cpi_bench_{os.getpid()}"
                with admin.connect() as connection:
                    connection.execute(text(f"CREATE DATABASE {database}"))
                url = args.pg_url.rsplit("/", 1)[0] + f"/{database}"
                try:
                    results.append(run("PostgreSQL", url, tmp, args))
                finally:
                    with admin.connect() as connection:
                        connection.execute(text(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)"))
                    admin.dispose()
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    for result in results:
        goal = goals["sqlite" if result["label"] == "SQLite" else "postgresql"]
        met = result["rate"] >= goal and result["lost"] == 0 and result["errors"] == 0
        print(
            f"goal {result['label']}: >= {goal}/s, 0 errors, 0 lost: {'met' if met else 'NOT met'}"
        )


if __name__ == "__main__":
    main()
