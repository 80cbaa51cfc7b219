"""Many PDF scorecards at once: one per account, rendered on every core.

``render_account_pdfs`` is a plain function (it needs only an app context), so the
command line calls it directly and a background worker can run the same call as a
job. The parent loads the period's data once and builds each account's HTML; a
:class:`~cpi.scorecards.pdf.PdfRenderer` with one warm renderer process per core
(each PDF under its own time limit and memory cap, each process recycled after
``recycle_after`` PDFs) turns HTML into PDFs, fed by as many threads. At most two
documents per process plus ``PAGES_AHEAD`` pages are in flight, so memory stays flat
however many accounts there are; a PDF that fails or hangs is reported and the
batch goes on. Output is written under a temporary name and renamed when complete:
an interrupted run leaves no half-written file behind.
"""

from __future__ import annotations

import os
import zipfile
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from flask import current_app
from sqlalchemy.orm import Session

from cpi.db import get_session
from cpi.scorecards.differencing import Universe
from cpi.scorecards.disclosure import Disclosure, Lazy, YearCounts, year_counts
from cpi.scorecards.operations import load_scoring_data, periods_needed, resolve_scope
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
    Report,
    owner_names,
    report_from_data,
    scope_comments,
)
from cpi.scorecards.slices import TREND_QUARTERS, audit_window
from cpi.scoring import Period

# Pages built ahead of the renderers (beyond two per renderer): they keep the renderers
# busy while the next manager's differencing audits are computed; bounded, so memory
# stays flat (a page is some 100 kB of HTML, a PDF some 60 kB).
PAGES_AHEAD = 32


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


class AccountPages:
    """Each account's PDF page (HTML), in account order, from data loaded once.

    The period's sums with their trend quarters are loaded once for every account, and
    so are the sums of every account over the years the pages show, which each account
    manager's differencing audit of each year reads (one audit per manager and year for
    the whole batch, not a load per account). Each page shows what the account's
    manager sees on the web (SECURITY.md, "Differencing"): the same page as
    ``build_report(..., viewer=Universe(owner), comment_min_answers=min_n)``.
    """

    def __init__(
        self, session: Session, period: Period, account_ids: Sequence[str] | None, *, min_n: int
    ) -> None:
        self.session = session
        self.period = period
        self.min_n = min_n
        self.data = load_scoring_data(session, period, history=TREND_QUARTERS - 1)
        self.ids = sorted(account_ids if account_ids is not None else self.data.accounts)
        unknown = [a for a in self.ids if a not in self.data.accounts]
        if unknown:
            raise LookupError(f"no account {unknown[0]!r}")
        self.names = owner_names(session)
        self.hidden = hidden_by_account(session, period)  # hidden on the QBR page: never printed
        self.by_account = self.data.kpis_by_account()
        load, history = audit_window(period)
        self.window = Lazy(
            lambda: replace(load_scoring_data(session, load, history=history), period=period)
        )
        self.quarters = periods_needed(load, history)
        self.views: dict[Universe, Disclosure] = {}
        self.counts: dict[int, YearCounts] = {}

    def __len__(self) -> int:
        return len(self.ids)

    def disclosure(self, account_id: str) -> Disclosure:
        universe = Universe(self.data.accounts[account_id].owner_email)
        if universe not in self.views:
            self.views[universe] = Disclosure(
                self.session, universe, self.min_n, counts=self.year_counts
            )
        return self.views[universe]

    def year_counts(self, year: int) -> YearCounts:
        """A year's answer counts, read once for every manager's audit of the year."""
        if year not in self.counts:
            covered = all(str(q) in self.quarters for q in Period(year).quarters())
            self.counts[year] = year_counts(self.session, year, self.window if covered else None)
        return self.counts[year]

    def report(self, account_id: str) -> Report:
        comments = scope_comments(
            self.session,
            [account_id],
            self.period,
            limit=PDF_COMMENTS,
            min_answers=self.min_n,
            hidden=self.hidden.get(account_id, ()),
        )
        return report_from_data(
            self.data, resolve_scope(self.data, "account", account_id), min_n=self.min_n,
            comments=comments.shown, comments_total=comments.total,
            comments_withheld=comments.withheld, owner_names=self.names,
            by_account=self.by_account, disclosure=self.disclosure(account_id),
        )  # fmt: skip

    def __iter__(self) -> Iterator[tuple[str, str]]:
        """Pages of one manager's accounts together: each manager's audits are computed
        once, while the renderers work through the pages queued before (in account
        order, the first accounts would need every manager's audits before any page)."""
        accounts = self.data.accounts
        for account_id in sorted(self.ids, key=lambda a: (accounts[a].owner_email or "", a)):
            yield account_id, pdf_html(self.report(account_id))


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
    workers = processes or os.cpu_count() or 1
    if recycle_after is None:
        recycle_after = int(current_app.config.get("PDF_RECYCLE_AFTER", PDF_RECYCLE_AFTER))
    renderer = PdfRenderer(workers, recycle_after=recycle_after)
    renderer.start()  # the renderers start while the data loads
    try:
        pages = AccountPages(
            get_session(), period, account_ids, min_n=int(current_app.config["MIN_N"])
        )
        output = _Output(Path(destination))
    except BaseException:
        renderer.close()
        raise
    static_dir, logo = current_app.static_folder or "", logo_path()
    result = BatchResult(path=str(destination))
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

        for account_id, html in pages:
            in_flight.append(threads.submit(
                _render_one, renderer, account_id, html, static_dir, logo, timeout, memory
            ))  # fmt: skip
            if len(in_flight) >= 2 * workers + PAGES_AHEAD:
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
