"""Shared by the benchmark scripts: the data options and their loading, the machine's
description, the RESULTS.md row writer, and the configurations a stored study trained."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shlex
import sys
from pathlib import Path

RESULTS = Path(__file__).with_name("RESULTS.md")
HEADER = """# Benchmark results

Each row is appended by a script in `benchmarks/`, which measures cnnsearch and its baseline side
by side in the same run (ratios, not absolute seconds, are the goals). Re-run the command in a
row to reproduce it; the machine is noisy, so compare ratios from one run, not across rows.

| date | machine | benchmark | command | figures | goal | verdict |
|---|---|---|---|---|---|---|
"""


def parse_with_data(
    parser: argparse.ArgumentParser,
    train_size: int,
    epochs: int,
    val_fraction: float | None = None,
):
    """Add the data options (--dataset, --train-size, --val-fraction where the script varies
    it, --epochs) to a script's own, parse the command line and load the data set: returns
    the arguments and the data set."""
    import optuna

    from search.data import load

    parser.add_argument("--dataset", default="fashion_mnist")
    parser.add_argument("--train-size", type=int, default=train_size)
    if val_fraction is not None:
        parser.add_argument("--val-fraction", type=float, default=val_fraction)
    parser.add_argument("--epochs", type=int, default=epochs)
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return args, load(args.dataset)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}, load {os.getloadavg()[0]:.1f}"


def command() -> str:
    module = "benchmarks." + Path(sys.argv[0]).stem
    return " ".join(["python -m", module, *(shlex.quote(a) for a in sys.argv[1:])])


def description(doc: str) -> str:
    """A script's docstring's first paragraph, on one line, for its --help."""
    return " ".join(doc.split("\n\n")[0].split())


def append_row(benchmark: str, figures: str, goal: str, met: bool | None, note: str = "") -> None:
    """Append one row to RESULTS.md (creating it with its header if needed) and print it."""
    if not RESULTS.exists():
        RESULTS.write_text(HEADER)
    verdict = {True: "met", False: "not met", None: "n/a"}[met] + (f": {note}" if note else "")
    row = (
        f"| {dt.date.today()} | {machine()} | {benchmark} | `{command()}` | {figures} | "
        f"{goal} | {verdict} |\n"
    )
    with RESULTS.open("a") as f:
        f.write(row)
    print(row, end="")


def trained_configurations(url: str, study_name: str) -> list[str]:
    """The parameters of every trial of the study that trained a configuration of its own
    (finished, continuations of another trial's model aside), one JSON text per trial."""
    import optuna
    from optuna.trial import TrialState

    from search.vocabulary import CONTINUES_ATTR

    study = optuna.load_study(study_name=study_name, storage=url)
    return [
        json.dumps(t.params, sort_keys=True)
        for t in study.get_trials(states=(TrialState.COMPLETE, TrialState.PRUNED))
        if CONTINUES_ATTR not in t.user_attrs
    ]
