"""Augmentation as Keras layers inside the model, and test-time augmentation (TTA).

Keras' random preprocessing layers change images only when the model trains (`training=True`
in `fit`), so `predict` and `evaluate` see the images as they are, and the augmentation runs on
the model's device as part of its graph, costing no Python per batch.
"""

from __future__ import annotations

import keras
from keras import layers

from spaces.spec import Augmentation

ERASED_AREA = (0.02, 0.25)  # of the image, per erased patch (Random Erasing's usual range)


def augment(x, augmentation: Augmentation):
    """`x` (images scaled to [0, 1]) through the random layers `augmentation` asks for."""
    if augmentation.translate:
        factor = augmentation.translate
        x = layers.RandomTranslation(factor, factor, fill_mode="constant")(x)
    if augmentation.flip:
        x = layers.RandomFlip("horizontal")(x)
    if augmentation.erase:
        probability = (augmentation.erase, augmentation.erase)
        x = layers.RandomErasing(probability, ERASED_AREA, fill_value=0.0, value_range=(0, 1))(x)
    return x


def with_tta(model: keras.Model) -> keras.Model:
    """`model` predicting the mean of its class probabilities for each image and its horizontal
    mirror (test-time augmentation). A plain Keras model: it saves and loads without cnnsearch.
    Use it only where flips keep the labels (`search.data.flips_keep_labels`)."""
    inputs = keras.Input(model.input_shape[1:], dtype=model.inputs[0].dtype)
    mirrored = keras.ops.flip(inputs, axis=2)  # (N, H, W, C): axis 2 runs along the width
    return keras.Model(inputs, layers.Average()([model(inputs), model(mirrored)]))
