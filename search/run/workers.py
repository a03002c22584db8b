"""Run trials until the study's shared budget is met or its deadline comes."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import optuna
from optuna.exceptions import UpdateFinishedTrialError
from optuna.trial import FrozenTrial

from errors import StorageUnreachable, TrialFailed
from search.config import SearchConfig
from search.data import Dataset, load
from search.proposals import MAX_DUPLICATES_IN_A_ROW, Duplicate, Proposer
from search.run import hardware
from search.run.budget import OverBudget, claim_slot, slot_holders
from search.run.continuation import (
    enqueue_continuation,
    in_final_phase,
    next_to_continue,
    should_continue,
)
from search.run.deadline import apply_deadline, read_deadline, search_until, should_start
from search.run.gpus import run_gpu_workers
from search.run.heartbeat import beating, fail_stale_trials
from search.run.progress import Progress
from search.run.restart import RESTARTED_ENV, Restarter, worker_command
from search.run.steps import Reading, Step, next_step
from search.run.stopping import raise_if_stop_requested, stop_requests
from search.study import (
    find_study,
    finished_trials,
    load_study,
    make_pruner,
    open_study,
    stored_config,
    sweep_repeats,
)
from search.vocabulary import CONTINUES_ATTR, DUPLICATE_ATTR, FAIL_REASON_ATTR, OVER_BUDGET_ATTR
from spaces import get_space
from storage import open_artifact_store, open_storage
from storage.outage import StorageOutage, failed_as_stale, is_storage_failure

WAIT_SECONDS = 1.0


@dataclass(frozen=True)
class RunSummary:
    study: str
    finished: int
    budget: int | None  # None: no trial limit, the deadline ends the run
    stopped_by: str  # "budget", "deadline" or "exhausted" (every proposal repeated a trial)


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
    run stored is kept while it lies ahead (see `search.run.deadline.apply_deadline`).
    Ctrl-C or SIGTERM stops cleanly: the running trial is recorded FAIL, none is left RUNNING,
    and the same call resumes the study. With several `slots` (environments from
    `search.run.gpus.worker_environments`), one `worker` process per slot runs the trials.
    """
    progress = progress or Progress()
    hardware.check_settings()
    storage = open_storage(storage_url)
    open_artifact_store(artifacts)  # an unwritable folder fails before a study is made
    dataset = None
    new = find_study(storage, config.study) is None
    if new:
        # A new study is created only from input that works (an existing one was checked when
        # it was made, and open_study refuses a changed config); loading later keeps a resumed
        # run's deadline check right at its start.
        dataset = _load(config, progress)
        config.split(dataset)
    study = open_study(config, storage)
    stored_deadline, said = apply_deadline(study, deadline)
    budget = config.budget(stored_deadline is not None)
    done = finished_trials(study)
    progress.say(f"study [bold]{config.study}[/]: {done} {_of(budget)} trials finished")
    if said:
        progress.say(said)
    if budget is not None and done >= budget and search_until(study) is None:
        return RunSummary(config.study, done, budget, "budget")
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
    study = load_study(_open_storage(storage_url, progress), study_name)
    config = stored_config(study)
    budget = config.budget(read_deadline(study) is not None)
    done = finished_trials(study)
    progress.say(f"joining [bold]{study_name}[/]: {done} {_of(budget)} trials finished")
    if budget is not None and done >= budget and search_until(study) is None:
        return RunSummary(study_name, done, budget, "budget")
    return _run(study, config, storage_url, artifacts, progress, slots)


def _open_storage(storage_url: str, progress: Progress) -> optuna.storages.BaseStorage:
    """The storage; a worker that restarted itself (`search.run.restart`) rides out a database
    that is down at that moment, as the running worker it replaces would have."""
    if not os.environ.get(RESTARTED_ENV):
        return open_storage(storage_url)
    outage = StorageOutage(progress.say)
    while True:
        try:
            return open_storage(storage_url)
        except StorageUnreachable as e:  # not a damaged or read-only file: that stays broken
            outage.wait(e)


