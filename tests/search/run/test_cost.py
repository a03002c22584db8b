import optuna
import pytest
from optuna.trial import TrialState

from search.callbacks import CostGuard
from search.run import cost as cost_module
from search.run.cost import CostTooHigh, check_params, expected_cost, share_left, worth_starting
from search.vocabulary import PROJECTED_ATTR, STOPPED_BY_ATTR


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def guard(allowed: float, steps: int = 100, epochs: int = 10):
    study = optuna.create_study()
    trial = study.ask()
    clock = Clock()
    callback = CostGuard(trial, epochs, validation_share=0.0, allowed=lambda: allowed, clock=clock)
    callback.set_params({"steps": steps, "epochs": epochs})
    return callback, clock, trial


def run_batches(callback: CostGuard, clock: Clock, seconds: float, batches: int) -> None:
    for batch in range(batches):
        clock.t += 30.0 if batch == 0 else seconds  # the first batch traces the graph
        callback.on_train_batch_end(batch)


def test_a_trial_projected_past_its_share_stops_after_its_first_batches():
    callback, clock, trial = guard(allowed=100.0)
    with pytest.raises(CostTooHigh, match="projected 200 s for 10 epochs, over its share 100 s"):
        run_batches(callback, clock, seconds=0.2, batches=50)  # 0.2 s x 100 steps x 10 epochs
    assert trial.user_attrs[STOPPED_BY_ATTR] == "cost"
    assert clock.t == pytest.approx(30 + 5 * 0.2)  # judged at the fifth timed batch


def test_a_trial_inside_its_share_trains_on_and_records_its_projection():
    callback, clock, trial = guard(allowed=100.0)
    run_batches(callback, clock, seconds=0.05, batches=200)  # two epochs' worth, no stop
    assert trial.user_attrs[PROJECTED_ATTR] == pytest.approx(50.0)
    assert STOPPED_BY_ATTR not in trial.user_attrs


def test_a_model_over_max_params_is_pruned_before_training():
    trial = optuna.create_study().ask()
    check_params(trial, 1000, max_params=None)
    check_params(trial, 1000, max_params=1000)
    with pytest.raises(CostTooHigh, match="1,001 parameters, over --max-params 1,000"):
        check_params(trial, 1001, max_params=1000)
    assert trial.user_attrs[STOPPED_BY_ATTR] == "max_params"


def test_new_trials_stop_once_a_typical_trial_no_longer_fits_the_search_time_left():
    study = optuna.create_study()
    assert worth_starting(study, search_left=1.0)  # no history: try
    for projected in (30.0, 60.0, 90.0):
        study.add_trial(
            optuna.create_trial(state=TrialState.PRUNED, user_attrs={PROJECTED_ATTR: projected})
        )
    assert expected_cost(study) == 60.0
    assert worth_starting(study, search_left=90.0)  # two thirds of it is 60 s
    assert not worth_starting(study, search_left=89.0)
    # a trial its guard stopped is the exception the guard is for, not a typical trial
    stopped = {PROJECTED_ATTR: 5000.0, STOPPED_BY_ATTR: "cost"}
    study.add_trial(optuna.create_trial(state=TrialState.PRUNED, user_attrs=stopped))
    assert expected_cost(study) == 60.0


def test_the_search_ends_once_its_last_proposals_in_a_row_were_stopped_by_their_cost():
    study = optuna.create_study()
    stopped = {PROJECTED_ATTR: 5000.0, STOPPED_BY_ATTR: "cost"}
    study.add_trial(optuna.create_trial(state=TrialState.PRUNED, user_attrs={PROJECTED_ATTR: 1.0}))
    study.add_trial(optuna.create_trial(state=TrialState.PRUNED, user_attrs=stopped))
    assert worth_starting(study, search_left=1000.0)  # one stop: the next proposal may fit
    study.add_trial(optuna.create_trial(state=TrialState.FAIL))  # Ctrl-C: it does not count
    study.add_trial(optuna.create_trial(state=TrialState.PRUNED, user_attrs=stopped))
    assert not worth_starting(study, search_left=1000.0)
    study.add_trial(optuna.create_trial(state=TrialState.PRUNED, user_attrs={PROJECTED_ATTR: 1.0}))
    assert worth_starting(study, search_left=1000.0)  # a trial that fitted: the search goes on


def test_after_the_search_time_a_trial_shares_the_time_left_before_the_deadline(monkeypatch):
    monkeypatch.setattr(cost_module, "now", lambda: 100.0)
    assert share_left(until=160.0, deadline=400.0) == pytest.approx(40.0)  # 2/3 of search left
    assert share_left(until=90.0, deadline=400.0) == pytest.approx(200.0)  # 2/3 to the deadline
