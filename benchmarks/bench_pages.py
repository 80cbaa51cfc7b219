"""Staff page benchmark: the dashboard and an account page at 2,000 accounts x 8 quarters.

    python benchmarks/bench_pages.py [--accounts 2000] [--responses 160000] [--requests 40]

Builds a temporary SQLite database with the scoring benchmark's generator
(bench_scoring.generate), signs in through the real login form, and times GET
requests through the whole Flask stack (test client): p50 and p95 in ms.
Goal (issue 5): p95 < 150 ms.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_scoring import generate, quarters  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from cpi import create_app  # noqa: E402
from cpi.auth.operations import create_user  # noqa: E402
from cpi.db import make_engine  # noqa: E402
from cpi.migrate import upgrade  # noqa: E402
from cpi.scoring import Period  # noqa: E402

LAST = Period(2026, 3)
PASSWORD = "bench-password"  # noqa: S105 - a throwaway benchmark database


def build_database(folder: Path, accounts: int, responses: int) -> str:
    url = f"sqlite:///{folder / 'bench.sqlite3'}"
    engine = make_engine(url)
    upgrade(engine)
    started = time.perf_counter()
    generate(engine, responses, accounts, quarters(8, LAST))
    with Session(engine) as session:
        for email, role in (("lead@example.com", "enablement"),
                            ("am1@example.com", "account_manager")):  # fmt: skip
            create_user(session, email=email, role=role, password=PASSWORD)
        session.commit()
    engine.dispose()
    print(f"database: {accounts} accounts, {responses} responses, 8 quarters "
          f"({time.perf_counter() - started:.1f} s to generate)")  # fmt: skip
    return url


def signed_in_client(app: Any, email: str) -> Any:
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token is not None
    response = client.post("/login", data={"email": email, "password": PASSWORD,
                                           "csrf_token": token.group(1)})  # fmt: skip
    assert response.status_code == 302, response.status_code
    return client


def timed_gets(client: Any, url: str, requests: int) -> tuple[float, float]:
    for _ in range(2):  # warm-up
        assert client.get(url).status_code == 200, url
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    return statistics.median(times), p95


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=2000)
    parser.add_argument("--responses", type=int, default=160_000)
    parser.add_argument("--requests", type=int, default=40)
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="cpi-bench-pages-"))
    try:
        url = build_database(folder, args.accounts, args.responses)
        app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": str(folder),
                          "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False})  # fmt: skip
        lead = signed_in_client(app, "lead@example.com")
        manager = signed_in_client(app, "am1@example.com")
        pages = [
            ("dashboard (enablement, company + ranking)", lead, f"/?period={LAST}"),
            ("dashboard ranking by NPS", lead, f"/?period={LAST}&indicator=nps"),
            ("segment drill-down", lead, f"/segments/Retail?period={LAST}"),
            ("dashboard (account manager, 50 accounts)", manager, f"/?period={LAST}"),
            ("account page", lead, f"/accounts/ACC-00001?period={LAST}"),
            ("account page, year", lead, "/accounts/ACC-00001?period=2026"),
        ]
        print(f"{'page':45} {'p50 ms':>8} {'p95 ms':>8}  ({args.requests} requests each)")
        for label, client, path in pages:
            p50, p95 = timed_gets(client, path, args.requests)
            print(f"{label:45} {p50:8.1f} {p95:8.1f}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
