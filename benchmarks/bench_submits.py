"""Survey submits through gunicorn: the app's full submit path vs a bare Flask handler.

    python benchmarks/bench_submits.py [--db sqlite|postgresql] [--rounds 5]
        [--per-round 400] [--workers 5] [--clients 8] [--pg-url URL]

Starts three gunicorn servers on the same fresh database (a SQLite WAL file, or a
database ``cpi_bench_<pid>`` created on ``--pg-url``'s server and dropped after):
the app (``cpi:create_app()`` with ``cpi.gunicorn_conf``) and two bare Flask handlers
(``bare_submit_app.py``): "bare" does the issue's floor (token lookup, the same Core
upsert and invitation update, one transaction), "bare-full" the app's own database
work through its operations (also the answer sums, the alert state and the data
generations, which every submit writes since the sums are kept on write). All
get the same number of sync workers and the same HTTP clients (``--clients``
threads over two client processes, a new connection per request as gunicorn's sync
workers close them). Every submit is a first answer for a fresh invitation.

Each server is warmed up first (one unmeasured round), then rounds rotate
between the servers. Prints each server's best round (submits/s) and the ratio
app / bare (goal >= 0.5), the servers' CPU time per submit (the lowest round; on a
shared machine the steadier figure; counted from when every client has its survey page,
so the app's page views are not charged to its submits) and its ratio, lost rows and
non-303 answers.
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from sqlalchemy import create_engine, func, insert, select, text  # noqa: E402
from support import free_port, wait_until  # noqa: E402

from cpi.accounts.models import Account, Contact  # noqa: E402
from cpi.db import make_engine  # noqa: E402
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
SECRET = "bench-secret"
# the app; the bare upsert (the issue's floor); a bare handler doing the app's database work
KINDS = ("app", "bare", "bare-full")
CLIENT_PROCESSES = 2


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


@contextmanager
def fresh_database(kind: str, tmp: Path, pg_url: str) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{tmp / 'bench.sqlite3'}"
        return
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    name = f"cpi_bench_{os.getpid()}"
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield pg_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def start_server(kind: str, url: str, tmp: Path, workers: int) -> tuple[Any, int]:
    port = free_port()
    env = {
        **os.environ, "PYTHONPATH": str(ROOT), "CPI_DATABASE_URL": url,
        "CPI_SECRET_KEY": SECRET, "CPI_INSTANCE_PATH": str(tmp / "instance"),
        "CPI_MAIL_URL": f"file://{tmp / 'outbox'}", "CPI_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": str(workers), "CPI_LOG_LEVEL": "WARNING",
    }  # fmt: skip
    if kind == "app":
        command = ["-c", "python:cpi.gunicorn_conf", "cpi:create_app()"]
    else:
        env["CPI_BARE_WORK"] = "full" if kind == "bare-full" else "upsert"
        command = ["-w", str(workers), "-b", f"127.0.0.1:{port}", "--chdir",
                   str(ROOT / "benchmarks"), "bare_submit_app:app"]  # fmt: skip
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", *command], env=env, stdout=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: its CPU time is counted apart
    )  # fmt: skip

    def serving() -> bool:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/s/x")
            connection.getresponse().read()
            return True
        except OSError:
            return False

    wait_until(serving, 60, f"the {kind} server")
    return process, port


def group_cpu_seconds(pgid: int) -> float:
    """User + system CPU of every live process in a process group (one gunicorn)."""
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


def stop_server(process: Any) -> None:
    process.send_signal(signal.SIGTERM)
    process.wait(30)


def _session(port: int, token: str) -> tuple[str, str]:
    """The cookie and CSRF token a browser gets with the survey page."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", f"/s/{token}")
    response = connection.getresponse()
    page = response.read().decode()
    cookies = [c.split(";", 1)[0] for c in response.msg.get_all("Set-Cookie") or []]
    cookie = next((c for c in cookies if c.startswith("session=")), "")
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert match and cookie, "no CSRF token or cookie on the survey page"
    return cookie, match.group(1)


def _client(port: int, kind: str, tokens: list[str], threads: int, barrier: Any,
            results: Any) -> None:  # fmt: skip
    """One client process: ``threads`` browsers posting their share of ``tokens``."""
    chunks = [tokens[i::threads] for i in range(threads)]
    statuses: dict[int, int] = {}
    lock = threading.Lock()

    def browser(chunk: list[str]) -> None:
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        body = urlencode(ANSWERS)
        if kind == "app":
            cookie, csrf = _session(port, chunk[0])
            headers["Cookie"] = cookie
            body = urlencode({**ANSWERS, "csrf_token": csrf})
        ready.wait()
        go.wait()
        mine: dict[int, int] = {}
        for token in chunk:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            connection.request("POST", f"/s/{token}", body, headers)
            status = connection.getresponse()
            status.read()
            connection.close()
            mine[status.status] = mine.get(status.status, 0) + 1
        with lock:
            for code, n in mine.items():
                statuses[code] = statuses.get(code, 0) + n

    browsers = [threading.Thread(target=browser, args=(c,)) for c in chunks if c]
    ready = threading.Barrier(len(browsers) + 1)
    go = threading.Barrier(len(browsers) + 1)
    for thread in browsers:
        thread.start()
    ready.wait()  # every browser of this process has its page
    barrier.wait()  # ... and of every process: the server's CPU is read
    barrier.wait()  # the posts start together
    go.wait()
    for thread in browsers:
        thread.join()
    results.put(statuses)