def _of(budget: int | None) -> str:
    return "(no trial limit: until the deadline)" if budget is None else f"of {budget}"


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
        return _after_workers(study, config)
    if slots:
        os.environ.update(slots[0])  # before Keras starts: it reads CUDA_VISIBLE_DEVICES once
    # Keras loads here, where trials train, not on import: a multi-slot parent, and the fake
    # workers of the tests, start in a second instead of several.
    from search.objective import Objective
    from search.pruning import RungWarning

    dataset = dataset or _load(config, progress)
    objective = Objective(
        config, dataset, progress, open_artifact_store(artifacts), repeats=sweep_repeats(study)
    )
    study.pruner = make_pruner(config.pruner_name, config.epochs, objective.first_rung)
    restart = Restarter(
        worker_command(config.study, storage_url, artifacts, progress.quiet), progress.handover
    )
    warn = RungWarning(objective.first_rung, dataset.n_classes, progress)
    propose = None if sweep_repeats(study) else Proposer(config, len(objective.split.y_train))
    return run_until_budget(
        study, objective, config, progress, restart, after_trial=warn, propose=propose
    )


def _after_workers(study: optuna.Study, config: SearchConfig) -> RunSummary:
    """Why a run whose trials ran in worker processes ended, read back from the study: every
    worker stopped normally, each for its own reason."""
    finished = finished_trials(study)
    deadline = read_deadline(study)
    budget = config.budget(deadline is not None)
    if budget is not None and finished >= budget:
        reason = "budget"
    elif deadline is not None and not should_start(study, deadline):
        reason = "deadline"
    else:
        reason = "exhausted"  # a worker's only other normal end: its proposals all repeats
    return RunSummary(config.study, finished, budget, reason)


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
    after_trial: Callable[[optuna.Study, FrozenTrial], None] | None = None,
    propose: Callable[[optuna.Study], None] | None = None,
) -> RunSummary:
    """Run trials one at a time until the study holds its budget of finished trials, or until
    its stored deadline leaves too little time for another trial's first epoch.

    The budget is the study's: every worker claims a slot for its trial (`search.run.budget`), and
    one that finds every slot taken while others still run waits for them, since a trial of a
    worker that dies is retried by whoever is left. The deadline is read before every trial, so
    a worker obeys one set after it started. A timed run ends by training its best trials on
    (`search.run.continuation`). Before each search trial `propose` may queue its configuration (a
    starting point, a greedy step: `search.proposals.Proposer`); `restart`, called before every
    trial but the first, may replace the process with a fresh worker (`search.run.restart`);
    `after_trial` sees every finished trial. What to do next is `search.run.steps.next_step`.
    An exception from the objective fails that trial only, with its reason; the worker goes on.
    """
    trials = _TrialRunner(objective, progress, after_trial)
    outage = StorageOutage(progress.say)
    said: set[Step] = set()  # what was said once per run: the space exhausted, the waiting
    deadline = read_deadline(study)
    with (
        stop_requests(),
        progress.running(config.budget(deadline is not None), deadline, finished_trials(study)),
    ):
        while True:
            try:
                raise_if_stop_requested()
                reading = _read(study, config, trials)
                step = next_step(reading)
                if reading.exhausted:
                    _say_once(said, Step.EXHAUSTED, progress, _exhausted(trials.repeats))
                if step.stops:
                    finished = reading.finished
                    finished = finished_trials(study) if finished is None else finished
                    return RunSummary(config.study, finished, reading.budget, step.value)
                if restart is not None and trials.ran:
                    restart()  # before anything is queued: a fresh process decides anew
                if step is Step.WAIT:
                    _say_once(said, Step.WAIT, progress, _waiting(reading.running))
                    time.sleep(WAIT_SECONDS)
                    fail_stale_trials(study)
                    continue
                if step is Step.CONTINUE:
                    enqueue_continuation(study, reading.best, get_space(config.space))
                elif propose is not None:
                    propose(study)
                fail_stale_trials(study)  # whoever starts a trial retries a dead worker's
                trials.run(study, reading.budget)
                outage.over()
            except Exception as e:
                if not _ridden_out(e, outage, progress):
                    raise


