"""The wheel carries templates, static files and migrations: install it and run the demo."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_wheel_installs_and_runs_demo(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(ROOT)],
        check=True,
        cwd=tmp_path,
    )
    wheel = next(dist.glob("cpi_tracker-*.whl"))
    env_dir = tmp_path / "venv"
    # Dependencies come from the machine's site-packages; the project from the wheel alone.
    venv.create(env_dir, system_site_packages=True, with_pip=True)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-deps", str(wheel)],
        check=True,
        cwd=tmp_path,
    )
    run_env = {**os.environ, "CPI_INSTANCE_PATH": str(tmp_path / "instance")}
    run_env.pop("CPI_DATABASE_URL", None)
    demo = subprocess.run(
        [str(env_dir / "bin" / "cpi"), "demo"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=run_env,
        check=False,
    )
    assert demo.returncode == 0, demo.stderr
    assert "Demo logins" in demo.stdout
    assert (tmp_path / "instance" / "cpi.sqlite3").exists()
    probe = subprocess.run(
        [
            str(python),
            "-c",
            "import cpi; from cpi import create_app; app = create_app(); "
            "print(cpi.__file__); print(app.test_client().get('/static/css/app.css').status_code); "
            "print(app.template_folder); "
            "from cpi.auth.passwords import is_common; print(is_common('password1234'))",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=run_env,
        check=True,
    )
    location, css_status, templates, common_list = probe.stdout.split()
    assert common_list == "True"  # the common-password list is package data in the wheel
    assert str(env_dir) in location  # the wheel's copy, not the source tree
    assert css_status == "200"
    assert str(env_dir) in templates
    _serve_and_fetch(env_dir / "bin" / "cpi", tmp_path, run_env)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve_and_fetch(cpi: Path, cwd: Path, env: dict[str, str]) -> None:
    """The README's quick start: `cpi demo --serve` answers on its port."""
    port = _free_port()
    server = subprocess.Popen(
        [str(cpi), "demo", "--serve", "--port", str(port)],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as reply:
                    assert reply.status == 200
                    break
            except OSError as error:
                if isinstance(error, urllib.error.HTTPError):
                    error.close()
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.3)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/static/css/app.css") as reply:
            assert reply.status == 200
    finally:
        server.terminate()
        server.wait(timeout=20)
