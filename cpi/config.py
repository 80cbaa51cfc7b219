"""Configuration: defaults, then ``CPI_*`` variables from the environment, then overrides.

Every name here is documented in ``shared/docs/interfaces.md`` and the README.
"""

from __future__ import annotations

import gc
import json
import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask


class ConfigError(RuntimeError):
    """A setting that cannot be used; the message names it (the CLI prints it alone)."""


DEFAULTS: dict[str, Any] = {
    "BASE_URL": "http://127.0.0.1:5000",
    "MAIL_FROM": "surveys@localhost",
    "MIN_N": 5,
    "REDIS_URL": None,
    "COMPANY_NAME": "CPI Tracker",
    "PAGE_SIZE": "A4",
    # imports larger than this are refused up front, before anything is read
    "IMPORT_MAX_BYTES": 100 * 1024 * 1024,
    "MAX_CONTENT_LENGTH": 1024 * 1024,
    # form fields per body, urlencoded or multipart (cpi.web caps urlencoded too)
    "MAX_FORM_PARTS": 1000,
    "UPLOAD_MAX_BYTES": 20 * 1024 * 1024,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    # Waiting for PostgreSQL (seconds; 0 = no limit): past these a request gets the
    # 503 retry page instead of hanging until gunicorn kills the worker.
    "DB_CONNECT_TIMEOUT": 5,
    "DB_STATEMENT_TIMEOUT": 15,
    "DB_POOL_TIMEOUT": 5,
    # PostgreSQL connections older than this (seconds) are replaced when next taken
    # from the pool (instead of a round trip to test each one: see cpi.db).
    "DB_POOL_RECYCLE": 1800,
    # A warm PDF renderer process is replaced after this many PDFs.
    "PDF_RECYCLE_AFTER": 100,
    # argon2 parameters of new password hashes; "CHEAPEST" only with TESTING (cpi.auth.passwords)
    "PASSWORD_HASH_PROFILE": "RFC_9106_LOW_MEMORY",
    # The garbage collector's thresholds in this process ("gen0,gen1,gen2"; empty: Python's
    # own 700,10,10). A dashboard keeps a large cache of long-lived objects, and with
    # Python's thresholds the collections that walk it were the slowest 5% of cold
    # dashboard requests (benchmarks/README.md, "Cold dashboards: the garbage collector").
    "GC_THRESHOLD": "50000,20,10",
}

# Where `cpi serve` records the address it serves (see core_cli.serve).
SERVED_URL_FILE = "served_url"


def load(app: Flask, overrides: dict[str, Any] | None = None) -> None:
    app.config.update(DEFAULTS)
    app.config.from_prefixed_env("CPI")
    if overrides:
        app.config.update(overrides)

    instance = Path(
        app.config.get("INSTANCE_PATH") or os.environ.get("CPI_INSTANCE_PATH", "instance")
    )
    instance = instance.resolve()
    app.config["INSTANCE_PATH"] = str(instance)
    app.instance_path = str(instance)

    if not app.config.get("DATABASE_URL"):
        instance.mkdir(parents=True, exist_ok=True)
        app.config["DATABASE_URL"] = f"sqlite:///{instance / 'cpi.sqlite3'}"
    if not app.config.get("MAIL_URL"):
        app.config["MAIL_URL"] = f"file://{instance / 'outbox'}"
    explicit = bool(os.environ.get("CPI_BASE_URL") or (overrides or {}).get("BASE_URL"))
    app.config["BASE_URL_EXPLICIT"] = explicit
    if not explicit:
        # Without CPI_BASE_URL, links point where `cpi serve` / `cpi demo --serve` last
        # served this instance (so `--port` is enough to try the app), else the default.
        served = instance / SERVED_URL_FILE
        if served.is_file():
            app.config["BASE_URL"] = served.read_text().strip() or DEFAULTS["BASE_URL"]
    production = str(app.config.get("ENV", "")).lower() == "production"
    if not app.config.get("SECRET_KEY"):
        if production:
            raise ConfigError("CPI_SECRET_KEY must be set when CPI_ENV=production")
        app.config["SECRET_KEY"] = _instance_secret(instance)
    if production or str(app.config["BASE_URL"]).startswith("https://"):
        # Behind TLS the session cookie travels only over HTTPS.
        app.config["SESSION_COOKIE_SECURE"] = True
    app.config["MIN_N"] = int(app.config["MIN_N"])
    app.config["SECRET_KEY_FALLBACKS"] = secret_key_fallbacks(app.config)
    tune_garbage_collector(str(app.config.get("GC_THRESHOLD") or ""))


def tune_garbage_collector(setting: str) -> None:
    """Set this process's collector thresholds from ``GC_THRESHOLD`` ("50000,20,10"),
    or leave Python's when it is empty. Fewer young collections mean fewer promotions,
    so the full collections that walk every cached object come far less often; cyclic
    garbage waits for at most ``gen0`` new container objects (a few MB)."""
    if not setting.strip():
        return
    try:
        thresholds = [int(part) for part in setting.split(",")]
    except ValueError:
        thresholds = []
    if len(thresholds) != 3 or not all(1 <= value <= 10_000_000 for value in thresholds):
        raise ConfigError(
            f"CPI_GC_THRESHOLD must be three whole numbers from 1 to 10000000, "
            f"as in '50000,20,10', or empty (got {setting!r})"
        )
    gc.set_threshold(*thresholds)


def secret_key_fallbacks(config: Any) -> list[str]:
    """``CPI_SECRET_KEY_FALLBACKS``: retired keys, newest first, as a JSON list or
    separated by commas or spaces. Flask verifies session cookies signed with them
    (and signs new ones with ``CPI_SECRET_KEY``); reminders re-derive links made with
    them (cpi.surveys.tokens). Drop a key once its sessions and campaigns are over."""
    value = config.get("SECRET_KEY_FALLBACKS") or []
    if isinstance(value, str):
        text = value.strip()
        value = json.loads(text) if text.startswith("[") else text.replace(",", " ").split()
    return [str(key) for key in value if str(key).strip()]


def record_served_url(app: Flask, url: str) -> None:
    """Remember the address this instance is served at, for links in emails."""
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    partial = instance / (SERVED_URL_FILE + ".part")
    partial.write_text(url + "\n")
    partial.replace(instance / SERVED_URL_FILE)


def _instance_secret(instance: Path) -> str:
    """Generate the secret key once and keep it in the instance folder (mode 0600)."""
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key