def _read(study: optuna.Study, config: SearchConfig, trials: _TrialRunner) -> Reading:
    """What the next step depends on. The slots are counted only when the last claim left
    none spare, which spares a full read of the study before most trials."""
    deadline = read_deadline(study)
    budget = config.budget(deadline is not None)
    holders, finished, all_taken = [], None, False
    if trials.spare < 1 and budget is not None:
        holders, finished, waiting = slot_holders(study)
        all_taken = len(holders) >= budget and not waiting
    exhausted = trials.repeats >= MAX_DUPLICATES_IN_A_ROW
    budget_met = finished is not None and finished >= budget
    final = in_final_phase(study, budget_met or exhausted)
    best = next_to_continue(study) if final else None
    if best is not None and not should_continue(study, deadline, best):
        best = None
    return Reading(
        budget=budget,
        finished=finished,
        running=len(holders) - (finished or 0),
        budget_met=budget_met,
        all_taken=all_taken,
        exhausted=exhausted,
        final=final,
        best=best,
        may_start=should_start(study, deadline),
    )


def _say_once(said: set[Step], step: Step, progress: Progress, message: str) -> None:
    if step not in said:
        progress.say(message)
        said.add(step)


def _exhausted(repeats: int) -> str:
    return (
        f"the last {repeats} proposals all repeated trials already run: the "
        "space is exhausted (widen it with --set, or stop here)"
    )


def _waiting(running: int) -> str:
    return f"waiting for the {running} trial(s) other workers are running"


def _ridden_out(error: Exception, outage: StorageOutage, progress: Progress) -> bool:
    """Whether `error` is one a worker goes on after: its trial failed as stale by another
    worker, or a storage outage it waits out (until its patience ends)."""
    if failed_as_stale(error):
        progress.say("this worker's trial was failed as stale by another; it is retried")
        return True
    if is_storage_failure(error):
        outage.wait(error)
        return True
    return False


class _TrialRunner:
    """Runs the study's trials one at a time and keeps what the next step depends on: the
    slots this worker's last claim left spare (`claim_slot`; below 1, count them before the
    next trial) and how many proposals in a row repeated a trial."""

    def __init__(
        self,
        objective: Callable[[optuna.Trial], float | tuple[float, ...]],
        progress: Progress,
        after_trial: Callable[[optuna.Study, FrozenTrial], None] | None,
    ) -> None:
        self.objective, self.progress, self.after_trial = objective, progress, after_trial
        self.budget: int | None = None
        self.spare = self.repeats = self.ran = 0

    def run(self, study: optuna.Study, budget: int | None) -> None:
        self.budget = budget
        study.optimize(
            self._claimed,
            n_trials=1,
            catch=(TrialFailed, OverBudget, Duplicate),
            callbacks=[self._report],
            gc_after_trial=False,
            show_progress_bar=False,
        )
        self.ran += 1

    def _claimed(self, trial: optuna.Trial) -> float | tuple[float, ...]:
        with beating(trial):  # where the storage has no heartbeat of its own
            self.spare = 0
            if self.budget is not None and CONTINUES_ATTR not in trial.user_attrs:
                self.spare = claim_slot(trial, self.budget)
            return _guarded(self.objective, trial)

    def _report(self, study: optuna.Study, trial: FrozenTrial) -> None:
        self.repeats = self.repeats + 1 if DUPLICATE_ATTR in trial.user_attrs else 0
        if OVER_BUDGET_ATTR not in trial.user_attrs:
            self.progress.trial_finished(study, trial)
        if self.after_trial is not None:
            self.after_trial(study, trial)


def _guarded(
    objective: Callable[[optuna.Trial], float | tuple[float, ...]], trial: optuna.Trial
) -> float | tuple[float, ...]:
    """`objective(trial)`, any failure of which fails this trial alone with its reason (as
    Optuna's `catch` and KerasTuner's FailedTrialError do): an out-of-memory error, a Keras
    error. Pruning, the budget, the storage and Ctrl-C go their own ways."""
    try:
        return objective(trial)
    except (optuna.TrialPruned, TrialFailed, OverBudget, Duplicate, UpdateFinishedTrialError):
        raise  # the last: another worker failed it as stale (an outage); it is retried there
    except Exception as e:
        if is_storage_failure(e):
            raise
        reason = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}".rstrip(": ")
        trial.set_user_attr(FAIL_REASON_ATTR, reason[:500])
        raise TrialFailed(reason) from e
