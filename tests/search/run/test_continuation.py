"""The winner trained on: the time a timed run keeps at its end continues its best trial."""

from datetime import UTC, datetime, timedelta

import optuna
import pytest
from optuna.trial import TrialState

from search import objective as objective_module
from search import training
from search.config import SearchConfig
from search.data import load
from search.objective import Objective
from search.run import continuation, cost
from search.run.continuation import enqueue_continuation, in_final_phase, next_to_continue
from search.run.deadline import set_deadline
from search.run.restart import LIMIT_ENV
from search.run.workers import optimize
from search.study import finished_trials
from search.vocabulary import (
    CONTINUES_ATTR,
    EPOCHS_RUN_ATTR,
    MODEL_ARTIFACT_ATTR,
    PROPOSAL_ATTR,
    SEARCH_UNTIL_ATTR,
    SECONDS_PER_EPOCH_ATTR,
    STOPPED_BY_ATTR,
)
from spaces import convnet
from storage import open_artifact_store
from tests.conftest import SMALL_MODEL


@pytest.fixture(scope="module")
def digits():
    return load("digits")


def objective_and_study(digits, tmp_path, **overrides):
    options = dict(epochs=2, train_size=300, sets=SMALL_MODEL, seed=0) | overrides
    config = SearchConfig("digits", **options)
    study = optuna.create_study(direction="maximize", pruner=optuna.pruners.NopPruner())
    store = open_artifact_store(tmp_path / "artifacts")
    return Objective(config, digits, artifact_store=store), study


def test_a_continuation_trains_the_saved_model_on_from_its_last_epoch(
    digits, tmp_path, monkeypatch
):
    monkeypatch.setattr(continuation, "CONTINUE_EPOCHS", 3)
    monkeypatch.setattr(objective_module, "CONTINUE_EPOCHS", 3)
    objective, study = objective_and_study(digits, tmp_path)
    study.optimize(objective, n_trials=1)
    original = study.trials[0]
    assert MODEL_ARTIFACT_ATTR in original.user_attrs
    enqueue_continuation(study, next_to_continue(study), convnet)
    assert next_to_continue(study) is None  # queued: nobody continues it twice
    set_deadline(study, datetime.now(UTC) + timedelta(minutes=10))  # a timed run's last quarter
    patience = []
    real_early_stopping = training.early_stopping
    monkeypatch.setattr(
        training, "early_stopping", lambda p=None: patience.append(p) or real_early_stopping(p)
    )
    study.optimize(objective, n_trials=1)
    assert patience == [3]  # no early stop before its decay ends: patience spans its 3 epochs
    trial = study.trials[1]
    assert trial.state == TrialState.COMPLETE
    assert trial.user_attrs[CONTINUES_ATTR] == 0 and trial.params == original.params
    # its curve goes on from the saved model's epochs: steps 3, 4, 5 after epochs 1 and 2
    assert sorted(trial.intermediate_values) == [3, 4, 5]
    assert trial.value == max(trial.intermediate_values.values())
    assert finished_trials(study) == 1  # it trained no new configuration


@pytest.mark.alone  # a deadline in seconds: many tests in parallel would starve it
def test_a_trial_the_deadline_cuts_while_it_leads_completes_at_its_best_epoch(
    digits, tmp_path, monkeypatch
):
    monkeypatch.setattr(training, "EARLY_STOP_PATIENCE", 10**6)
    monkeypatch.setattr(cost, "SHARE", 10**6)  # no cost stop for these endless trials
    objective, study = objective_and_study(digits, tmp_path, epochs=10_000)
    set_deadline(study, datetime.now(UTC) + timedelta(seconds=8))
    study.optimize(objective, n_trials=1)
    trial = study.trials[0]
    assert trial.state == TrialState.COMPLETE, trial.user_attrs
    assert trial.user_attrs[STOPPED_BY_ATTR] == "deadline"
    assert trial.value == max(trial.intermediate_values.values())
    assert MODEL_ARTIFACT_ATTR in trial.user_attrs  # the best model found so far is kept

    # a trial cut while another is better is pruned, as before
    study.add_trial(optuna.create_trial(value=1.0, params={}, distributions={}))
    set_deadline(study, datetime.now(UTC) + timedelta(seconds=8))
    study.optimize(objective, n_trials=1)
    assert study.trials[-1].state == TrialState.PRUNED
    assert study.trials[-1].user_attrs[STOPPED_BY_ATTR] == "deadline"


