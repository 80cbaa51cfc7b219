"""``cpi init`` and ``cpi serve``."""

from __future__ import annotations

import os

import click
from flask import current_app
from flask.cli import with_appcontext

from cpi.config import record_served_url
from cpi.db import database


def init_database() -> None:
    """Create or upgrade the schema: only ``cpi init`` and ``cpi demo`` do this."""
    from cpi.migrate import upgrade

    upgrade(database().engine)


def require_schema() -> None:
    """Stop with one line ("run `cpi init`") unless the schema is this release's newest.

    Every command but ``cpi init`` and ``cpi demo`` calls this instead of migrating: an
    upgrade is a step the operator takes on purpose (after a backup), once, not a side
    effect of whichever command happens to run first after installing a release.
    """
    from cpi.migrate import schema_problem

    problem = schema_problem(database().engine)
    if problem:
        raise click.ClickException(problem)


@click.command("init")
@with_appcontext
def init_command() -> None:
    """Create or upgrade the database to the newest migration."""
    init_database()
    click.echo(f"Database ready: {database().engine.url.render_as_string(hide_password=True)}")


def configure_logging(log_format: str | None) -> None:
    """Log as ``log_format`` (json or text; default CPI_LOG_FORMAT), tokens redacted."""
    from cpi import logs

    logs.configure(log_format)


def local_url(host: str, port: int) -> str:
    """The address people open: a wildcard host (0.0.0.0, ::) is reached on the loopback."""
    if host in ("", "0.0.0.0", "::"):  # noqa: S104 - compared, not bound
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def serve(host: str, port: int) -> None:
    """Serve with waitress-like simplicity: Werkzeug's threaded server, for trying the app.

    Production runs gunicorn (see the README).
    """
    from werkzeug.serving import run_simple

    from cpi import logs

    # Werkzeug's own request log would print survey tokens; ours redacts them.
    logs.configure(os.environ.get("CPI_LOG_FORMAT") or "text")
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if not app.config.get("BASE_URL_EXPLICIT"):
        # Survey links sent by this app, and by commands on this instance, point here.
        url = app.config["BASE_URL"] = local_url(host, port)
        record_served_url(app, url)
        click.echo(f"Links in emails point at {url} (set CPI_BASE_URL to change)")
    click.echo(f"Serving CPI Tracker on http://{host}:{port}/ (Ctrl+C to stop)")
    run_simple(
        host,
        port,
        app,
        threaded=True,
        use_reloader=False,
        use_debugger=False,
    )


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@with_appcontext
def serve_command(host: str, port: int) -> None:
    """Serve the web app (for production, run gunicorn: see the README)."""
    require_schema()
    serve(host, port)
