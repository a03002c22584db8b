"""One trial: suggest a spec, build it, train with pruning, record what happened."""

from __future__ import annotations

import gc
import math
import socket
import time

import keras
import numpy as np
import optuna

from search import hardware
from search.artifacts import is_new_best, save_best
from search.config import SearchConfig
from search.data import Dataset, split_validation
from search.deadline import (
    STOPPED_BY_ATTR,
    DeadlineCallback,
    DeadlineReached,
    FirstEpochTimer,
    now,
    read_deadline,
)
from search.progress import EpochReporter, Progress
from search.pruning import MONITOR, pruning_callback
from search.restart import rss_mb
from search.study import REPEAT, finished_trials
from spaces import get_space
from spaces.build import SpecError, build_model, compile_model

EARLY_STOP_PATIENCE = 3
LR_PATIENCE = 2


class TrialFailed(Exception):
    """This trial cannot produce a result (a spec that cannot be built, a loss that turned NaN).
    The trial is recorded FAIL with the reason and the study goes on."""


class Objective:
    """The callable Optuna runs per trial; built once per process, data loaded once.

    Example:
        >>> objective = Objective(SearchConfig("digits", epochs=2), search.data.load("digits"))
        >>> study.optimize(objective, n_trials=3, catch=(TrialFailed,))
    """

    def __init__(
        self,
        config: SearchConfig,
        dataset: Dataset,
        progress: Progress | None = None,
        artifact_store: optuna.artifacts.FileSystemArtifactStore | None = None,
        repeats: int | None = None,
    ) -> None:
        self.config = config
        self.repeats = repeats
        self.space = get_space(config.space)
        self.bounds = config.bounds
        self.dataset = dataset
        self.split = split_validation(
            dataset, config.val_fraction, config.seed or 0, config.train_size
        )
        self.progress = progress or Progress(quiet=True)
        self.artifact_store = artifact_store
        _freeze_what_exists()

    def __call__(self, trial: optuna.Trial) -> float | tuple[float, ...]:
        started = now()
        keras.backend.clear_session()  # with a garbage collection, of what trials left only
        precision = hardware.apply_precision()
        spec = self.space.suggest_spec(trial, self.bounds)
        self.progress.trial_started(
            trial,
            finished_trials(trial.study, in_trial=True),
            self.config.trials,
            self.config.epochs,
        )
        seed = self.trial_seed(trial)
        keras.utils.set_random_seed(seed)
        trial.set_user_attr("seed", seed)
        trial.set_user_attr("device", hardware.device_name())
        trial.set_user_attr("backend", keras.config.backend())
        trial.set_user_attr("precision", precision)
        trial.set_user_attr("host", socket.gethostname())
        try:
            model = build_model(spec.model, self.dataset.input_shape, self.dataset.n_classes)
        except SpecError as e:
            fail(trial, f"spec cannot be built: {e}")
        compile_model(model, spec.train, jit_compile=hardware.use_xla())
        trial.set_user_attr("n_params", int(model.count_params()))

        history = self._fit(trial, model, spec.train.batch_size, started)
        losses = history.history.get("loss", [])
        if any(not math.isfinite(v) for v in losses):
            fail(
                trial,
                f"loss became NaN at epoch {len(losses)}; try a lower learning_rate "
                f"(this trial had {spec.train.learning_rate:.3g})",
            )
        val_acc = history.history[MONITOR]
        best_epoch = int(np.argmax(val_acc))
        trial.set_user_attr("val_loss", float(history.history["val_loss"][best_epoch]))
        values = {
            "accuracy": float(val_acc[best_epoch]),
            "time": float(trial.user_attrs["train_seconds"]),
            "params": float(trial.user_attrs["n_params"]),
        }
        if self.artifact_store is not None and is_new_best(trial, values["accuracy"]):
            save_best(trial, model, history.history, self.artifact_store)
        result = tuple(values[o] for o in self.config.objectives)
        return result[0] if len(result) == 1 else result

    def trial_seed(self, trial: optuna.Trial) -> int:
        """Seed for this trial's weights and batch order. In a sweep (`repeats` given), repeat r
        gets the same seed for every value, so values differ only by the value."""
        if self.repeats is None:
            index = trial.number
        else:
            index = trial.suggest_int(REPEAT, 0, self.repeats - 1)
        return (self.config.seed or 0) * 100_003 + index

    def _fit(
        self, trial: optuna.Trial, model: keras.Model, batch_size: int, started: float
    ) -> keras.callbacks.History:
        deadline = read_deadline(trial.study)
        callbacks = [
            *([DeadlineCallback(deadline)] if deadline is not None else []),
            FirstEpochTimer(trial, started),
            StopOnNaN(),
            EpochReporter(self.progress, self.config.epochs),
            pruning_callback(trial, self.config.multi_objective),
            keras.callbacks.EarlyStopping(
                monitor=MONITOR, patience=EARLY_STOP_PATIENCE, restore_best_weights=True
            ),
            keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=LR_PATIENCE),
        ]
        history = keras.callbacks.History()
        started = time.perf_counter()
        try:
            model.fit(
                self.split.x_train,
                self.split.y_train,
                validation_data=(self.split.x_val, self.split.y_val),
                epochs=self.config.epochs,
                batch_size=batch_size,
                verbose=0,
                callbacks=[history, *callbacks],
            )
        except DeadlineReached:
            # Pruned at its last reported epoch, curve kept; a trial stopped inside its first
            # epoch has nothing reported: finishing the epoch or validating would overrun.
            trial.set_user_attr(STOPPED_BY_ATTR, "deadline")
            raise
        finally:
            seconds = time.perf_counter() - started
            epochs_run = len(history.history.get("loss", []))
            trial.set_user_attr("epochs_run", epochs_run)
            trial.set_user_attr("train_seconds", round(seconds, 3))
            trial.set_user_attr("seconds_per_epoch", round(seconds / max(epochs_run, 1), 3))
            trial.set_user_attr("rss_mb", round(rss_mb()))
        return history


def _freeze_what_exists() -> None:
    """Keep the objects that exist before the first trial (TensorFlow's half a million, the data)
    out of the garbage collector's sight: they live as long as the process, and the collection
    `clear_session` makes before every trial then scans only what trials left, taking 0.01 s
    instead of 0.25 s (timed by hand on this 2-core CPU, not by a benchmark)."""
    gc.collect()
    gc.freeze()


class StopOnNaN(keras.callbacks.Callback):
    """Stops training after an epoch whose loss is not finite. Keras' TerminateOnNaN checks
    every batch, which syncs host and device each step."""

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if not math.isfinite((logs or {}).get("loss", 0.0)):
            self.model.stop_training = True


def fail(trial: optuna.Trial, reason: str) -> None:
    trial.set_user_attr("fail_reason", reason)
    raise TrialFailed(reason)
