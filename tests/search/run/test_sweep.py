import optuna
import pytest
from optuna.distributions import IntDistribution

from errors import UsageError
from search.run.progress import Progress
from search.run.sweep import Vary, open_sweep, parse_vary, sweep_config, sweep_table
from search.run.workers import join
from search.study import REPEAT
from search.vocabulary import CONFIG_ATTR, N_PARAMS_ATTR, SEED_ATTR, SWEEP_ATTR, TRAIN_SECONDS_ATTR
from spaces import convnet, reference_params
from storage import open_storage


def test_ranges_expand_to_every_integer_and_lists_keep_their_order():
    assert parse_vary("n_conv=1..4", "convnet") == Vary("n_conv", (1, 2, 3, 4))
    assert parse_vary("pool=avg,max", "convnet") == Vary("pool", ("avg", "max"))
    assert parse_vary("kernel_size=3..5", "convnet").values == (3, 4, 5)
    assert parse_vary("learning_rate=0.01,0.001", "convnet").values == (0.01, 0.001)


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("depth=1..3", "has no dimension 'depth'"),
        ("n_conv", "expected dim=v1,v2"),
        ("n_conv=0..3", "outside n_conv's range"),
        ("learning_rate=0.001..0.1", "is continuous; list the values"),
        ("pool=max", "at least two different values"),
        ("pool=max,mean", "not one of pool's choices"),
    ],
)
def test_bad_vary_says_what_and_how(text, fragment):
    with pytest.raises(UsageError, match=fragment):
        parse_vary(text, "convnet")


def test_every_other_dimension_is_fixed_at_its_reference_or_its_set_value():
    config = sweep_config("digits", Vary("n_conv", (1, 2)), 3, ("filters=16",), epochs=2)
    bounds = config.bounds
    assert config.study == "digits-sweep-n_conv" and config.trials == 6
    assert config.pruner_name == "none"
    assert "n_conv" not in bounds.overrides
    assert bounds.overrides["filters"].low == bounds.overrides["filters"].high == 16
    reference = reference_params(convnet)
    assert bounds.overrides["activation"].choices == (reference["activation"],)
    assert bounds.overrides["learning_rate"].low == reference["learning_rate"]


def test_a_set_range_or_a_set_on_the_varied_dimension_is_refused():
    with pytest.raises(UsageError, match="needs one value here"):
        sweep_config("digits", Vary("n_conv", (1, 2)), 2, ("filters=8..32",))
    with pytest.raises(UsageError, match="conflict"):
        sweep_config("digits", Vary("n_conv", (1, 2)), 2, ("n_conv=3",))


def test_the_lab_table_has_mean_std_best_time_and_params_per_value():
    study = optuna.create_study(direction="maximize")
    runs = {1: [0.80, 0.84, 0.82], 3: [0.90, 0.96]}
    for n_conv, accuracies in runs.items():
        for repeat, accuracy in enumerate(accuracies):
            study.add_trial(
                optuna.trial.create_trial(
                    params={"n_conv": n_conv, REPEAT: repeat},
                    distributions={"n_conv": IntDistribution(1, 10), REPEAT: IntDistribution(0, 2)},
                    value=accuracy,
                    user_attrs={
                        TRAIN_SECONDS_ATTR: 2.0 * n_conv + repeat,
                        N_PARAMS_ATTR: 100 * n_conv,
                    },
                )
            )
    study.add_trial(  # a failed run counts in no row
        optuna.trial.create_trial(
            params={"n_conv": 1},
            distributions={"n_conv": IntDistribution(1, 10)},
            state=optuna.trial.TrialState.FAIL,
        )
    )

    first, second = sweep_table(study, "n_conv")

    assert (first.value, first.runs, second.value, second.runs) == (1, 3, 3, 2)
    assert first.mean == pytest.approx(0.82)
    assert first.std == pytest.approx(0.02)  # sample std of 0.80, 0.84, 0.82
    assert second.std == pytest.approx(0.06 / 2**0.5)
    assert first.best == pytest.approx(0.84) and second.best == pytest.approx(0.96)
    assert first.mean_seconds == pytest.approx(3.0) and second.params == 300


