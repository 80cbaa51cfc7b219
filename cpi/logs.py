"""Logging: one JSON object per line (or plain text for humans), with a request id.

Customer tokens are credentials, so every line passes through :func:`redact` before it
is written: ``/s/<token>`` and ``/u/<token>`` become ``/s/[token]``, and ``token=`` or
``password=`` values in a query string or form become ``[redacted]``. Request bodies and
form fields are never logged.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, g, request

from cpi.logcontext import redact, request_id_var

LOG_FORMATS = ("json", "text")
REQUEST_ID_HEADER = "X-Request-ID"

# The request (or job) this line belongs to; "-" outside of one.
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

# Attributes every LogRecord has; anything else was passed with ``extra=`` and is kept.
_STANDARD_ATTRS = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys() | {"message", "asctime"}
)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id and extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": redact(record.getMessage()),
            "request_id": getattr(record, "request_id", None) or request_id_var.get(),
            "pid": record.process,
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and key not in entry and not key.startswith("_"):
                entry[key] = redact(value) if isinstance(value, str) else value
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """For people at a terminal: time, level, request id, message."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s [%(request_id)s] %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        if not getattr(record, "request_id", None):
            record.request_id = request_id_var.get()
        return redact(super().format(record))


class CpiHandler(logging.Handler):
    """Writes to whatever ``sys.stderr`` is at the time (test runners swap it).

    Its class also marks the handler we installed, so that configuring twice replaces it.
    """

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
            sys.stderr.flush()
        except Exception:
            self.handleError(record)


def make_formatter(log_format: str | None = None) -> logging.Formatter:
    """The formatter for ``log_format``, or for ``CPI_LOG_FORMAT`` (default json)."""
    log_format = (log_format or os.environ.get("CPI_LOG_FORMAT") or "json").lower()
    return TextFormatter() if log_format == "text" else JsonFormatter()


def configure(log_format: str | None = None, level: str | None = None) -> None:
    """Send every logger's records to stderr in one format (idempotent)."""
    log_format = (log_format or os.environ.get("CPI_LOG_FORMAT") or "json").lower()
    if log_format not in LOG_FORMATS:
        raise ValueError(f"log format must be one of {', '.join(LOG_FORMATS)}, not {log_format!r}")
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, CpiHandler):
            root.removeHandler(handler)
    handler = CpiHandler()
    handler.setFormatter(make_formatter(log_format))
    root.addHandler(handler)
    root.setLevel((level or os.environ.get("CPI_LOG_LEVEL") or "INFO").upper())


def configured() -> bool:
    return any(isinstance(h, CpiHandler) for h in logging.getLogger().handlers)


def init_app(app: Flask) -> None:
    """Give each request an id (kept from a sane ``X-Request-ID``) and log one line per request."""
    logger = logging.getLogger("cpi.request")

    @app.before_request
    def start_request() -> None:
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = incoming if _SAFE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        g.request_started = time.perf_counter()
        request_id_var.set(g.request_id)

    @app.after_request
    def finish_request(response: Response) -> Response:
        request_id = g.get("request_id")
        if request_id:
            response.headers[REQUEST_ID_HEADER] = request_id
            if not logger.isEnabledFor(logging.INFO):
                return response  # the line would be dropped: build none of it
            elapsed = time.perf_counter() - g.get("request_started", time.perf_counter())
            logger.info(
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "method": request.method,
                    "path": redact(request.path),
                    "status": response.status_code,
                    "duration_ms": round(elapsed * 1000, 1),
                    "remote_addr": request.remote_addr,
                },
            )
        return response

    @app.teardown_request
    def forget_request(_exc: BaseException | None) -> None:
        request_id_var.set("-")
