"""Benchmark 5: resident memory after each of N trials in one worker process, with the worker
restarting itself past its memory limit (the default) against the same study without restarts.

Each trial records the worker's RSS as the user attr `rss_mb`; a restart keeps the PID.

    python -m benchmarks.memory [--trials 50]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import optuna

from benchmarks.common import append_row, description
from search.run.restart import DEFAULT_LIMIT_MB, LIMIT_ENV
from search.vocabulary import RSS_ATTR

ROOT = Path(__file__).resolve().parents[1]
SETS = ("n_conv=1..3", "filters=8..32", "n_dense=0..1", "dense_units=32..64", "batch_size=128")
WARMUP = 5  # growth counts from the RSS after this many trials


def run_study(trials: int, limit_mb: float) -> tuple[list[float], float, int]:
    """RSS after each trial, wall seconds, and restarts of one `optimize` process."""
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/memory.db"
        sets = [arg for s in SETS for arg in ("--set", s)]
        command = [
            sys.executable, "cli.py", "optimize", "digits", "--trials", str(trials),
            "--epochs", "1", "--train-size", "500", "--sampler", "random", "--pruner", "none",
            "--seed", "0", *sets, "--storage", url, "--artifacts", f"{tmp}/artifacts", "-q",
        ]  # fmt: skip
        env = {**os.environ, LIMIT_ENV: f"{limit_mb:g}", "TF_CPP_MIN_LOG_LEVEL": "3"}
        started = time.perf_counter()
        out = subprocess.run(
            command, cwd=ROOT, env=env, check=True, capture_output=True, text=True
        ).stdout
        seconds = time.perf_counter() - started
        study = optuna.load_study(study_name="digits-convnet", storage=url)
        rss = [t.user_attrs[RSS_ATTR] for t in sorted(study.trials, key=lambda t: t.number)]
    return rss, seconds, out.count("restarting this worker")


def growth(rss: list[float]) -> float:
    return max(rss[WARMUP - 1 :]) - rss[WARMUP - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=description(__doc__))
    parser.add_argument("--trials", type=int, default=50)
    args = parser.parse_args()
    ours, ours_seconds, restarts = run_study(args.trials, DEFAULT_LIMIT_MB)
    plain, plain_seconds, _ = run_study(args.trials, 0)
    append_row(
        "5 memory: RSS over trials in one worker",
        f"{args.trials} digits trials in one process: restarting past {DEFAULT_LIMIT_MB:g} MB "
        f"(default) RSS {ours[WARMUP - 1]:.0f} → peak +{growth(ours):.0f} MB after trial "
        f"{WARMUP}, {restarts} restarts; without restarts ({LIMIT_ENV}=0) +{growth(plain):.0f} "
        f"MB ({(plain[-1] - plain[WARMUP - 1]) / (args.trials - WARMUP):.1f} MB/trial); wall "
        f"time with restarts / without {ours_seconds / plain_seconds:.2f} ({ours_seconds:.0f} s "
        f"vs {plain_seconds:.0f} s; a restart costs a Keras import and a data load, ~5 s)",
        "growth ≤ 100 MB",
        growth(ours) <= 100,
    )


if __name__ == "__main__":
    main()
