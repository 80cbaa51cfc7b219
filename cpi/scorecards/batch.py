"""Many PDF scorecards at once: one per account, rendered on every core.

``render_account_pdfs`` is a plain function (it needs only an app context), so the
command line calls it directly and a background worker can run the same call as a
job. The parent loads the period's data once and builds each account's HTML; a
:class:`~cpi.scorecards.pdf.PdfRenderer` with one warm renderer process per core
(each PDF under its own time limit and memory cap, each process recycled after
``recycle_after`` PDFs) turns HTML into PDFs, fed by as many threads. At most two
documents per process are in flight, so memory stays flat however many accounts
there are; a PDF that fails or hangs is reported and the batch goes on. Output is
written under a temporary name and renamed when complete: an interrupted run leaves
no half-written file behind.
"""

from __future__ import annotations

import os
import zipfile
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app

from cpi.db import get_session
from cpi.scorecards.disclosure import Disclosure, Universe
from cpi.scorecards.operations import load_scoring_data, resolve_scope
from cpi.scorecards.pdf import (
    PDF_MEMORY_BYTES,
    PDF_RECYCLE_AFTER,
    PDF_TIMEOUT_SECONDS,
    PdfError,
    PdfRenderer,
)
from cpi.scorecards.qbr.operations import hidden_by_account
from cpi.scorecards.rendering import logo_path, pdf_filename, pdf_html
from cpi.scorecards.reports import (
    PDF_COMMENTS,
    TREND_QUARTERS,
    load_comments,
    owner_names,
    report_from_data,
)
from cpi.scoring import Period


@dataclass
class BatchResult:
    written: int = 0
    failed: list[str] = field(default_factory=list)  # "ACCOUNT: reason"
    path: str = ""


def _render_one(
    renderer: PdfRenderer, account_id: str, html: str, static_dir: str, logo: str | None,
    timeout: int, memory: int,
) -> tuple[str, bytes | None, str | None]:  # fmt: skip
    try:
        pdf = renderer.render(html, static_dir, logo, timeout=timeout, memory=memory)
        return account_id, pdf, None
    except PdfError as error:
        return account_id, None, str(error)
    except Exception as error:  # one bad account must not stop the batch
        return account_id, None, f"rendering failed: {type(error).__name__}"


class _Output:
    """A folder or a .zip, written under a temporary name and renamed at the end."""

    def __init__(self, destination: Path) -> None:
        self.destination = destination
        self.is_zip = destination.suffix.lower() == ".zip"
        if self.is_zip:
            destination.parent.mkdir(parents=True, exist_ok=True)
            self.partial = destination.with_name(destination.name + ".part")
            self.archive = zipfile.ZipFile(self.partial, "w", zipfile.ZIP_STORED)
        else:
            destination.mkdir(parents=True, exist_ok=True)

    def write(self, name: str, pdf: bytes) -> None:
        if self.is_zip:
            self.archive.writestr(name, pdf)
            return
        partial = self.destination / (name + ".part")
        partial.write_bytes(pdf)
        os.replace(partial, self.destination / name)

    def finish(self) -> None:
        if self.is_zip:
            self.archive.close()
            os.replace(self.partial, self.destination)

    def abandon(self) -> None:
        if self.is_zip:
            self.archive.close()
            self.partial.unlink(missing_ok=True)


def render_account_pdfs(
    period: Period | str,
    destination: str | Path,
    *,
    account_ids: Sequence[str] | None = None,
    processes: int | None = None,
    progress: Callable[[int], None] | None = None,
    timeout: int = PDF_TIMEOUT_SECONDS,
    memory: int = PDF_MEMORY_BYTES,
    recycle_after: int | None = None,
) -> BatchResult:
    """Write ``<account_id>-<period>.pdf`` for every account (or ``account_ids``)."""
    period = Period.parse(period)
    session = get_session()
    min_n = int(current_app.config["MIN_N"])
    data = load_scoring_data(session, period, history=TREND_QUARTERS - 1)
    ids = sorted(account_ids if account_ids is not None else data.accounts)
    unknown = [a for a in ids if a not in data.accounts]
    if unknown:
        raise LookupError(f"no account {unknown[0]!r}")
    names = owner_names(session)
    hidden = hidden_by_account(session, period)  # hidden on the QBR page: never printed
    by_account = data.kpis_by_account()
    # Each PDF shows what its account manager sees on the web (SECURITY.md, "Differencing").
    views: dict[Universe, Disclosure] = {}

    def pages() -> Iterator[tuple[str, str]]:
        for account_id in ids:
            scope = resolve_scope(data, "account", account_id)
            universe = Universe(data.accounts[account_id].owner_email)
            disclosure = views.setdefault(universe, Disclosure(session, universe, min_n))
            comments, total = load_comments(
                session,
                [account_id],
                period,
                limit=PDF_COMMENTS,
                min_n=min_n,
                hidden=hidden.get(account_id, ()),
            )
            report = report_from_data(
                data, scope, min_n=min_n, comments=comments, comments_total=total,
                owner_names=names, by_account=by_account, disclosure=disclosure,
            )  # fmt: skip
            yield account_id, pdf_html(report)

    static_dir, logo = current_app.static_folder or "", logo_path()
    workers = processes or os.cpu_count() or 1
    if recycle_after is None:
        recycle_after = int(current_app.config.get("PDF_RECYCLE_AFTER", PDF_RECYCLE_AFTER))
    result = BatchResult(path=str(destination))
    output = _Output(Path(destination))
    renderer = PdfRenderer(workers, recycle_after=recycle_after)
    threads = ThreadPoolExecutor(workers, thread_name_prefix="cpi-pdf-batch")
    try:
        in_flight: deque[Future[tuple[str, bytes | None, str | None]]] = deque()

        def collect_one() -> None:
            # Each render has its time limit (the renderer kills a hung process).
            account_id, pdf, error = in_flight.popleft().result()
            if pdf is None:
                result.failed.append(f"{account_id}: {error}")
            else:
                output.write(pdf_filename(account_id, str(period)), pdf)
                result.written += 1
            if progress is not None:
                progress(1)

        for account_id, html in pages():
            in_flight.append(threads.submit(
                _render_one, renderer, account_id, html, static_dir, logo, timeout, memory
            ))  # fmt: skip
            if len(in_flight) >= 2 * workers:
                collect_one()
        while in_flight:
            collect_one()
    except BaseException:
        for future in in_flight:
            future.cancel()
        output.abandon()
        raise
    finally:
        threads.shutdown(wait=True, cancel_futures=True)
        renderer.close()
    output.finish()
    return result
