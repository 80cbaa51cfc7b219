from __future__ import annotations

import os

import click
from flask.cli import with_appcontext

from cpi.audit.operations import record
from cpi.auth.models import ROLES
from cpi.auth.operations import UserError, create_user
from cpi.core_cli import require_schema
from cpi.db import database


@click.group("user")
def user_group() -> None:
    """Staff users."""


@user_group.command("create")
@click.option("--email", required=True)
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--name", default=None)
@with_appcontext
def create_command(email: str, role: str, name: str | None) -> None:
    """Create a staff user; the password comes from CPI_PASSWORD or a prompt."""
    require_schema()
    password = os.environ.get("CPI_PASSWORD") or click.prompt(
        "Password", hide_input=True, confirmation_prompt=True
    )
    try:
        with database().transaction() as session:
            user = create_user(session, email=email, role=role, password=password, name=name)
            record(session, "cli", "user.create", f"{user.email} as {user.role}")
    except UserError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Created {role} {user.email}")
