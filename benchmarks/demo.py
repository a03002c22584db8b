"""Benchmark 10: `make demo` as a new user runs it, beside the demo it replaced, in one run:
wall time of `optimize` and `best`, the best validation accuracy, and whether every trial
trained a configuration of its own.

    python -m benchmarks.demo
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import append_row, description, trained_configurations

ROOT = Path(__file__).resolve().parents[1]
DEMO = "--timeout 100 --seed 0"  # the Makefile's
BEFORE = "--trials 12 --epochs 6 --set filters=8..64 --seed 0"  # the demo until 2026-11-29
GOALS = {"accuracy": 0.97, "seconds": 120.0}


def run(options: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        storage = ["--storage", f"sqlite:///{tmp}/demo.db"]
        common = [*storage, "--artifacts", f"{tmp}/artifacts"]
        cli = [sys.executable, "cli.py"]
        started = time.perf_counter()
        subprocess.run(
            [*cli, "optimize", "digits", *shlex.split(options), *common, "-q"],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        best = subprocess.run(
            [*cli, "best", "digits-convnet", "--json", *common],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        seconds = time.perf_counter() - started
        trained = trained_configurations(storage[1], "digits-convnet")
    return {
        "seconds": seconds,
        "accuracy": max(row["values"]["accuracy"] for row in json.loads(best)),
        "trials": len(trained),
        "distinct": len(set(trained)),
    }


def main() -> None:
    argparse.ArgumentParser(description=description(__doc__)).parse_args()
    now, before = run(DEMO), run(BEFORE)
    show = lambda r: (  # noqa: E731
        f"{r['seconds']:.0f} s, best val accuracy {r['accuracy']:.4f}, "
        f"{r['distinct']} distinct configurations in {r['trials']} trials"
    )
    met = (
        now["accuracy"] >= GOALS["accuracy"]
        and now["seconds"] < GOALS["seconds"]
        and now["distinct"] == now["trials"]
    )
    append_row(
        "10 make demo",
        f"`optimize digits {DEMO}` then `best`: {show(now)}; the demo before, "
        f"`optimize digits {BEFORE}`: {show(before)}",
        "≥ 0.97 best validation accuracy, every trial distinct, under 2 minutes",
        met,
    )


if __name__ == "__main__":
    main()
