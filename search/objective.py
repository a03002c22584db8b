"""One trial: suggest a spec, build it, train with pruning, record what happened."""

from __future__ import annotations

import gc
import math
import socket
import time

import keras
import numpy as np
import optuna
from optuna.trial import FrozenTrial

from errors import TrialFailed
from search import training
from search.artifacts import is_new_best, load_model, save_best
from search.callbacks import (
    CostGuard,
    DeadlineCallback,
    EpochPruning,
    EpochReporter,
    FirstEpochTimer,
    pruning_callback,
)
from search.config import SearchConfig
from search.data import Dataset, split_validation
from search.proposals import check_duplicate
from search.pruning import MONITOR, first_rung
from search.run import hardware
from search.run.continuation import CONTINUE_EPOCHS, CONTINUE_PATIENCE, continued_trial
from search.run.cost import check_params, share_left
from search.run.deadline import DeadlineReached, now, read_deadline, search_until
from search.run.progress import Progress
from search.run.restart import rss_mb
from search.study import REPEAT, finished_trials
from search.vocabulary import CONTINUES_ATTR, STOPPED_BY_ATTR
from spaces import Spec, get_space
from spaces.build import SpecError


class Objective:
    """The callable Optuna runs per trial; built once per process, data loaded once.

    A trial trains a new configuration; one that carries the user attr `continues` (queued at
    the end of a timed run, `search.run.continuation`) trains that trial's model on instead.

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

    @property
    def first_rung(self) -> int:
        """Epochs before a pruner first judges a trial, for this training set's size."""
        return first_rung(len(self.split.y_train))

    def __call__(self, trial: optuna.Trial) -> float | tuple[float, ...]:
        started = now()
        keras.backend.clear_session()  # with a garbage collection, of what trials left only
        precision = hardware.apply_precision()
        spec = self.space.suggest_spec(trial, self.bounds)
        if CONTINUES_ATTR in trial.user_attrs:
            return self._continue(trial, spec, precision)
        check_duplicate(trial)
        self.progress.trial_started(
            trial,
            finished_trials(trial.study, in_trial=True),
            self.config.budget(read_deadline(trial.study) is not None),
            self.config.epochs,
        )
        self._record_machine(trial, self.trial_seed(trial), precision)
        model = self._build(trial, spec)
        check_params(trial, trial.user_attrs["n_params"], self.config.max_params)
        early_stopping = training.early_stopping()
        history, cut = self._train(
            trial,
            model,
            spec.train.batch_size,
            epochs=self.config.epochs,
            callbacks=[
                FirstEpochTimer(trial, started),
                *self._cost_guard(trial),
                pruning_callback(trial, self.config.multi_objective),
                early_stopping,
            ],
        )
        if cut and not self._leads(trial, history):
            raise DeadlineReached("stopped by the study's deadline")
        if cut and early_stopping.best_weights is not None:
            model.set_weights(early_stopping.best_weights)  # the deadline came mid-epoch
        return self._result(trial, model, history, spec)

    def trial_seed(self, trial: optuna.Trial) -> int:
        """Seed for this trial's weights and batch order. In a sweep (`repeats` given), repeat r
        gets the same seed for every value, so values differ only by the value."""
        if self.repeats is None:
            index = trial.number
        else:
            index = trial.suggest_int(REPEAT, 0, self.repeats - 1)
        return (self.config.seed or 0) * 100_003 + index

    def _continue(self, trial: optuna.Trial, spec: Spec, precision: str) -> float:
        """Train trial `continues`'s model on until the deadline or until it stops improving
        (a patient early stop), from its saved model, or from scratch where it saved none."""
        original = continued_trial(trial)
        deadline = read_deadline(trial.study)
        if deadline is None or deadline.timestamp() <= now():
            # a queued continuation whose timed run is over (a retry, a later resume)
            raise DeadlineReached("the study's deadline has passed: nothing to train on into")
        model, initial_epoch = self._continued_model(trial, original, spec, precision)
        self.progress.trial_started(
            trial,
            finished_trials(trial.study, in_trial=True),
            self.config.budget(timed=True),
            initial_epoch + CONTINUE_EPOCHS,
        )
        early_stopping = training.early_stopping(CONTINUE_PATIENCE)
        history, cut = self._train(
            trial,
            model,
            spec.train.batch_size,
            epochs=initial_epoch + CONTINUE_EPOCHS,
            initial_epoch=initial_epoch,
            callbacks=[EpochPruning(trial, prune=False), early_stopping],
        )
        if not history.history.get(MONITOR):
            raise DeadlineReached("the deadline came before a first epoch ended")
        if cut and early_stopping.best_weights is not None:
            model.set_weights(early_stopping.best_weights)
        return self._result(trial, model, history, spec)

    def _continued_model(
        self, trial: optuna.Trial, original: FrozenTrial, spec: Spec, precision: str
    ) -> tuple[keras.Model, int]:
        seed = int(original.user_attrs.get("seed", self.trial_seed(trial)))
        self._record_machine(trial, seed, precision)
        model = None if self.artifact_store is None else load_model(original, self.artifact_store)
        if model is None:
            return self._build(trial, spec), 0
        model.jit_compile = hardware.use_xla()
        trial.set_user_attr("n_params", int(model.count_params()))
        return model, int(original.user_attrs.get("epochs_run", 0))

    def _record_machine(self, trial: optuna.Trial, seed: int, precision: str) -> None:
        keras.utils.set_random_seed(seed)
        trial.set_user_attr("seed", seed)
        trial.set_user_attr("device", hardware.device_name())
        trial.set_user_attr("backend", keras.config.backend())
        trial.set_user_attr("precision", precision)
        trial.set_user_attr("host", socket.gethostname())
        trial.set_user_attr("n_classes", self.dataset.n_classes)  # chance is 1/n_classes

    def _build(self, trial: optuna.Trial, spec: Spec) -> keras.Model:
        try:
            model = training.build(
                spec,
                self.dataset.input_shape,
                self.dataset.n_classes,
                len(self.split.y_train),
                self.config.epochs,
            )
        except SpecError as e:
            fail(trial, f"spec cannot be built: {e}")
        trial.set_user_attr("n_params", int(model.count_params()))
        return model

    def _cost_guard(self, trial: optuna.Trial) -> list[keras.callbacks.Callback]:
        """A `CostGuard` in a timed run: a trial may spend a share of the time left."""
        until, deadline = search_until(trial.study), read_deadline(trial.study)
        if until is None or deadline is None:
            return []
        share = len(self.split.y_val) / len(self.split.y_train)
        allowed = lambda: share_left(until, deadline.timestamp())  # noqa: E731
        return [CostGuard(trial, self.config.epochs, share, allowed)]

    def _leads(self, trial: optuna.Trial, history: keras.callbacks.History) -> bool:
        """Whether a trial the deadline cut beats every completed trial: then it is the best
        model found, and completes at its best epoch instead of being pruned."""
        curve = history.history.get(MONITOR, [])
        if self.config.multi_objective or not curve:
            return False
        return is_new_best(trial, max(curve))

    def _train(
        self,
        trial: optuna.Trial,
        model: keras.Model,
        batch_size: int,
        epochs: int,
        callbacks: list[keras.callbacks.Callback],
        initial_epoch: int = 0,
    ) -> tuple[keras.callbacks.History, bool]:
        """Fit with the callbacks every trial has; returns the history and whether the study's
        deadline cut the training (between two batches)."""
        deadline = read_deadline(trial.study)
        history = keras.callbacks.History()
        callbacks = [
            *([DeadlineCallback(deadline)] if deadline is not None else []),
            EpochReporter(self.progress, epochs),
            *callbacks,
        ]
        started, cut = time.perf_counter(), False
        try:
            training.fit(model, self.split, batch_size, epochs, callbacks, initial_epoch, history)
        except DeadlineReached:
            # A trial stopped inside its first epoch has nothing reported: finishing the epoch
            # or validating would overrun.
            trial.set_user_attr(STOPPED_BY_ATTR, "deadline")
            cut = True
        finally:
            seconds = time.perf_counter() - started
            epochs_run = len(history.history.get("loss", []))
            trial.set_user_attr("epochs_run", epochs_run)
            trial.set_user_attr("train_seconds", round(seconds, 3))
            trial.set_user_attr("seconds_per_epoch", round(seconds / max(epochs_run, 1), 3))
            trial.set_user_attr("rss_mb", round(rss_mb()))
        return history, cut

    def _result(
        self,
        trial: optuna.Trial,
        model: keras.Model,
        history: keras.callbacks.History,
        spec: Spec,
    ) -> float | tuple[float, ...]:
        """The trial's values at its best epoch; a new best saves its model."""
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


def _freeze_what_exists() -> None:
    """Keep the objects that exist before the first trial (TensorFlow's half a million, the data)
    out of the garbage collector's sight: they live as long as the process, and the collection
    `clear_session` makes before every trial then scans only what trials left, taking 0.01 s
    instead of 0.25 s (timed by hand on this 2-core CPU, not by a benchmark)."""
    gc.collect()
    gc.freeze()


def fail(trial: optuna.Trial, reason: str) -> None:
    trial.set_user_attr("fail_reason", reason)
    raise TrialFailed(reason)
