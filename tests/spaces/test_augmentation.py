"""Augmentation: which transforms each data set allows, and that it never acts at inference."""

import keras
import numpy as np
import optuna
import pytest

from errors import UsageError
from search.config import SearchConfig
from search.data import flips_keep_labels
from spaces import convnet, reference_params
from spaces.augmentation import RandomShift, with_tta
from spaces.build import build_model
from spaces.spec import Augmentation, ConvLayer, ModelSpec
from spaces.starts import start_params
from testing.upstream_files import write_image_folder

ALL_ON = Augmentation(translate=0.2, flip=True, erase=1.0)


def augmentation_bounds(dataset: str, *sets: str):
    bounds = SearchConfig(dataset, sets=sets).bounds
    return {d.name: bounds[d] for d in convnet.AUGMENTATION_DIMENSIONS}


@pytest.mark.parametrize(
    "dataset, flips",
    [
        ("digits", False),
        ("mnist", False),
        ("notmnist", False),
        ("notmnist_large", False),
        ("fashion_mnist", True),
        ("cifar10", True),
    ],
)
def test_each_data_set_searches_flips_only_where_they_keep_its_labels(dataset, flips):
    assert flips_keep_labels(dataset) is flips
    bounds = augmentation_bounds(dataset)
    assert bounds["augment_flip"].choices == ((False, True) if flips else (False,))
    # shifts and erased patches keep every data set's labels: searched alike everywhere
    assert bounds["augment_translate"].high == 0.15 and bounds["augment_erase"].high == 0.5


@pytest.mark.parametrize("dataset", ["digits", "mnist", "notmnist"])
def test_asking_to_flip_digits_or_letters_is_refused_with_how_to_fix_it(dataset):
    with pytest.raises(UsageError, match=f"{dataset} is never flipped; drop --set augment_flip"):
        SearchConfig(dataset, sets=("augment_flip=true",))
    assert augmentation_bounds(dataset, "augment_flip=false")["augment_flip"].choices == (False,)


def test_an_image_folder_is_not_flipped_unless_the_user_says_flips_keep_its_labels(tmp_path):
    root = write_image_folder(tmp_path / "images", {"cat": 3, "dog": 3}, size=(8, 8))
    assert flips_keep_labels(f"folder:{root}") is None
    assert augmentation_bounds(f"folder:{root}")["augment_flip"].choices == (False,)
    chosen = augmentation_bounds(f"folder:{root}", "augment_flip=true")
    assert chosen["augment_flip"].choices == (True,)


def test_no_trial_on_digits_is_ever_flipped_not_even_a_start_that_flips():
    config = SearchConfig("digits")
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    specs = [convnet.suggest_spec(study.ask(), config.bounds) for _ in range(30)]
    assert not any(spec.model.augmentation.flip for spec in specs)
    assert any(spec.model.augmentation.translate for spec in specs)
    (resnet,) = (s for s in convnet.STARTS if s.params.get("augment_flip"))
    assert "augment_flip" not in start_params(resnet, convnet.DIMENSIONS, config.bounds, 1400)


def images(shape, n=16, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, *shape), dtype=np.uint8)


@pytest.mark.parametrize("shape", [(8, 8, 1), (28, 28, 1), (32, 32, 3)])
def test_augmentation_changes_training_images_but_never_predictions(shape):
    spec = ModelSpec((ConvLayer(8, 3, pool_after=True),), augmentation=ALL_ON)
    model = build_model(spec, shape, 10)
    x = images(shape)

    np.testing.assert_array_equal(model.predict(x, verbose=0), model.predict(x, verbose=0))
    trained_on = [np.asarray(model(x, training=True)) for _ in range(2)]
    assert not np.allclose(*trained_on)


def test_the_reference_model_has_no_augmentation_layer():
    spec = convnet.suggest_spec(optuna.trial.FixedTrial(reference_params(convnet)))
    names = [type(layer).__name__ for layer in build_model(spec.model, (8, 8, 1), 10).layers]
    assert not [n for n in names if n.startswith("Random")]


