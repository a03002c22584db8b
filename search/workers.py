"""Run trials until the study's shared budget is met or its deadline comes."""

from __future__ import annotations

import signal
import threading
from dataclasses import dataclass
from datetime import datetime

import optuna

from search.config import SearchConfig
from search.data import load
from search.deadline import apply_deadline, read_deadline, should_start
from search.objective import Objective, TrialFailed
from search.progress import Progress
from search.study import finished_trials, open_study
from storage import open_artifact_store, open_storage


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
) -> RunSummary:
    """Create or resume `config`'s study and run trials in this process until its budget is met
    or its deadline comes.

    `deadline` becomes the study's, obeyed by every worker; without one, a deadline an earlier
    run stored is kept while it lies ahead (see `search.deadline.apply_deadline`).
    Ctrl-C or SIGTERM stops cleanly: the running trial is recorded FAIL, none is left RUNNING,
    and the same call resumes the study.
    """
    progress = progress or Progress()
    study = open_study(config, open_storage(storage_url))
    done = finished_trials(study)
    progress.say(f"study [bold]{config.study}[/]: {done} of {config.trials} trials finished")
    _, said = apply_deadline(study, deadline)
    if said:
        progress.say(said)
    if done >= config.trials:
        return RunSummary(config.study, done, config.trials, "budget")
    progress.say(f"loading {config.dataset} …")
    objective = Objective(
        config,
        load(config.dataset, **config.data_options),
        progress,
        open_artifact_store(artifacts),
    )
    return run_until_budget(study, objective, config, progress)


def run_until_budget(
    study: optuna.Study, objective: Objective, config: SearchConfig, progress: Progress
) -> RunSummary:
    """Run trials one at a time until the study holds `config.trials` finished trials, or until
    its stored deadline leaves too little time for another trial's first epoch. The deadline is
    read from the study before every trial, so a worker obeys one set after it started."""
    report = lambda s, t: progress.trial_finished(s, t)  # noqa: E731
    with _sigterm_as_interrupt():
        while finished_trials(study) < config.trials:
            if not should_start(study, read_deadline(study)):
                return RunSummary(config.study, finished_trials(study), config.trials, "deadline")
            study.optimize(
                objective,
                n_trials=1,
                catch=(TrialFailed,),
                callbacks=[report],
                gc_after_trial=False,
                show_progress_bar=False,
            )
    return RunSummary(config.study, finished_trials(study), config.trials, "budget")


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
