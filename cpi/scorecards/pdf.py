"""PDF scorecards with WeasyPrint, fenced in.

* The URL fetcher serves only the app's own static files (and the configured
  logo) under a private base address; ``file://``, ``data:``, other hosts and
  anything else are refused, so nothing a user typed can make the renderer read a
  file or open a connection.
* WeasyPrint (a large import) is loaded only when a PDF is rendered: by the
  forkserver that renders, never when the app or a command starts
  (see :mod:`cpi.scorecards.pdf_engine`).
* Rendering runs in a separate, warm renderer process with a memory cap (RLIMIT_AS)
  and a time limit per render: a pathological document ends as a clear error, not a
  hung web worker. :class:`PdfRenderer` keeps a few such processes (forked from the
  forkserver, never from the possibly multi-threaded web process) and reuses each for
  ``recycle_after`` PDFs; a process that fails, hangs or grows is replaced.
  :func:`render_pdf` renders through one renderer per process (started lazily, stopped
  at exit); this is the function other features call (e.g. other PDF editions).
"""

from __future__ import annotations

import atexit
import gc
import logging
import multiprocessing
import os
import resource
import signal
import threading
from multiprocessing.connection import Connection
from types import FrameType
from typing import Any

# A name that can never resolve (RFC 2606 ``.invalid``): page assets are addressed
# under it and served from disk by StaticOnlyFetcher, never over a network.
ASSET_BASE = "https://assets.cpi-tracker.invalid/"
LOGO_URL = ASSET_BASE + "branding/logo"
PDF_TIMEOUT_SECONDS = 60
PDF_MEMORY_BYTES = 2 * 1024**3
# A warm renderer process is replaced after this many PDFs (CPI_PDF_RECYCLE_AFTER) ...
PDF_RECYCLE_AFTER = 100
# ... or as soon as its resident memory passes this share of the per-render cap.
RECYCLE_RESIDENT_SHARE = 0.25
# A render that does not answer this long after its own time limit is killed.
KILL_GRACE_SECONDS = 5.0
log = logging.getLogger(__name__)


class PdfError(RuntimeError):
    """The PDF could not be produced (time or memory limit, or a rendering error)."""


def asset_url(path: str) -> str:
    return ASSET_BASE + "static/" + path.lstrip("/")


def html_to_pdf(html: str, static_dir: str, logo_path: str | None = None) -> bytes:
    """Render in this process (the caller provides the limits: see ``render_pdf``)."""
    from weasyprint import HTML

    from cpi.scorecards.pdf_engine import StaticOnlyFetcher

    fetcher = StaticOnlyFetcher(static_dir, logo_path)
    document = HTML(string=html, base_url=ASSET_BASE, url_fetcher=fetcher)
    # tagged (structure tree, reading order): screen readers can read the PDF
    pdf: bytes = document.write_pdf(pdf_tags=True)
    if fetcher.refused:
        log.warning("PDF renderer refused %d address(es)", len(fetcher.refused))
    return pdf


def limit_memory(memory_bytes: int) -> int:
    """Cap this process's address space; returns the previous soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = memory_bytes if hard == resource.RLIM_INFINITY else min(memory_bytes, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    return soft


def resident_bytes() -> int:
    """This process's resident memory now (Linux), else its peak."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class _Timeout(Exception):
    pass


def _on_alarm(_signum: int, _frame: FrameType | None) -> None:
    raise _Timeout


