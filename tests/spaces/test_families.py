import numpy as np
import optuna
import pytest

from spaces import SPACES, get_space, parse_sets, reference_params, reference_spec, training
from spaces.alexnet import blocks
from spaces.build import build_model, compile_model
from spaces.models import FASHION_MAIN, FASHION_MAIN_SETS, LENET5

SHAPES = [(8, 8, 1), (28, 28, 1), (32, 32, 3)]


@pytest.mark.slow
@pytest.mark.parametrize("space", sorted(SPACES))
@pytest.mark.parametrize("shape", SHAPES)
def test_every_space_builds_for_every_input_shape_and_trains_one_step(space, shape):
    spec = reference_spec(get_space(space))
    model = build_model(spec.model, shape, n_classes=10)
    compile_model(model, spec.train)
    x = np.random.default_rng(0).integers(0, 256, (8, *shape), dtype=np.uint8)
    history = model.fit(x, np.arange(8) % 10, batch_size=8, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


@pytest.mark.parametrize("space", sorted(SPACES))
def test_sampled_suggestions_replay_with_fixed_trial(space):
    module = get_space(space)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    for _ in range(5):
        trial = study.ask()
        spec = module.suggest_spec(trial)
        assert module.suggest_spec(optuna.trial.FixedTrial(trial.params)) == spec
        study.tell(trial, 0.5)


@pytest.mark.parametrize("space", sorted(SPACES))
def test_reference_values_lie_inside_each_dimension(space):
    for dim in get_space(space).DIMENSIONS:
        if dim.choices is not None:
            assert dim.reference in dim.choices, dim.name
        else:
            assert dim.low <= dim.reference <= dim.high, dim.name
    assert set(reference_params(get_space(space))) == {d.name for d in get_space(space).DIMENSIONS}


def test_alexnet_kernels_shrink_and_widths_grow_per_block():
    layers = blocks(n_blocks=4, convs_per_block=2, filters=64, first_kernel=7)
    assert [c.kernel_size for c in layers] == [7, 7, 5, 5, 3, 3, 3, 3]
    assert [c.filters for c in layers] == [64, 64, 128, 128, 256, 256, 256, 256]
    assert [c.pool_after for c in layers] == [False, True] * 4


def test_lenet5_searches_only_training_and_always_builds_lenet5():
    space = get_space("lenet5")
    names = {d.name for d in space.DIMENSIONS}
    assert names == {d.name for d in training.DIMENSIONS}
    assert {"optimizer", "learning_rate", "batch_size"} <= names
    params = {"optimizer": "sgd", "learning_rate": 0.01, "batch_size": 64}
    spec = space.suggest_spec(optuna.trial.FixedTrial(reference_params(space) | params))
    assert spec.model == LENET5 and spec.train.optimizer == "sgd"
    model = build_model(LENET5, (28, 28, 1), 10)
    # 28x28 same-padded: 6@28x28 -> pool -> 16@14x14 -> pool -> 7x7x16 flattened -> 120 -> 84 -> 10.
    assert model.count_params() == (
        (5 * 5 * 1 + 1) * 6 + (5 * 5 * 6 + 1) * 16 + (784 + 1) * 120 + 121 * 84 + 85 * 10
    )


def test_mlp_has_no_convolutions():
    spec = reference_spec(get_space("mlp"))
    names = [layer.__class__.__name__ for layer in build_model(spec.model, (8, 8, 1), 10).layers]
    assert "Conv2D" not in names and "Flatten" in names and names.count("Dense") == 3


def test_convnet_reaches_the_fashion_labs_main_model():
    params = {
        **reference_params(get_space("convnet")),
        "n_conv": 2,
        "pool_every": 1,
        "head": "flatten",
        "n_dense": 1,
        "dense_units": 128,
    }
    spec = get_space("convnet").suggest_spec(optuna.trial.FixedTrial(params))
    assert spec.model == FASHION_MAIN


def test_the_main_models_set_values_fix_every_convnet_dimension_to_it():
    space = get_space("convnet")
    bounds = parse_sets(FASHION_MAIN_SETS, space.DIMENSIONS, "convnet")
    assert set(bounds.overrides) == {d.name for d in space.DIMENSIONS}
    spec = space.suggest_spec(optuna.create_study().ask(), bounds)
    assert spec.model == FASHION_MAIN
