"""The dashboard cache never shows stale figures: any new or changed answer, import
or KPI change computes the page afresh."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, text, update
from staff_support import sign_in, small_dataset

from cpi import create_app, generation
from cpi.audit.models import AuditEvent
from cpi.db import database
from cpi.scorecards import cache
from cpi.surveys.models import Response
from cpi.surveys.sums import rebuild as rebuild_sums
from cpi.timeutil import utcnow


def responses_shown(client: Any) -> int:
    page = client.get("/?period=2026-Q3").get_data(as_text=True)
    match = re.search(r"(\d+) responses", page)
    assert match, page[:500]
    return int(match.group(1))


def csat_shown(client: Any) -> str:
    page = client.get("/?period=2026-Q3").get_data(as_text=True)
    row = re.search(r"Customer satisfaction.*?</tr>", page, re.S)
    assert row
    return row.group(0)


def test_dashboard_follows_imports_and_changed_answers(
    runner: Any, write_csv: Any, client: Any, db: Any
) -> None:
    small_dataset(runner, write_csv)
    sign_in(client, "lead@example.test", "password-123")
    before = responses_shown(client)
    computed = cache.stats["misses"]
    assert computed > 0 and cache.stats["hits"] == 0  # the first view computes
    assert responses_shown(client) == before  # served from the cache, same figures
    assert cache.stats["misses"] == computed and cache.stats["hits"] > 0  # nothing recomputed
    extra = write_csv(
        "more.csv",
        "account_id,contact_email,period,csat\nACC-2,new.person@acc-2.test,2026-Q3,1\n",
    )
    assert runner.invoke("import", "responses", str(extra)).exit_code == 0
    assert responses_shown(client) == before + 1
    assert cache.stats["misses"] > computed  # computed afresh
    first = csat_shown(client)
    # a customer answering again updates their response (and its updated_at)
    db.execute(update(Response).values(csat=1, updated_at=utcnow()))
    rebuild_sums(db)  # a write behind the app's back: the answer sums follow by hand
    db.commit()
    assert csat_shown(client) != first


# --- issue 13: a data generation bumped by the writes, a cache shared by the workers ---


ROOT = Path(__file__).resolve().parent.parent
MORE = "account_id,contact_email,period,csat\nACC-2,another.person@acc-2.test,2026-Q3,1\n"


def test_generation_moves_with_committed_watched_writes_only(app: Any, db: Any) -> None:
    start = generation.current(db)
    db.rollback()
    db.add(AuditEvent(action="test.event", actor="tester@example.test", detail="not watched"))
    db.commit()
    assert generation.current(db) == start  # an audit event changes no dashboard
    db.rollback()
    db.execute(update(Response).values(csat=1))  # a watched table, even with no row
    db.rollback()
    assert generation.current(db) == start  # rolled back: nothing happened
    db.rollback()
    db.execute(update(Response).values(csat=1))
    db.execute(update(Response).values(csat=2))
    db.commit()
    assert generation.current(db) == start + 1  # one bump per transaction


def test_a_write_in_another_process_invalidates_this_process_s_dashboard(
    runner: Any, write_csv: Any, client: Any, app: Any, tmp_path: Path
) -> None:
    small_dataset(runner, write_csv)
    sign_in(client, "lead@example.test", "password-123")
    before = responses_shown(client)
    assert responses_shown(client) == before and cache.stats["hits"] > 0
    computed = cache.stats["misses"]
    extra = write_csv("more.csv", MORE)
    env = {**os.environ, "CPI_DATABASE_URL": app.config["DATABASE_URL"],
           "CPI_INSTANCE_PATH": str(tmp_path / "other"), "PYTHONPATH": str(ROOT)}  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-c", "from cpi.cli import cli; cli()", "import", "responses", str(extra)],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert responses_shown(client) == before + 1  # the other process's write is seen at once
    assert cache.stats["misses"] > computed


def test_a_write_that_bypasses_the_app_is_not_seen_until_the_next_app_write(
    runner: Any, write_csv: Any, client: Any, app: Any
) -> None:
    """Documented (README, "Dashboard cache"): only writes through the app move the
    generation; a raw SQL write bypasses the answer sums too, until `cpi sums rebuild`
    (which `cpi sums check` would call for) brings it in and moves the generation."""
    small_dataset(runner, write_csv)
    sign_in(client, "lead@example.test", "password-123")
    before = responses_shown(client)
    with database(app).engine.begin() as connection:  # no session: no bump
        row = connection.execute(text("SELECT account_id, contact_id FROM responses LIMIT 1")).one()
        connection.execute(
            insert(Response.__table__).values(
                account_id=row.account_id, contact_id=None, period="2026-Q3", csat=5,
                submitted_at=utcnow(), source="import",
            )
        )  # fmt: skip
    assert responses_shown(client) == before  # still the cached page
    extra = write_csv("more.csv", MORE)
    runner.invoke("import", "responses", str(extra))
    assert responses_shown(client) == before + 1  # the import; the raw row is not summed
    runner.invoke("sums", "rebuild")
    assert responses_shown(client) == before + 2  # both, once the sums are rebuilt


@pytest.fixture
def shared_apps(app_config: dict[str, Any], redis_server: Any) -> Any:
    config = {**app_config, "REDIS_URL": redis_server.url}
    first, second = create_app(config), create_app(config)
    yield first, second
    for each in (first, second):
        database(each).engine.dispose()


def test_workers_share_the_cache_in_redis_and_a_write_invalidates_it_for_all(
    shared_apps: Any, write_csv: Any
) -> None:
    from support import Runner

    first, second = shared_apps
    small_dataset(Runner(first), write_csv)
    one, two = first.test_client(), second.test_client()
    sign_in(one, "lead@example.test", "password-123")
    sign_in(two, "lead@example.test", "password-123")
    before = responses_shown(one)
    assert cache.stats["misses"] > 0 and cache.stats["hits"] == 0
    cache.clear()  # nothing left in this process: what follows comes from Redis
    assert responses_shown(two) == before
    assert cache.stats["hits"] > 0 and cache.stats["misses"] == 0  # computed by the other
    extra = write_csv("more.csv", MORE)
    Runner(second).invoke("import", "responses", str(extra))
    assert responses_shown(one) == before + 1
    assert cache.stats["misses"] > 0
    cache.clear()
    assert responses_shown(two) == before + 1 and cache.stats["misses"] == 0


def test_redis_down_means_computing_without_the_cache(
    app_config: dict[str, Any], runner: Any, write_csv: Any
) -> None:
    small_dataset(runner, write_csv)
    unreachable = create_app({**app_config, "REDIS_URL": "redis://127.0.0.1:9/0"})
    client = unreachable.test_client()
    sign_in(client, "lead@example.test", "password-123")
    assert responses_shown(client) == responses_shown(client) > 0
    assert cache.stats["hits"] == 0  # every view computed, none failed
    database(unreachable).engine.dispose()


def test_an_audit_is_reused_across_generations_while_its_answers_are_unchanged(
    runner: Any, write_csv: Any, app: Any, db: Any
) -> None:
    """The differencing audit is kept under a digest of its inputs: a write elsewhere
    (another year, another generation) does not make a year's audit run again."""
    from staff_support import OWNER_A

    from cpi.scorecards.differencing import Universe
    from cpi.scorecards.disclosure import withheld_cells

    small_dataset(runner, write_csv)
    viewer = Universe(OWNER_A)
    with app.app_context():
        first = withheld_cells(db, viewer, 2026, 5, "generation-1")
        misses, hits = cache.stats["misses"], cache.stats["hits"]
        again = withheld_cells(db, viewer, 2026, 5, "generation-2")
    assert again == first
    assert cache.stats["misses"] == misses + 1  # the year's entry, under the new generation
    assert cache.stats["hits"] > hits  # its audits, by their inputs
