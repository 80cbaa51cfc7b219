"""Install as a newcomer does: the wheel with its dependencies and no extras, in a venv
that sees nothing of this machine's packages, then the README's first steps."""

from __future__ import annotations

import email
import email.policy
import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
import venv
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from support import free_port, wait_until_serving

ROOT = Path(__file__).resolve().parent.parent
INSTALL_HINT = "pip install 'cpi-tracker[redis]'"
# Modules that need the redis extra; importing them without it fails with one line.
NEED_REDIS = {"cpi.jobs.queue", "cpi.jobs.worker", "cpi.jobs.runner"}

pytestmark = [
    pytest.mark.slow,
    # The bare install has no PostgreSQL driver and uses its own SQLite file, so the
    # PostgreSQL pass of the suite would only repeat the SQLite pass's run of it.
    pytest.mark.skipif(
        bool(os.environ.get("CPI_TEST_DATABASE_URL")),
        reason="runs in the SQLite pass (the bare install has its own SQLite database)",
    ),
]


@dataclass
class BareInstall:
    root: Path
    python: Path
    cpi: Path

    def env(self, instance: Path, **extra: str) -> dict[str, str]:
        """This machine's environment without anything that would reach the source tree."""
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("CPI_", "PYTHON", "VIRTUAL_ENV"))
        }
        env.update(CPI_INSTANCE_PATH=str(instance), PIP_DISABLE_PIP_VERSION_CHECK="1", **extra)
        return env

    def run(
        self, instance: Path, *args: str, check: bool = True, **extra: str
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [str(self.cpi), *args],
            capture_output=True,
            text=True,
            cwd=instance.parent,
            env=self.env(instance, **extra),
            timeout=300,
            check=False,
        )
        if check:
            assert result.returncode == 0, (args, result.stdout, result.stderr)
        return result


@pytest.fixture(scope="session")
def bare(tmp_path_factory: pytest.TempPathFactory) -> BareInstall:
    root = tmp_path_factory.mktemp("bare")
    dist = root / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(ROOT)],
        check=True,
        cwd=root,
    )
    wheel = next(dist.glob("cpi_tracker-*.whl"))
    env_dir = root / "venv"
    venv.create(env_dir, system_site_packages=False, with_pip=True, clear=True)
    python = env_dir / "bin" / "python"
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(wheel)],
        capture_output=True,
        text=True,
        cwd=root,
        env=clean,
        check=False,
    )
    assert install.returncode == 0, install.stderr[-3000:]
    return BareInstall(root=root, python=python, cpi=env_dir / "bin" / "cpi")


def test_the_venv_sees_nothing_else(bare: BareInstall, tmp_path: Path) -> None:
    probe = subprocess.run(
        [
            str(bare.python),
            "-c",
            "import importlib.util as u, json, sys; "
            "print(json.dumps({m: bool(u.find_spec(m)) for m in "
            "['cpi', 'flask', 'weasyprint', 'pytest', 'redis', 'rq', 'psycopg']})); "
            # the common-password list is package data in the wheel
            "from cpi.auth.passwords import is_common; print(is_common('password1234'))",
        ],
        capture_output=True,
        text=True,
        env=bare.env(tmp_path / "instance"),
        check=True,
    )
    modules, common_list = probe.stdout.split("\n")[:2]
    assert common_list == "True"
    found = json.loads(modules)
    # The app and its dependencies, not this machine's test tools nor any extra.
    assert found == {
        "cpi": True,
        "flask": True,
        "weasyprint": True,
        "pytest": False,
        "redis": False,
        "rq": False,
        "psycopg": False,
    }


IMPORT_EVERY_MODULE = """
import importlib, json, pkgutil, cpi
results = {}
for info in pkgutil.walk_packages(cpi.__path__, "cpi.", onerror=lambda name: None):
    try:
        importlib.import_module(info.name)
        results[info.name] = None
    except BaseException as error:
        results[info.name] = [type(error).__name__, str(error), isinstance(error, ImportError)]
print(json.dumps({"file": cpi.__file__, "modules": results}))
"""


