"""Start-up benchmark: wall time of `cpi --help` against `python -c "import flask, sqlalchemy"`.

    python benchmarks/bench_startup.py [--runs 15] [--cpi PATH] [--importtime]

Both commands run as fresh processes, interleaved (a, b, a, b, ...) after two warm-up
runs each, so that both see the same machine load and a warm file cache; the figure is
the ratio of their fastest runs (goal: <= 2x). `cpi --help` runs this checkout's code,
exactly as the console script does (``sys.exit(cli())``), unless --cpi names an
installed ``cpi`` script (e.g. a bare install's ``venv/bin/cpi``; the baseline then runs
with that venv's Python). --importtime lists the slowest imports of `cpi --help`
(``python -X importtime``, cumulative).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CPI_HELP = "import sys; from cpi.cli import cli; sys.exit(cli())"
BASELINE = "import flask, sqlalchemy"


def timed(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, env=env, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def slowest_imports(command: list[str], env: dict[str, str], top: int = 15) -> list[str]:
    python, *rest = command
    done = subprocess.run(
        [python, "-X", "importtime", *rest],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=True,
    )
    rows = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _self, cumulative, name = line.removeprefix("import time:").split("|")
        depth = (len(name) - len(name.lstrip())) // 2
        if depth <= 2:  # the imports that cpi's own modules make
            rows.append((int(cumulative), name.strip()))
    rows.sort(reverse=True)
    return [f"{us / 1000:8.1f} ms  {name}" for us, name in rows[:top]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="measured runs of each command")
    parser.add_argument("--cpi", type=Path, default=None, help="an installed cpi script")
    parser.add_argument("--importtime", action="store_true", help="list the slowest imports")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="cpi-bench-startup-") as folder:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CPI_")}
        env["CPI_INSTANCE_PATH"] = folder
        if args.cpi:
            python = str(args.cpi.resolve().parent / "python")
            cpi = [str(args.cpi), "--help"]
            env.pop("PYTHONPATH", None)
        else:
            python = sys.executable
            cpi = [python, "-c", CPI_HELP, "--help"]
            env["PYTHONPATH"] = os.pathsep.join(
                [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
            )
        baseline = [python, "-c", BASELINE]

        for _ in range(2):  # warm-up: file cache, .pyc files
            timed(cpi, env)
            timed(baseline, env)
        a: list[float] = []
        b: list[float] = []
        for _ in range(args.runs):
            a.append(timed(cpi, env))
            b.append(timed(baseline, env))

        ratio = min(a) / min(b)
        verdict = "met" if ratio <= 2 else "missed"
        load = os.getloadavg()[0]
        ms = 1000
        print(f"cpi --help: min {min(a) * ms:.1f} ms, median {statistics.median(a) * ms:.1f} ms")
        print(
            f"python -c 'import flask, sqlalchemy': min {min(b) * ms:.1f} ms, "
            f"median {statistics.median(b) * ms:.1f} ms"
        )
        print(f"ratio (min / min): {ratio:.2f}x (goal <= 2x: {verdict})")
        print(
            f"ratio of medians: {statistics.median(a) / statistics.median(b):.2f}x "
            f"({args.runs} interleaved runs each, load average {load:.1f})"
        )
        if args.importtime:
            print("\nslowest imports of `cpi --help` (cumulative):")
            profiled = [python, str(args.cpi), "--help"] if args.cpi else cpi
            for row in slowest_imports(profiled, env):
                print(row)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