def one_round(
    port: int, kind: str, tokens: list[str], clients: int, pgid: int
) -> tuple[float, float, dict]:  # type: ignore[type-arg]
    """Submits per second for these tokens, the server's CPU seconds spent on them (read
    once every client has its survey page: the pages' CPU is not the submits'), and the
    answers' status codes."""
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(CLIENT_PROCESSES + 1)
    results = context.Queue()
    threads = max(1, clients // CLIENT_PROCESSES)
    children = [
        context.Process(target=_client, args=(port, kind, tokens[i::CLIENT_PROCESSES],
                                              threads, barrier, results))
        for i in range(CLIENT_PROCESSES)
    ]  # fmt: skip
    for child in children:
        child.start()
    barrier.wait()  # every client has its survey pages
    cpu_before = group_cpu_seconds(pgid)
    barrier.wait()
    started = time.perf_counter()
    collected = [results.get(timeout=600) for _ in children]
    elapsed = time.perf_counter() - started
    cpu_spent = group_cpu_seconds(pgid) - cpu_before
    for child in children:
        child.join()
    statuses: dict[int, int] = {}
    for part in collected:
        for code, n in part.items():
            statuses[code] = statuses.get(code, 0) + n
    return len(tokens) / elapsed, cpu_spent, statuses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--per-round", type=int, default=400)
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 1) * 2 + 1)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="cpi-bench-submits-"))
    try:
        with fresh_database(args.db, tmp, args.pg_url) as url:
            report(url, tmp, args)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def report(url: str, tmp: Path, args: argparse.Namespace) -> None:
    per_server = (args.rounds + 1) * args.per_round
    tokens = seed(url, SECRET, len(KINDS) * per_server)
    slices = {kind: tokens[i * per_server : (i + 1) * per_server] for i, kind in enumerate(KINDS)}
    servers = {kind: start_server(kind, url, tmp, args.workers) for kind in KINDS}
    rates: dict[str, list[float]] = {kind: [] for kind in KINDS}
    cpu: dict[str, list[float]] = {kind: [] for kind in KINDS}  # server CPU s per submit
    statuses: dict[str, dict[int, int]] = {kind: {} for kind in KINDS}
    try:
        for number in range(args.rounds + 1):  # round 0 warms each server up
            order = KINDS[number % len(KINDS) :] + KINDS[: number % len(KINDS)]
            for kind in order:
                chunk = slices[kind][number * args.per_round : (number + 1) * args.per_round]
                process, port = servers[kind]
                rate, seconds, codes = one_round(port, kind, chunk, args.clients, process.pid)
                spent = seconds / len(chunk)
                for code, n in codes.items():
                    statuses[kind][code] = statuses[kind].get(code, 0) + n
                if number:
                    rates[kind].append(rate)
                    cpu[kind].append(spent)
    finally:
        for process, _ in servers.values():
            stop_server(process)
    engine = make_engine(url)
    with engine.connect() as connection:
        stored = connection.scalar(select(func.count()).select_from(Response))
        answered = connection.scalar(
            select(func.count()).where(Invitation.answered_at.is_not(None))
        )
    engine.dispose()
    accepted = sum(codes.get(303, 0) for codes in statuses.values())
    dialect = "SQLite (WAL)" if url.startswith("sqlite") else "PostgreSQL"
    print(f"{dialect}; gunicorn, {args.workers} sync workers each; {args.clients} clients; "
          f"{args.rounds} rounds of {args.per_round} submits per server after a warm-up "
          f"round; {os.cpu_count()} CPUs; load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")  # fmt: skip
    for kind in KINDS:
        each = ", ".join(f"{rate:.0f}" for rate in rates[kind])
        print(f"  {kind:9}: best {max(rates[kind]):6.0f} submits/s, rounds {each}; "
              f"server CPU {min(cpu[kind]) * 1000:.2f} ms per submit (min); "
              f"answers {statuses[kind]}")  # fmt: skip
    ratio = max(rates["app"]) / max(rates["bare"])
    # On a busy machine wall-clock rates swing; server CPU per submit is the steadier
    # figure: bare CPU / app CPU is the rate ratio the two would have on idle cores.
    print(f"  ratio of server CPU per submit, bare / app: "
          f"{min(cpu['bare']) / min(cpu['app']):.2f}")  # fmt: skip
    print(f"  ratio app / bare (best rounds): {ratio:.2f} (goal >= 0.50: "
          f"{'met' if ratio >= 0.5 else 'NOT met'})")  # fmt: skip
    print(f"  against a bare handler doing the app's own database work (bare-full): "
          f"server CPU bare-full / app {min(cpu['bare-full']) / min(cpu['app']):.2f}, "
          f"rate app / bare-full {max(rates['app']) / max(rates['bare-full']):.2f}")  # fmt: skip
    print(f"  accepted {accepted}, stored {stored}, answered invitations {answered}, "
          f"lost {accepted - stored}")  # fmt: skip


if __name__ == "__main__":
    main()
