"""PDF scorecards with WeasyPrint, fenced in.

* The URL fetcher serves only the app's own static files (and the configured
  logo) under a private base address; ``file://``, ``data:``, other hosts and
  anything else are refused, so nothing a user typed can make the renderer read a
  file or open a connection.
* WeasyPrint (a large import) is loaded only when a PDF is rendered: by the
  forkserver that renders, never when the app or a command starts
  (see :mod:`cpi.scorecards.pdf_engine`).
* Rendering runs in a child process with a memory cap (RLIMIT_AS) and a time
  limit: a pathological document ends as a clear error, not a hung web worker.
"""

from __future__ import annotations

import logging
import multiprocessing
import resource
import signal
from multiprocessing.connection import Connection
from types import FrameType

# A name that can never resolve (RFC 2606 ``.invalid``): page assets are addressed
# under it and served from disk by StaticOnlyFetcher, never over a network.
ASSET_BASE = "https://assets.cpi-tracker.invalid/"
LOGO_URL = ASSET_BASE + "branding/logo"
PDF_TIMEOUT_SECONDS = 60
PDF_MEMORY_BYTES = 2 * 1024**3
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


def limit_memory(memory_bytes: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = memory_bytes if hard == resource.RLIM_INFINITY else min(memory_bytes, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))


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


def _child(
    html: str, static_dir: str, logo: str | None, memory: int, timeout: int, out: Connection
) -> None:
    limit_memory(memory)
    try:
        out.send((True, render_with_alarm(html, static_dir, logo, timeout)))
    except PdfError as error:
        out.send((False, str(error)))
    except Exception as error:  # reported to the parent, which raises PdfError
        out.send((False, f"rendering failed: {type(error).__name__}"))
    finally:
        out.close()


def context() -> multiprocessing.context.BaseContext:
    """Fork from a small server process that has WeasyPrint loaded, not from the
    (possibly multi-threaded) web process."""
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["cpi.scorecards.pdf", "cpi.scorecards.pdf_engine"])
    return ctx


def render_pdf(
    html: str,
    static_dir: str,
    logo_path: str | None = None,
    *,
    timeout: int = PDF_TIMEOUT_SECONDS,
    memory: int = PDF_MEMORY_BYTES,
) -> bytes:
    """Render in a child process with a memory cap; kill it after ``timeout`` + a grace."""
    ctx = context()
    receiver, sender = ctx.Pipe(duplex=False)
    process = ctx.Process(  # type: ignore[attr-defined]
        target=_child,
        args=(html, static_dir, logo_path, memory, timeout, sender),
        daemon=True,
    )
    process.start()
    sender.close()
    try:
        if not receiver.poll(timeout + 5):
            raise PdfError(f"rendering took longer than {timeout} s")
        ok, payload = receiver.recv()
    except EOFError:
        raise PdfError("the rendering process ended without a result") from None
    finally:
        receiver.close()
        if process.is_alive():
            process.kill()
        process.join(5)
    if not ok:
        raise PdfError(payload)
    return payload  # type: ignore[no-any-return]
