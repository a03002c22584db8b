"""What a worker does next, decided from what it read of the study: search a new trial, train
the best one on, wait for other workers' trials, or stop and say why.

The decision is a pure function of a `Reading`, as Optuna's `_optimize_sequential` and
KerasTuner's oracle status keep deciding apart from acting; `search.run.workers` reads the
study, acts on the step and prints.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from optuna.trial import FrozenTrial


class Step(str, Enum):
    SEARCH = "search"  # propose and run a new trial
    CONTINUE = "continue"  # train the best trial on (`search.run.continuation`)
    WAIT = "wait"  # every slot is held while other workers' trials run
    # The stops; their values are `RunSummary.stopped_by`.
    BUDGET = "budget"  # the study holds its budget of finished trials
    DEADLINE = "deadline"  # too little time is left for another trial's first epoch
    EXHAUSTED = "exhausted"  # every proposal repeated a trial already run

    @property
    def stops(self) -> bool:
        return self in (Step.BUDGET, Step.DEADLINE, Step.EXHAUSTED)


@dataclass(frozen=True)
class Reading:
    """What a worker read of the study before its next trial."""

    budget: int | None  # None: no trial limit, the deadline ends the run
    finished: int | None  # trials that count; None: not read (the last claim left spare slots)
    running: int  # trials other workers run, when `finished` was read
    budget_met: bool  # `finished` reaches the budget
    all_taken: bool  # every slot of the budget is held and none waits
    exhausted: bool  # the last proposals all repeated trials
    final: bool  # the search is over: the time left trains the best on
    best: FrozenTrial | None  # in the final phase, the best trial to train on, if time fits it
    may_start: bool  # the time left covers a new trial's first epoch


def next_step(reading: Reading) -> Step:
    """The step a worker takes next. A met budget stops it, unless a timed run's time left
    trains the best trial on; so does a search whose proposals all repeat trials."""
    if reading.budget_met and not reading.final:
        return Step.BUDGET
    if reading.best is not None:
        return Step.CONTINUE
    if reading.exhausted:
        return Step.EXHAUSTED
    if reading.budget_met:
        return Step.BUDGET
    if not reading.may_start:
        return Step.DEADLINE
    if reading.all_taken:
        return Step.WAIT
    return Step.SEARCH
