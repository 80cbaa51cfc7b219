"""Issue 11 items 5 and 6: a stalled or refusing database gives the 503 retry page
within seconds, for visitors and signed-in staff alike (never a hang, never a 500).

The PostgreSQL tests put a TCP proxy (threads and sockets, written here) between the
app and the real server; the proxy then stops forwarding (a stall: connections stay
open, no byte moves) or refuses connections."""

from __future__ import annotations

import contextlib
import shutil
import socket
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url
from support import PG_URL, csrf_token

from cpi import create_app
from cpi.db import database

pytestmark = [pytest.mark.slow, pytest.mark.database]
pg_only = pytest.mark.skipif(not PG_URL, reason="needs PostgreSQL (CPI_TEST_DATABASE_URL)")

EMAIL, PASSWORD = "admin@example.test", "password-123"
FAST = {"DB_CONNECT_TIMEOUT": 2, "DB_STATEMENT_TIMEOUT": 2, "DB_POOL_TIMEOUT": 2}


class StallingProxy:
    """Forwards TCP to ``upstream`` until told to stall (keep every socket open, move
    nothing) or to refuse (close everything and stop listening)."""

    def __init__(self, host: str, port: int) -> None:
        self.upstream = (host, port)
        self.forwarding = threading.Event()
        self.forwarding.set()
        self.stopped = threading.Event()
        self.sockets: list[socket.socket] = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.1)
        self.port = self.listener.getsockname()[1]
        self.threads = [threading.Thread(target=self._accept, daemon=True)]
        self.threads[0].start()

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                client, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                continue
            self.sockets += [client, server]
            for a, b in ((client, server), (server, client)):
                thread = threading.Thread(target=self._pump, args=(a, b), daemon=True)
                thread.start()
                self.threads.append(thread)

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        source.settimeout(0.1)
        while not self.stopped.is_set():
            if not self.forwarding.wait(0.1):
                continue  # stalled: read nothing, send nothing
            try:
                data = source.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                break
            if not data:
                break
            try:
                target.sendall(data)
            except OSError:
                break
        for sock in (source, target):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def stall(self) -> None:
        self.forwarding.clear()

    def resume(self) -> None:
        self.forwarding.set()

    def close(self) -> None:
        self.stopped.set()
        self.listener.close()
        for thread in self.threads:
            thread.join(5)
        for sock in self.sockets:
            sock.close()


def answer_within(seconds: float, call: Any) -> tuple[Any, float]:
    """Run ``call`` in a thread; fail if it has not answered after ``seconds``."""
    result: dict[str, Any] = {}

    def run() -> None:
        try:
            result["value"] = call()
        except BaseException as error:  # reported below
            result["error"] = error

    started = time.monotonic()
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    elapsed = time.monotonic() - started
    assert not thread.is_alive(), f"no answer after {seconds} s: the request hangs"
    if "error" in result:
        raise result["error"]
    return result["value"], elapsed


def sign_in(client: Any) -> None:
    data = {"email": EMAIL, "password": PASSWORD, "csrf_token": csrf_token(client)}
    assert client.post("/login", data=data).status_code == 302


@pytest.fixture
def admin_user(runner: Any) -> None:
    result = runner.invoke(
        "user", "create", "--email", EMAIL, "--role", "admin", env={"CPI_PASSWORD": PASSWORD}
    )
    assert result.exit_code == 0, result.output


@pytest.fixture
def proxy() -> Any:
    url = make_url(PG_URL)
    server = StallingProxy(url.host or "127.0.0.1", url.port or 5432)
    yield server
    server.close()


@pytest.fixture
def proxied_app(app_config: dict[str, Any], proxy: StallingProxy, admin_user: None) -> Any:
    url = make_url(PG_URL).set(host="127.0.0.1", port=proxy.port)
    proxied = create_app(
        {**app_config, **FAST, "DATABASE_URL": url.render_as_string(hide_password=False)}
    )
    yield proxied
    proxy.close()  # unblocks anything still waiting before the engine goes
    database(proxied).engine.dispose()


def unavailable(response: Any) -> None:
    page = response.get_data(as_text=True)
    assert response.status_code == 503, (response.status_code, page[:300])
    assert "Please try again in a moment" in page and "Traceback" not in page
    assert response.headers["Retry-After"]


@pg_only
def test_item5_a_stalled_database_gives_503_within_seconds_then_recovers(
    proxied_app: Any, proxy: StallingProxy
) -> None:
    client = proxied_app.test_client()
    sign_in(client)
    assert client.get("/admin/users").status_code == 200
    visitor = proxied_app.test_client()
    proxy.stall()
    # a pooled connection (the statement stalls) and a new one (the connect stalls)
    for who in (client, visitor, client):
        response, elapsed = answer_within(30, lambda c=who: c.get("/admin/users"))
        if who is visitor:
            assert response.status_code == 302  # to sign in: no database needed
            continue
        unavailable(response)
        assert elapsed < 8, elapsed
    survey, elapsed = answer_within(30, lambda: visitor.get("/s/" + "x" * 43))
    unavailable(survey)
    proxy.resume()
    response, _ = answer_within(30, lambda: client.get("/admin/users"))
    assert response.status_code == 200  # recovers without a restart


@pg_only
def test_item5_timeouts_are_configurable_and_on_by_default(app_config: dict[str, Any]) -> None:
    app = create_app(app_config)
    engine = database(app).engine
    assert engine.pool.timeout() == 5
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SHOW statement_timeout").scalar() == "15s"
    engine.dispose()
    app = create_app({**app_config, **FAST})
    engine = database(app).engine
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SHOW statement_timeout").scalar() == "2s"
        # the server's own limit cancels a slow statement (pg_sleep(10) would end by itself)
        with pytest.raises(Exception, match="canceling statement due to statement timeout"):
            connection.exec_driver_sql("SELECT pg_sleep(10)")
    engine.dispose()


@pg_only
def test_item6_signed_in_staff_get_the_503_page_when_postgresql_refuses(
    proxied_app: Any, proxy: StallingProxy
) -> None:
    client = proxied_app.test_client()
    sign_in(client)
    assert client.get("/admin/users").status_code == 200
    database(proxied_app).engine.dispose()
    proxy.close()  # connection refused
    for url in ("/admin/users", "/", "/accounts"):
        response, _ = answer_within(30, lambda u=url: client.get(u))
        unavailable(response)


@pytest.mark.skipif(bool(PG_URL), reason="SQLite file")
def test_item6_signed_in_staff_get_the_503_page_when_sqlite_refuses(
    app: Any, app_config: dict[str, Any], database_url: str, admin_user: None, tmp_path: Path
) -> None:
    database(app).engine.dispose()  # the last connection folds the WAL into the file
    folder = tmp_path / "data"
    folder.mkdir()
    shutil.copy(make_url(database_url).database or "", folder / "cpi.sqlite3")
    app = create_app({**app_config, "DATABASE_URL": f"sqlite:///{folder / 'cpi.sqlite3'}"})
    client = app.test_client()  # (the app in a folder that can be taken away)
    sign_in(client)
    assert client.get("/admin/users").status_code == 200
    database(app).engine.dispose()
    folder.rename(tmp_path / "gone")  # the database file cannot be opened any more
    try:
        for url in ("/admin/users", "/", "/accounts"):
            unavailable(client.get(url))
    finally:
        database(app).engine.dispose()
        (tmp_path / "gone").rename(folder)
    assert client.get("/admin/users").status_code == 200
    database(app).engine.dispose()