def test_tta_averages_the_images_and_their_mirrors_and_saves_as_plain_keras(tmp_path):
    model = build_model(ModelSpec((ConvLayer(4, 3),), head="flatten"), (8, 8, 1), 3)
    x = images((8, 8, 1), n=4)
    expected = (model.predict(x, verbose=0) + model.predict(x[:, :, ::-1], verbose=0)) / 2
    tta = with_tta(model)
    np.testing.assert_allclose(tta.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-7)
    symmetric = np.concatenate([x[:, :, :4], x[:, :, :4][:, :, ::-1]], axis=2)
    np.testing.assert_allclose(
        tta.predict(symmetric, verbose=0), model.predict(symmetric, verbose=0), rtol=1e-5
    )
    tta.save(tmp_path / "tta.keras")
    loaded = keras.saving.load_model(tmp_path / "tta.keras")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-7)


def resnet_small_spec():
    """The `resnet-small` start's spec, with its default augmentation (shifts and flips)."""
    (start,) = (s for s in convnet.STARTS if s.name == "resnet-small")
    spec = convnet.suggest_spec(optuna.trial.FixedTrial(reference_params(convnet) | start.params))
    assert spec.model.augmentation.translate and spec.model.augmentation.flip
    return spec


def resnet_small():
    """The `resnet-small` start's model, with its default augmentation (shifts and flips)."""
    return build_model(resnet_small_spec().model, (16, 16, 1), 10)


def test_the_default_augmentation_lets_keras_compile_the_train_step_with_xla():
    model = resnet_small()
    model.jit_compile = True  # Keras falls back to False when a layer cannot be compiled
    assert model.jit_compile is True


def bright_pixel_images(n=64, side=10):
    x = np.zeros((n, side, side, 1), np.float32)
    x[:, 5, 4, 0] = 1.0
    return x


def test_shifts_move_each_image_by_its_own_whole_pixels_within_the_bound():
    x = bright_pixel_images()
    shifted = np.asarray(RandomShift(0.2, seed=0)(x, training=True))  # bound: 2 of 10 pixels

    assert set(np.unique(shifted)) <= {0.0, 1.0}  # whole pixels: nothing interpolated
    moves = [tuple(np.argwhere(image[..., 0])[0] - (5, 4)) for image in shifted]
    assert all(abs(dy) <= 2 and abs(dx) <= 2 for dy, dx in moves)
    assert len(set(moves)) > 5  # each image its own shift, both directions
    assert np.array_equal(shifted.sum(axis=(1, 2, 3)), np.ones(len(x)))


def test_a_pixel_shifted_out_of_the_frame_leaves_zeros_behind():
    x = np.zeros((64, 10, 10, 1), np.float32)
    x[:, 0, 0, 0] = 1.0
    sums = np.asarray(RandomShift(0.2, seed=0)(x, training=True)).sum(axis=(1, 2, 3))
    assert set(sums) == {0.0, 1.0}


def test_shifts_are_the_identity_at_inference_and_survive_a_save_and_load(tmp_path):
    inputs = keras.Input((10, 10, 1))
    model = keras.Model(inputs, RandomShift(0.2, seed=3)(inputs))
    x = bright_pixel_images(n=4)
    np.testing.assert_array_equal(model.predict(x, verbose=0), x)

    model.save(tmp_path / "shift.keras")
    loaded = keras.models.load_model(tmp_path / "shift.keras")
    (layer,) = (layer for layer in loaded.layers if isinstance(layer, RandomShift))
    assert (layer.factor, layer.seed) == (0.2, 3)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), x)
    assert not np.array_equal(np.asarray(loaded(x, training=True)), x)


# Training it compiled with XLA on JAX: tests/test_jax_backend.py, in its one JAX process.
