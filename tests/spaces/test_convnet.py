import optuna
from optuna.trial import FixedTrial

from spaces import convnet, get_space, parse_sets, reference_params, reference_spec
from spaces.spec import ConvLayer


def test_reference_spec_is_the_seed_lab_model():
    spec = reference_spec(get_space("convnet"))
    assert len(spec.model.conv_layers) == 6
    assert {layer.filters for layer in spec.model.conv_layers} == {32}
    assert [layer.pool_after for layer in spec.model.conv_layers] == [False, True] * 3
    assert spec.model.activation == "relu" and spec.model.pool == "max"
    assert spec.model.dense_units == () and spec.model.dropout == 0.0
    assert (spec.train.optimizer, spec.train.learning_rate, spec.train.batch_size) == (
        "adam",
        1e-3,
        256,
    )


def test_dense_units_is_only_suggested_when_there_are_dense_layers():
    params = reference_params(convnet) | {"n_dense": 0}
    del params["dense_units"]
    trial = FixedTrial(params)
    assert convnet.suggest_spec(trial).model.dense_units == ()
    assert "dense_units" not in trial.params
    spec = convnet.suggest_spec(FixedTrial(params | {"n_dense": 2, "dense_units": 64}))
    assert spec.model.dense_units == (64, 64)


def test_width_doubles_after_each_pool_block_up_to_the_cap():
    layers = convnet.conv_stack(n_conv=4, filters=100, kernel_size=3, pool_every=1, double=True)
    assert [layer.filters for layer in layers] == [100, 200, 256, 256]
    assert layers[0] == ConvLayer(100, 3, True)


def test_suggestions_stay_inside_set_bounds():
    bounds = parse_sets(
        ["n_conv=2..3", "filters=8..16", "activation=tanh"], convnet.DIMENSIONS, "convnet"
    )
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    for _ in range(20):
        spec = convnet.suggest_spec(study.ask(), bounds)
        assert 2 <= len(spec.model.conv_layers) <= 3
        assert 8 <= spec.model.conv_layers[0].filters <= 16
        assert spec.model.activation == "tanh"


def test_best_params_replay_the_same_spec():
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=3))
    trial = study.ask()
    spec = convnet.suggest_spec(trial)
    assert convnet.suggest_spec(FixedTrial(trial.params)) == spec
