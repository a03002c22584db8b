"""The baseline worker of benchmark 4: plain Optuna `study.optimize` with the fake objective of
`testing.fake_worker`, on the same storage settings, with no shared budget (each worker
runs its share).

    python -m benchmarks.plain_worker URL STUDY TRIALS SECONDS GO_FILE
"""

import sys
import time
from pathlib import Path

import optuna

from storage import open_storage
from testing.fake_worker import objective


def main() -> None:
    url, study_name, trials, seconds, go = sys.argv[1:6]
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = optuna.load_study(study_name=study_name, storage=open_storage(url))
    print("ready", flush=True)
    while not Path(go).exists():
        time.sleep(0.01)
    study.optimize(objective(float(seconds)), n_trials=int(trials))


if __name__ == "__main__":
    main()
