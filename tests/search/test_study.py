import threading

import optuna
import pytest
from optuna.trial import TrialState

from errors import RunError, UsageError
from search import study as study_module
from search.config import SearchConfig
from search.study import (
    existing_study,
    finished_trials,
    load_study,
    make_sampler,
    open_study,
    stored_config,
)
from search.vocabulary import (
    CONFIG_ATTR,
    CONTINUES_ATTR,
    DUPLICATE_ATTR,
    EPOCHS_RUN_ATTR,
    FAIL_REASON_ATTR,
    STOPPED_BY_ATTR,
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


def test_a_study_only_read_is_loaded_without_its_sampler_and_pruner(sqlite_url, monkeypatch):
    storage = open_storage(sqlite_url)
    open_study(SearchConfig("digits"), storage)

    def unused(*args):
        raise AssertionError("a study only read needs no sampler or pruner")

    monkeypatch.setattr(study_module, "make_sampler", unused)
    monkeypatch.setattr(study_module, "make_pruner", unused)
    assert existing_study(storage, "digits-convnet").study_name == "digits-convnet"
    with pytest.raises(UsageError, match="no study named 'nope'; studies here: digits-convnet"):
        existing_study(storage, "nope")


def test_budget_counts_finished_trials_but_not_lost_workers(sqlite_url):
    study = open_study(SearchConfig("digits"), open_storage(sqlite_url))
    study.add_trial(optuna.create_trial(value=0.5, params={}, distributions={}))
    study.add_trial(optuna.create_trial(state=TrialState.PRUNED, params={}, distributions={}))
    study.add_trial(
        optuna.create_trial(state=TrialState.FAIL, user_attrs={FAIL_REASON_ATTR: "NaN"})
    )
    study.add_trial(optuna.create_trial(state=TrialState.FAIL))  # heartbeat: retried elsewhere
    assert finished_trials(study) == 3


def test_budget_leaves_out_trials_that_trained_nothing(sqlite_url):
    study = open_study(SearchConfig("digits"), open_storage(sqlite_url))
    pruned = dict(state=TrialState.PRUNED, params={}, distributions={})
    study.add_trial(optuna.create_trial(**pruned, user_attrs={STOPPED_BY_ATTR: "deadline"}))
    study.add_trial(
        optuna.create_trial(**pruned, user_attrs={STOPPED_BY_ATTR: "deadline", EPOCHS_RUN_ATTR: 2})
    )
    study.add_trial(optuna.create_trial(state=TrialState.FAIL, user_attrs={DUPLICATE_ATTR: 1}))
    study.add_trial(optuna.create_trial(value=0.9, params={}, distributions={}))
    study.add_trial(
        optuna.create_trial(value=0.95, params={}, distributions={}, user_attrs={CONTINUES_ATTR: 3})
    )
    # the trial the deadline stopped after two epochs counts, and the completed one
    assert finished_trials(study) == 2


def test_a_timed_run_without_trials_has_no_trial_limit():
    assert SearchConfig("digits").budget(timed=False) == 20
    assert SearchConfig("digits").budget(timed=True) is None
    assert SearchConfig("digits", trials=7).budget(timed=True) == 7


def test_a_seeded_sampler_draws_anew_for_every_trial_number_and_replays_per_number():
    def params(seed: int, skip: int) -> list[dict]:
        study = optuna.create_study(sampler=make_sampler("tpe", seed, False))
        for _ in range(skip):  # another process made these trials
            study.add_trial(optuna.create_trial(state=TrialState.FAIL))
        drawn = []
        for _ in range(3):
            trial = study.ask()
            convnet.suggest_spec(trial)
            drawn.append(trial.params)
            study.tell(trial, 0.5)
        return drawn

    first = params(seed=0, skip=0)
    assert params(seed=0, skip=0) == first  # one process with a seed is reproducible
    assert len({str(p) for p in first}) == 3
    # a restarted or second worker with the same seed, whose trials get later numbers, draws
    # other configurations (the old sampler replayed the first process's draws)
    later = params(seed=0, skip=3)
    assert not {str(p) for p in later} & {str(p) for p in first}


def test_the_seed_is_part_of_a_studys_identity(sqlite_url):
    storage = open_storage(sqlite_url)
    open_study(SearchConfig("digits", seed=1), storage)
    with pytest.raises(UsageError, match="seed is 1 in the study but 2 here"):
        open_study(SearchConfig("digits", seed=2), storage)


def test_sampler_only_is_part_of_a_studys_identity(sqlite_url):
    storage = open_storage(sqlite_url)
    open_study(SearchConfig("digits", sampler="random", sampler_only=True), storage)
    with pytest.raises(UsageError, match="sampler_only is True in the study but False here"):
        open_study(SearchConfig("digits", sampler="random"), storage)


def test_of_two_processes_creating_one_study_with_different_configs_one_is_refused(sqlite_url):
    storage = open_storage(sqlite_url)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def create(epochs: int) -> None:
        barrier.wait()  # both find no study, then both create it
        try:
            open_study(SearchConfig("digits", epochs=epochs), open_storage(sqlite_url))
            outcomes.append("created")
        except UsageError as e:
            outcomes.append(str(e))

    threads = [threading.Thread(target=create, args=(e,)) for e in (2, 3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes)[0] == "created"
    assert "exists with another config" in sorted(outcomes)[1]
    stored = stored_config(load_study(storage, "digits-convnet")).epochs
    assert f"epochs is {stored} in the study" in sorted(outcomes)[1]
