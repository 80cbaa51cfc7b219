"""``cpi backup``, ``cpi restore`` and ``cpi contact forget``."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from cpi.core_cli import require_schema
from cpi.db import database
from cpi.ops import backup as sqlite_backup
from cpi.ops.privacy import (
    Erasure,
    erase_mail_files,
    erased_hashes,
    forget_contact,
    log_erasure,
    reapply_erasures,
)


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(file: Path) -> None:
    """Copy the SQLite database to FILE while the app keeps running (checked before kept)."""
    try:
        report = sqlite_backup.backup(current_app.config["DATABASE_URL"], file)
    except sqlite_backup.BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Backed up to {report.path} ({report.size / 1e6:.1f} MB, integrity check ok)")


@click.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def restore_command(file: Path, yes: bool) -> None:
    """Replace the SQLite database's content with the backup FILE (refused if damaged)."""
    url = current_app.config["DATABASE_URL"]
    try:
        sqlite_backup.sqlite_path(url)
        sqlite_backup.check_backup(file.resolve())
    except sqlite_backup.BackupError as error:
        raise click.ClickException(str(error)) from None
    if not yes:
        click.confirm(f"Replace every row of the current database with {file}?", abort=True)
    database().engine.dispose()
    hashes = erased_hashes(_instance())
    again: list[Erasure] = []

    def erase_again(engine: Engine) -> None:
        # People erased since the backup was taken are erased again, in the copy,
        # before it replaces the live database.
        with Session(engine) as session:
            again.extend(reapply_erasures(session, hashes, actor="cli restore"))
            session.commit()

    try:
        # a backup from an older release is upgraded to this one's schema on the way
        report = sqlite_backup.restore(url, file, prepare=erase_again)
    except sqlite_backup.BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Restored {file} into {report.path} (integrity check ok)")
    if again:
        click.echo(
            f"Re-applied {len(again)} erasure(s) made after the backup was taken "
            f"({sum(e.contacts for e in again)} contact(s) erased again)"
        )


def _instance() -> Path:
    return Path(current_app.config["INSTANCE_PATH"])


def _mail_folder() -> Path | None:
    url = str(current_app.config.get("MAIL_URL", ""))
    return Path(url.removeprefix("file://")) if url.startswith("file://") else None


@click.group("contact")
def contact_group() -> None:
    """Contacts: erase a person's personal data."""


@contact_group.command("forget")
@click.argument("email")
@with_appcontext
def forget_command(email: str) -> None:
    """Erase EMAIL's name, address and comments everywhere; keep their anonymous answers."""
    require_schema()
    with database().transaction() as session:
        erasure = forget_contact(session, email, actor="cli")
        if erasure.contacts or erasure.messages:
            # logged before the commit: a restore of an older backup erases them again
            log_erasure(_instance(), email)
    folder = _mail_folder()
    files = erase_mail_files(folder, email) if folder is not None else 0
    if not erasure.contacts and not erasure.messages and not files:
        raise click.ClickException(f"no contact with email {email.strip()!r}; nothing erased")
    if files:
        click.echo(f"Deleted {files} delivered email file(s) from {folder}")
    click.echo(
        f"Erased {erasure.contacts} contact(s): name and email removed, "
        f"{erasure.comments} comment(s) deleted, {erasure.messages} email(s) removed "
        "from the outbox; anonymous answers kept"
    )
