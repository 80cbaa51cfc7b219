"""``GET /healthz``: 200 while the database answers, 503 when it does not.

Redis (``CPI_REDIS_URL``) is checked too, but its outage does not make the web
process unhealthy: the rate limits fall back to counting in memory per process and
survey links and sign-in keep working, so the answer is 200 with
``{"status": "degraded", "redis": "unavailable"}`` (a monitor should alert on it; a
load balancer should keep sending traffic).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from cpi.db import database

bp = Blueprint("health", __name__)

REDIS_TIMEOUT_SECONDS = 1.0


def _redis_status(url: str) -> str:
    from redis import Redis
    from redis.exceptions import RedisError

    clients: dict[str, Any] = current_app.extensions.setdefault("cpi_health_redis", {})
    client = clients.get(url)
    if client is None:
        client = Redis.from_url(
            url,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            socket_timeout=REDIS_TIMEOUT_SECONDS,
        )
        clients[url] = client
    try:
        client.ping()
    except (RedisError, OSError):
        return "unavailable"
    return "ok"


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    try:
        with database().engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return jsonify(status="unavailable"), 503
    redis_url = current_app.config.get("REDIS_URL")
    if redis_url:
        redis = _redis_status(str(redis_url))
        if redis != "ok":
            return jsonify(status="degraded", redis=redis)
        return jsonify(status="ok", redis="ok")
    return jsonify(status="ok")