def test_a_stored_sweep_resumes_only_with_the_same_grid():
    storage = optuna.storages.InMemoryStorage()
    vary = Vary("n_conv", (1, 2))
    config = sweep_config("digits", vary, 2, epochs=1)
    study = open_sweep(config, vary, 2, storage)
    assert isinstance(study.sampler, optuna.samplers.GridSampler)
    open_sweep(config, vary, 2, storage)  # same grid: resumes
    with pytest.raises(UsageError, match="use the same --vary and --repeats"):
        open_sweep(sweep_config("digits", vary, 3, epochs=1), vary, 3, storage)


def test_a_sweep_stores_its_grid_before_its_config(monkeypatch):
    # A worker that finds the config (`search.study._config_attrs` waits for it) finds the grid.
    order = []
    store = optuna.Study.set_user_attr

    def recorded(study: optuna.Study, key: str, value: object) -> None:
        order.append(key)
        store(study, key, value)

    monkeypatch.setattr(optuna.Study, "set_user_attr", recorded)
    vary = Vary("n_conv", (1, 2))
    config = sweep_config("digits", vary, 2, epochs=1)
    open_sweep(config, vary, 2, optuna.storages.InMemoryStorage())
    assert order == [SWEEP_ATTR, CONFIG_ATTR]


@pytest.mark.slow
def test_a_worker_joining_a_sweep_runs_its_grid_with_seeds_by_repeat(sqlite_url, tmp_path):
    vary = Vary("n_conv", (1, 2))
    sets = ("filters=8", "batch_size=64")
    config = sweep_config("digits", vary, 2, sets, epochs=1, train_size=200)
    open_sweep(config, vary, 2, open_storage(sqlite_url))  # as `sweep` leaves it for workers

    join(config.study, sqlite_url, str(tmp_path / "artifacts"), Progress(quiet=True))

    trials = optuna.load_study(study_name=config.study, storage=sqlite_url).get_trials()
    assert sorted((t.params["n_conv"], t.params[REPEAT]) for t in trials) == [
        (1, 0),
        (1, 1),
        (2, 0),
        (2, 1),
    ]
    assert all(t.user_attrs[SEED_ATTR] == t.params[REPEAT] for t in trials)


def test_a_sweep_of_a_new_dimension_trains_each_value_and_never_flips_digits(sqlite_url, tmp_path):
    with pytest.raises(UsageError, match="digits never takes true"):
        sweep_config("digits", parse_vary("augment_flip=false,true", "convnet"), 1)
    # an image folder is flipped only when asked: varying the flip asks
    flips = sweep_config(f"folder:{tmp_path}", parse_vary("augment_flip=false,true", "convnet"), 1)
    (flip,) = (d for d in convnet.DIMENSIONS if d.name == "augment_flip")
    assert flips.bounds[flip].choices == (False, True)
    vary = parse_vary("lr_schedule=plateau,cosine", "convnet")
    sets = ("n_conv=1", "filters=8", "batch_size=64", "residual=true", "augment_translate=0.1")
    config = sweep_config("digits", vary, 1, sets, epochs=2, train_size=200)
    open_sweep(config, vary, 1, open_storage(sqlite_url))

    join(config.study, sqlite_url, str(tmp_path / "artifacts"), Progress(quiet=True))

    trials = optuna.load_study(study_name=config.study, storage=sqlite_url).get_trials()
    assert sorted(t.params["lr_schedule"] for t in trials) == ["cosine", "plateau"]
    assert all(t.state.name == "COMPLETE" and not t.params["augment_flip"] for t in trials)
    assert {t.params["residual"] for t in trials} == {True}
