"""Benchmark 11: restarted and parallel workers given one --seed train no configuration twice,
beside plain Optuna's seeded TPESampler built the same way in each process.

    python -m benchmarks.distinct [--trials 12]

cnnsearch: one `optimize` that restarts after every trial (CNNSEARCH_RESTART_MB tiny), and four
`optimize` processes started together with one --seed, on 300 digits images (1 epoch, a small
model, so that the trials take seconds). Plain Optuna: the same two layouts, each process
building `TPESampler(seed=0)` and drawing the convnet space without training.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import optuna

from benchmarks.common import append_row, description, trained_configurations

ROOT = Path(__file__).resolve().parents[1]
SMALL = (
    "n_conv=1..2", "filters=8..16", "n_dense=0..1", "dense_units=32..64",
    "batch_size=64", "learning_rate=1e-3..1e-2", "optimizer=adam",
)  # fmt: skip
PLAIN = """
import sys, optuna
from spaces import convnet
optuna.logging.set_verbosity(optuna.logging.WARNING)
study = optuna.load_study(study_name="plain", storage=sys.argv[1],
                          sampler=optuna.samplers.TPESampler(seed=0))
for _ in range(int(sys.argv[2])):
    trial = study.ask()
    convnet.suggest_spec(trial)
    study.tell(trial, 0.5)
"""


def repeats(url: str, name: str) -> tuple[int, int]:
    """Finished trials, and how many of them repeat an earlier one's configuration."""
    trained = trained_configurations(url, name)
    return len(trained), len(trained) - len(set(trained))


def cnnsearch(url: str, tmp: str, processes: int, trials: int, env: dict) -> tuple[int, int]:
    sets = [arg for s in SMALL for arg in ("--set", s)]
    command = [
        sys.executable, "cli.py", "optimize", "digits", "--trials", str(trials), "--epochs", "1",
        "--train-size", "300", "--seed", "0", *sets, "--storage", url,
        "--artifacts", f"{tmp}/artifacts", "-q",
    ]  # fmt: skip
    workers = [subprocess.Popen(command, cwd=ROOT, env=env) for _ in range(processes)]
    assert all(w.wait() == 0 for w in workers)
    return repeats(url, "digits-convnet")


def plain(url: str, processes: int, trials: int, sequential: bool) -> tuple[int, int]:
    optuna.create_study(study_name="plain", storage=url, direction="maximize")
    command = [sys.executable, "-c", PLAIN, url]
    if sequential:  # a process per trial, as after a restart
        for _ in range(trials):
            subprocess.run([*command, "1"], cwd=ROOT, check=True)
    else:
        per = [
            subprocess.Popen([*command, str(trials // processes)], cwd=ROOT)
            for _ in range(processes)
        ]
        assert all(p.wait() == 0 for p in per)
    return repeats(url, "plain")


def main() -> None:
    parser = argparse.ArgumentParser(description=description(__doc__))
    parser.add_argument("--trials", type=int, default=12)
    args = parser.parse_args()
    n = args.trials
    quiet = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    results = {}
    for layout, processes, env in (
        ("restart every trial", 1, {**quiet, "CNNSEARCH_RESTART_MB": "0.001"}),
        ("4 workers, one seed", 4, {**quiet, "TF_NUM_INTRAOP_THREADS": "1"}),
    ):
        with tempfile.TemporaryDirectory() as tmp:
            results[layout] = cnnsearch(f"sqlite:///{tmp}/c.db", tmp, processes, n, env)
        with tempfile.TemporaryDirectory() as tmp:
            results[f"plain {layout}"] = plain(f"sqlite:///{tmp}/p.db", 4, n, processes == 1)
    figures = "; ".join(
        f"{name}: {dupes} repeated configurations in {total} trials"
        for name, (total, dupes) in results.items()
    )
    ours = sum(dupes for name, (_, dupes) in results.items() if not name.startswith("plain"))
    append_row(
        "11 no wasted proposals",
        f"digits, 300 images, 1 epoch, small model; cnnsearch `optimize --seed 0` vs plain "
        f"Optuna `TPESampler(seed=0)` per process: {figures}",
        "0 repeated configurations among finished trials",
        ours == 0,
    )


if __name__ == "__main__":
    main()
