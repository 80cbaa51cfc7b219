from __future__ import annotations

import click
from flask.cli import with_appcontext

from cpi.core_cli import init_database, serve
from cpi.db import database
from cpi.demo.operations import load_demo
from cpi.demo.story import STAFF


@click.command("demo")
@click.option("--serve", "then_serve", is_flag=True, help="serve the app after loading")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@with_appcontext
def demo_command(then_serve: bool, host: str, port: int) -> None:
    """Load a realistic demo data set (running it twice changes nothing)."""
    init_database()
    with database().transaction() as session:
        added = load_demo(session)
    if any(added.values()):
        click.echo("Demo data loaded: " + ", ".join(f"{n} {what}" for what, n in added.items()))
    else:
        click.echo("Demo data already loaded; nothing changed.")
    click.echo("Demo logins (email / password / role):")
    for email, role, _name, password in STAFF:
        click.echo(f"  {email}  {password}  {role}")
    if then_serve:
        serve(host, port)
