"""The imports feature's background work: ``cpi import`` of a CSV file."""

from __future__ import annotations

import os
from pathlib import Path

from cpi.audit.operations import record
from cpi.db import database
from cpi.imports.csvfile import ImportFailed
from cpi.imports.operations import import_csv
from cpi.jobs.progress import TaskProgress
from cpi.jobs.tasks import TaskError, task


@task("import_csv", label="Importing", timeout=6 * 3600)
def import_csv_task(
    progress: TaskProgress, kind: str, path: str, name: str, staged: bool = False
) -> str:
    """Import the CSV at ``path`` (``name``: the file the person gave) in one transaction.

    On a worker ``path`` is the copy the command staged for it (``staged``), kept until
    the import ends: a worker killed mid-import leaves nothing, and the rerun imports
    the file once.
    """
    source = Path(path)
    if not source.is_file():
        raise TaskError(f"{name}: the staged copy {source} is gone; run the import again")
    size = source.stat().st_size
    progress.start(size, f"Importing {kind}")
    try:
        with open(source, "rb") as raw, database().transaction() as session:
            done = 0

            def advance(_rows: int) -> None:
                nonlocal done
                position = raw.tell()
                progress.update(position - done)
                done = position

            summary = import_csv(session, kind, raw, progress=advance)
            record(
                session, "cli", f"import.{kind}", f"{os.path.basename(name)}: {summary.rows} rows"
            )
        progress.update(size - done)
    except ImportFailed as failure:
        _done_with(source, staged)
        raise TaskError(
            f"{failure.report()}\n{name}: nothing imported; {failure.total} problem(s) listed above"
        ) from None
    _done_with(source, staged)
    return (
        f"Imported {summary.rows} {kind} rows from {name} "
        f"({summary.created} new, {summary.updated} updated or unchanged)"
    )


def _done_with(source: Path, staged: bool) -> None:
    # Any other failure keeps the staged copy: RQ retries the job from it.
    if staged:
        source.unlink(missing_ok=True)
