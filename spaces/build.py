"""Turn a `ModelSpec` into a Keras model. Never sees a trial: a spec is plain data."""

from __future__ import annotations

import keras
from keras import layers

from spaces.augmentation import augment
from spaces.schedule import WarmupCosine
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
    8x8 inputs as on 32x32. A residual spec adds each conv block's input (the layers up to a
    pool) to its output, through a 1x1 convolution where the width changes.
    """
    if spec.residual and spec.padding != "same":
        raise SpecError("residual blocks need 'same' padding: a skip must match its block's size")
    inputs = keras.Input(shape=input_shape, dtype="uint8")
    x = layers.Rescaling(1.0 / 255)(inputs)
    if spec.augmentation.active:
        x = augment(x, spec.augmentation)
    height, width = input_shape[0], input_shape[1]
    block_input = x
    for i, conv in enumerate(spec.conv_layers):
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
        block_ends = conv.pool_after or i == len(spec.conv_layers) - 1
        if spec.residual and block_ends:
            x = _skip(block_input, x)
        if conv.pool_after and min(height, width) // 2 >= MIN_POOLED_SIDE:
            x = _pool(spec.pool)(x)
            height, width = height // 2, width // 2
            x = _dropout(x, spec.dropout)
        if block_ends:
            block_input = x
    if spec.conv_layers and spec.head == "global":
        pooling = {"max": layers.GlobalMaxPooling2D, "avg": layers.GlobalAveragePooling2D}
        x = pooling[spec.global_pool]()(x)
    else:
        x = layers.Flatten()(x)
    for units in spec.dense_units:
        x = layers.Dense(units, activation=spec.activation)(x)
        x = _dropout(x, spec.dropout)
    # float32 even under a mixed-precision policy: a float16 softmax loses small probabilities.
    outputs = layers.Dense(n_classes, activation="softmax", dtype="float32")(x)
    return keras.Model(inputs, outputs)


def compile_model(
    model: keras.Model,
    train: TrainSpec,
    jit_compile: bool = False,
    steps_per_epoch: int | None = None,
    epochs: int | None = None,
) -> None:
    """Compile for integer labels. XLA is off by default: on CPU it made small CNNs 3x slower.
    The cosine schedule spans `epochs` of `steps_per_epoch` steps, which it then needs."""
    optimizers = {
        "adam": keras.optimizers.Adam,
        "sgd": lambda **kw: keras.optimizers.SGD(momentum=0.9, **kw),
        "rmsprop": keras.optimizers.RMSprop,
    }
    rate = train.learning_rate
    if train.schedule == "cosine":
        if not (steps_per_epoch and epochs):
            raise ValueError("the cosine schedule needs steps_per_epoch and epochs")
        rate = WarmupCosine(train.learning_rate, steps_per_epoch * epochs)
    model.compile(
        optimizer=optimizers[train.optimizer](
            learning_rate=rate, weight_decay=train.weight_decay or None
        ),
        loss=(
            SmoothedSparseCrossentropy(train.label_smoothing)
            if train.label_smoothing
            else "sparse_categorical_crossentropy"
        ),
        metrics=["accuracy"],
        jit_compile=jit_compile,
    )


def has_schedule(model: keras.Model) -> bool:
    """Whether the model's optimizer follows a schedule (its rate cannot be set by hand)."""
    return isinstance(model.optimizer.get_config()["learning_rate"], dict)


@keras.saving.register_keras_serializable(package="cnnsearch")
class SmoothedSparseCrossentropy(keras.losses.Loss):
    """Cross-entropy with label smoothing for integer labels: Keras' sparse loss has no
    `label_smoothing`, its categorical one wants one-hot labels."""

    def __init__(self, label_smoothing: float, **kwargs) -> None:
        super().__init__(name=kwargs.pop("name", "smoothed_sparse_crossentropy"), **kwargs)
        self.label_smoothing = float(label_smoothing)

    def call(self, y_true, y_pred):
        labels = keras.ops.cast(keras.ops.reshape(y_true, (-1,)), "int32")
        one_hot = keras.ops.one_hot(labels, keras.ops.shape(y_pred)[-1], dtype=y_pred.dtype)
        return keras.losses.categorical_crossentropy(
            one_hot, y_pred, label_smoothing=self.label_smoothing
        )

    def get_config(self) -> dict:
        return {**super().get_config(), "label_smoothing": self.label_smoothing}


def _skip(block_input, block_output):
    """The block's output plus its input, projected by a 1x1 convolution to the output's width
    where the widths differ."""
    if block_input.shape[-1] != block_output.shape[-1]:
        block_input = layers.Conv2D(block_output.shape[-1], 1, use_bias=False)(block_input)
    return layers.Add()([block_output, block_input])


def _pool(kind: str) -> layers.Layer:
    return (
        layers.MaxPooling2D(pool_size=2) if kind == "max" else layers.AveragePooling2D(pool_size=2)
    )


def _dropout(x, rate: float):
    return layers.Dropout(rate)(x) if rate > 0 else x
