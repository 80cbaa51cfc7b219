"""Real processes for the job and server tests: ``cpi worker``, gunicorn, a TCP proxy.

Workers and servers are started as real commands with the test app's configuration in
their environment. The fixtures (``redis_server``, ``smtp_server``, ``worker``) are in
conftest.py; the private Redis and the SMTP recorder are in support.py.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

from flask import Flask
from support import free_port, wait_until

REPO = Path(__file__).resolve().parents[1]


def worker_env(app: Flask, **extra: str) -> dict[str, str]:
    """The environment that gives a ``cpi`` process the same configuration as ``app``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CPI_")}
    for key in (
        "DATABASE_URL", "SECRET_KEY", "MAIL_URL", "MAIL_FROM", "BASE_URL", "INSTANCE_PATH",
        "REDIS_URL",
    ):  # fmt: skip
        value = app.config.get(key)
        if value:
            env[f"CPI_{key}"] = str(value)
    env.update(extra)
    return env


class WorkerProcess:
    """``cpi worker`` in its own process group (so that a kill takes its work horse too)."""

    def __init__(self, app: Flask, log_path: Path, interval: float = 1.0) -> None:
        self.app = app
        self.log_path = log_path
        self.interval = interval
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child process
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from cpi.cli import cli; cli()",
                "worker",
                "--interval",
                str(self.interval),
            ],  # fmt: skip
            env=worker_env(self.app),
            cwd=REPO,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        log.close()

    def kill(self) -> None:
        """SIGKILL, as the kernel's OOM killer or a lost machine would."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


class Gunicorn:
    """A real gunicorn serving the test app's configuration on a free loopback port."""

    def __init__(
        self, app: Flask, tmp: Path, *, workers: int = 2, log_format: str = "json"
    ) -> None:
        self.app = app
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = tmp / f"gunicorn-{self.port}.log"
        self.workers = workers
        self.log_format = log_format
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Gunicorn:
        log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child process
        env = worker_env(
            self.app,
            CPI_BIND=f"127.0.0.1:{self.port}",
            WEB_CONCURRENCY=str(self.workers),
            CPI_LOG_FORMAT=self.log_format,
        )
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-c",
                "python:cpi.gunicorn_conf",
                "cpi:create_app()",
            ],  # fmt: skip
            env=env,
            cwd=REPO,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        log.close()
        wait_until(self._healthy, 60, f"gunicorn on {self.url}\n{self.log()}")
        return self

    def _healthy(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"gunicorn exited:\n{self.log()}")
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(b"GET /healthz HTTP/1.0\r\nHost: localhost\r\n\r\n")
                return b" 200 " in sock.recv(64)
        except OSError:
            return False

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def stop(self) -> int | None:
        if self.process is None:
            return None
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(40)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        return self.process.returncode

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


class TcpProxy:
    """A loopback TCP forwarder that can cut every connection: "the database is down"."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self.up = threading.Event()
        self.connections: list[socket.socket] = []
        self.lock = threading.Lock()
        self.server = socket.create_server(("127.0.0.1", self.port))
        self.server.settimeout(0.2)
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self) -> TcpProxy:
        self.up.set()
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stopped.set()
        self.thread.join(5)
        self.down()
        self.server.close()

    def down(self) -> None:
        self.up.clear()
        with self.lock:
            for sock in self.connections:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            self.connections.clear()

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                client, _ = self.server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if not self.up.is_set():
                client.close()  # refused while down
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self.lock:
                self.connections += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                sink.shutdown(socket.SHUT_WR)
