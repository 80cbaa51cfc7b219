"""PDF benchmark: one account's PDF through the warm renderer against the same render
in a warm process, then ``cpi scorecard --all-accounts`` for N accounts.

    python benchmarks/bench_pdf.py [--accounts 2000] [--responses 80 x accounts] [--rounds 7]

One PDF: after a warm-up, rounds alternate between (floor) ``html_to_pdf`` in this
warm process, (a) ``render_pdf`` (the warm, memory-capped renderer process the app
uses) and (b) a fresh renderer process per PDF (what every PDF cost before); each
figure is the minimum of ``--rounds`` and is printed as a ratio to the floor (goal
for (a): <= 1.3x).

Batch: ``cpi scorecard --period 2026-Q3 --all-accounts -o batch.zip`` over a database
of ``--accounts`` accounts (N; 8 quarters of answers, 40 account managers) in a
subprocess (the real command: through ``dispatch``, one warm renderer per core),
against N x floor / cores (goal <= 1.3x). Memory: the resident memory of the
command and of all its renderer processes, sampled every half second, as the
largest sample in the first and in the last tenth of the run (flat memory: about
the same) and the peak.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_scoring import generate, quarters  # noqa: E402

from cpi import create_app  # noqa: E402
from cpi.db import get_session, make_engine  # noqa: E402
from cpi.migrate import upgrade  # noqa: E402
from cpi.scorecards.pdf import PdfRenderer, html_to_pdf, render_pdf  # noqa: E402
from cpi.scorecards.rendering import pdf_html  # noqa: E402
from cpi.scorecards.reports import PDF_COMMENTS, build_report  # noqa: E402
from cpi.scoring import Period  # noqa: E402

PERIOD = "2026-Q3"


def build_database(folder: Path, accounts: int, responses: int) -> str:
    url = f"sqlite:///{folder / 'bench.sqlite3'}"
    engine = make_engine(url)
    upgrade(engine)
    started = time.perf_counter()
    generate(engine, responses, accounts, quarters(8, Period.parse(PERIOD)))
    engine.dispose()
    print(f"database: {accounts} accounts, {responses} responses, 8 quarters "
          f"({time.perf_counter() - started:.1f} s to generate)")  # fmt: skip
    return url


def tree_rss(root: int) -> tuple[int, int]:
    """Resident bytes of ``root`` and of ``root`` with all its descendants."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
        rss[int(entry.name)] = int(fields[21]) * page
    family, changed = {root}, True
    while changed:
        changed = False
        for pid, parent in parents.items():
            if parent in family and pid not in family:
                family.add(pid)
                changed = True
    return rss.get(root, 0), sum(rss.get(pid, 0) for pid in family)


def single(html: str, static: str, rounds: int) -> dict[str, float]:
    fresh = PdfRenderer(1, recycle_after=1)  # a new process for every PDF
    ways = {
        "floor": lambda: html_to_pdf(html, static),
        "warm renderer": lambda: render_pdf(html, static),
        "fresh process": lambda: fresh.render(html, static),
    }
    for way in ways.values():  # warm-up
        way()
    best = {name: float("inf") for name in ways}
    for _ in range(rounds):
        for name, way in ways.items():
            started = time.perf_counter()
            pdf = way()
            best[name] = min(best[name], time.perf_counter() - started)
            assert pdf.startswith(b"%PDF")
    fresh.close()
    return best


def batch(folder: Path, url: str) -> tuple[float, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CPI_DATABASE_URL": url,
           "CPI_INSTANCE_PATH": str(folder), "CPI_SECRET_KEY": "b"}  # fmt: skip
    env.pop("CPI_REDIS_URL", None)
    output = folder / "batch.zip"
    command = [sys.executable, "-c", "from cpi.cli import cli; cli()", "scorecard",
               "--period", PERIOD, "--all-accounts", "-o", str(output)]  # fmt: skip
    samples: list[tuple[int, int]] = []
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

    def sample() -> None:
        while process.poll() is None:
            samples.append(tree_rss(process.pid))
            time.sleep(0.5)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, _ = process.communicate()
    elapsed = time.perf_counter() - started
    sampler.join()
    if process.returncode != 0:
        raise SystemExit(f"cpi scorecard failed: {out.decode()[-2000:]}")
    tenth = max(1, len(samples) // 10)
    mb = 1024 * 1024

    def largest(part: list[tuple[int, int]], which: int) -> float:
        return max((s[which] for s in part), default=0) / mb

    said = out.decode().strip().splitlines()
    print(f"  the command said: {said[-1] if said else '(nothing)'}")
    return (
        elapsed,
        (  # type: ignore[return-value]
            f"command RSS first tenth {largest(samples[:tenth], 0):.0f} MB, last tenth "
            f"{largest(samples[-tenth:], 0):.0f} MB, peak {largest(samples, 0):.0f} MB; "
            f"command + renderers first tenth {largest(samples[:tenth], 1):.0f} MB, last tenth "
            f"{largest(samples[-tenth:], 1):.0f} MB, peak {largest(samples, 1):.0f} MB; "
            f"zip {output.stat().st_size / 1e6:.1f} MB"
        ),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", "--count", dest="count", type=int, default=2000,
                        help="accounts (N): the batch renders them all")  # fmt: skip
    parser.add_argument("--responses", type=int, help="default: 80 per account")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="cpi-bench-pdf-"))
    cores = os.cpu_count() or 1
    try:
        url = build_database(folder, args.count, args.responses or 80 * args.count)
        app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": str(folder), "SECRET_KEY": "b"})
        with app.app_context():
            report = build_report(get_session(), "account", "ACC-00001", PERIOD, min_n=5,
                                  comment_limit=PDF_COMMENTS)  # fmt: skip
            html = pdf_html(report)
            best = single(html, app.static_folder or "", args.rounds)
        floor = best["floor"]
        print(f"one account PDF, min of {args.rounds} interleaved rounds after a warm-up; "
              f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")  # fmt: skip
        for name, seconds in best.items():
            print(f"  {name:14} {seconds * 1000:6.0f} ms  {seconds / floor:5.2f}x the floor")
        met = best["warm renderer"] <= 1.3 * floor
        print(f"  goal warm renderer <= 1.3x: {'met' if met else 'NOT met'}")
        elapsed, memory = batch(folder, url)
        ideal = args.count * floor / cores
        ratio = elapsed / ideal
        print(f"batch of {args.count} PDFs (cpi scorecard --all-accounts) on {cores} cores: "
              f"{elapsed:.1f} s; N x floor / cores = {ideal:.1f} s; {ratio:.2f}x "
              f"(goal <= 1.3x: {'met' if ratio <= 1.3 else 'NOT met'}); load average "
              f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")  # fmt: skip
        print(f"  memory: {memory}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
