"""The one training routine: how a model is built for a spec and fitted, for a trial, for a
trial trained on (search.run.continuation) and for the model `evaluate` trains again."""

from __future__ import annotations

import math

import keras

from search.callbacks import StopOnNaN, StopOnRequest
from search.data import Split
from search.pruning import MONITOR
from search.run import hardware
from spaces import Spec
from spaces.build import build_model, compile_model, has_schedule
from spaces.schedule import DecayToZero

EARLY_STOP_PATIENCE = 3
LR_PATIENCE = 2


def weights_seed(study_seed: int | None, index: int) -> int:
    """The seed of a trial's weights and batch order, from the study's --seed and the trial's
    index: its number, or in a sweep its repeat's, so that repeat r starts alike for every value
    (the sampler's seed is `search.study.sampler_seed`)."""
    return (study_seed or 0) * 100_003 + index


def start(seed: int) -> str:
    """Start a model afresh, for a trial, a continuation or `evaluate`: free what earlier models
    left (`clear_session` collects garbage, see `search.objective._freeze_what_exists`), apply
    this machine's precision policy, and seed the weights and the batch order. Returns the
    precision."""
    keras.backend.clear_session()
    precision = hardware.apply_precision()
    keras.utils.set_random_seed(seed)
    return precision


def build(
    spec: Spec, input_shape: tuple[int, ...], n_classes: int, n_train: int, epochs: int
) -> keras.Model:
    """The spec's model, compiled for this machine (XLA where it pays, see search.run.hardware),
    its schedule sized to `epochs` over `n_train` images.
    Raises `spaces.build.SpecError` for a spec that cannot be built for this input."""
    model = build_model(spec.model, input_shape, n_classes)
    steps_per_epoch = math.ceil(n_train / spec.train.batch_size)
    compile_model(model, spec.train, hardware.use_xla(), steps_per_epoch, epochs)
    return model


def decay_to_zero(
    model: keras.Model, rate: float, epochs: int, n_train: int, batch_size: int
) -> None:
    """Make a trained `model` follow `spaces.schedule.DecayToZero` from `rate` over its next
    `epochs` epochs of `n_train` images, from the optimizer's step count on."""
    steps = epochs * math.ceil(n_train / batch_size)
    start = int(keras.ops.convert_to_numpy(model.optimizer.iterations))
    model.optimizer.learning_rate = DecayToZero(rate, start, steps)


def early_stopping(patience: int | None = None) -> keras.callbacks.EarlyStopping:
    """Stops after `patience` epochs (EARLY_STOP_PATIENCE) without a better validation
    accuracy and keeps the weights of the best epoch (in `best_weights` when fit is cut)."""
    return keras.callbacks.EarlyStopping(
        monitor=MONITOR,
        patience=EARLY_STOP_PATIENCE if patience is None else patience,
        restore_best_weights=True,
    )


def fit(
    model: keras.Model,
    split: Split,
    batch_size: int,
    epochs: int,
    callbacks: list[keras.callbacks.Callback],
    initial_epoch: int = 0,
    history: keras.callbacks.History | None = None,
) -> keras.callbacks.History:
    """Train on the split's training images, validating each epoch, with `callbacks` and the
    three every model gets: a stop after a NaN loss, a stop when the worker is asked to stop
    (`search.run.stopping`), and a learning rate halved on a plateau, unless the model follows
    a schedule (whose rate Keras cannot set).
    Pass `history` to keep the epochs so far when a callback's exception ends the fit."""
    history = history or keras.callbacks.History()
    model.fit(
        split.x_train,
        split.y_train,
        validation_data=(split.x_val, split.y_val),
        initial_epoch=initial_epoch,
        epochs=epochs,
        batch_size=batch_size,
        verbose=0,
        callbacks=[
            history,
            StopOnNaN(),
            StopOnRequest(),
            *callbacks,
            *([] if has_schedule(model) else [halve_on_plateau()]),
        ],
    )
    return history


def halve_on_plateau() -> keras.callbacks.ReduceLROnPlateau:
    return keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=LR_PATIENCE)
