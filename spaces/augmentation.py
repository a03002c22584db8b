"""Augmentation as Keras layers inside the model, and test-time augmentation (TTA).

The random layers (Keras' flips and erasing, and `RandomShift` here) change images only when the
model trains (`training=True` in `fit`), so `predict` and `evaluate` see the images as they are,
and the augmentation runs on the model's device as part of its graph, costing no Python per batch.
"""

from __future__ import annotations

import keras
from keras import layers

from spaces.spec import Augmentation

ERASED_AREA = (0.02, 0.25)  # of the image, per erased patch (Random Erasing's usual range)


@keras.saving.register_keras_serializable(package="cnnsearch")
class RandomShift(layers.Layer):
    """Shifts each training image by its own random whole-pixel offset in each direction, up to
    `round(factor * side)` pixels, filling the uncovered border with zeros; the identity at
    inference.

    Keras' `RandomTranslation` does the same but is not XLA-compilable (`supports_jit = False`),
    which makes Keras train the whole model eagerly: on JAX, an epoch ten times slower. This
    layer uses only `keras.ops` and `keras.random`, so the train step still compiles."""

    def __init__(self, factor: float, seed: int | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.factor = float(factor)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, images, training=None):
        if not training:
            return images
        rows = self._shifted(images.shape[1], images)
        columns = self._shifted(images.shape[2], images)
        return keras.ops.einsum("nip,npqc,njq->nijc", rows, images, columns)

    def _shifted(self, side: int, images):
        """One (side, side) matrix per image that picks, for each output pixel along an axis,
        the input pixel `offset` further (a row of zeros where that one is outside the image)."""
        bound = round(self.factor * side)
        batch = keras.ops.shape(images)[0]
        offset = keras.random.randint((batch, 1, 1), -bound, bound + 1, seed=self.seed_generator)
        positions = keras.ops.arange(side, dtype="int32")
        wanted = positions[None, :, None] + offset  # (batch, output pixel, 1)
        return keras.ops.cast(keras.ops.equal(wanted, positions[None, None, :]), images.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "factor": self.factor, "seed": self.seed}


_RANDOM_LAYERS = (RandomShift, layers.RandomFlip, layers.RandomErasing)


def augment(x, augmentation: Augmentation):
    """`x` (images scaled to [0, 1]) through the random layers `augmentation` asks for."""
    if augmentation.translate:
        x = RandomShift(augmentation.translate)(x)
    if augmentation.flip:
        x = layers.RandomFlip("horizontal")(x)
    if augmentation.erase:
        probability = (augmentation.erase, augmentation.erase)
        x = layers.RandomErasing(probability, ERASED_AREA, fill_value=0.0, value_range=(0, 1))(x)
    return x


def for_inference(model: keras.Model) -> keras.Model:
    """`model` as it predicts: its random layers (the identity at inference) replaced by Keras'
    `Identity`, sharing its other layers and weights, and uncompiled (no loss, optimizer or
    schedule). It holds only Keras' own layers, so it loads where cnnsearch is not installed."""

    def inference_layer(layer: layers.Layer) -> layers.Layer:
        return layers.Identity(name=layer.name) if isinstance(layer, _RANDOM_LAYERS) else layer

    clone = keras.models.clone_model(model, clone_function=inference_layer)
    # clone_model compiles its clone as the model was; a new Model over the same graph is not
    return keras.Model(clone.input, clone.output, name=model.name)


def with_tta(model: keras.Model) -> keras.Model:
    """`model` predicting the mean of its class probabilities for each image and its horizontal
    mirror (test-time augmentation), a plain Keras model around `model`. Use it only where flips
    keep the labels (`search.data.flips_keep_labels`)."""
    inputs = keras.Input(model.input_shape[1:], dtype=model.inputs[0].dtype)
    mirrored = keras.ops.flip(inputs, axis=2)  # (N, H, W, C): axis 2 runs along the width
    return keras.Model(inputs, layers.Average()([model(inputs), model(mirrored)]))
