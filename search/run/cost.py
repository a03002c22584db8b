"""Cost limits: no trial may eat a timed budget, and no model may exceed --max-params.

A parameter cap alone misses slow models (a wide conv stack on 28x28 maps has few parameters
and costs minutes per epoch), so a trial in a timed run is timed on its first batches
(`search.callbacks.CostGuard`): once its projected training time exceeds its share of the time
the search has left, it stops there, recorded PRUNED with the reason, before it wastes the time.
FLAML's cost-frugal search works from the same observation: cost is measured, not guessed, and
raised only when it pays.
"""

from __future__ import annotations

import statistics

import optuna

from search.run.deadline import now
from search.vocabulary import PROJECTED_ATTR, STOP_REASON_ATTR, STOPPED_BY_ATTR, counts

# A trial may spend at most this share of the search time still left. Measured on this 2-core
# CPU, the two-block batch-norm CNN (the best model of a 15-minute Fashion-MNIST search, 0.90
# after 10 epochs) takes 20 s an epoch on 10,000 images alone on a core and about 26 s beside a
# second busy core: half of the time left stopped it there after trial 0, two thirds keeps it
# and still stops a model of minutes per epoch at once. Most trials are pruned long before they
# spend their share.
SHARE = 2 / 3
# A search whose last proposals in a row were all stopped by their guard is over: the best model's
# neighbourhood no longer fits the time left, and each further proposal costs a build, a
# compilation and a few batches (7-10 in a row ended the 15-minute Fashion-MNIST runs).
COST_STOPS_TO_END = 2
PROBE_BATCHES = 5  # timed after the first batch, which carries graph tracing
VALIDATION_COST = 1 / 3  # a validation image costs about a third of a training image


def expected_cost(study: optuna.Study) -> float | None:
    """Median projected training time of the study's trials that their `CostGuard` let train
    (a stopped one is the exception the guard is for, not a typical trial); None before any."""
    projected = [
        t.user_attrs[PROJECTED_ATTR]
        for t in study.get_trials(deepcopy=False)
        if PROJECTED_ATTR in t.user_attrs and t.user_attrs.get(STOPPED_BY_ATTR) != "cost"
    ]
    return statistics.median(projected) if projected else None


def share_left(until: float, deadline: float) -> float:
    """The seconds a trial may train: its share of the search time left until `until`, or,
    once the search time is over (its best trials trained on), of the time left until the
    deadline."""
    end = until if now() < until else deadline
    return SHARE * (end - now())


def worth_starting(study: optuna.Study, search_left: float) -> bool:
    """Whether a typical trial of the study fits its share of the search time left, and the
    last proposals did; once not, new trials would mostly be stopped by their `CostGuard`
    after a few batches."""
    expected = expected_cost(study)
    fits = expected is None or SHARE * search_left >= expected
    return search_left > 0 and fits and not _stopped_in_a_row(study)


def _stopped_in_a_row(study: optuna.Study) -> bool:
    """Whether the study's last COST_STOPS_TO_END finished trials that count were all stopped
    by their `CostGuard`."""
    last = [t for t in study.get_trials(deepcopy=False) if t.state.is_finished() and counts(t)]
    last = last[-COST_STOPS_TO_END:]
    return len(last) == COST_STOPS_TO_END and all(
        t.user_attrs.get(STOPPED_BY_ATTR) == "cost" for t in last
    )


class CostTooHigh(optuna.TrialPruned):
    """The trial would take more than it may; Optuna records it PRUNED."""


def check_params(trial: optuna.Trial, n_params: int, max_params: int | None) -> None:
    """Prune the trial before training when its model has more than `max_params` parameters."""
    if max_params is not None and n_params > max_params:
        stop(trial, "max_params", f"{n_params:,} parameters, over --max-params {max_params:,}")


def stop(trial: optuna.Trial, by: str, reason: str) -> None:
    trial.set_user_attr(STOPPED_BY_ATTR, by)
    trial.set_user_attr(STOP_REASON_ATTR, reason)
    raise CostTooHigh(reason)
