"""Benchmark 9: how long the read-only commands take to start and answer, beside the time
`python -c "import optuna"` takes on the same machine in the same run.

    python -m benchmarks.startup [--repeats 5]

`studies` and `best STUDY` on a SQLite store holding a 60-trial study: the median wall time of
`repeats` runs of each, as a ratio to the median of importing Optuna alone. A second row times
importing the trial loop (`search.run.workers`, what a multi-slot parent and the tests' fake
workers load) beside importing Keras: the loop loads Keras only where a trial trains.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import append_row, description
from testing.synthetic import build_study

ROOT = Path(__file__).resolve().parents[1]
GOAL = 2.0


def median_seconds(command: list[str], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=description(__doc__))
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/study.db"
        build_study(url)
        cli = [sys.executable, "cli.py"]
        baseline = median_seconds([sys.executable, "-c", "import optuna"], args.repeats)
        studies = median_seconds([*cli, "studies", "--storage", url], args.repeats)
        best = median_seconds([*cli, "best", "synthetic", "--storage", url], args.repeats)
    worst = max(studies, best) / baseline
    append_row(
        "9 start-up of read-only commands",
        f"median of {args.repeats}: `import optuna` {baseline:.2f} s; `studies` {studies:.2f} s "
        f"(×{studies / baseline:.2f}); `best STUDY` {best:.2f} s (×{best / baseline:.2f})",
        f'≤ {GOAL:g}× `python -c "import optuna"`',
        worst <= GOAL,
    )
    loop = median_seconds([sys.executable, "-c", "import search.run.workers"], args.repeats)
    keras = median_seconds([sys.executable, "-c", "import keras"], args.repeats)
    append_row(
        "9 start-up of the trial loop",
        f"median of {args.repeats}: `import keras` {keras:.2f} s; `import search.run.workers` "
        f"{loop:.2f} s (×{loop / keras:.2f})",
        "no goal of its own: below `import keras` (the loop imports Keras only to train)",
        None,
    )


if __name__ == "__main__":
    main()
