"""The winner trained on: a timed run ends by training its best trials on.

A search beats "train one good model for the whole time" only if its best configuration also
gets the training that time allows, so a timed run keeps the last part of its time
(`search.run.deadline.RESERVE`) for it, as FLAML's `retrain_full="budget"` does. From then on, or
once the trial budget is met while the deadline lies ahead, a worker queues a trial that
continues the most accurate completed trial: it loads that trial's saved model and trains it on,
its learning rate decaying to zero over the epochs that fit before the deadline (a budget's
schedule), and keeps its best epoch. A best trial that saved no model here is trained again
from scratch with its own routine and a patient early stop; should that stop improving first,
or the decay end early, the time left goes back to the search, and a new best is trained on in
turn. The continuation is a
trial of its own (user attr `continues`), so `best`, `evaluate` and `export` pick it when it is
better; it trains no new configuration and counts nowhere in the trial budget.
"""

from __future__ import annotations

from datetime import datetime
from types import ModuleType

import optuna
from optuna.trial import FrozenTrial, TrialState

from search.proposals import Duplicate
from search.run.cost import worth_starting
from search.run.deadline import now, search_until
from search.study import best_completed
from search.vocabulary import (
    CONTINUES_ATTR,
    DUPLICATE_ATTR,
    PROPOSAL_ATTR,
    SECONDS_PER_EPOCH_ATTR,
)
from spaces import completed_params

CONTINUE_EPOCHS = 100  # at most, on top of the trial's own; the early stop ends it sooner
CONTINUE_PATIENCE = 5  # epochs without a better validation accuracy, from scratch
# The rate a continuation's decay starts from, as a share of the trial's learning rate: a model
# already trained needs no full-rate restart, which would first undo part of its training.
CONTINUE_RATE = 0.5


def in_final_phase(study: optuna.Study, budget_met: bool) -> bool:
    """Whether the study's search is over and its time left goes to its best trials: its
    trial budget is met while its deadline lies ahead, or its search time left is too short for
    a typical trial (`search.run.cost.worth_starting`)."""
    until = search_until(study)
    if until is None:
        return False
    return budget_met or not worth_starting(study, until - now())


def should_continue(study: optuna.Study, deadline: datetime | None, trial: FrozenTrial) -> bool:
    """Whether the time left before the deadline fits at least one more epoch of `trial`."""
    if deadline is None:
        return False
    epoch = trial.user_attrs.get(SECONDS_PER_EPOCH_ATTR, 0.0)
    return deadline.timestamp() - now() > epoch


def epochs_before(deadline: float, trial: FrozenTrial, most: int) -> int:
    """How many of `trial`'s epochs fit before `deadline` (at least one, at most `most`), at the
    seconds an epoch took it; that time includes its first epoch's compilation, so the estimate
    errs short and the decay ends before the deadline cuts it."""
    epoch = trial.user_attrs.get(SECONDS_PER_EPOCH_ATTR) or 0.0
    if epoch <= 0:
        return most
    return max(1, min(most, int((deadline - now()) // epoch)))


def next_to_continue(study: optuna.Study) -> FrozenTrial | None:
    """The study's most accurate completed trial (continuations aside) when no trial continues it
    yet; None otherwise, or for several objectives. Only the best is trained on: a runner-up
    saved no model (only a new best does) and would train from scratch."""
    if len(study.directions) > 1:
        return None
    trials = study.get_trials(deepcopy=False)
    taken = {t.user_attrs[CONTINUES_ATTR] for t in trials if CONTINUES_ATTR in t.user_attrs}
    searched = [t for t in trials if CONTINUES_ATTR not in t.user_attrs]
    best = best_completed(searched, study.direction)
    return None if best is None or best.number in taken else best


def enqueue_continuation(study: optuna.Study, trial: FrozenTrial, space: ModuleType) -> None:
    """Queue the trial that trains `trial`'s model on; whichever worker asks next runs it. A
    trial stored before some dimensions existed is continued with those at their reference
    values of `space`, as it trained, not with values a sampler would pick."""
    study.enqueue_trial(
        completed_params(space, trial.params),
        user_attrs={CONTINUES_ATTR: trial.number, PROPOSAL_ATTR: f"continues trial {trial.number}"},
    )


def continued_trial(trial: optuna.Trial) -> FrozenTrial:
    """The trial `trial` continues. Two workers may queue a continuation of the same trial at
    once: the one that finds another already under way records itself a `Duplicate`."""
    number = trial.user_attrs[CONTINUES_ATTR]
    trials = trial.study.get_trials(deepcopy=False)
    for other in trials:
        rival = other.user_attrs.get(CONTINUES_ATTR) == number and other.number < trial.number
        if rival and other.state in (TrialState.RUNNING, TrialState.COMPLETE):
            trial.set_user_attr(DUPLICATE_ATTR, other.number)
            raise Duplicate(f"trial {other.number} already continues trial {number}")
    return next(t for t in trials if t.number == number)