def render_with_alarm(html: str, static_dir: str, logo: str | None, timeout: int) -> bytes:
    """Render, raising PdfError after ``timeout`` seconds (a worker process's own clock)."""
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.alarm(timeout)
    try:
        return html_to_pdf(html, static_dir, logo)
    except _Timeout:
        raise PdfError(f"rendering took longer than {timeout} s") from None
    except MemoryError:
        raise PdfError("rendering needed more memory than allowed") from None
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _serve(requests: Connection, gc_threshold: tuple[int, int, int]) -> None:
    """A renderer process: render each document the parent sends, one at a time, until
    told to stop (None) or the parent is gone (end of file on the pipe)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    # The parent's collector thresholds (the app's CPI_GC_THRESHOLD): a render makes
    # tens of thousands of objects that live until it ends: with Python's own 700, ~12%
    # of its CPU went to collecting them (~5% with the app's 50000 and the freeze below).
    gc.set_threshold(*gc_threshold)
    # What the forkserver loaded (WeasyPrint) lives as long as the process: collections
    # need not walk it (nor copy its shared pages by touching their headers).
    gc.freeze()
    while True:
        try:
            job = requests.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        html, static_dir, logo, memory, timeout = job
        previous = limit_memory(memory)
        try:
            reply: tuple[bool, Any] = (True, render_with_alarm(html, static_dir, logo, timeout))
        except PdfError as error:
            reply = (False, str(error))
        except Exception as error:  # reported to the parent, which raises PdfError
            reply = (False, f"rendering failed: {type(error).__name__}")
        finally:
            _, hard = resource.getrlimit(resource.RLIMIT_AS)
            resource.setrlimit(resource.RLIMIT_AS, (previous, hard))
        try:
            requests.send((*reply, resident_bytes()))
        except (OSError, ValueError):
            return
        del reply


def context() -> multiprocessing.context.BaseContext:
    """Fork from a small server process that has WeasyPrint loaded, not from the
    (possibly multi-threaded) web process."""
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["cpi.scorecards.pdf", "cpi.scorecards.pdf_engine"])
    return ctx


class _Worker:
    """One renderer process and the parent's end of its pipe."""

    def __init__(self, ctx: multiprocessing.context.BaseContext) -> None:
        self.connection, child = ctx.Pipe()
        self.process = ctx.Process(  # type: ignore[attr-defined]
            target=_serve, args=(child, gc.get_threshold()), daemon=True, name="cpi-pdf-renderer"
        )
        self.process.start()
        child.close()
        self.renders = 0

    @property
    def pid(self) -> int:
        return self.process.pid  # type: ignore[no-any-return]

    def stop(self, *, kill: bool = False) -> None:
        """Stop and reap the process (asked politely unless ``kill``): never a zombie."""
        if not kill:
            try:
                self.connection.send(None)
            except (OSError, ValueError):
                kill = True
        self.connection.close()
        if not kill:
            self.process.join(2)
        if self.process.is_alive():
            self.process.kill()
        self.process.join()
        self.process.close()


