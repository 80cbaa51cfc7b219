"""The scorecards feature's background work: a PDF per account (``--all-accounts``)."""

from __future__ import annotations

import time
from pathlib import Path

from cpi.db import get_session
from cpi.jobs.progress import TaskProgress
from cpi.jobs.tasks import TaskError, task
from cpi.scorecards.batch import render_account_pdfs
from cpi.scorecards.operations import ScopeNotFound, load_scoring_data, resolve_scope
from cpi.scorecards.rendering import pdf_filename
from cpi.scoring import Period


@task("render_scorecards", label="Rendering PDF scorecards", timeout=24 * 3600)
def render_scorecards(
    progress: TaskProgress,
    period: str,
    output: str,
    processes: int | None = None,
    segment: str | None = None,
    owner: str | None = None,
) -> str:
    """``cpi scorecard --all-accounts``: one PDF per account, into a folder or a .zip;
    with ``segment`` or ``owner``, the accounts of that segment or portfolio (the app's
    batch ZIP).

    Into a folder, a rerun of the same job (after its worker died) renders only the
    accounts whose PDF the first run wrote, so each PDF is produced once; a .zip is
    written whole under a temporary name, so a rerun simply writes it again.
    """
    try:
        parsed = Period.parse(period)
    except ValueError:
        raise TaskError(f"{period!r} is not a period like 2026-Q3 or 2026") from None
    now = time.time()
    started = progress.remember("started", now)
    data = load_scoring_data(get_session(), parsed)
    accounts = sorted(data.accounts)
    if segment or owner:
        try:
            scope = resolve_scope(data, "segment" if segment else "owner", segment or owner)
        except ScopeNotFound as error:
            raise TaskError(str(error)) from None
        accounts = sorted(scope.account_ids)
    if not accounts:
        raise TaskError(f"no account has answers or KPIs for {parsed}")
    destination = Path(output)
    todo = accounts
    rerun = started != now
    if rerun and destination.suffix.lower() != ".zip" and destination.is_dir():
        todo = [
            account
            for account in accounts
            if not _written_since(destination / pdf_filename(account, str(parsed)), started)
        ]
    progress.start(len(accounts), "Rendering PDFs")
    progress.update(len(accounts) - len(todo))
    result = render_account_pdfs(
        parsed, destination, account_ids=todo, processes=processes, progress=progress.update
    )
    written = result.written + len(accounts) - len(todo)
    if result.failed:
        raise TaskError(
            "\n".join(f"failed: {line}" for line in result.failed)
            + f"\nWrote {written} PDF scorecards for {parsed} to {output}; "
            f"{len(result.failed)} PDF(s) could not be produced"
        )
    return f"Wrote {written} PDF scorecards for {parsed} to {output}"


def _written_since(path: Path, started: float) -> bool:
    try:
        return path.stat().st_mtime >= started - 1
    except FileNotFoundError:
        return False
