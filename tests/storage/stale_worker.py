"""A worker that starts one trial of an existing study and then runs forever, for tests to kill.

    python -m tests.storage.stale_worker URL STUDY beat|silent

`beat`: the trial runs inside `study.optimize` and `search.run.heartbeat.beating`, so it beats as a
real worker's trial does (Optuna's heartbeat on RDB storages, ours elsewhere). `silent`: the
trial is created and never beats, as when a worker dies between creating a trial and its first
beat. Prints the trial's number once it exists. Imports no Keras, so it starts in a second.
"""

import sys
import time

import optuna

from search.run.heartbeat import beating
from storage import open_storage


def run_forever(trial: optuna.Trial) -> float:
    trial.suggest_float("x", 0, 1)
    with beating(trial):
        print(trial.number, flush=True)
        while True:
            time.sleep(1)


def main() -> None:
    url, study_name, mode = sys.argv[1:4]
    study = optuna.load_study(study_name=study_name, storage=open_storage(url))
    if mode == "beat":
        study.optimize(run_forever, n_trials=1)
    else:
        print(study.ask().number, flush=True)
        while True:
            time.sleep(1)


if __name__ == "__main__":
    main()
