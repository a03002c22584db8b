"""Turn a `ModelSpec` into a Keras model. Never sees a trial: a spec is plain data."""

from __future__ import annotations

import keras
from keras import layers

from spaces.spec import ModelSpec, TrainSpec

MIN_POOLED_SIDE = 2
# Keras' default 0.99 needs hundreds of steps before the moving statistics fit the weights, so
# a batch-norm net validates near chance for its first epochs on small or subsampled data, and
# pruning, which judges those epochs, would throw it away.
BN_MOMENTUM = 0.9


class SpecError(ValueError):
    """The spec cannot be built for this input (the trial fails; the study goes on)."""


def build_model(spec: ModelSpec, input_shape: tuple[int, ...], n_classes: int) -> keras.Model:
    """A classifier for uint8 images of `input_shape`; scaling to [0, 1] happens in the model.

    A pool that would shrink the feature map below 2x2 is skipped, so every depth builds on
    8x8 inputs as on 32x32.
    """
    inputs = keras.Input(shape=input_shape, dtype="uint8")
    x = layers.Rescaling(1.0 / 255)(inputs)
    height, width = input_shape[0], input_shape[1]
    for conv in spec.conv_layers:
        if spec.padding == "valid":
            height, width = height - conv.kernel_size + 1, width - conv.kernel_size + 1
            if min(height, width) < 1:
                raise SpecError(
                    f"a {conv.kernel_size}x{conv.kernel_size} valid convolution does not fit "
                    f"the {input_shape[0]}x{input_shape[1]} input at this depth"
                )
        x = layers.Conv2D(
            conv.filters, conv.kernel_size, padding=spec.padding, use_bias=not spec.batch_norm
        )(x)
        if spec.batch_norm:
            x = layers.BatchNormalization(momentum=BN_MOMENTUM)(x)
        x = layers.Activation(spec.activation)(x)
        if conv.pool_after and min(height, width) // 2 >= MIN_POOLED_SIDE:
            x = _pool(spec.pool)(x)
            height, width = height // 2, width // 2
            x = _dropout(x, spec.dropout)
    if spec.conv_layers and spec.head == "global":
        x = layers.GlobalMaxPooling2D()(x)
    else:
        x = layers.Flatten()(x)
    for units in spec.dense_units:
        x = layers.Dense(units, activation=spec.activation)(x)
        x = _dropout(x, spec.dropout)
    # float32 even under a mixed-precision policy: a float16 softmax loses small probabilities.
    outputs = layers.Dense(n_classes, activation="softmax", dtype="float32")(x)
    return keras.Model(inputs, outputs)


def compile_model(model: keras.Model, train: TrainSpec, jit_compile: bool = False) -> None:
    """Compile for integer labels. XLA is off by default: on CPU it made small CNNs 3x slower."""
    optimizers = {
        "adam": keras.optimizers.Adam,
        "sgd": lambda learning_rate: keras.optimizers.SGD(learning_rate, momentum=0.9),
        "rmsprop": keras.optimizers.RMSprop,
    }
    model.compile(
        optimizer=optimizers[train.optimizer](learning_rate=train.learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        jit_compile=jit_compile,
    )


def _pool(kind: str) -> layers.Layer:
    return (
        layers.MaxPooling2D(pool_size=2) if kind == "max" else layers.AveragePooling2D(pool_size=2)
    )


def _dropout(x, rate: float):
    return layers.Dropout(rate)(x) if rate > 0 else x
