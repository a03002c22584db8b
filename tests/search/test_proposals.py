import threading

import optuna
import pytest
from optuna.trial import TrialState

from search.config import SearchConfig
from search.proposals import Duplicate, Proposer, check_duplicate
from search.trials import read_trials
from search.vocabulary import (
    CLAIM_ATTR,
    CONTINUES_ATTR,
    DUPLICATE_ATTR,
    EPOCHS_RUN_ATTR,
    FAIL_REASON_ATTR,
    PROPOSAL_ATTR,
    STOPPED_BY_ATTR,
)
from spaces import convnet
from storage import open_storage

PARAMS = {"x": 0.5, "pool": "max"}
DISTRIBUTIONS = {
    "x": optuna.distributions.FloatDistribution(0, 1),
    "pool": optuna.distributions.CategoricalDistribution(("max", "avg")),
}


def ask_with(study: optuna.Study, params: dict) -> optuna.Trial:
    """A new trial that suggested `params`, as a space's suggest_spec would."""
    study.enqueue_trial(params)
    return study.ask(fixed_distributions=DISTRIBUTIONS)


@pytest.mark.parametrize(
    "earlier",
    [
        dict(value=0.9),
        dict(state=TrialState.PRUNED, user_attrs={STOPPED_BY_ATTR: "cost"}),
        dict(state=TrialState.FAIL, user_attrs={FAIL_REASON_ATTR: "NaN"}),
    ],
)
def test_a_configuration_already_judged_is_not_trained_again(earlier):
    study = optuna.create_study(direction="maximize")
    study.add_trial(optuna.create_trial(params=PARAMS, distributions=DISTRIBUTIONS, **earlier))
    trial = ask_with(study, PARAMS)
    with pytest.raises(Duplicate, match="repeats trial 0"):
        check_duplicate(trial)
    assert trial.user_attrs[DUPLICATE_ATTR] == 0


@pytest.mark.parametrize(
    "earlier",
    [
        # the deadline stopped it before its first epoch ended: never judged
        dict(state=TrialState.PRUNED, user_attrs={STOPPED_BY_ATTR: "deadline", EPOCHS_RUN_ATTR: 0}),
        dict(state=TrialState.FAIL),  # its worker died; the heartbeat retries it
        dict(value=0.95, user_attrs={CONTINUES_ATTR: 3}),  # a continuation, not a configuration
    ],
)
def test_a_configuration_never_judged_may_run(earlier):
    study = optuna.create_study(direction="maximize")
    study.add_trial(optuna.create_trial(params=PARAMS, distributions=DISTRIBUTIONS, **earlier))
    check_duplicate(ask_with(study, PARAMS))  # no Duplicate


def test_another_configuration_is_no_duplicate():
    study = optuna.create_study(direction="maximize")
    study.add_trial(optuna.create_trial(params=PARAMS, distributions=DISTRIBUTIONS, value=0.9))
    check_duplicate(ask_with(study, {**PARAMS, "x": 0.25}))


def claimed(trial: optuna.Trial) -> bool:
    stored = trial.study._storage.get_trial(trial._trial_id)
    return stored.system_attrs.get(CLAIM_ATTR) == trial.number


def suggest_params(trial: optuna.Trial) -> None:
    """Store the params a queued `PARAMS` trial was given, as a space's suggest_spec would."""
    trial.suggest_float("x", 0, 1)
    trial.suggest_categorical("pool", ("max", "avg"))


