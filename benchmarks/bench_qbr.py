"""QBR benchmark: the customer edition's PDF, deck and chart PNG beside the internal PDF.

    python benchmarks/bench_qbr.py [--runs 5] [--account HC-0007]

Loads the demo data into a temporary SQLite database, then times, interleaved and after
one warm-up, the rendering (in this process: ``html_to_pdf``) of one account's internal
edition (the floor) and of its customer edition, the slide deck and one chart PNG.
Prints the minimum of the runs, each as a ratio to the floor measured in the same run,
and the file sizes.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from click.testing import CliRunner  # noqa: E402
from flask.cli import ScriptInfo  # noqa: E402

from cpi import create_app  # noqa: E402
from cpi.cli import cli  # noqa: E402
from cpi.db import get_session  # noqa: E402
from cpi.scorecards.pdf import html_to_pdf  # noqa: E402
from cpi.scorecards.qbr import documents, operations, picture, slides  # noqa: E402
from cpi.scorecards.rendering import pdf_html  # noqa: E402
from cpi.scorecards.reports import account_exists  # noqa: E402

PERIOD = "2026-Q3"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--account", default="HC-0007")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        app = create_app({"DATABASE_URL": f"sqlite:///{folder}/bench.sqlite3",
                          "INSTANCE_PATH": folder, "SECRET_KEY": "bench"})  # fmt: skip
        demo = CliRunner().invoke(cli, ["demo"], obj=ScriptInfo(create_app=lambda: app))
        assert demo.exit_code == 0, demo.output
        with app.test_request_context():
            run(args.account, args.runs, app.static_folder or "")


def run(account_id: str, runs: int, static: str) -> None:
    session = get_session()
    account = account_exists(session, account_id)
    assert account is not None
    chosen = operations.choices(session, account, PERIOD)

    def edition() -> documents.CustomerEdition:
        return documents.customer_edition(session, account, PERIOD, choices=chosen,
                                          viewer=None, comment_min_answers=0)  # fmt: skip

    qbr = edition()
    report = documents.account_report(session, account, PERIOD, viewer=None, hidden=[],
                                      comment_min_answers=0)  # fmt: skip
    jobs: dict[str, Callable[[], bytes]] = {
        "internal PDF (floor)": lambda: html_to_pdf(pdf_html(report), static),
        "customer PDF": lambda: html_to_pdf(documents.customer_html(qbr), static),
        "customer edition data": lambda: bytes(len(edition().tiles)),
        "slide deck": lambda: slides.deck(qbr),
        "chart PNG": lambda: picture.chart_png(qbr.charts[0]),
    }
    sizes = {name: len(job()) for name, job in jobs.items()}  # warm-up
    best = {name: float("inf") for name in jobs}
    for _ in range(runs):
        for name, job in jobs.items():
            start = time.perf_counter()
            job()
            best[name] = min(best[name], time.perf_counter() - start)
    floor = best["internal PDF (floor)"]
    print(f"{account_id} {PERIOD}, {qbr.locale}, min of {runs} interleaved runs")
    for name in jobs:
        size = f"{sizes[name] / 1024:6.1f} kB" if name != "customer edition data" else ""
        print(f"  {name:24} {best[name] * 1000:8.1f} ms  {best[name] / floor:5.2f}x  {size}")


if __name__ == "__main__":
    main()
