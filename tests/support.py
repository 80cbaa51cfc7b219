"""Helpers shared by the test modules (one copy each); fixtures live in conftest.py.

Test modules import these by module name (``from support import free_port``): pytest
puts ``tests/`` on ``sys.path`` because it holds the root ``conftest.py``.
"""

from __future__ import annotations

import email
import os
import re
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Literal

import click.testing
from aiosmtpd.controller import Controller
from flask import Flask
from flask.cli import ScriptInfo

from cpi.cli import cli

PG_URL = os.environ.get("CPI_TEST_DATABASE_URL", "")
CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(condition: Callable[[], Any], timeout: float = 60, what: str = "") -> Any:
    """Poll ``condition`` until it returns something true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what or condition}")


def wait_until_serving(process: subprocess.Popen[bytes], port: int, timeout: float = 120) -> None:
    """Poll ``/healthz`` on ``port`` until it answers 200; fail if ``process`` exits."""

    def up() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"the server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as reply:
                return bool(reply.status == 200)
        except urllib.error.HTTPError as error:
            error.close()
            return False
        except OSError:
            return False

    wait_until(up, timeout, f"http://127.0.0.1:{port}/healthz")


def csrf_token(page: Any, url: str = "/login") -> str:
    """The CSRF token of a form: ``page`` is the page's HTML, or a test client that
    fetches ``url`` first."""
    html = page if isinstance(page, str) else page.get(url).get_data(as_text=True)
    match = CSRF_RE.search(html)
    where = "the page" if isinstance(page, str) else url
    assert match, f"no CSRF token on {where}: {html[:2000]}"
    return match.group(1)


def pdf_text(pdf: bytes | Path, *, layout: bool = False) -> str:
    """A PDF's text as poppler's ``pdftotext`` reads it (``layout`` keeps the columns)."""
    data = pdf.read_bytes() if isinstance(pdf, Path) else pdf
    args = ["pdftotext", *(["-layout"] if layout else []), "-", "-"]
    return subprocess.run(args, input=data, capture_output=True, check=True).stdout.decode()


class Runner:
    """Runs ``cpi`` commands against the test app, as a user would type them.

    ``invoke`` fails the test, showing the command's output, unless the command exits
    with ``expect_exit``: 0 unless the test says otherwise; ``"error"`` for any non-zero
    code (a test looping over cases that fail as usage errors (2) or errors (1))."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def invoke(
        self,
        *args: str,
        env: dict[str, str] | None = None,
        input: str | None = None,
        expect_exit: int | Literal["error"] = 0,
    ) -> click.testing.Result:
        runner = click.testing.CliRunner()
        result = runner.invoke(
            cli,
            list(args),
            obj=ScriptInfo(create_app=lambda: self.app),
            env=env,
            input=input,
            catch_exceptions=False,
        )
        failed = expect_exit == "error" and result.exit_code != 0
        assert failed or result.exit_code == expect_exit, (
            f"cpi {' '.join(args)} exited with {result.exit_code}, expected {expect_exit}:\n"
            f"{result.output}"
        )
        return result


class Recorder:
    """An aiosmtpd handler that keeps every accepted message and answers what a test
    asks it to: ``refuse_rcpt`` (address -> reply), ``data_replies`` (replies to the next
    DATA commands), ``on_data(attempt)`` (a reply, or None to accept)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.received: list[tuple[str, list[str], EmailMessage]] = []
        self.raw: list[bytes] = []
        self.refuse_rcpt: dict[str, str] = {}
        self.data_replies: list[str] = []
        self.on_data: Callable[[int], str | None] | None = None
        self.attempts = 0

    async def handle_RCPT(  # noqa: N802
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        if address in self.refuse_rcpt:
            return self.refuse_rcpt[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self.lock:
            self.attempts += 1
            attempt = self.attempts
            if self.data_replies:
                return self.data_replies.pop(0)
        if self.on_data is not None:
            refusal = self.on_data(attempt)
            if refusal:
                return refusal
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.received.append((envelope.mail_from, list(envelope.rcpt_tos), message))  # type: ignore[arg-type]
            self.raw.append(envelope.content)
        return "250 Message accepted for delivery"

    @property
    def messages(self) -> list[EmailMessage]:
        with self.lock:
            return [message for _, _, message in self.received]

    def to(self) -> list[str]:
        with self.lock:
            return sorted(rcpt for _, rcpts, _ in self.received for rcpt in rcpts)

    def recipients(self) -> Counter[str]:
        return Counter(m["To"].addresses[0].addr_spec for m in self.messages)


class SmtpServer:
    """aiosmtpd on a free loopback port, recording what it accepts in ``handler``."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"smtp://127.0.0.1:{self.port}"
        self.handler = Recorder()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.controller.stop()


class RedisServer:
    """A private ``redis-server`` on a free loopback port (the shared 6379 is never used)."""

    def __init__(self, tmp: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.tmp = tmp
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.tmp),
            ],  # fmt: skip
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(self._answers, 20, "redis-server")

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None
