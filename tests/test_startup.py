"""Start-up: only `cpi init` and `cpi demo` migrate; heavy or optional libraries load when used;
`cpi serve --port` / `cpi demo --serve --port` put that port in survey links."""

from __future__ import annotations

import email
import email.policy
import gc
import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import click.testing
import pytest
from flask.cli import ScriptInfo
from sqlalchemy import text
from support import free_port, wait_until_serving

from cpi import create_app
from cpi.cli import cli
from cpi.db import database
from cpi.migrate import upgrade

ROOT = Path(__file__).resolve().parent.parent
INSTALL_HINT = "pip install 'cpi-tracker[redis]'"


def invoke(app: Any, *args: str) -> click.testing.Result:
    return click.testing.CliRunner().invoke(
        cli, list(args), obj=ScriptInfo(create_app=lambda: app), catch_exceptions=False
    )


@pytest.fixture
def sqlite_app(tmp_path: Path) -> Any:
    """An app on a SQLite file nobody has created yet (whatever the suite's database)."""
    path = tmp_path / "fresh" / "cpi.sqlite3"
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": f"sqlite:///{path}",
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "SECRET_KEY": "test",
            "MAIL_URL": f"file://{tmp_path / 'outbox'}",
        }
    )
    app.config["DB_PATH"] = path
    yield app
    database(app).engine.dispose()


def test_commands_refuse_a_database_that_does_not_exist(sqlite_app: Any) -> None:
    path: Path = sqlite_app.config["DB_PATH"]
    path.parent.mkdir()
    for args in (
        ("score", "--period", "2026-Q3"),
        ("serve", "--port", "1"),
        ("campaign", "list"),
        ("send", "1"),
        ("import", "contacts", __file__),
    ):
        result = invoke(sqlite_app, *args)
        assert result.exit_code == 1, (args, result.output)
        assert "does not exist yet: run `cpi init`" in result.output, (args, result.output)
        assert result.output.count("\n") == 1
    assert not path.exists()  # nothing was created on the way
    init = invoke(sqlite_app, "init")
    assert init.exit_code == 0, init.output
    assert invoke(sqlite_app, "campaign", "list").exit_code == 0


def test_an_empty_database_is_not_initialised(sqlite_app: Any) -> None:
    path: Path = sqlite_app.config["DB_PATH"]
    path.parent.mkdir()
    path.touch()
    result = invoke(sqlite_app, "campaign", "list")
    assert result.exit_code == 1
    assert "is not initialised: run `cpi init`" in result.output


def test_an_older_schema_is_not_upgraded_by_a_command(sqlite_app: Any) -> None:
    engine = database(sqlite_app).engine
    sqlite_app.config["DB_PATH"].parent.mkdir()
    upgrade(engine, "0003")
    result = invoke(sqlite_app, "score", "--period", "2026-Q3")
    assert result.exit_code == 1
    assert "is at revision 0003" in result.output and "run `cpi init` to upgrade" in result.output
    with engine.connect() as connection:  # the command changed nothing
        assert connection.scalar(text("SELECT version_num FROM alembic_version")) == "0003"
    assert invoke(sqlite_app, "init").exit_code == 0
    assert invoke(sqlite_app, "campaign", "list").exit_code == 0


def test_a_schema_from_a_newer_release_is_named(sqlite_app: Any) -> None:
    engine = database(sqlite_app).engine
    sqlite_app.config["DB_PATH"].parent.mkdir()
    upgrade(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    result = invoke(sqlite_app, "campaign", "list")
    assert result.exit_code == 1
    assert "revision 9999, which this release does not know" in result.output


def _python(code: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("CPI_")}
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**base, "PYTHONPATH": str(ROOT), "CPI_INSTANCE_PATH": str(tmp_path / "i"), **env},
        timeout=120,
        check=False,
    )


STARTUP_PROBE = """
import json, sys
from cpi.cli import cli
try:
    cli(["--help"])
except SystemExit:
    pass
after_help = sorted(m for m in sys.modules if m.startswith(("cpi.", "sqlalchemy.orm")))
from cpi import create_app
from cpi.auth import passwords
create_app().test_client().get("/login")
heavy = ["weasyprint", "redis", "rq", "alembic"]
print(json.dumps({
    "loaded": [name for name in heavy if name in sys.modules],
    "dummy_hashes": passwords._dummy_hash.cache_info().currsize,
    "after_help": after_help,
}))
"""


def test_start_up_loads_no_pdf_queue_or_migration_library(tmp_path: Path) -> None:
    probe = _python(STARTUP_PROBE, tmp_path)
    assert probe.returncode == 0, probe.stderr
    report = json.loads(probe.stdout.strip().splitlines()[-1])
    # `cpi --help` imports no command's module (cpi.cli and the package only).
    assert report == {"loaded": [], "dummy_hashes": 0, "after_help": ["cpi.cli"]}


def test_the_command_table_matches_the_commands() -> None:
    """`cpi --help` shows the table's summaries: each is its command's own first line."""
    import importlib

    from cpi.cli import COMMANDS

    for name, (module, attribute, summary) in COMMANDS.items():
        command = getattr(importlib.import_module(module), attribute)
        assert command.name == name
        assert command.get_short_help_str(limit=1000) == summary, name
    help_text = click.testing.CliRunner().invoke(cli, ["--help"]).output
    listed = re.findall(r"^  (\S+)  ", help_text.split("Commands:")[1], flags=re.MULTILINE)
    assert listed == sorted(COMMANDS)


