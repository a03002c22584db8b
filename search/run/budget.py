"""The study's trial budget, shared exactly by every worker on every machine.

Counting finished trials and then starting one is a race between workers: two can both see
199 of 200 and both start. So a trial claims its slot after it exists: trials that hold a slot
(finished ones that count, running and waiting ones) are ranked by number, which follows
creation order, and a trial ranked past the budget gives its slot back at once: it is recorded
FAIL with the user attr `over_budget` and counts nowhere.
"""

from __future__ import annotations

import optuna
from optuna.trial import TrialState

from search.trials import read_trials
from search.vocabulary import ACTIVE, CONTINUES_ATTR, OVER_BUDGET_ATTR, counts


class OverBudget(Exception):
    """This trial lost the race for the study's last slots; it gives its slot back."""


def slot_holders(study: optuna.Study, in_trial: bool = False) -> tuple[list[int], int, int]:
    """Numbers of the trials holding a slot, sorted; how many of them finished; how many wait."""
    holders, finished, waiting = [], 0, 0
    for trial in read_trials(study, in_trial):
        if counts(trial):
            holders.append(trial.number)
            finished += 1
        elif (
            trial.state in ACTIVE
            and not {OVER_BUDGET_ATTR, CONTINUES_ATTR} & trial.user_attrs.keys()
        ):
            holders.append(trial.number)
            waiting += trial.state == TrialState.WAITING
    return sorted(holders), finished, waiting


def claim_slot(trial: optuna.Trial, budget: int) -> int:
    """Raise `OverBudget` when `trial` is not among the first `budget` slot holders.

    Returns the slots left if every other running trial's worker starts one more: while that is
    positive, this worker starts its next trial without reading the study first. The guess is
    wrong when other workers finish several short trials, or new ones join, meanwhile; then the
    next trial's own claim fails, which costs that trial, never the budget.
    """
    holders, finished, _ = slot_holders(trial.study, in_trial=True)
    if trial.number in holders[budget:]:
        trial.set_user_attr(OVER_BUDGET_ATTR, True)
        raise OverBudget(f"the study's {budget} trials are all taken")
    others_running = len(holders) - finished - 1
    return budget - len(holders) - others_running
