"""Augmentation as Keras layers inside the model, and test-time augmentation (TTA).

Keras' random preprocessing layers change images only when the model trains (`training=True`
in `fit`), so `predict` and `evaluate` see the images as they are, and the augmentation runs on
the model's device as part of its graph, costing no Python per batch.
"""

from __future__ import annotations

import keras
import numpy as np
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


def predict_tta(model: keras.Model, images: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Class probabilities averaged over the images and their horizontal mirrors. Use it only
    where flips keep the labels (`search.data.flips_keep_labels`)."""
    mirrored = np.ascontiguousarray(images[:, :, ::-1])
    plain = model.predict(images, batch_size=batch_size, verbose=0)
    return (plain + model.predict(mirrored, batch_size=batch_size, verbose=0)) / 2
