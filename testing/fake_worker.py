"""A worker with a fake objective (sleeps, reports a curve): the real budget loop and storage
without Keras training, so multi-process tests take seconds.

    python -m testing.fake_worker URL STUDY BUDGET SECONDS_PER_TRIAL [GO_FILE]

With GO_FILE, the worker prints "ready" and waits for that file to exist before its first trial,
so that a benchmark starts many workers together once all have imported.
"""

import signal
import sys
import time
from pathlib import Path

import optuna

from search.config import SearchConfig
from search.run.progress import Progress
from search.run.stopping import raise_if_stop_requested
from search.run.workers import run_until_budget
from search.study import open_study
from storage import open_storage

STEPS = 3
BATCH_SECONDS = 0.05


def objective(seconds: float):
    def run(trial: optuna.Trial) -> float:
        x = trial.suggest_float("x", 0, 1)
        for step in range(STEPS):
            train(seconds / STEPS)
            trial.report(x * (step + 1) / STEPS, step)
        return x

    return run


def train(seconds: float) -> None:
    """Sleep in batches, stopping between two when asked to, as a real trial's fit does."""
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        raise_if_stop_requested()
        time.sleep(min(left, BATCH_SECONDS))


def main() -> None:
    url, study_name, budget, seconds = (
        sys.argv[1],
        sys.argv[2],
        int(sys.argv[3]),
        float(sys.argv[4]),
    )
    # Started in the background of a non-interactive shell, a process inherits an ignored SIGINT,
    # and Python then never raises KeyboardInterrupt: the tests that send SIGINT need it.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    config = SearchConfig("digits", study_name=study_name, trials=budget, pruner="none")
    study = open_study(config, open_storage(url))
    print("ready", flush=True)
    if len(sys.argv) > 5:
        while not Path(sys.argv[5]).exists():
            time.sleep(0.01)
    try:
        run_until_budget(study, objective(seconds), config, Progress(quiet=True))
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
