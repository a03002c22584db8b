import threading

import optuna
import pytest
from optuna.trial import TrialState

from errors import RunError, UsageError
from search import study as study_module
from search.config import SearchConfig
from search.study import (
    CONFIG_ATTR,
    enqueue_reference,
    finished_trials,
    load_study,
    open_study,
    stored_config,
)
from spaces import convnet
from storage import open_storage


def test_config_is_stored_and_a_mismatch_is_refused(sqlite_url):
    storage = open_storage(sqlite_url)
    open_study(SearchConfig("digits", epochs=4), storage)
    assert stored_config(load_study(storage, "digits-convnet")).epochs == 4
    open_study(SearchConfig("digits", epochs=4, trials=50), storage)  # same study, bigger budget
    with pytest.raises(UsageError, match="epochs is 4 in the study but 2 here"):
        open_study(SearchConfig("digits", epochs=2), storage)
    with pytest.raises(UsageError, match="dataset is digits in the study but mnist here"):
        open_study(SearchConfig("mnist", study_name="digits-convnet", epochs=4), storage)


def test_a_study_found_before_its_creator_stored_the_config_waits_for_it(sqlite_url):
    # Another worker's create_study and set_user_attr are two steps; this process comes between.
    storage = open_storage(sqlite_url)
    config = SearchConfig("digits", epochs=4)
    created = optuna.create_study(storage=storage, study_name=config.study, direction="maximize")
    late = threading.Timer(0.5, created.set_user_attr, (CONFIG_ATTR, config.to_attrs()))
    late.start()
    with pytest.raises(UsageError, match="epochs is 4 in the study but 2 here"):
        open_study(SearchConfig("digits", epochs=2), storage)  # compared with the late config
    assert stored_config(load_study(storage, config.study)).epochs == 4


def test_a_config_less_study_is_adopted_when_empty_and_refused_with_trials(sqlite_url, monkeypatch):
    monkeypatch.setattr(study_module, "CONFIG_PATIENCE", 0.2)
    storage = open_storage(sqlite_url)
    optuna.create_study(storage=storage, study_name="digits-convnet", direction="maximize")
    adopted = open_study(SearchConfig("digits", epochs=3), storage)  # its creator died
    assert stored_config(adopted).epochs == 3

    foreign = optuna.create_study(storage=storage, study_name="foreign", direction="maximize")
    foreign.add_trial(optuna.create_trial(value=0.5, params={}, distributions={}))
    with pytest.raises(RunError, match="not created by cnnsearch"):
        open_study(SearchConfig("digits", study_name="foreign"), storage)


def test_unknown_study_names_the_ones_that_exist(sqlite_url):
    storage = open_storage(sqlite_url)
    open_study(SearchConfig("digits"), storage)
    with pytest.raises(UsageError, match="no study named 'nope'; studies here: digits-convnet"):
        load_study(storage, "nope")


def test_budget_counts_finished_trials_but_not_lost_workers(sqlite_url):
    study = open_study(SearchConfig("digits"), open_storage(sqlite_url))
    study.add_trial(optuna.create_trial(value=0.5, params={}, distributions={}))
    study.add_trial(optuna.create_trial(state=TrialState.PRUNED, params={}, distributions={}))
    study.add_trial(optuna.create_trial(state=TrialState.FAIL, user_attrs={"fail_reason": "NaN"}))
    study.add_trial(optuna.create_trial(state=TrialState.FAIL))  # heartbeat: retried elsewhere
    assert finished_trials(study) == 3


def test_a_new_study_starts_from_the_reference_model_inside_the_set_bounds(sqlite_url):
    config = SearchConfig("digits", sets=("n_conv=1..2", "activation=tanh"), seed=0)
    study = open_study(config, open_storage(sqlite_url))
    enqueue_reference(study, config)
    enqueue_reference(study, config)  # a second process opening the new study queues nothing
    assert len(study.get_trials(states=(TrialState.WAITING,))) == 1
    first = study.ask()
    convnet.suggest_spec(first, config.bounds)
    assert first.params["filters"] == 32 and first.params["learning_rate"] == 1e-3
    assert first.params["activation"] == "tanh"  # the reference relu lies outside the --set
    assert 1 <= first.params["n_conv"] <= 2
