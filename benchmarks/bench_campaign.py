"""A 20,000-invitation campaign through ``cpi worker`` into an SMTP server: messages/s, memory.

    python benchmarks/bench_campaign.py [--contacts 20000] [--db sqlite|postgresql]

Seeds accounts and contacts, creates a campaign, starts a private ``redis-server``,
an aiosmtpd server (in its own process, counting messages) and one ``cpi worker``, then
runs ``cpi send`` as a user would: the command queues the job, follows its progress and
prints the result. Reports the time to queue the invitations (token, rendered text and
HTML email, outbox row) and to deliver them, messages/s end to end, the peak resident
memory of the worker and of its work horse (sampled from /proc), and the messages the
SMTP server received. Loopback only; everything stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, insert, select, text  # noqa: E402

from cpi.accounts.models import Account, Contact  # noqa: E402
from cpi.db import make_engine  # noqa: E402
from cpi.migrate import upgrade  # noqa: E402
from cpi.timeutil import utcnow  # noqa: E402

CPI = [sys.executable, "-c", "from cpi.cli import cli; cli()"]
SECRET = "bench-secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def seed(url: str, contacts: int) -> None:
    engine = make_engine(url)
    upgrade(engine)
    now = utcnow()
    accounts = max(contacts // 10, 1)
    with engine.begin() as connection:
        connection.execute(
            insert(Account),
            [
                {"account_id": f"A{a:05d}", "name": f"Account {a}", "segment": "Bench",
                 "created_at": now}
                for a in range(accounts)
            ],
        )  # fmt: skip
        ids = dict(connection.execute(select(Account.account_id, Account.id)).all())
        connection.execute(
            insert(Contact),
            [
                {"account_id": ids[f"A{i % accounts:05d}"], "email": f"c{i:06d}@bench.test",
                 "name": f"Contact {i}", "locale": ("en", "fr", "de")[i % 3], "created_at": now}
                for i in range(contacts)
            ],
        )  # fmt: skip
    engine.dispose()


def _smtp_server(port: int, counter: Any, ready: Any) -> None:
    from aiosmtpd.controller import Controller

    class Count:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
            with counter.get_lock():
                counter.value += 1
            return "250 OK"

    controller = Controller(Count(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    try:
        asyncio.run(asyncio.sleep(10**6))
    finally:
        controller.stop()


def rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=20_000)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="cpi-campaign-"))
    pg_database = f"cpi_bench_mail_{os.getpid()}"
    admin = None
    if args.db == "sqlite":
        url = f"sqlite:///{tmp / 'bench.sqlite3'}"
    else:
        admin = create_engine(args.pg_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f"CREATE DATABASE {pg_database}"))
        url = args.pg_url.rsplit("/", 1)[0] + f"/{pg_database}"
    redis_port, smtp_port = free_port(), free_port()
    processes: list[subprocess.Popen[bytes]] = []
    context = multiprocessing.get_context("fork")
    counter = context.Value("i", 0)
    ready = context.Event()
    smtp = context.Process(target=_smtp_server, args=(smtp_port, counter, ready), daemon=True)
    try:
        seed(url, args.contacts)
        processes.append(
            subprocess.Popen(
                [
                    "redis-server",
                    "--port",
                    str(redis_port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    str(tmp),
                ],
                stdout=subprocess.DEVNULL,
            )  # fmt: skip
        )
        smtp.start()
        ready.wait(30)
        env = {k: v for k, v in os.environ.items() if not k.startswith("CPI_")}
        env.update(
            CPI_DATABASE_URL=url, CPI_REDIS_URL=f"redis://127.0.0.1:{redis_port}/0",
            CPI_MAIL_URL=f"smtp://127.0.0.1:{smtp_port}", CPI_SECRET_KEY=SECRET,
            CPI_INSTANCE_PATH=str(tmp), CPI_BASE_URL="https://cpi.example.com",
            CPI_LOG_LEVEL="WARNING",
        )  # fmt: skip
        created = subprocess.run(
            [*CPI, "campaign", "create", "--name", "Bench", "--period", "2026-Q3"],
            env=env, cwd=ROOT, capture_output=True, text=True, check=True,
        )  # fmt: skip
        campaign_id = created.stdout.split()[0]
        time.sleep(1)  # redis-server up
        worker = subprocess.Popen(
            [*CPI, "worker", "--no-schedule"], env=env, cwd=ROOT,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        processes.append(worker)
        peaks = {"worker": 0, "horse": 0}
        sampling = threading.Event()

        def sample() -> None:
            while not sampling.is_set():
                peaks["worker"] = max(peaks["worker"], rss_kb(worker.pid))
                for child in children(worker.pid):
                    total = rss_kb(child) + sum(rss_kb(c) for c in children(child))
                    peaks["horse"] = max(peaks["horse"], total)
                time.sleep(0.2)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        start = time.perf_counter()
        sent = subprocess.run(
            [*CPI, "send", campaign_id], env=env, cwd=ROOT, capture_output=True, text=True,
        )  # fmt: skip
        elapsed = time.perf_counter() - start
        sampling.set()
        sampler.join(5)
        print(sent.stdout.strip())
        if sent.returncode:
            print(sent.stderr[-2000:])
        received = counter.value
        print(
            f"{args.db}: {args.contacts} invitations via 1 worker into aiosmtpd in {elapsed:.1f} s"
            f" = {received / elapsed:.0f} messages/s end to end (queue + deliver); "
            f"SMTP server received {received}"
        )
        print(
            f"peak RSS: worker {peaks['worker'] / 1024:.0f} MB, work horse "
            f"{peaks['horse'] / 1024:.0f} MB; {os.cpu_count()} CPUs"
        )
    finally:
        for process in processes:
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                except (ProcessLookupError, PermissionError):
                    process.terminate()
                process.wait(30)
        if smtp.is_alive():
            smtp.kill()
        if admin is not None:
            with admin.connect() as connection:
                connection.execute(text(f"DROP DATABASE IF EXISTS {pg_database} WITH (FORCE)"))
            admin.dispose()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
