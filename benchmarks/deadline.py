"""How well `optimize --timeout T` keeps its word: wall time spent / time asked, for 1 and 4
worker processes on one study (goal: at most 1.02).

Each worker is the command a user would type; the 4 are started together on a shared SQLite
file, and the wall time runs from their launch until the last one has exited. One row per worker
count is appended to benchmarks/RESULTS.md.

    python -m benchmarks.deadline [--seconds 60] [--workers 1,4]
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import append_row, description

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=description(__doc__))
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
    copies = f" ({workers} copies started together)" if workers > 1 else ""
    append_row(
        f"8 deadline: {workers} worker(s)",
        f"`{command}`{copies}: spent {spent:.1f} s of {asked:g} s asked, ratio {spent / asked:.3f}",
        "ratio ≤ 1.02",
        spent / asked <= 1.02,
    )


if __name__ == "__main__":
    main()
