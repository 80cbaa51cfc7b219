"""Cold staff pages while answers keep arriving, at 1M responses / 2,000 accounts / 8 quarters.

    python benchmarks/bench_pages.py [--database-url URL] [--sqlite PATH]
                                     [--responses 1000000] [--accounts 2000] [--requests 20]

Builds the database once with the scoring benchmark's generator
(bench_scoring.generate) and reuses it on later runs: a SQLite file (``--sqlite``,
default in the temporary folder) or an empty PostgreSQL database
(``--database-url``). The app runs in this process under werkzeug's test client
(the whole Flask stack: routing, sessions, CSRF, templates; no HTTP parsing, so the
figures are the app's own). Before every timed request the bench submits a survey
answer through the real survey form (POST /s/<token>): every write moves the data
generation, so each timed request is a cold one (cache miss). Right after it, the
same page is requested again (a warm, cached request): that is the floor, measured
in the same run, interleaved. Warm-up: ``--warmup`` (2) cold + warm rounds per page, untimed.

Prints, per page, p50/p95 of the cold requests, p50 of the warm ones and the ratio
cold p95 / warm p50. Goal (issue 13): the cold company dashboard's p95 <= 150 ms.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_scoring import generate, quarters  # noqa: E402
from sqlalchemy import select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from cpi import create_app  # noqa: E402
from cpi.accounts.models import Account, Contact  # noqa: E402
from cpi.auth.models import User  # noqa: E402
from cpi.auth.operations import create_user  # noqa: E402
from cpi.db import database, make_engine  # noqa: E402
from cpi.migrate import upgrade  # noqa: E402
from cpi.scoring import Period  # noqa: E402
from cpi.surveys.campaigns import create_campaign  # noqa: E402
from cpi.surveys.invitations import add_invitation  # noqa: E402
from cpi.surveys.tokens import issue_token  # noqa: E402

LAST = Period(2026, 3)
PASSWORD = "bench-password"  # noqa: S105 - a throwaway benchmark database
SECRET = "bench-pages-secret"  # noqa: S105
ANSWERS = {"fcr": "yes", "contacts_total": "4", "contacts_value_added": "3",
           "quote_turnaround_days": "2.5", "csat": "5", "nps": "9", "ces": "6"}  # fmt: skip
USERS = (("lead@example.com", "enablement"), ("am1@example.com", "account_manager"))


def prepare(url: str, responses: int, accounts: int, submits: int) -> list[str]:
    """Generate the data unless present; staff users; an open campaign with ``submits``
    fresh invitations (their tokens: each is answered once, between two requests)."""
    engine = make_engine(url)
    upgrade(engine)
    with Session(engine) as session:
        empty = session.scalar(select(Account.id).limit(1)) is None
    if empty:
        started = time.perf_counter()
        generate(engine, responses, accounts, quarters(8, LAST))
        print(f"database: {accounts} accounts, {responses} responses, 8 quarters "
              f"({time.perf_counter() - started:.0f} s to generate)")  # fmt: skip
    tokens = []
    with Session(engine) as session:
        for email, role in USERS:
            if session.scalar(select(User.id).where(User.email == email)) is None:
                create_user(session, email=email, role=role, password=PASSWORD)
        campaign = create_campaign(session, name=f"bench {time.time():.0f}", period=str(LAST))
        campaign.status = "open"
        contacts = session.scalars(select(Contact).order_by(Contact.id.desc()).limit(submits))
        for contact in contacts:
            issued = issue_token(SECRET)
            add_invitation(session, campaign, contact, issued.token_hash, issued.salt)
            tokens.append(issued.token)
        session.commit()
    engine.dispose()
    return tokens


def csrf(client: Any, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token is not None, path
    return token.group(1)


def signed_in_client(app: Any, email: str) -> Any:
    client = app.test_client()
    response = client.post("/login", data={"email": email, "password": PASSWORD,
                                           "csrf_token": csrf(client, "/login")})  # fmt: skip
    assert response.status_code == 302, response.status_code
    return client


def submit(app: Any, token: str) -> None:
    respondent = app.test_client()
    status = respondent.post(
        f"/s/{token}", data={**ANSWERS, "csrf_token": csrf(respondent, f"/s/{token}")}
    ).status_code
    assert status in (302, 303), status


def timed(client: Any, path: str) -> float:
    started = time.perf_counter()
    response = client.get(path)
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code == 200, (path, response.status_code)
    return elapsed


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="an empty (or earlier bench) PostgreSQL database")
    default_file = Path(tempfile.gettempdir()) / "cpi-bench-pages.sqlite3"
    parser.add_argument("--sqlite", type=Path, default=default_file)
    parser.add_argument("--accounts", type=int, default=2000)
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=20, help="cold requests per page")
    parser.add_argument("--warmup", type=int, default=2, help="untimed rounds per page")
    parser.add_argument("--pages", default="company,manager,account,own-account")
    args = parser.parse_args(argv)
    url = args.database_url or f"sqlite:///{args.sqlite}"
    pages = {
        "company": ("dashboard, enablement (company + rankings)", "lead@example.com",
                    f"/?period={LAST}"),
        "manager": ("dashboard, account manager (50 accounts)", "am1@example.com",
                    f"/?period={LAST}"),
        "account": ("account page", "lead@example.com", f"/accounts/ACC-00001?period={LAST}"),
        "own-account": ("account page, its account manager", "am1@example.com",
                        f"/accounts/ACC-00001?period={LAST}"),
    }  # fmt: skip
    chosen = [pages[name] for name in args.pages.split(",")]
    warmup = args.warmup
    tokens = prepare(url, args.responses, args.accounts, (warmup + args.requests) * len(chosen))
    folder = Path(tempfile.mkdtemp(prefix="cpi-bench-pages-"))
    config = {"DATABASE_URL": url, "INSTANCE_PATH": str(folder), "SECRET_KEY": SECRET,
              "RATELIMIT_ENABLED": False, "MAIL_URL": f"file://{folder}/outbox"}  # fmt: skip
    app = create_app(config)
    clients = {email: signed_in_client(app, email) for email, _role in USERS}
    print(f"{url.split('://')[0]}, werkzeug in-process, {args.requests} cold requests per page, "
          f"an answer submitted before each")  # fmt: skip
    print(f"{'page':45} {'cold p50':>9} {'cold p95':>9} {'warm p50':>9} {'p95/warm':>9}")
    for label, email, path in chosen:
        client = clients[email]
        cold, warm = [], []
        for round_ in range(warmup + args.requests):
            submit(app, tokens.pop())
            first, again = timed(client, path), timed(client, path)
            if round_ >= warmup:
                cold.append(first)
                warm.append(again)
        floor = statistics.median(warm)
        print(f"{label:45} {statistics.median(cold):9.1f} {p95(cold):9.1f} {floor:9.1f} "
              f"{p95(cold) / floor:8.1f}x")  # fmt: skip
    database(app).engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