@pytest.mark.filterwarnings("ignore:Heartbeat of storage:UserWarning")  # asked, never optimized
def test_of_two_workers_proposing_one_configuration_at_once_the_earlier_trains(tmp_path):
    url = f"sqlite:///{tmp_path}/study.db"
    optuna.create_study(storage=open_storage(url), study_name="s", direction="maximize")
    workers = [optuna.load_study(study_name="s", storage=open_storage(url)) for _ in range(2)]
    workers[0].enqueue_trial(PARAMS)
    workers[0].enqueue_trial(PARAMS)  # both workers queued the same start
    in_step = threading.Barrier(len(workers), timeout=30)
    trials, outcomes = {}, {}

    def work(worker: optuna.Study) -> None:
        trial = worker.ask()
        read_trials(worker, in_trial=True)  # the sampler's read, before any params are stored
        in_step.wait()
        suggest_params(trial)
        in_step.wait()
        trials[trial.number] = trial
        try:
            check_duplicate(trial)
            outcomes[trial.number] = "trains"
        except Duplicate:
            outcomes[trial.number] = "repeat"
        except Exception as e:  # noqa: BLE001 - handed to the test's thread
            outcomes[trial.number] = repr(e)

    threads = [threading.Thread(target=work, args=(worker,)) for worker in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes == {0: "trains", 1: "repeat"}
    assert claimed(trials[0]) and not claimed(trials[1])


def test_a_trial_that_claimed_its_configuration_first_keeps_it():
    study = optuna.create_study(direction="maximize")
    study.enqueue_trial(PARAMS)
    earlier = study.ask()  # its params not stored yet when the later trial checks
    later = ask_with(study, PARAMS)
    check_duplicate(later)
    suggest_params(earlier)
    with pytest.raises(Duplicate, match="repeats trial 1"):
        check_duplicate(earlier)
    assert claimed(later) and not claimed(earlier)


@pytest.mark.parametrize("later_claims", [True, False])
def test_an_earlier_trial_waits_for_a_later_one_still_deciding(later_claims):
    study = optuna.create_study(direction="maximize")
    earlier, later = ask_with(study, PARAMS), ask_with(study, PARAMS)
    storage = study._storage
    # A retry carries the claim Optuna copied from the trial it retries: no decision of its own.
    storage.set_trial_system_attr(later._trial_id, CLAIM_ATTR, 7)
    # The later trial read before the earlier one stored its params, and decides now.
    decide = (
        (storage.set_trial_system_attr, (later._trial_id, CLAIM_ATTR, later.number))
        if later_claims
        else (storage.set_trial_user_attr, (later._trial_id, DUPLICATE_ATTR, earlier.number))
    )
    decision = threading.Timer(0.3, *decide)
    decision.start()
    if later_claims:
        with pytest.raises(Duplicate, match="repeats trial 1"):
            check_duplicate(earlier)
    else:
        check_duplicate(earlier)
        assert claimed(earlier)
    decision.join()


def test_an_earlier_trial_yields_to_a_later_one_that_never_decides():
    study = optuna.create_study(direction="maximize")
    earlier, _ = ask_with(study, PARAMS), ask_with(study, PARAMS)  # its worker died at once
    with pytest.raises(Duplicate, match="repeats trial 1"):
        check_duplicate(earlier, wait=0.3)  # the later trial, or its retry, trains them


def run_proposed(study: optuna.Study, propose: Proposer, value: float = 0.0) -> optuna.Trial:
    propose(study)
    trial = study.ask()
    convnet.suggest_spec(trial, propose.bounds)
    study.tell(trial, value)
    return trial


def test_a_search_starts_from_known_good_models_inside_the_set_bounds():
    config = SearchConfig("digits", sets=("n_conv=1..2", "activation=tanh"), seed=0)
    study = optuna.create_study(direction="maximize")
    propose = Proposer(config, n_train=1300)
    propose(study)
    propose(study)  # a trial waits: nothing more is queued
    assert len(study.trials) == 1
    first = study.ask()
    convnet.suggest_spec(first, config.bounds)
    assert first.user_attrs[PROPOSAL_ATTR] == "start: keras-example"
    assert first.params["filters"] == 32 and first.params["width_growth"] == "double"
    assert first.params["n_conv"] == 2 and first.params["dense_units"] == 128
    assert first.params["activation"] == "tanh"  # the start's relu lies outside the --set
    # 1300 images in batches of 128 make 10 steps an epoch: the start's batches shrink to 64
    assert first.params["batch_size"] == 64
    study.tell(first, 0.5)
    names = [run_proposed(study, propose).user_attrs[PROPOSAL_ATTR] for _ in convnet.STARTS[1:]]
    assert names == [f"start: {s.name}" for s in convnet.STARTS[1:]]
    assert names[-1] == "start: reference"


def completed_convnet_study(n: int = 4) -> optuna.Study:
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(0))
    for start in convnet.STARTS:  # the starts are used up
        study.add_trial(
            optuna.create_trial(
                state=TrialState.FAIL, user_attrs={PROPOSAL_ATTR: f"start: {start.name}"}
            )
        )
    for value in range(n):
        trial = study.ask()
        convnet.suggest_spec(trial)
        study.tell(trial, value / 10)
    return study


def test_a_greedy_step_keeps_the_best_trial_but_one_group():
    study = completed_convnet_study()
    best = study.best_trial
    steps = 0
    for seed in range(12):  # about half the seeds take a greedy step
        Proposer(SearchConfig("digits", seed=seed), 1000)(study)
        waiting = study.get_trials(states=(TrialState.WAITING,))
        if not waiting:
            continue
        steps += 1
        trial = study.ask()
        convnet.suggest_spec(trial)
        fixed = waiting[0].system_attrs["fixed_params"]
        left = set(best.params) - set(fixed)
        assert left in [set(g) & set(best.params) for g in convnet.GROUPS]
        assert all(trial.params[k] == best.params[k] for k in fixed)
        assert waiting[0].user_attrs[PROPOSAL_ATTR].startswith(f"greedy: trial {best.number}")
        study.tell(trial, 0.0)
    assert 2 <= steps <= 10


def test_a_sampler_only_search_queues_neither_starts_nor_greedy_steps():
    config = SearchConfig("digits", sampler_only=True, seed=0)
    fresh = optuna.create_study(direction="maximize")
    Proposer(config, 1000)(fresh)
    assert fresh.trials == []  # no starting point
    study = completed_convnet_study()
    for seed in range(12):  # about half of these seeds take a greedy step without the option
        Proposer(SearchConfig("digits", sampler_only=True, seed=seed), 1000)(study)
    assert not study.get_trials(states=(TrialState.WAITING,))


def test_a_seeded_greedy_choice_is_reproducible():
    first, second = completed_convnet_study(), completed_convnet_study()
    for study in (first, second):
        Proposer(SearchConfig("digits", seed=3), 1000)(study)
    queued = [s.get_trials(states=(TrialState.WAITING,)) for s in (first, second)]
    assert [t.system_attrs for t in queued[0]] == [t.system_attrs for t in queued[1]]
