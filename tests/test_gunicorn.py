"""A real gunicorn (the documented config) on a free loopback port, driven over HTTP."""

from __future__ import annotations

import json
import re
import threading
from typing import Any

import pytest
import requests
from jobs_support import Gunicorn, TcpProxy
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from support import PG_URL, csrf_token
from survey_support import GOOD_ANSWERS, setup_campaign, tokens_by_email

from cpi.surveys.models import Response

pytestmark = [pytest.mark.slow, pytest.mark.database]
PASSWORD = "correct horse battery staple 42"


def contacts(n: int) -> str:
    rows = ["account_id,account_name,segment,contact_email,contact_name"]
    rows += [f"A{i % 9:02d},Account {i % 9},Healthcare,g{i:04d}@x.test,G {i}" for i in range(n)]
    return "\n".join(rows) + "\n"


def submit(url: str, token: str, http: requests.Session, **extra: str) -> requests.Response:
    page = http.get(f"{url}/s/{token}", timeout=30)
    assert page.status_code == 200, page.status_code
    data = {**GOOD_ANSWERS, **extra, "csrf_token": csrf_token(page.text)}
    return http.post(f"{url}/s/{token}", data=data, allow_redirects=False, timeout=60)


def log_lines(server: Gunicorn) -> list[dict[str, Any]]:
    lines = []
    for line in server.log().splitlines():
        assert line.startswith("{"), f"not a JSON log line: {line!r}"
        lines.append(json.loads(line))
    return lines


def test_gunicorn_serves_submits_from_several_workers_and_logs_safely(
    app, runner, write_csv, tmp_path, db
) -> None:  # type: ignore[no-untyped-def]
    campaign_id = setup_campaign(runner, write_csv, contacts=contacts(80))
    assert runner.invoke("send", str(campaign_id)).exit_code == 0
    tokens = list(tokens_by_email(app).values())
    result = runner.invoke(
        "user", "create", "--email", "admin@x.test", "--role", "admin",
        env={"CPI_PASSWORD": PASSWORD},
    )  # fmt: skip
    assert result.exit_code == 0, result.output

    with Gunicorn(app, tmp_path, workers=4) as server:
        health = requests.get(f"{server.url}/healthz", timeout=10)
        assert health.json() == {"status": "ok"}
        assert re.fullmatch(r"[0-9a-f]{32}", health.headers["X-Request-ID"])
        mine = requests.get(
            f"{server.url}/healthz", headers={"X-Request-ID": "lb-trace-0001"}, timeout=10
        )
        assert mine.headers["X-Request-ID"] == "lb-trace-0001"

        # Submits from 8 clients at once, spread over 4 worker processes: none fails
        # ("database is locked" would be a 503 here), and each is recorded once.
        statuses: list[int] = []

        def answer(chunk: list[str]) -> None:
            with requests.Session() as http:
                for token in chunk:
                    statuses.append(submit(server.url, token, http).status_code)
                    statuses.append(submit(server.url, token, http, nps="4").status_code)

        threads = [threading.Thread(target=answer, args=(tokens[i::8],)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(300)
        assert statuses == [303] * 160

        # A login with a password, an opt-out link and a token in a query string.
        with requests.Session() as http:
            form = http.get(f"{server.url}/login", timeout=10)
            http.post(
                f"{server.url}/login",
                data={
                    "email": "admin@x.test",
                    "password": PASSWORD,
                    "csrf_token": csrf_token(form.text),
                },
                timeout=30,
            )
        requests.get(f"{server.url}/u/{tokens[0]}", timeout=10)
        requests.get(f"{server.url}/healthz?token={tokens[1]}", timeout=10)
        requests.get(f"{server.url}/s/{'A' * 43}", timeout=10)
    assert server.process is not None and server.process.returncode == 0

    db.rollback()
    assert db.scalar(select(func.count()).select_from(Response)) == 80
    assert set(db.scalars(select(Response.nps))) == {4}

    lines = log_lines(server)
    requests_logged = [line for line in lines if line["logger"] == "cpi.request"]
    assert len(requests_logged) >= 2 * 160 + 4
    assert {"method", "path", "status", "duration_ms", "request_id"} <= set(requests_logged[0])
    assert any(line["request_id"] == "lb-trace-0001" for line in requests_logged)
    assert len({line["pid"] for line in requests_logged}) > 1  # several workers served
    text = server.log()
    # Item 33: no token and no password anywhere in the log.
    for secret in [*tokens, PASSWORD, "A" * 43]:
        assert secret not in text
    assert "/s/[token]" in text and "/u/[token]" in text
    assert "?token" not in text  # query strings are not logged at all


def test_text_log_format_for_people(app, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with Gunicorn(app, tmp_path, workers=1, log_format="text") as server:
        requests.get(f"{server.url}/s/{'B' * 43}", timeout=10)
    lines = [line for line in server.log().splitlines() if "GET /s/" in line]
    assert len(lines) == 1 and not lines[0].startswith("{")
    assert re.search(r"INFO +\[[0-9a-f]{32}\] cpi.request: GET /s/\[token\] 404", lines[0])
    assert "B" * 43 not in server.log()


@pytest.mark.skipif(not PG_URL, reason="a PostgreSQL server behind a proxy that can be cut")
def test_database_down_for_a_moment_during_intake(
    app_config, runner, write_csv, tmp_path, db
) -> None:  # type: ignore[no-untyped-def]
    from cpi import create_app

    url = make_url(PG_URL)
    with TcpProxy(url.host or "127.0.0.1", url.port or 5432) as proxy:
        proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        app = create_app({**app_config, "DATABASE_URL": proxied})
        from support import Runner

        runner = Runner(app)
        campaign_id = setup_campaign(runner, write_csv, contacts=contacts(3))
        assert runner.invoke("send", str(campaign_id)).exit_code == 0
        token = next(iter(tokens_by_email(app).values()))
        with Gunicorn(app, tmp_path, workers=2) as server, requests.Session() as http:
            page = http.get(f"{server.url}/s/{token}", timeout=30)
            data = {**GOOD_ANSWERS, "csrf_token": csrf_token(page.text)}
            proxy.down()
            failed = http.post(f"{server.url}/s/{token}", data=data, timeout=60)
            assert failed.status_code == 503
            assert "Please try again in a moment" in failed.text
            assert "Traceback" not in failed.text
            health = requests.get(f"{server.url}/healthz", timeout=30)
            assert health.status_code == 503
            proxy.up.set()
            # The customer sends again (twice, impatient): recorded once.
            for _ in range(2):
                again = http.post(
                    f"{server.url}/s/{token}", data=data, allow_redirects=False, timeout=60
                )
                assert again.status_code == 303
        from cpi.db import database

        database(app).engine.dispose()
    db.rollback()
    assert db.scalar(select(func.count()).select_from(Response)) == 1
