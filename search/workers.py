"""Run trials until the study's shared budget is met or its deadline comes."""

from __future__ import annotations

import os
import signal
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import optuna
import sqlalchemy.exc

from errors import RunError
from search import hardware
from search.budget import OVER_BUDGET_ATTR, OverBudget, claim_slot, slot_holders
from search.config import SearchConfig
from search.data import Dataset, load, split_validation
from search.deadline import apply_deadline, read_deadline, should_start
from search.gpus import run_gpu_workers
from search.objective import Objective, TrialFailed
from search.progress import Progress
from search.restart import Restarter, worker_command
from search.study import (
    enqueue_reference,
    find_study,
    finished_trials,
    load_study,
    open_study,
    stored_config,
    sweep_repeats,
)
from storage import open_artifact_store, open_storage

WAIT_SECONDS = 1.0
STORAGE_PATIENCE = 300.0
STORAGE_ERRORS = (optuna.exceptions.StorageInternalError, sqlalchemy.exc.OperationalError)


@dataclass(frozen=True)
class RunSummary:
    study: str
    finished: int
    budget: int
    stopped_by: str  # "budget" or "deadline"


def optimize(
    config: SearchConfig,
    storage_url: str,
    artifacts: str,
    progress: Progress | None = None,
    deadline: datetime | None = None,
    slots: list[dict[str, str]] | None = None,
) -> RunSummary:
    """Create or resume `config`'s study and run trials in this process until its budget is met
    or its deadline comes.

    `deadline` becomes the study's, obeyed by every worker; without one, a deadline an earlier
    run stored is kept while it lies ahead (see `search.deadline.apply_deadline`).
    Ctrl-C or SIGTERM stops cleanly: the running trial is recorded FAIL, none is left RUNNING,
    and the same call resumes the study. With several `slots` (environments from
    `search.gpus.worker_environments`), one `worker` process per slot runs the trials.
    """
    progress = progress or Progress()
    hardware.check_settings()
    storage = open_storage(storage_url)
    dataset = None
    new = find_study(storage, config.study) is None
    if new:
        # A new study is created only from input that works (an existing one was checked when
        # it was made, and open_study refuses a changed config); loading later keeps a resumed
        # run's deadline check right at its start.
        dataset = _load(config, progress)
        split_validation(dataset, config.val_fraction, config.seed or 0, config.train_size)
    study = open_study(config, storage)
    if new:
        enqueue_reference(study, config)
    done = finished_trials(study)
    progress.say(f"study [bold]{config.study}[/]: {done} of {config.trials} trials finished")
    _, said = apply_deadline(study, deadline)
    if said:
        progress.say(said)
    if done >= config.trials:
        return RunSummary(config.study, done, config.trials, "budget")
    return _run(study, config, storage_url, artifacts, progress, slots, dataset)


def join(
    study_name: str,
    storage_url: str,
    artifacts: str,
    progress: Progress | None = None,
    slots: list[dict[str, str]] | None = None,
) -> RunSummary:
    """Join an existing study with nothing but its name: its stored config says what to train,
    its budget how many trials, its deadline until when."""
    progress = progress or Progress()
    hardware.check_settings()
    study = load_study(open_storage(storage_url), study_name)
    config = stored_config(study)
    progress.say(
        f"joining [bold]{study_name}[/]: {finished_trials(study)} of {config.trials} "
        "trials finished"
    )
    if finished_trials(study) >= config.trials:
        return RunSummary(study_name, finished_trials(study), config.trials, "budget")
    return _run(study, config, storage_url, artifacts, progress, slots)


def _run(
    study: optuna.Study,
    config: SearchConfig,
    storage_url: str,
    artifacts: str,
    progress: Progress,
    slots: list[dict[str, str]] | None,
    dataset: Dataset | None = None,
) -> RunSummary:
    """Run trials in this process, or in one `worker` process per slot when there are several."""
    if slots and len(slots) > 1:
        progress.say(f"starting {len(slots)} workers, one per GPU slot")
        run_gpu_workers(config.study, storage_url, artifacts, slots, progress.quiet)
        finished = finished_trials(study)
        return RunSummary(
            config.study,
            finished,
            config.trials,
            "budget" if finished >= config.trials else "deadline",
        )
    if slots:
        os.environ.update(slots[0])  # before Keras starts: it reads CUDA_VISIBLE_DEVICES once
    dataset = dataset or _load(config, progress)
    objective = Objective(
        config, dataset, progress, open_artifact_store(artifacts), repeats=sweep_repeats(study)
    )
    restart = Restarter(
        worker_command(config.study, storage_url, artifacts, progress.quiet), progress.say
    )
    return run_until_budget(study, objective, config, progress, restart)