WITHOUT_REDIS = """
import sys
sys.modules["redis"] = None  # as if the redis extra were not installed
sys.modules["rq"] = None
import importlib
for name in ("cpi.jobs.queue", "cpi.jobs.worker", "cpi.jobs.runner"):
    try:
        importlib.import_module(name)
    except ImportError as error:
        print(name, "|", error)
from cpi.cli import cli
cli(sys.argv[1:])
"""


@pytest.mark.parametrize(
    ("args", "env"),
    [(["worker"], {}), (["send", "1"], {"CPI_REDIS_URL": "redis://127.0.0.1:6379/0"})],
)
def test_without_the_redis_extra_the_queue_says_so_in_one_line(
    tmp_path: Path, args: list[str], env: dict[str, str]
) -> None:
    result = _python(WITHOUT_REDIS.replace("sys.argv[1:]", repr(args)), tmp_path, **env)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1 and INSTALL_HINT in result.stderr, result.stderr
    imports = result.stdout.strip().splitlines()
    assert [line.split(" | ")[0] for line in imports] == [
        "cpi.jobs.queue",
        "cpi.jobs.worker",
        "cpi.jobs.runner",
    ]
    assert all(line.endswith(INSTALL_HINT) for line in imports)


@pytest.mark.slow
def test_demo_serve_port_is_where_survey_links_point(tmp_path: Path) -> None:
    """`cpi demo --serve --port P`, then `cpi send` in another terminal: links open on P."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CPI_")}
    env.update(PYTHONPATH=str(ROOT), CPI_INSTANCE_PATH=str(tmp_path / "instance"))
    command = [sys.executable, "-c", "from cpi.cli import cli; cli()"]
    server = subprocess.Popen(
        [*command, "demo", "--serve", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_serving(server, port, 120)

        def cpi(*args: str) -> str:
            done = subprocess.run(
                [*command, *args], capture_output=True, text=True, env=env, check=False
            )
            assert done.returncode == 0, done.stderr
            return done.stdout

        campaign_id = cpi(
            "campaign", "create", "--name", "Try", "--period", "2026-Q4", "--account", "HC-0001"
        ).strip()
        cpi("send", campaign_id)
        first = sorted((tmp_path / "instance" / "outbox").glob("*.eml"))[0]
        message = email.message_from_bytes(first.read_bytes(), policy=email.policy.default)
        body = message.get_body(preferencelist=("plain",))
        assert body is not None
        match = re.search(r"http://[^\s/]+/s/[A-Za-z0-9_\-]+", body.get_content())
        assert match and match.group(0).startswith(f"http://127.0.0.1:{port}/s/"), match
        with urllib.request.urlopen(match.group(0), timeout=10) as reply:
            assert reply.status == 200

        # CPI_BASE_URL, when set, wins over the served port.
        explicit = subprocess.run(
            [
                *command[:2],
                "from cpi import create_app; print(create_app().config['BASE_URL'])",
            ],
            capture_output=True,
            text=True,
            env={**env, "CPI_BASE_URL": "https://cpi.example.com"},
            check=True,
        )
        assert explicit.stdout.strip() == "https://cpi.example.com"
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_the_collector_thresholds_come_from_the_configuration(app_config: dict[str, Any]) -> None:
    """Issue 13: a cold dashboard's slowest requests were full collections walking the
    cache; the app raises the young generation's threshold (CPI_GC_THRESHOLD)."""
    saved = gc.get_threshold()

    def started(**settings: Any) -> tuple[int, ...]:
        database(create_app({**app_config, **settings})).engine.dispose()
        return gc.get_threshold()

    try:
        assert started() == (50_000, 20, 10)
        assert started(GC_THRESHOLD="700,10,10") == (700, 10, 10)
        gc.set_threshold(1234, 5, 6)
        assert started(GC_THRESHOLD="") == (1234, 5, 6)  # empty: left as Python has it
        for bad in ("50000,20", "a,b,c", "0,10,10", "1,2,3,4"):
            with pytest.raises(RuntimeError, match="CPI_GC_THRESHOLD must be three whole"):
                started(GC_THRESHOLD=bad)
    finally:
        gc.set_threshold(*saved)


def test_a_setting_that_cannot_be_used_is_one_line_from_the_command(tmp_path: Path) -> None:
    saved = gc.get_threshold()
    env = {"CPI_INSTANCE_PATH": str(tmp_path / "instance"), "CPI_GC_THRESHOLD": "lots"}
    try:
        result = click.testing.CliRunner().invoke(cli, ["sums", "check"], env=env)
    finally:
        gc.set_threshold(*saved)
    assert result.exit_code == 1, result.output
    assert result.output.strip().splitlines() == [
        "Error: CPI_GC_THRESHOLD must be three whole numbers from 1 to 10000000, "
        "as in '50000,20,10', or empty (got 'lots')"
    ]
    assert "Traceback" not in result.output