def test_a_continuation_plans_the_epochs_that_fit_before_the_deadline(monkeypatch):
    monkeypatch.setattr(continuation, "now", lambda: 1000.0)
    trial = optuna.create_trial(
        value=0.9, params={}, distributions={}, user_attrs={SECONDS_PER_EPOCH_ATTR: 20.0}
    )
    assert continuation.epochs_before(1000.0 + 205, trial, most=100) == 10
    assert continuation.epochs_before(1000.0 + 205, trial, most=4) == 4
    assert continuation.epochs_before(1000.0 + 5, trial, most=100) == 1  # it asked to continue
    untimed = optuna.create_trial(value=0.9, params={}, distributions={})
    assert continuation.epochs_before(1000.0 + 205, untimed, most=100) == 100


def test_the_final_phase_begins_when_the_search_time_is_spent_or_the_budget_met():
    study = optuna.create_study(direction="maximize")
    assert not in_final_phase(study, budget_met=True)  # no deadline: nothing reserved
    study.set_user_attr(SEARCH_UNTIL_ATTR, datetime.now(UTC).timestamp() + 3600)
    assert not in_final_phase(study, budget_met=False)
    assert in_final_phase(study, budget_met=True)
    study.set_user_attr(SEARCH_UNTIL_ATTR, datetime.now(UTC).timestamp() - 1)
    assert in_final_phase(study, budget_met=False)


def test_only_the_best_trial_is_trained_on_and_only_once():
    study = optuna.create_study(direction="maximize")
    for value in (0.7, 0.9, 0.8, 0.95):
        study.add_trial(optuna.create_trial(value=value, params={}, distributions={}))
    assert next_to_continue(study).number == 3
    study.add_trial(
        optuna.create_trial(value=0.96, params={}, distributions={}, user_attrs={CONTINUES_ATTR: 3})
    )
    # 3 is continued; the runners-up saved no model (only a new best does): none is next
    assert next_to_continue(study) is None
    study.add_trial(optuna.create_trial(value=0.97, params={}, distributions={}))
    assert next_to_continue(study).number == 5  # a new best from the search goes on in turn


def test_a_queued_continuation_whose_deadline_passed_trains_nothing(digits, tmp_path):
    objective, study = objective_and_study(digits, tmp_path)
    study.optimize(objective, n_trials=1)
    enqueue_continuation(study, next_to_continue(study), convnet)
    set_deadline(study, datetime.now(UTC) - timedelta(seconds=1))
    study.optimize(objective, n_trials=1)
    assert study.trials[1].state == TrialState.PRUNED
    assert EPOCHS_RUN_ATTR not in study.trials[1].user_attrs


@pytest.mark.slow
@pytest.mark.alone  # a deadline in seconds: many tests in parallel would starve it
def test_a_timed_run_ends_by_training_its_best_trial_on(sqlite_url, tmp_path, monkeypatch):
    monkeypatch.setenv(LIMIT_ENV, "0")  # a restart would replace the test process
    config = SearchConfig("digits", epochs=2, train_size=300, sets=SMALL_MODEL, seed=0)
    deadline = datetime.now(UTC) + timedelta(seconds=45)
    summary = optimize(config, sqlite_url, str(tmp_path / "artifacts"), deadline=deadline)
    assert summary.stopped_by == "deadline" and summary.budget is None
    study = optuna.load_study(study_name=config.study, storage=sqlite_url)
    trials = study.get_trials()
    assert not [t for t in trials if t.state == TrialState.RUNNING]
    continued = [t for t in trials if CONTINUES_ATTR in t.user_attrs]
    assert continued, [t.user_attrs.get(PROPOSAL_ATTR) for t in trials]
    first = continued[0]
    original = next(t for t in trials if t.number == first.user_attrs[CONTINUES_ATTR])
    searched = [t for t in trials if t.number < first.number and t.state == TrialState.COMPLETE]
    assert original.value == max(t.value for t in searched)  # the search's best went on
    # the continuation started after the search time, three quarters of the limit
    assert first.datetime_start.timestamp() >= study.user_attrs[SEARCH_UNTIL_ATTR] - 30
