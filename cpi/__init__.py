"""CPI Tracker: customer performance indicators beside internal KPIs."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

PACKAGE_DIR = Path(__file__).resolve().parent
# Each feature's background work, registered with cpi.jobs by name when imported.
TASK_MODULES = (
    "cpi.mail.tasks",
    "cpi.surveys.tasks",
    "cpi.imports.tasks",
    "cpi.scorecards.tasks",
    "cpi.followups.tasks",
)


def resource_dir(name: str) -> Path:
    """Return the folder ``templates``, ``static`` or ``migrations``.

    In a wheel they are installed inside the package; in a source checkout they
    sit at the top of the repository, beside ``cpi/``.
    """
    inside = PACKAGE_DIR / name
    return inside if inside.is_dir() else PACKAGE_DIR.parent / name


def create_app(config: dict[str, Any] | None = None) -> Flask:
    from flask import Flask

    from cpi import config as cpi_config
    from cpi import db, generation, web  # noqa: F401  (generation: writes bump it)

    app = Flask(
        __name__,
        template_folder=str(resource_dir("templates")),
        static_folder=str(resource_dir("static")),
        instance_relative_config=False,
    )
    cpi_config.load(app, config)
    if app.config.get("REDIS_URL"):
        # The job queue and the shared rate-limit counts need the redis extra: one line
        # saying how to install it, rather than a traceback from deep inside a library.
        from cpi.jobs.extra import require_redis

        require_redis()
    db.init_app(app)
    web.init_app(app)
    for module in TASK_MODULES:
        importlib.import_module(module)
    _connect_features()
    return app


def _connect_features() -> None:
    """Wire what a lower package announces to the feature that acts on it (the arrows
    between packages point one way; see tests/test_architecture.py)."""
    from cpi.mail.outbox import on_delivery
    from cpi.surveys.delivery import record_delivery

    on_delivery(record_delivery)
