"""Issue 13 item 5: PostgreSQL connections are not pinged on every checkout (no extra
round trip per request); they are replaced after CPI_DB_POOL_RECYCLE seconds, and one
the server closed while it sat in the pool is replaced without failing a request."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event, text
from support import PG_URL, wait_until

from cpi import create_app
from cpi.db import database, make_engine

pg_only = pytest.mark.skipif(not PG_URL, reason="needs PostgreSQL (CPI_TEST_DATABASE_URL)")


@pg_only
def test_no_ping_per_checkout_and_pool_recycle_is_configurable(
    app_config: dict[str, Any],
) -> None:
    app = create_app({**app_config, "DB_POOL_RECYCLE": 120})
    engine = database(app).engine
    try:
        assert engine.pool._pre_ping is False and engine.pool._recycle == 120
        statements: list[str] = []
        event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
        for _ in range(3):
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        assert statements == ["SELECT 1"] * 3
    finally:
        engine.dispose()
    default = create_app(app_config)
    assert database(default).engine.pool._recycle == 1800
    database(default).engine.dispose()


@pg_only
@pytest.mark.parametrize("statement_timeout", [15, 0])
def test_a_connection_the_server_closed_is_replaced_without_an_error(
    app_config: dict[str, Any], statement_timeout: int
) -> None:
    app = create_app({**app_config, "DB_STATEMENT_TIMEOUT": statement_timeout})
    engine = database(app).engine
    try:
        with engine.connect() as connection:
            pid = connection.execute(text("SELECT pg_backend_pid()")).scalar()
        # now idle in the pool; another client ends its backend (as a restart would)
        admin = make_engine(PG_URL)
        with admin.connect() as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})

        def ended() -> bool:  # a new transaction each time: pg_stat_activity is a snapshot
            query = text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid")
            with admin.connect() as other:
                return other.execute(query, {"pid": pid}).scalar() == 0

        wait_until(ended, 30, "the backend to end")
        admin.dispose()
        for _ in range(2):
            with engine.connect() as connection:
                assert connection.execute(text("SELECT pg_backend_pid()")).scalar() != pid
    finally:
        engine.dispose()
