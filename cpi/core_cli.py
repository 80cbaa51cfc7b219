"""``cpi init`` and ``cpi serve``."""

from __future__ import annotations

import os

import click
from flask import current_app
from flask.cli import with_appcontext

from cpi.db import database
from cpi.migrate import upgrade


def init_database() -> None:
    upgrade(database().engine)


@click.command("init")
@with_appcontext
def init_command() -> None:
    """Create or upgrade the database to the newest migration."""
    init_database()
    click.echo(f"Database ready: {database().engine.url.render_as_string(hide_password=True)}")


def serve(host: str, port: int) -> None:
    """Serve with waitress-like simplicity: Werkzeug's threaded server, for trying the app.

    Production runs gunicorn (see the README).
    """
    from werkzeug.serving import run_simple

    from cpi.ops import logs

    # Werkzeug's own request log would print survey tokens; ours redacts them.
    logs.configure(os.environ.get("CPI_LOG_FORMAT") or "text")
    click.echo(f"Serving CPI Tracker on http://{host}:{port}/ (Ctrl+C to stop)")
    run_simple(
        host,
        port,
        current_app._get_current_object(),
        threaded=True,  # type: ignore[attr-defined]
        use_reloader=False,
        use_debugger=False,
    )


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@with_appcontext
def serve_command(host: str, port: int) -> None:
    """Serve the web app (for production, run gunicorn: see the README)."""
    init_database()
    serve(host, port)
