"""Issue 13 item 4: the warm PDF renderer. Each process renders many PDFs and is replaced
after ``recycle_after`` of them; a render past its time limit or memory cap ends as
PdfError, its process is killed and reaped, and the next render gets a fresh one.
PDFs are read back with pdftotext."""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import threading
from pathlib import Path
from typing import Any

import pytest
from support import pdf_text, wait_until

from cpi.scorecards.pdf import PdfError, PdfRenderer, _serve, render_pdf, shared_renderer

STATIC = str(Path(__file__).resolve().parent.parent / "static")


def page(text: str) -> str:
    return f"<html><body><h1>{text}</h1><p>scorecard body</p></body></html>"


def gone(pid: int) -> bool:
    """True when the process no longer exists: not running and not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def state(pid: int) -> str:
    """The process state letter from /proc (Z: dead, not yet reaped), or "gone"."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return "gone"


@pytest.fixture
def renderer() -> Any:
    pool = PdfRenderer(1, recycle_after=3, grace=1)
    yield pool
    pool.close()


def test_one_process_renders_many_pdfs_and_is_replaced_after_n(renderer: PdfRenderer) -> None:
    used = []
    for number in range(7):
        pdf = renderer.render(page(f"Account {number}"), STATIC)
        assert f"Account {number}" in pdf_text(pdf)
        used.append(renderer.pids())
    first, second, third = used[0][0], used[3][0], used[6][0]
    assert used[:2] == [[first], [first]] and used[2] == []  # retired after 3 PDFs
    assert used[3:5] == [[second], [second]] and used[5] == []
    assert len({first, second, third}) == 3 and renderer.started == 3
    assert gone(first) and gone(second)  # stopped and reaped, no zombie


def test_a_hung_render_is_killed_and_the_next_render_gets_a_fresh_process(
    renderer: PdfRenderer,
) -> None:
    renderer.render(page("warm"), STATIC)
    [hung] = renderer.pids()
    os.kill(hung, signal.SIGSTOP)  # a process that never answers (its alarm cannot help)
    with pytest.raises(PdfError, match=r"^rendering took longer than 1 s$"):
        renderer.render(page("never"), STATIC, timeout=1)
    assert gone(hung)
    assert "after" in pdf_text(renderer.render(page("after"), STATIC))
    assert renderer.pids() != [hung] and renderer.started == 2


def test_a_slow_document_hits_the_time_limit_and_the_pool_recovers(
    renderer: PdfRenderer,
) -> None:
    renderer.render(page("warm"), STATIC)
    [before] = renderer.pids()
    huge = "<table>" + "<tr><td>x</td></tr>" * 200_000 + "</table>"
    with pytest.raises(PdfError, match=r"^rendering took longer than 1 s$"):
        renderer.render(huge, STATIC, timeout=1)
    assert gone(before)
    assert "recovered" in pdf_text(renderer.render(page("recovered"), STATIC))


def test_a_huge_document_hits_the_memory_cap_and_the_pool_recovers(
    renderer: PdfRenderer,
) -> None:
    renderer.render(page("warm"), STATIC)
    [before] = renderer.pids()
    huge = "<p>" + ("word " * 2_000_000) + "</p>"
    with pytest.raises(PdfError, match=r"^rendering needed more memory than allowed$"):
        renderer.render(huge, STATIC, memory=200 * 1024**2, timeout=60)
    assert gone(before)
    # the cap was for that render only: the next one has the default cap again
    assert "fine" in pdf_text(renderer.render(page("fine"), STATIC))


def test_a_process_that_died_while_idle_is_replaced(renderer: PdfRenderer) -> None:
    renderer.render(page("warm"), STATIC)
    [dead] = renderer.pids()
    os.kill(dead, signal.SIGKILL)  # as the OOM killer would
    wait_until(lambda: state(dead) in ("Z", "gone"), 10, "the killed process to end")
    assert "again" in pdf_text(renderer.render(page("again"), STATIC))
    assert gone(dead) and renderer.started == 2


def test_the_warm_process_still_reads_no_file(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-FILE-CONTENT")
    html = f"""<html><head><link rel="attachment" href="file://{secret}"></head><body>
      <img src="file://{secret}"><object data="file:///etc/passwd"></object>
      <img src="/static/../../../../etc/passwd"><p>visible text</p></body></html>"""
    for _ in range(2):  # the first render and a warm one
        pdf = render_pdf(html, STATIC)
        assert b"TOP-SECRET" not in pdf and b"root:x" not in pdf
        assert b"/EmbeddedFile" not in pdf and "visible text" in pdf_text(pdf)


def test_threads_share_a_pool_of_two_processes() -> None:
    pool = PdfRenderer(2, recycle_after=100)
    results: dict[int, bytes] = {}

    def render(number: int) -> None:
        results[number] = pool.render(page(f"Thread {number}"), STATIC)

    try:
        threads = [threading.Thread(target=render, args=(n,)) for n in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(results) == list(range(6))
        for number, pdf in results.items():
            assert f"Thread {number}" in pdf_text(pdf)
        assert pool.started == 2 and len(pool.pids()) == 2
    finally:
        pids = pool.pids()
        pool.close()
    assert all(gone(pid) for pid in pids)


def test_render_pdf_uses_one_warm_process_per_process() -> None:
    render_pdf(page("one"), STATIC)
    renderer = shared_renderer()
    started, pids = renderer.started, renderer.pids()
    render_pdf(page("two"), STATIC)
    assert renderer.started == started and renderer.pids() == pids
    assert shared_renderer() is renderer


def test_processes_started_ahead_are_the_ones_that_render_and_close_stops_them() -> None:
    pool = PdfRenderer(2, recycle_after=100)
    try:
        pool.start().join()
        ready = pool.pids()
        assert pool.started == 2 and len(ready) == 2
        pdf = pool.render(page("Started ahead"), STATIC)
        assert "Started ahead" in pdf_text(pdf)
        assert pool.started == 2 and sorted(pool.pids()) == sorted(ready)
    finally:
        pool.close()
    assert all(gone(pid) for pid in ready)


def test_closing_while_processes_start_ahead_leaves_none_behind() -> None:
    pool = PdfRenderer(2, recycle_after=100)
    starting = pool.start()
    pool.close()  # waits for the start: what it started is stopped, not left idle
    assert not starting.is_alive() and pool.pids() == []
    with pytest.raises(PdfError):
        pool.render(page("After close"), STATIC)


def test_a_renderer_collects_with_the_parents_thresholds_and_leaves_what_it_loaded_alone() -> None:
    """A renderer process gets the app's collector thresholds (CPI_GC_THRESHOLD) from the
    process that starts it, and freezes what the forkserver loaded (benchmarks/README.md,
    "PDF batch: the renderer's garbage collector"). Run here, in this process, on a real
    pipe: the state it leaves is what a renderer process has."""
    requests, child = multiprocessing.Pipe()
    requests.send(("<p>one</p>", STATIC, None, 2 * 1024**3, 60))
    requests.send(None)
    threshold, interrupt = gc.get_threshold(), signal.getsignal(signal.SIGINT)
    try:
        _serve(child, (12_345, 17, 9))
        assert gc.get_threshold() == (12_345, 17, 9) and gc.get_freeze_count() > 0
        ok, pdf, resident = requests.recv()
        assert ok and "one" in pdf_text(pdf) and resident > 0
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()
        signal.signal(signal.SIGINT, interrupt)
        requests.close()
        child.close()
