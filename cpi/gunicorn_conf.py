"""Gunicorn settings for CPI Tracker.

    gunicorn -c python:cpi.gunicorn_conf "cpi:create_app()"

Every setting can be changed on the command line or with ``GUNICORN_CMD_ARGS``; the
ones below read a few environment variables so that a container needs no file.
"""

from __future__ import annotations

import multiprocessing
import os

# Behind a reverse proxy that terminates TLS (see the README); 0.0.0.0:8000 in a container.
bind = os.environ.get("CPI_BIND", "127.0.0.1:8000")
# Sync workers: each request is short (a page, a PDF of one account, a survey submit);
# slow clients are buffered by the reverse proxy. Two per core plus one is gunicorn's advice.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
# A single account's PDF renders in a few seconds; anything slower is a bug to see in
# the log, not a request to wait for. Batches run on `cpi worker`.
timeout = int(os.environ.get("CPI_WEB_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so that no slow leak (fonts, PDF caches) grows for ever.
max_requests = 5000
max_requests_jitter = 500
# The app is created in each worker after the fork: no database connection is shared.
preload_app = False
# Trust X-Forwarded-Proto/For only from the proxy in front (comma-separated addresses).
forwarded_allow_ips = os.environ.get("CPI_FORWARDED_ALLOW_IPS", "127.0.0.1")
# Heartbeat files in memory, not on a container's overlay filesystem.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108

# No gunicorn access log: the app logs one JSON line per request with a request id and
# with survey tokens redacted (a raw access log would store every customer's link).
accesslog = None
errorlog = "-"
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"cpi": {"()": "cpi.logs.make_formatter"}},
    "handlers": {"cpi": {"class": "cpi.logs.CpiHandler", "formatter": "cpi"}},
    "root": {"level": os.environ.get("CPI_LOG_LEVEL", "INFO").upper(), "handlers": ["cpi"]},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": [], "propagate": True},
        "gunicorn.access": {"level": "INFO", "handlers": [], "propagate": False},
    },
}
