"""PDF benchmark: one account's PDF, then a batch of N accounts on every core.

    python benchmarks/bench_pdf.py [--count 200] [--accounts 2000] [--responses 160000]

Prints the time of one PDF (rendering only, and end to end through the
time- and memory-limited child process), then renders N accounts with
``render_account_pdfs`` (the code behind ``cpi scorecard --all-accounts``) and
compares it with N x single / cores (goal: <= 1.3x). Memory: the parent's peak
RSS before and after the batch and the largest worker's peak RSS, which stay
flat because at most two tasks per worker are in flight.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_pages import build_database  # noqa: E402

from cpi import create_app  # noqa: E402
from cpi.db import get_session  # noqa: E402
from cpi.scorecards.batch import render_account_pdfs  # noqa: E402
from cpi.scorecards.pdf import html_to_pdf, render_pdf  # noqa: E402
from cpi.scorecards.rendering import pdf_html  # noqa: E402
from cpi.scorecards.reports import PDF_COMMENTS, build_report  # noqa: E402

PERIOD = "2026-Q3"


def rss_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200, help="accounts in the batch")
    parser.add_argument("--accounts", type=int, default=2000)
    parser.add_argument("--responses", type=int, default=160_000)
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="cpi-bench-pdf-"))
    try:
        url = build_database(folder, args.accounts, args.responses)
        app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": str(folder), "SECRET_KEY": "b"})
        with app.app_context():
            report = build_report(get_session(), "account", "ACC-00001", PERIOD, min_n=5,
                                  comment_limit=PDF_COMMENTS)  # fmt: skip
            html = pdf_html(report)
            static = app.static_folder or ""
            html_to_pdf(html, static)  # warm fonts
            times = []
            for _ in range(5):
                started = time.perf_counter()
                pdf = html_to_pdf(html, static)
                times.append(time.perf_counter() - started)
            single = statistics.median(times)
            started = time.perf_counter()
            limited = render_pdf(html, static)
            limited_time = time.perf_counter() - started
            print(f"one account PDF: {single * 1000:.0f} ms rendering (median of 5), "
                  f"{limited_time * 1000:.0f} ms in a limited child process, "
                  f"{len(pdf) / 1024:.0f} kB")  # fmt: skip
            assert limited.startswith(b"%PDF")
            cores = os.cpu_count() or 1
            ids = [f"ACC-{i:05d}" for i in range(1, args.count + 1)]
            parent_before = rss_mb(resource.RUSAGE_SELF)
            started = time.perf_counter()
            result = render_account_pdfs(PERIOD, folder / "batch.zip", account_ids=ids)
            batch = time.perf_counter() - started
            ideal = args.count * single / cores
            print(f"batch of {args.count} PDFs on {cores} cores: {batch:.1f} s "
                  f"(written {result.written}, failed {len(result.failed)}); "
                  f"N x single / cores = {ideal:.1f} s; ratio {batch / ideal:.2f}x")  # fmt: skip
            print(f"memory: parent peak RSS {parent_before:.0f} MB before, "
                  f"{rss_mb(resource.RUSAGE_SELF):.0f} MB after; largest worker peak RSS "
                  f"{rss_mb(resource.RUSAGE_CHILDREN):.0f} MB; "
                  f"zip {(folder / 'batch.zip').stat().st_size / 1e6:.1f} MB")  # fmt: skip
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
