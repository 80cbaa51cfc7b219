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
from dataclasses import dataclass
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


def tree_sample(root: int) -> tuple[int, int, float]:
    """Resident bytes of ``root`` and of ``root`` with all its descendants, and the CPU
    seconds (user + system) its descendants have used so far: each living one's own and
    that of the children it has reaped (a recycled renderer's, in its forkserver's)."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    cpu: dict[int, float] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
        rss[int(entry.name)] = int(fields[21]) * page
        cpu[int(entry.name)] = sum(int(f) for f in fields[11:15]) / tick
    family, changed = {root}, True
    while changed:
        changed = False
        for pid, parent in parents.items():
            if parent in family and pid not in family:
                family.add(pid)
                changed = True
    return (
        rss.get(root, 0),
        sum(rss.get(pid, 0) for pid in family),
        sum(cpu.get(pid, 0.0) for pid in family if pid != root),
    )


def single(html: str, static: str, rounds: int) -> tuple[dict[str, float], list[float]]:
    """The best time of each way to render one PDF, and the floor's CPU time each round."""
    fresh = PdfRenderer(1, recycle_after=1)  # a new process for every PDF
    ways = {
        "floor": lambda: html_to_pdf(html, static),
        "warm renderer": lambda: render_pdf(html, static),
        "fresh process": lambda: fresh.render(html, static),
    }
    for way in ways.values():  # warm-up
        way()
    best = {name: float("inf") for name in ways}
    floor_cpu: list[float] = []
    for _ in range(rounds):
        for name, way in ways.items():
            started, cpu = time.perf_counter(), time.process_time()
            pdf = way()
            best[name] = min(best[name], time.perf_counter() - started)
            if name == "floor":
                floor_cpu.append(time.process_time() - cpu)
            assert pdf.startswith(b"%PDF")
    fresh.close()
    return best, floor_cpu


@dataclass
class BatchRun:
    elapsed: float
    memory: str
    command_cpu: float  # the command (the parent: loads, audits, builds pages, writes)
    renderers_cpu: float  # its descendants (the renderer processes and their forkserver)
    load: list[float]  # 1-minute load average, sampled during the run


def batch(folder: Path, url: str) -> BatchRun:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CPI_DATABASE_URL": url,
           "CPI_INSTANCE_PATH": str(folder), "CPI_SECRET_KEY": "b"}  # fmt: skip
    env.pop("CPI_REDIS_URL", None)
    output = folder / "batch.zip"
    command = [sys.executable, "-c", "from cpi.cli import cli; cli()", "scorecard",
               "--period", PERIOD, "--all-accounts", "-o", str(output)]  # fmt: skip
    samples: list[tuple[int, int]] = []
    renderers_cpu = [0.0]  # the largest seen (a quarter second late at worst)
    load: list[float] = []
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

    done = threading.Event()

    def sample() -> None:  # until the command has ended (it is reaped by wait4 below)
        while not done.is_set():
            resident, family, used = tree_sample(process.pid)
            if resident:
                samples.append((resident, family))
                renderers_cpu[0] = max(renderers_cpu[0], used)
            load.append(os.getloadavg()[0])
            time.sleep(0.25)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out = process.stdout.read() if process.stdout else b""
    # Ended but not reaped yet: its own CPU time, without its reaped children's.
    os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOWAIT)
    elapsed = time.perf_counter() - started
    fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    command_cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    _, status = os.waitpid(process.pid, 0)
    done.set()
    sampler.join()
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"cpi scorecard failed: {out.decode()[-2000:]}")
    tenth = max(1, len(samples) // 10)
    mb = 1024 * 1024

    def largest(part: list[tuple[int, int]], which: int) -> float:
        return max((s[which] for s in part), default=0) / mb

    said = out.decode().strip().splitlines()
    print(f"  the command said: {said[-1] if said else '(nothing)'}")
    memory = (
        f"command RSS first tenth {largest(samples[:tenth], 0):.0f} MB, last tenth "
        f"{largest(samples[-tenth:], 0):.0f} MB, peak {largest(samples, 0):.0f} MB; "
        f"command + renderers first tenth {largest(samples[:tenth], 1):.0f} MB, last tenth "
        f"{largest(samples[-tenth:], 1):.0f} MB, peak {largest(samples, 1):.0f} MB; "
        f"zip {output.stat().st_size / 1e6:.1f} MB"
    )
    return BatchRun(elapsed, memory, command_cpu, renderers_cpu[0], load)


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
            best, floor_cpu = single(html, app.static_folder or "", args.rounds)
        floor = best["floor"]
        print(f"one account PDF, min of {args.rounds} interleaved rounds after a warm-up; "
              f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")  # fmt: skip
        for name, seconds in best.items():
            print(f"  {name:14} {seconds * 1000:6.0f} ms  {seconds / floor:5.2f}x the floor")
        met = best["warm renderer"] <= 1.3 * floor
        print(f"  goal warm renderer <= 1.3x: {'met' if met else 'NOT met'}")
        run = batch(folder, url)
        with app.app_context():  # the floor again, after the batch: the lower one counts
            after, after_cpu = single(html, app.static_folder or "", args.rounds)
        print(
            f"  floor after the batch {after['floor'] * 1000:.0f} ms (before {floor * 1000:.0f} ms)"
        )
        floor, floor_cpu = min(floor, after["floor"]), sorted(floor_cpu + after_cpu)
        ideal = args.count * floor / cores
        ratio = run.elapsed / ideal
        loads = f"{min(run.load):.1f}-{max(run.load):.1f}, mean {sum(run.load) / len(run.load):.1f}"
        print(f"batch of {args.count} PDFs (cpi scorecard --all-accounts) on {cores} cores: "
              f"{run.elapsed:.1f} s; N x floor / cores = {ideal:.1f} s; {ratio:.2f}x "
              f"(goal <= 1.3x: {'met' if ratio <= 1.3 else 'NOT met'}); load average during "
              f"the run {loads}")  # fmt: skip
        # CPU time moves with the load too (shared caches and cores): the floor's CPU
        # is given as the least and the median of its rounds before and after.
        per_pdf = (run.command_cpu + run.renderers_cpu) / args.count
        least, median = floor_cpu[0], floor_cpu[len(floor_cpu) // 2]
        print(f"  CPU per PDF: command (parent) {run.command_cpu / args.count * 1000:.1f} ms, "
              f"renderers {run.renderers_cpu / args.count * 1000:.1f} ms, together "
              f"{per_pdf * 1000:.1f} ms = {per_pdf / least:.2f}x the floor's least CPU "
              f"({least * 1000:.0f} ms), {per_pdf / median:.2f}x its median "
              f"({median * 1000:.0f} ms)")  # fmt: skip
        print(f"  memory: {run.memory}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
