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
from search.data import Dataset
from search.proposals import check_duplicate
from search.pruning import MONITOR, first_rung
from search.run import hardware
from search.run.continuation import (
    CONTINUE_EPOCHS,
    CONTINUE_PATIENCE,
    CONTINUE_RATE,
    continued_trial,
    epochs_before,
)
from search.run.cost import check_params, share_left
from search.run.deadline import DeadlineReached, now, read_deadline, search_until
from search.run.progress import Progress
from search.run.restart import rss_mb
from search.study import REPEAT, finished_trials
from search.vocabulary import (
    BACKEND_ATTR,
    CONTINUES_ATTR,
    DEVICE_ATTR,
    EPOCHS_RUN_ATTR,
    FAIL_REASON_ATTR,
    HOST_ATTR,
    N_CLASSES_ATTR,
    N_PARAMS_ATTR,
    PRECISION_ATTR,
    RSS_ATTR,
    SECONDS_PER_EPOCH_ATTR,
    SEED_ATTR,
    STOPPED_BY_ATTR,
    TRAIN_SECONDS_ATTR,
    VAL_LOSS_ATTR,
)
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
        self.split = config.split(dataset)
        self.progress = progress or Progress(quiet=True)
        self.artifact_store = artifact_store
        _freeze_what_exists()

    @property
    def first_rung(self) -> int:
        """Epochs before a pruner first judges a trial, for this training set's size."""
        return first_rung(len(self.split.y_train))

    def __call__(self, trial: optuna.Trial) -> float | tuple[float, ...]:
        started = now()
        spec = self.space.suggest_spec(trial, self.bounds)
        if CONTINUES_ATTR in trial.user_attrs:
            return self._continue(trial, spec)
        seed = self.weights_seed(trial)  # before the repeat check: a sweep's repeat is a param
        check_duplicate(trial)
        self._announce(trial, self.config.epochs)
        self._start(trial, seed)
        model = self._build(trial, spec)
        check_params(trial, trial.user_attrs[N_PARAMS_ATTR], self.config.max_params)
        callbacks = [
            FirstEpochTimer(trial, started),
            *self._cost_guard(trial),
            pruning_callback(trial, self.config.multi_objective),
        ]
        return self._train_to_result(trial, model, spec, self.config.epochs, callbacks)

    def weights_seed(self, trial: optuna.Trial) -> int:
        """Seed for this trial's weights and batch order (`search.training.weights_seed`). In a
        sweep (`repeats` given), repeat r gets the same seed for every value, so values differ
        only by the value."""
        if self.repeats is None:
            index = trial.number
        else:
            index = trial.suggest_int(REPEAT, 0, self.repeats - 1)
        return training.weights_seed(self.config.seed, index)

    def _continue(self, trial: optuna.Trial, spec: Spec) -> float:
        """Train trial `continues`'s model on: from its saved model, its rate decaying to zero
        over the epochs that fit before the deadline, keeping its best epoch's weights; from
        scratch, with its own training and a patient early stop, where it saved none."""
        original = continued_trial(trial)
        deadline = read_deadline(trial.study)
        if deadline is None or deadline.timestamp() <= now():
            # a queued continuation whose timed run is over (a retry, a later resume)
            raise DeadlineReached("the study's deadline has passed: nothing to train on into")
        model, initial_epoch = self._continued_model(trial, original, spec)
        epochs, patience = CONTINUE_EPOCHS, CONTINUE_PATIENCE
        if initial_epoch:  # its saved model: decay its rate to zero by the deadline
            epochs = epochs_before(deadline.timestamp(), original, CONTINUE_EPOCHS)
            # No early stop: a decay gains most in its last, low-rate epochs, and patience
            # stopped one at 243 s of 900 (the validation jitters while the rate is still high).
            patience = epochs
            training.decay_to_zero(
                model,
                CONTINUE_RATE * spec.train.learning_rate,
                epochs,
                len(self.split.y_train),
                spec.train.batch_size,
            )
        epochs += initial_epoch
        self._announce(trial, epochs)
        return self._train_to_result(
            trial,
            model,
            spec,
            epochs,
            [EpochPruning(trial, prune=False)],
            patience=patience,
            initial_epoch=initial_epoch,
        )

    def _continued_model(
        self, trial: optuna.Trial, original: FrozenTrial, spec: Spec
    ) -> tuple[keras.Model, int]:
        self._start(trial, int(original.user_attrs.get(SEED_ATTR, self.weights_seed(trial))))
        model = None if self.artifact_store is None else load_model(original, self.artifact_store)
        if model is None:
            return self._build(trial, spec), 0
        model.jit_compile = hardware.use_xla()
        trial.set_user_attr(N_PARAMS_ATTR, int(model.count_params()))
        return model, int(original.user_attrs.get(EPOCHS_RUN_ATTR, 0))

    def _announce(self, trial: optuna.Trial, epochs: int) -> None:
        self.progress.trial_started(
            trial,
            finished_trials(trial.study, in_trial=True),
            self.config.budget(read_deadline(trial.study) is not None),
            epochs,
        )

    def _start(self, trial: optuna.Trial, seed: int) -> None:
        """Start the trial's model afresh (`search.training.start`) and record where and how
        it trains."""
        precision = training.start(seed)
        trial.set_user_attr(SEED_ATTR, seed)
        trial.set_user_attr(DEVICE_ATTR, hardware.device_name())
        trial.set_user_attr(BACKEND_ATTR, keras.config.backend())
        trial.set_user_attr(PRECISION_ATTR, precision)
        trial.set_user_attr(HOST_ATTR, socket.gethostname())
        trial.set_user_attr(N_CLASSES_ATTR, self.dataset.n_classes)

    def _train_to_result(
        self,
        trial: optuna.Trial,
        model: keras.Model,
        spec: Spec,
        epochs: int,
        callbacks: list[keras.callbacks.Callback],
        patience: int | None = None,
        initial_epoch: int = 0,
    ) -> float | tuple[float, ...]:
        """Train with an early stop after `patience` epochs without progress, and return the
        trial's values. A trial the deadline cut is pruned unless it is kept (`_check_cut`);
        then it completes with the weights of its best epoch."""
        early_stopping = training.early_stopping(patience)
        history, cut = self._train(
            trial, model, spec.train.batch_size, epochs, [*callbacks, early_stopping], initial_epoch
        )
        if cut:
            self._check_cut(trial, history)
            if early_stopping.best_weights is not None:
                model.set_weights(early_stopping.best_weights)  # the deadline came mid-epoch
        return self._result(trial, model, history, spec)

    def _check_cut(self, trial: optuna.Trial, history: keras.callbacks.History) -> None:
        """Prune a trial the deadline cut unless it finished an epoch and is the study's best
        model: a continuation (it trains the best on) or a search trial that beats every
        completed trial."""
        curve = history.history.get(MONITOR, [])
        if not curve:
            raise DeadlineReached("the deadline came before a first epoch ended")
        if CONTINUES_ATTR not in trial.user_attrs and not self._leads(trial, curve):
            raise DeadlineReached("stopped by the study's deadline")

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
        trial.set_user_attr(N_PARAMS_ATTR, int(model.count_params()))
        return model

    def _cost_guard(self, trial: optuna.Trial) -> list[keras.callbacks.Callback]:
        """A `CostGuard` in a timed run: a trial may spend a share of the time left."""
        until, deadline = search_until(trial.study), read_deadline(trial.study)
        if until is None or deadline is None:
            return []
        share = len(self.split.y_val) / len(self.split.y_train)
        allowed = lambda: share_left(until, deadline.timestamp())  # noqa: E731
        return [CostGuard(trial, self.config.epochs, share, allowed)]

    def _leads(self, trial: optuna.Trial, curve: list[float]) -> bool:
        """Whether a trial the deadline cut beats every completed trial: then it is the best
        model found, and completes at its best epoch instead of being pruned."""
        return not self.config.multi_objective and is_new_best(trial, max(curve))

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
            trial.set_user_attr(EPOCHS_RUN_ATTR, epochs_run)
            trial.set_user_attr(TRAIN_SECONDS_ATTR, round(seconds, 3))
            trial.set_user_attr(SECONDS_PER_EPOCH_ATTR, round(seconds / max(epochs_run, 1), 3))
            trial.set_user_attr(RSS_ATTR, round(rss_mb()))
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
        trial.set_user_attr(VAL_LOSS_ATTR, float(history.history["val_loss"][best_epoch]))
        values = {
            "accuracy": float(val_acc[best_epoch]),
            "time": float(trial.user_attrs[TRAIN_SECONDS_ATTR]),
            "params": float(trial.user_attrs[N_PARAMS_ATTR]),
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
    trial.set_user_attr(FAIL_REASON_ATTR, reason)
    raise TrialFailed(reason)