def _load(config: SearchConfig, progress: Progress) -> Dataset:
    with progress.status(f"loading {config.dataset} …"):
        dataset = load(config.dataset, **config.data_options)
    progress.say(
        f"loaded {config.dataset}: {len(dataset.y_train)} training images "
        f"{dataset.input_shape}, {dataset.n_classes} classes"
    )
    return dataset


def run_until_budget(
    study: optuna.Study,
    objective: Callable[[optuna.Trial], float | tuple[float, ...]],
    config: SearchConfig,
    progress: Progress,
    restart: Callable[[], None] | None = None,
) -> RunSummary:
    """Run trials one at a time until the study holds `config.trials` finished trials, or until
    its stored deadline leaves too little time for another trial's first epoch.

    The budget is the study's: every worker claims a slot for its trial (`search.budget`), and
    one that finds every slot taken while others still run waits for them, since a trial of a
    worker that dies is retried by whoever is left. The deadline is read before every trial, so
    a worker obeys one set after it started. `restart`, called before every trial but the
    first, may replace the process with a fresh worker (`search.restart`).
    """
    budget = config.trials
    spare = 0  # from this worker's last claim (`claim_slot`); below 1, read the study first

    def claimed(trial: optuna.Trial) -> float | tuple[float, ...]:
        nonlocal spare
        spare = 0
        spare = claim_slot(trial, budget)
        return objective(trial)

    def report(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        if OVER_BUDGET_ATTR not in trial.user_attrs:
            progress.trial_finished(study, trial)

    said_waiting, ran = False, 0
    outage = StorageOutage(progress)
    with _sigterm_as_interrupt():
        while True:
            try:
                all_taken = False
                if spare < 1:
                    holders, finished, waiting = slot_holders(study)
                    if finished >= budget:
                        return RunSummary(config.study, finished, budget, "budget")
                    all_taken = len(holders) >= budget and not waiting
                if not should_start(study, read_deadline(study)):
                    return RunSummary(config.study, finished_trials(study), budget, "deadline")
                if all_taken:
                    if not said_waiting:
                        progress.say(
                            f"waiting for the {len(holders) - finished} trial(s) other "
                            "workers are running"
                        )
                        said_waiting = True
                    time.sleep(WAIT_SECONDS)
                    _fail_stale_trials(study)
                    continue
                if restart is not None and ran:
                    restart()
                study.optimize(
                    claimed,
                    n_trials=1,
                    catch=(TrialFailed, OverBudget),
                    callbacks=[report],
                    gc_after_trial=False,
                    show_progress_bar=False,
                )
                ran += 1
                outage.over()
            except Exception as e:
                if not _storage_failure(e):
                    raise
                outage.wait(e)


def _fail_stale_trials(study: optuna.Study) -> None:
    """Fail (and so have retried) the trials of workers that died; Optuna does this before each
    trial it starts, but a waiting worker starts none. Experimental in Optuna since 2.9."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)


def _storage_failure(error: BaseException | None) -> bool:
    """Whether `error` comes from the storage. Optuna can hide it behind another error raised
    while it handles it (an UnboundLocalError in its trial clean-up), so look down the chain."""
    while error is not None:
        if isinstance(error, STORAGE_ERRORS):
            return True
        error = error.__cause__ or error.__context__
    return False


class StorageOutage:
    """Rides out a database that went away (a restart, a failover): waits and tries again for
    up to `patience` seconds. A trial that was running is left to the heartbeat, which fails it
    and has it retried."""

    def __init__(self, progress: Progress, patience: float = STORAGE_PATIENCE) -> None:
        self.progress, self.patience, self.since = progress, patience, None

    def wait(self, error: Exception) -> None:
        now = time.monotonic()
        if self.since is None:
            self.since = now
            self.progress.say(f"storage unreachable ({type(error).__name__}); retrying")
        if now - self.since > self.patience:
            raise RunError(f"storage unreachable for {self.patience:.0f} s: {error}") from None
        time.sleep(WAIT_SECONDS * 2)

    def over(self) -> None:
        self.since = None


class _sigterm_as_interrupt:
    """SIGTERM (a scheduler stopping the worker) takes the same clean path as Ctrl-C."""

    def __enter__(self) -> None:
        self._main = threading.current_thread() is threading.main_thread()
        if self._main:
            self._previous = signal.signal(signal.SIGTERM, self._raise)

    def __exit__(self, *exc: object) -> None:
        if self._main:
            signal.signal(signal.SIGTERM, self._previous)

    @staticmethod
    def _raise(signum: int, frame: object) -> None:
        raise KeyboardInterrupt
