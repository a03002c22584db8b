"""The worker's next step, decided from plain readings: no training, no storage."""

from dataclasses import replace

import optuna
import pytest

from search.run.steps import Reading, Step, next_step

BEST = optuna.trial.create_trial(params={}, distributions={}, value=0.9)
# Mid-search: slots left, time left, no repeats.
SEARCHING = Reading(
    budget=10,
    finished=4,
    running=1,
    budget_met=False,
    all_taken=False,
    exhausted=False,
    final=False,
    best=None,
    may_start=True,
)


@pytest.mark.parametrize(
    "changes, step",
    [
        ({}, Step.SEARCH),
        ({"finished": None, "running": 0}, Step.SEARCH),  # the last claim left slots spare
        ({"budget": None, "finished": None}, Step.SEARCH),  # timed, no trial limit
        ({"all_taken": True}, Step.WAIT),
        ({"may_start": False}, Step.DEADLINE),
        ({"may_start": False, "all_taken": True}, Step.DEADLINE),
        ({"exhausted": True}, Step.EXHAUSTED),
        ({"finished": 10, "budget_met": True}, Step.BUDGET),
        # A timed run whose budget is met trains its best on while time fits an epoch of it ...
        ({"finished": 10, "budget_met": True, "final": True, "best": BEST}, Step.CONTINUE),
        # ... and stops once nothing is left to train on, or no time.
        ({"finished": 10, "budget_met": True, "final": True}, Step.BUDGET),
        ({"budget_met": True, "final": True, "may_start": False}, Step.BUDGET),
        # Its search time over, the best is trained on before a repeated space stops it.
        ({"exhausted": True, "final": True, "best": BEST}, Step.CONTINUE),
        ({"final": True, "best": BEST, "may_start": False}, Step.CONTINUE),
        ({"final": True, "may_start": False}, Step.DEADLINE),
    ],
)
def test_the_next_step_follows_from_what_was_read(changes, step):
    assert next_step(replace(SEARCHING, **changes)) is step


def test_only_the_three_stops_stop_and_their_values_are_the_summary_reasons():
    assert [s.value for s in Step if s.stops] == ["budget", "deadline", "exhausted"]
