"""Residual blocks, the average-pooled head, weight decay, label smoothing and the schedule."""

import keras
import numpy as np
import optuna
import pytest

from search import training
from search.data import Split
from spaces import convnet, reference_params
from spaces.build import SmoothedSparseCrossentropy, build_model, compile_model, has_schedule
from spaces.schedule import DecayToZero, WarmupCosine
from spaces.spec import TrainSpec

MODERN = {
    "n_conv": 4,
    "pool_every": 2,
    "width_growth": "double",
    "filters": 8,
    "batch_norm": True,
    "residual": True,
    "global_pool": "avg",
    "weight_decay": 0.05,
    "label_smoothing": 0.1,
    "lr_schedule": "cosine",
    "batch_size": 64,
}


def modern_spec(**changes):
    params = reference_params(convnet) | MODERN | changes
    return convnet.suggest_spec(optuna.trial.FixedTrial(params))


def layer_names(model: keras.Model) -> list[str]:
    return [type(layer).__name__ for layer in model.layers]


@pytest.mark.parametrize("shape", [(8, 8, 1), (28, 28, 1), (32, 32, 3)])
def test_residual_and_scheduled_specs_build_and_train_on_every_input(shape):
    spec = modern_spec()
    model = training.build(spec, shape, 10, n_train=128, epochs=2)
    names = layer_names(model)
    # two blocks, each with a skip; both change the width (1 or 3 channels -> 8 -> 16): projected
    assert names.count("Add") == 2 and "GlobalAveragePooling2D" in names
    projections = [
        layer
        for layer in model.layers
        if type(layer).__name__ == "Conv2D" and layer.kernel_size == (1, 1)
    ]
    assert len(projections) == 2
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (160, *shape), dtype=np.uint8)
    y = rng.integers(0, 10, 160)
    split = Split(x[:128], y[:128], x[128:], y[128:])
    history = training.fit(model, split, spec.train.batch_size, 2, [])
    assert np.isfinite(history.history["loss"]).all() and has_schedule(model)


def test_a_skip_within_one_width_adds_without_a_projection():
    spec = modern_spec(n_conv=4, pool_every=2, width_growth="constant")
    names = layer_names(build_model(spec.model, (28, 28, 8), 10))
    assert names.count("Add") == 2 and names.count("Conv2D") == 4


def test_the_reference_and_the_labs_starts_build_as_before():
    for start in convnet.STARTS:
        params = reference_params(convnet) | dict(start.params)
        spec = convnet.suggest_spec(optuna.trial.FixedTrial(params))
        if start.name == "resnet-small":
            continue
        names = layer_names(build_model(spec.model, (28, 28, 1), 10))
        assert "Add" not in names and "GlobalAveragePooling2D" not in names
        assert spec.train == TrainSpec(
            spec.train.optimizer, spec.train.learning_rate, spec.train.batch_size
        )


def test_the_cosine_schedule_warms_up_decays_to_zero_and_restarts_for_a_continuation():
    schedule = WarmupCosine(0.01, cycle_steps=100)
    rates = [float(schedule(step)) for step in range(200)]
    assert rates[0] < rates[5] < rates[9] == pytest.approx(0.01)  # 10 warmup steps
    assert all(a >= b for a, b in zip(rates[10:100], rates[11:100], strict=False))
    assert rates[99] < 1e-5
    assert rates[100:] == pytest.approx(rates[:100])  # trained on: a new cycle, not a zero rate
    assert WarmupCosine.from_config(schedule.get_config()).cycle_steps == 100


def test_the_decay_to_zero_starts_at_its_step_and_ends_at_zero_when_its_steps_are_done():
    schedule = DecayToZero(0.004, first_step=50, steps=20)
    rates = [float(schedule(step)) for step in range(50, 80)]
    assert rates[0] == pytest.approx(0.004)
    assert all(a > b for a, b in zip(rates[:20], rates[1:21], strict=False))
    assert rates[20:] == pytest.approx([0.0] * 10)
    assert DecayToZero.from_config(schedule.get_config()).get_config() == schedule.get_config()


def test_a_trained_model_set_to_decay_reaches_zero_after_its_epochs():
    x = np.random.default_rng(0).integers(0, 255, (64, 8, 8, 1), dtype="uint8")
    split = Split(x, np.arange(64) % 10, x[:16], np.arange(16) % 10)
    model = training.build(modern_spec(lr_schedule="plateau"), (8, 8, 1), 10, 64, 1)
    training.fit(model, split, 16, 1, [])
    training.decay_to_zero(model, 0.002, epochs=2, n_train=64, batch_size=16)
    assert has_schedule(model)  # no plateau halving fights the decay
    assert float(model.optimizer.learning_rate) == pytest.approx(0.002)
    training.fit(model, split, 16, 3, [], initial_epoch=1)
    assert int(model.optimizer.iterations) == 12
    assert float(model.optimizer.learning_rate) == pytest.approx(0.0, abs=1e-9)


def test_a_plateau_trial_halves_its_rate_and_a_scheduled_one_follows_its_schedule(monkeypatch):
    added = []
    real_fit = keras.Model.fit
    monkeypatch.setattr(
        keras.Model,
        "fit",
        lambda self, *a, callbacks, **kw: added.append([type(c).__name__ for c in callbacks]),
    )
    split = Split(*(np.zeros((4, 8, 8, 1), np.uint8), np.zeros(4, int)) * 2)
    for schedule in ("plateau", "cosine"):
        spec = modern_spec(lr_schedule=schedule)
        training.fit(training.build(spec, (8, 8, 1), 10, 4, 1), split, 4, 1, [])
    monkeypatch.setattr(keras.Model, "fit", real_fit)
    assert "ReduceLROnPlateau" in added[0] and "ReduceLROnPlateau" not in added[1]


def test_label_smoothing_takes_integer_labels_and_matches_keras_on_one_hot_labels():
    y_pred = keras.ops.convert_to_tensor([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    smoothed = SmoothedSparseCrossentropy(0.1)(np.array([0, 2]), y_pred)
    one_hot = np.eye(3)[[0, 2]]
    expected = keras.losses.CategoricalCrossentropy(label_smoothing=0.1)(one_hot, y_pred)
    assert float(smoothed) == pytest.approx(float(expected))
    assert float(smoothed) > float(
        keras.losses.sparse_categorical_crossentropy(np.array([0, 2]), y_pred).numpy().mean()
    )


def test_weight_decay_and_smoothing_reach_the_compiled_model_and_off_means_none():
    model = build_model(modern_spec().model, (8, 8, 1), 10)
    compile_model(model, TrainSpec(weight_decay=0.05, label_smoothing=0.1))
    assert model.optimizer.weight_decay == 0.05
    assert isinstance(model.loss, SmoothedSparseCrossentropy)
    compile_model(model, TrainSpec())
    assert model.optimizer.weight_decay is None and model.loss == "sparse_categorical_crossentropy"
    with pytest.raises(ValueError, match="needs steps_per_epoch and epochs"):
        compile_model(model, TrainSpec(schedule="cosine"))
