"""Issue 11 items 1, 11 and 15 through real servers.

Item 1: behind TLS every POST failed (``Referrer-Policy: no-referrer`` against
Flask-WTF's same-origin Referer check on HTTPS). Chromium signs in and answers a
survey over HTTPS two ways: gunicorn serving TLS itself (a self-signed certificate
made here with ``openssl``), and the app behind a TLS-terminating reverse proxy that
sends ``X-Forwarded-Proto: https`` (``CPI_TRUSTED_PROXIES``). Items 11 and 15: what
gunicorn logs for odd token paths, and a chunked body over 1 MB.
"""

from __future__ import annotations

import http.client
import http.server
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from jobs_support import Gunicorn
from sqlalchemy import func, select
from staff_support import small_dataset
from survey_support import setup_campaign, tokens_by_email

from cpi.audit.models import AuditEvent
from cpi.surveys.models import Response

pytestmark = pytest.mark.slow
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "upgrade", "proxy-connection"}


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, made with the openssl command."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            shutil.which("openssl") or "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],  # fmt: skip
        check=True,
        capture_output=True,
    )
    return cert, key


def tls_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


class TlsGunicorn(Gunicorn):
    """The documented gunicorn, serving HTTPS itself (``--certfile``/``--keyfile``)."""

    def __init__(self, app: Flask, tmp: Path, cert: Path, key: Path) -> None:
        super().__init__(app, tmp, workers=2)
        self.url = f"https://127.0.0.1:{self.port}"
        self.cert = cert

    def _healthy(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"gunicorn exited:\n{self.log()}")
        context = ssl.create_default_context(cafile=str(self.cert))
        try:
            with (
                socket.create_connection(("127.0.0.1", self.port), timeout=1) as raw,
                context.wrap_socket(raw, server_hostname="127.0.0.1") as sock,
            ):
                sock.sendall(b"GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
                return b" 200 " in sock.recv(64)
        except OSError:
            return False


class TlsProxy:
    """A TLS-terminating reverse proxy, as the README's nginx: it forwards each request
    to the app over HTTP with ``X-Forwarded-Proto: https`` and ``X-Forwarded-For``."""

    def __init__(self, upstream_port: int, context: ssl.SSLContext, client: str) -> None:
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                headers["X-Forwarded-Proto"] = "https"
                # The browser's address as a proxy on another host would see it.
                headers["X-Forwarded-For"] = client
                upstream = http.client.HTTPConnection("127.0.0.1", upstream_port, timeout=60)
                upstream.request(self.command, self.path, body=body, headers=headers)
                reply = upstream.getresponse()
                data = reply.read()
                proxy.forwarded += 1
                self.send_response_only(reply.status, reply.reason)
                for name, value in reply.getheaders():
                    if name.lower() not in HOP_BY_HOP | {"content-length"}:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(data)
                upstream.close()

            do_GET = do_POST = do_HEAD = _forward  # noqa: N815

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self.forwarded = 0
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> TlsProxy:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(10)


class RefererRecorder:
    """Another site (another origin): records the Referer each visit brings."""

    def __init__(self, context: ssl.SSLContext) -> None:
        seen: list[str | None] = []
        self.referers = seen

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                if self.path == "/landing":
                    seen.append(self.headers.get("Referer"))
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.end_headers()
                self.wfile.write(b"<title>elsewhere</title>elsewhere")

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(10)


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    return make_certificate(tmp_path)


@pytest.fixture
def campaign(app: Flask, runner: Any, write_csv: Any) -> dict[str, str]:
    small_dataset(runner, write_csv)  # staff users, password password-123
    assert runner.invoke("send", str(setup_campaign(runner, write_csv))).exit_code == 0
    return tokens_by_email(app)


def sign_in_and_answer(browser: Any, base: str, token: str, elsewhere: RefererRecorder) -> None:
    context = browser.new_context(ignore_https_errors=True, bypass_csp=True, locale="en-GB")
    page = context.new_page()
    try:
        login = page.goto(base + "/login")
        assert login is not None and login.status == 200
        page.fill("#email", "lead@example.test")
        page.fill("#password", "password-123")
        page.click("button[type=submit]")
        page.wait_for_url(base + "/")
        assert "referrer header is missing" not in page.content()
        assert login.headers["strict-transport-security"].startswith("max-age=")  # item 13

        survey = page.goto(f"{base}/s/{token}")
        assert survey is not None and survey.status == 200
        assert survey.headers["referrer-policy"] == "same-origin"
        assert survey.headers["cache-control"] == "no-store"
        page.locator("label[for='csat-4']").click()  # csat 5
        page.locator("label[for='nps-9']").click()
        page.get_by_role("button", name="Send my answers").click()
        page.wait_for_url("**/thanks", timeout=60_000)
        assert page.get_by_role("heading", name="Thank you!").is_visible()

        # A link from the survey page to another site carries no Referer (no token).
        page.goto(f"{base}/s/{token}")
        page.evaluate(
            """href => { const a = document.createElement('a'); a.id = 'away';
            a.href = href; a.textContent = 'away'; document.body.appendChild(a); }""",
            elsewhere.url + "/landing",
        )
        page.click("#away")
        page.wait_for_url(elsewhere.url + "/landing")
    finally:
        context.close()
    assert elsewhere.referers == [None]


def answers(db: Any) -> int:
    db.rollback()
    return int(db.scalar(select(func.count()).select_from(Response)))


def test_item1_sign_in_and_survey_over_https_served_by_gunicorn(
    app: Flask, campaign: dict[str, str], browser: Any, certificate: Any, tmp_path: Path, db: Any
) -> None:
    cert, key = certificate
    before = answers(db)
    elsewhere = RefererRecorder(tls_context(cert, key))
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("GUNICORN_CMD_ARGS", f"--certfile={cert} --keyfile={key}")
            server = TlsGunicorn(app, tmp_path, cert, key)
            app.config["BASE_URL"] = server.url  # https: Secure cookies, as in production
            with server:
                sign_in_and_answer(browser, server.url, campaign["bob@acme.test"], elsewhere)
    finally:
        elsewhere.close()
    assert answers(db) == before + 1


def test_item1_sign_in_and_survey_behind_a_tls_terminating_proxy(
    app: Flask,
    campaign: dict[str, str],
    browser: Any,
    certificate: Any,
    tmp_path: Path,
    db: Any,
) -> None:
    """The README's set-up: gunicorn on HTTP behind a proxy that terminates TLS; the
    app trusts that proxy's X-Forwarded-For and -Proto (``CPI_TRUSTED_PROXIES``)."""
    before = answers(db)
    elsewhere = RefererRecorder(tls_context(*certificate))
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("GUNICORN_CMD_ARGS", "--env CPI_TRUSTED_PROXIES=127.0.0.1")
            server = Gunicorn(app, tmp_path, workers=2)
            proxy = TlsProxy(server.port, tls_context(*certificate), client="198.51.100.77")
            app.config["BASE_URL"] = proxy.url
            with server, proxy:
                sign_in_and_answer(browser, proxy.url, campaign["bob@acme.test"], elsewhere)
                assert proxy.forwarded >= 6
    finally:
        elsewhere.close()
    assert answers(db) == before + 1
    db.rollback()
    sign_ins = db.scalars(select(AuditEvent.detail).where(AuditEvent.action == "login"))
    assert list(sign_ins) == ["198.51.100.77"]  # the client's address, from the proxy


def raw_request(port: int, method: str, path: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.putrequest(method, path, skip_accept_encoding=True)
    connection.endheaders()
    status = connection.getresponse().status
    connection.close()
    return status


def test_item11_odd_token_paths_are_redacted_in_the_log(
    app: Flask, campaign: dict[str, str], tmp_path: Path
) -> None:
    token = campaign["bob@acme.test"]
    with Gunicorn(app, tmp_path, workers=1) as server:
        for path in ("/s//{}", "/s/%2F{}", "/S/{}", "/u//{}", "/s/%2f%2F{}/thanks", "/U/{}"):
            raw_request(server.port, "GET", path.format(token))
    log = server.log()
    assert "/s/[token]" in log and "/u/[token]" in log and "/S/[token]" in log, log
    assert token not in log


def test_item15_a_chunked_body_over_one_megabyte_gets_413(
    app: Flask, campaign: dict[str, str], tmp_path: Path
) -> None:
    token = campaign["bob@acme.test"]

    def chunks() -> Iterator[bytes]:
        yield b"comment="
        for _ in range(1100):
            yield b"x" * 1024

    with Gunicorn(app, tmp_path, workers=1) as server:
        for path in (f"/s/{token}", "/login"):
            connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
            connection.request(
                "POST",
                path,
                body=chunks(),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
                encode_chunked=True,
            )
            reply = connection.getresponse()
            assert reply.status == 413, (path, reply.status)
            connection.close()
