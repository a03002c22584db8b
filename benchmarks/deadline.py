"""How well `optimize --timeout T` keeps its word: wall time spent / time asked, for 1 and 4
worker processes on one study (goal: at most 1.02).

Each worker is the command a user would type; the 4 are started together on a shared SQLite
file, and the wall time runs from their launch until the last one has exited. One row per worker
count is appended to benchmarks/RESULTS.md.

Example: python benchmarks/deadline.py --seconds 60
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
HEADER = """# Benchmark results

Each row comes with the exact command that reproduces it (run from the repository root).

"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60, help="the --timeout asked for")
    parser.add_argument("--dataset", default="fashion_mnist")
    parser.add_argument("--workers", default="1,4", help="worker counts to measure")
    parser.add_argument(
        "--options", default="--epochs 10 --train-size 10000", help="more optimize options"
    )
    args = parser.parse_args()
    for workers in (int(n) for n in args.workers.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            command = [
                sys.executable,
                "cli.py",
                "optimize",
                args.dataset,
                "--timeout",
                f"{args.seconds:g}",
                *shlex.split(args.options),
                "--storage",
                f"sqlite:///{tmp}/bench.db",
                "--artifacts",
                f"{tmp}/artifacts",
                "-q",
            ]
            spent = run_workers(command, workers)
        shown = shlex.join(["python", *command[1:]]).replace(tmp, "$TMP")
        record(workers, args.seconds, spent, shown)


def run_workers(command: list[str], workers: int) -> float:
    """Seconds from launching `workers` copies of `command` until the last has exited."""
    started = time.time()
    processes = [subprocess.Popen(command, cwd=ROOT) for _ in range(workers)]
    codes = [p.wait() for p in processes]
    spent = time.time() - started
    if any(codes):
        sys.exit(f"a worker failed with exit codes {codes}")
    return spent


def record(workers: int, asked: float, spent: float, command: str) -> None:
    if not RESULTS.exists():
        RESULTS.write_text(HEADER)
    with RESULTS.open() as f:
        has_table = "| date | benchmark |" in f.read()
    with RESULTS.open("a") as f:
        if not has_table:
            f.write("| date | benchmark | machine | command | result |\n|---|---|---|---|---|\n")
        copies = f" ({workers} copies started together)" if workers > 1 else ""
        f.write(
            f"| {datetime.now(timezone.utc):%Y-%m-%d} | deadline, {workers} worker(s) | "
            f"{machine()} | `{command}`{copies} | "
            f"spent {spent:.1f} s of {asked:g} s asked: **{spent / asked:.3f}** |\n"
        )
    print(f"{workers} worker(s): {spent:.1f} s for {asked:g} s asked ({spent / asked:.3f})")


def machine() -> str:
    model = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [
            ln.split(":", 1)[1].strip()
            for ln in cpuinfo.read_text().splitlines()
            if ln.startswith("model name")
        ]
        model = names[0] if names else model
    load = f", load {os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else ""
    return f"{model}, {os.cpu_count()} cores{load}"


if __name__ == "__main__":
    main()
