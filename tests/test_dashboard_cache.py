"""The dashboard cache never shows stale figures: any new or changed answer, import
or KPI change computes the page afresh."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import update
from staff_support import sign_in, small_dataset

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