class PdfRenderer:
    """Up to ``size`` warm renderer processes, each used for ``recycle_after`` PDFs.

    ``render`` blocks until a process is free (threads may call it at once). Every
    render has its own time limit and memory cap; a render past its time limit (plus
    a grace) is killed, and a process that reported an error, reached
    ``recycle_after`` renders or holds more than a quarter of the memory cap is
    replaced by a fresh one on the next render. Safe across ``fork``: a child process
    (a gunicorn worker, an RQ work horse) never uses its parent's renderer processes.
    """

    def __init__(
        self,
        size: int = 1,
        *,
        recycle_after: int = PDF_RECYCLE_AFTER,
        grace: float = KILL_GRACE_SECONDS,
    ) -> None:
        if size < 1 or recycle_after < 1:
            raise ValueError("size and recycle_after must be at least 1")
        self.size = size
        self.recycle_after = recycle_after
        self.grace = grace
        self.started = 0  # processes started so far (for tests and benchmarks)
        self._owner = os.getpid()
        self._idle: list[_Worker] = []
        self._busy = 0
        self._closed = False
        self._changed = threading.Condition()
        self._starting: threading.Thread | None = None

    def start(self) -> threading.Thread:
        """Start the renderer processes now, in the background (the first one starts the
        forkserver, which imports WeasyPrint), so that they are ready when a caller has
        built its first document; returns the thread doing it."""

        def start_all() -> None:
            workers: list[_Worker] = []
            try:
                for _ in range(self.size):
                    workers.append(self._checkout())
            except PdfError:
                pass  # closed meanwhile
            except Exception:  # a render that needs a process will report the failure
                log.warning("PDF renderer processes could not be started ahead", exc_info=True)
            for worker in workers:
                self._checkin(worker, keep=True, kill=False)

        thread = threading.Thread(target=start_all, name="cpi-pdf-start", daemon=True)
        self._starting = thread
        thread.start()
        return thread

    def pids(self) -> list[int]:
        """The idle renderer processes (for tests)."""
        with self._changed:
            return [worker.pid for worker in self._idle]

    def render(
        self,
        html: str,
        static_dir: str,
        logo_path: str | None = None,
        *,
        timeout: int = PDF_TIMEOUT_SECONDS,
        memory: int = PDF_MEMORY_BYTES,
    ) -> bytes:
        worker = self._checkout()
        keep, kill = False, True
        try:
            try:
                worker.connection.send((html, static_dir, logo_path, memory, timeout))
                if not worker.connection.poll(timeout + self.grace):
                    log.warning("PDF renderer %d killed after %d s", worker.pid, timeout)
                    raise PdfError(f"rendering took longer than {timeout} s")
                ok, payload, resident = worker.connection.recv()
            except (EOFError, OSError):
                raise PdfError("the rendering process ended without a result") from None
            worker.renders += 1
            kill = False
            keep = (
                ok
                and worker.renders < self.recycle_after
                and resident < RECYCLE_RESIDENT_SHARE * memory
            )
        finally:
            self._checkin(worker, keep=keep, kill=kill)
        if not ok:
            raise PdfError(payload)
        return payload  # type: ignore[no-any-return]

    def _checkout(self) -> _Worker:
        with self._changed:
            if self._owner != os.getpid():  # forked: the processes are the parent's
                self._owner, self._idle, self._busy, self._closed = os.getpid(), [], 0, False
            while not self._idle and self._busy >= self.size:
                self._changed.wait()
            if self._closed:
                raise PdfError("the PDF renderer is shut down")
            self._busy += 1
            worker = self._idle.pop() if self._idle else None
        if worker is not None:
            if worker.process.is_alive():
                return worker
            worker.stop(kill=True)  # died while idle (e.g. the OOM killer): reap it
        try:
            worker = _Worker(context())
        except BaseException:
            with self._changed:
                self._busy -= 1
                self._changed.notify()
            raise
        with self._changed:
            self.started += 1
        return worker

    def _checkin(self, worker: _Worker, *, keep: bool, kill: bool) -> None:
        with self._changed:
            self._busy -= 1
            if keep and not self._closed:
                self._idle.append(worker)
                worker = None  # type: ignore[assignment]
            self._changed.notify()
        if worker is not None:
            worker.stop(kill=kill)

    def close(self) -> None:
        """Stop every idle process (busy ones stop when their render ends)."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()
        starting = self._starting
        if starting is not None and starting is not threading.current_thread():
            starting.join()  # what it started is stopped as it checks it in
        with self._changed:
            idle, self._idle = self._idle, []
            mine = self._owner == os.getpid()
        if mine:
            for worker in idle:
                worker.stop()


_shared: PdfRenderer | None = None
_shared_lock = threading.Lock()


def shared_renderer(recycle_after: int = PDF_RECYCLE_AFTER) -> PdfRenderer:
    """This process's renderer (one process, started on first use, stopped at exit)."""
    global _shared
    with _shared_lock:
        if _shared is None or _shared._owner != os.getpid():
            _shared = PdfRenderer(1, recycle_after=recycle_after)
            atexit.register(_shared.close)
        return _shared


def render_pdf(
    html: str,
    static_dir: str,
    logo_path: str | None = None,
    *,
    timeout: int = PDF_TIMEOUT_SECONDS,
    memory: int = PDF_MEMORY_BYTES,
    recycle_after: int = PDF_RECYCLE_AFTER,
) -> bytes:
    """HTML to PDF bytes in this process's warm renderer, within the time limit and the
    memory cap; raises :class:`PdfError` (a message for people) when it cannot.

    ``static_dir`` is where ``asset_url`` addresses are served from and ``logo_path``
    the file behind ``LOGO_URL``: nothing else can be read or fetched. A stable entry
    point: other PDF editions call this with their own HTML.
    """
    renderer = shared_renderer(recycle_after)
    return renderer.render(html, static_dir, logo_path, timeout=timeout, memory=memory)