def test_every_module_imports_without_extras(bare: BareInstall, tmp_path: Path) -> None:
    probe = subprocess.run(
        [str(bare.python), "-c", IMPORT_EVERY_MODULE],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=bare.env(tmp_path / "instance"),
        check=True,
    )
    report = json.loads(probe.stdout)
    assert str(bare.root) in report["file"]  # the wheel's copy, not the source tree
    modules = report["modules"]
    assert len(modules) > 60 and "cpi.scorecards.pdf_engine" in modules
    failed = {name: error for name, error in modules.items() if error is not None}
    assert set(failed) == NEED_REDIS, failed
    for name, (kind, message, is_import_error) in failed.items():
        assert kind == "RedisExtraMissing" and is_import_error, (name, kind)
        assert "\n" not in message and message.endswith(INSTALL_HINT), (name, message)


def test_demo_serve_and_a_survey_link_from_the_outbox(bare: BareInstall, tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    help_text = bare.run(instance, "--help").stdout
    assert "demo" in help_text and "worker" in help_text

    # Before anything is set up, commands say what to do (and create nothing).
    refused = bare.run(instance, "score", "--period", "2026-Q3", check=False)
    assert refused.returncode == 1 and "run `cpi init`" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert not (instance / "cpi.sqlite3").exists()

    demo = bare.run(instance, "demo")
    assert "Demo logins" in demo.stdout
    assert (instance / "cpi.sqlite3").exists()

    # Scoring and a PDF, in-process, without the redis extra.
    scored = bare.run(instance, "score", "--period", "2026-Q3", "--format", "json")
    assert json.loads(scored.stdout)["responses"] > 0
    pdf = tmp_path / "company.pdf"
    bare.run(instance, "scorecard", "--period", "2026-Q3", "--company", "-o", str(pdf))
    assert pdf.read_bytes().startswith(b"%PDF-")

    # The queue needs the redis extra: one line says so.
    for args, extra in (
        (("worker",), {}),
        (("outbox", "deliver"), {"CPI_REDIS_URL": "redis://127.0.0.1:6379/0"}),
    ):
        result = bare.run(instance, *args, check=False, **extra)
        assert result.returncode == 1, result
        assert result.stderr.strip().count("\n") == 0 and INSTALL_HINT in result.stderr, result

    port = free_port()
    with _serving(bare, instance, port):
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=10) as reply:
            assert reply.status == 200
            assert 'name="password"' in reply.read().decode()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/static/css/app.css") as reply:
            assert reply.status == 200

        # A campaign sent from another terminal while `cpi serve --port` runs: its links
        # point at that port (CPI_BASE_URL is not set).
        created = bare.run(
            instance,
            "campaign",
            "create",
            "--name",
            "Try",
            "--period",
            "2026-Q4",
            "--account",
            "HC-0001",
        )
        campaign_id = created.stdout.strip()
        sent = bare.run(instance, "send", campaign_id)
        assert "sent" in sent.stdout
        link = _first_survey_link(instance / "outbox")
        assert link.startswith(f"http://127.0.0.1:{port}/s/"), link
        with urllib.request.urlopen(link, timeout=10) as reply:
            assert reply.status == 200
            page = reply.read().decode()
        assert "<form" in page and 'name="csrf_token"' in page


def _first_survey_link(outbox: Path) -> str:
    messages = sorted(outbox.glob("*.eml"))
    assert messages, f"no email in {outbox}"
    message = email.message_from_bytes(messages[0].read_bytes(), policy=email.policy.default)
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    match = re.search(r"https?://[^\s/]+/s/[A-Za-z0-9_\-]+", body.get_content())
    assert match, body.get_content()
    return match.group(0)


@contextmanager
def _serving(bare: BareInstall, instance: Path, port: int) -> Iterator[None]:
    """``cpi serve --port``, waited for until /healthz answers, stopped on exit."""
    server = subprocess.Popen(
        [str(bare.cpi), "serve", "--port", str(port)],
        cwd=instance.parent,
        env=bare.env(instance),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_serving(server, port, 60)
        yield
    finally:
        server.terminate()
        server.wait(timeout=20)
