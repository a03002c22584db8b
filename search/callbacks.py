"""The Keras callbacks of a fit: the two every fit carries (a stop after a NaN loss, a stop when
the worker is asked to stop), and a trial's reports to the pruner, progress line, deadline, cost
guard and first-epoch clock.

The rules they apply live in Keras-free modules (`search.pruning`, `search.run.deadline`,
`search.run.cost`, `search.run.progress`, `search.run.stopping`), which the trial loop imports:
a process that trains nothing itself (a multi-slot parent, the tests' fake workers) then starts
without Keras, in a second. Only the modules that train import this one.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import datetime

import keras
import optuna
from optuna_integration.keras import KerasPruningCallback

from search.pruning import MONITOR
from search.run.cost import PROBE_BATCHES, VALIDATION_COST, stop
from search.run.deadline import DeadlineReached, now, show_when
from search.run.progress import Progress
from search.run.stopping import raise_if_stop_requested
from search.vocabulary import CURVE_ATTR, FIRST_EPOCH_ATTR, PROJECTED_ATTR


class EpochReporter(keras.callbacks.Callback):
    """Keras callback forwarding each epoch's logs to `Progress`."""

    def __init__(self, progress: Progress, epochs: int) -> None:
        super().__init__()
        self.progress, self.epochs = progress, epochs
        self._started = time.perf_counter()

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._started = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.progress.epoch_ended(
            epoch, self.epochs, logs or {}, time.perf_counter() - self._started
        )


class DeadlineCallback(keras.callbacks.Callback):
    """Stops training between two batches (training or validation) once the next batch would
    end after the deadline, by raising `DeadlineReached`.

    The check is one clock read and a few float operations per batch. It expects the next batch
    to last as long as the last one, so the trial stops at the deadline rather than one batch
    late; an epoch's first batch is not taken as typical (it carries graph tracing and the
    previous epoch's end).
    """

    def __init__(self, deadline: datetime, clock: Callable[[], float] | None = None) -> None:
        super().__init__()
        self.deadline = deadline.timestamp()
        self.clock = clock or now
        self._last = self.clock()
        self._step = 0.0

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._check(typical=False)

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self._check(typical=batch > 0)

    def on_test_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self._check(typical=batch > 0)

    def _check(self, typical: bool) -> None:
        t = self.clock()
        if typical:
            self._step = t - self._last
        self._last = t
        if t + self._step >= self.deadline:
            raise DeadlineReached(f"stopped by the study's deadline {show_when(self.deadline)}")


class FirstEpochTimer(keras.callbacks.Callback):
    """Records seconds from `started` (the trial's start) to the end of its first epoch, the
    history `should_start` estimates from."""

    def __init__(self, trial: optuna.Trial, started: float) -> None:
        super().__init__()
        self.trial, self.started = trial, started

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if epoch == 0:
            self.trial.set_user_attr(FIRST_EPOCH_ATTR, round(now() - self.started, 3))


class CostGuard(keras.callbacks.Callback):
    """Times the first batches of training and stops the trial when all its epochs (validation
    included) would take longer than `allowed()` seconds, read at that moment."""

    def __init__(
        self,
        trial: optuna.Trial,
        epochs: int,
        validation_share: float,
        allowed: Callable[[], float],
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        super().__init__()
        self.trial, self.epochs, self.allowed, self.clock = trial, epochs, allowed, clock
        self.validation_share = validation_share
        self._probe_started: float | None = None
        self._done = False

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self._done:
            return
        if batch == 0:
            self._probe_started = self.clock()
            return
        steps = self.params.get("steps") or 0
        if batch < min(PROBE_BATCHES, steps - 1):
            return
        self._done = True
        per_step = (self.clock() - self._probe_started) / batch
        epoch = per_step * steps * (1 + self.validation_share * VALIDATION_COST)
        projected, allowed = epoch * self.epochs, self.allowed()
        self.trial.set_user_attr(PROJECTED_ATTR, round(projected, 1))
        if projected > allowed:
            stop(
                self.trial,
                "cost",
                f"projected {projected:.0f} s for {self.epochs} epochs, over its share "
                f"{allowed:.0f} s of the search time left",
            )


class StopOnNaN(keras.callbacks.Callback):
    """Stops training after an epoch whose loss is not finite. Keras' TerminateOnNaN checks
    every batch, which syncs host and device each step."""

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if not math.isfinite((logs or {}).get("loss", 0.0)):
            self.model.stop_training = True


class StopOnRequest(keras.callbacks.Callback):
    """Ends training before the next batch (training or validation) once a stop was asked for.
    Batch-begin hooks keep Keras' asynchronous batch-end callbacks and read no metric."""

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        raise_if_stop_requested()

    def on_test_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        raise_if_stop_requested()


def pruning_callback(trial: optuna.Trial, multi_objective: bool) -> keras.callbacks.Callback:
    """Reports validation accuracy each epoch; Optuna cannot prune multi-objective studies, so
    those keep their learning curve in a user attr instead."""
    if multi_objective:
        return CurveRecorder(trial)
    return EpochPruning(trial)


class EpochPruning(KerasPruningCallback):
    """Optuna's Keras callback, reporting at step = epochs trained (1 after the first epoch).

    The integration reports Keras' 0-based epoch index, so a pruner's first rung at
    min_resource=1 would come only after two epochs, and a rung could fall on the last epoch,
    pruning a trial that has finished training. Here the first rung follows the first epoch, and
    the last epoch is reported but never pruned: the trial completes. With `prune` off, every
    epoch is only reported (a continued trial's learning curve).
    """

    def __init__(self, trial: optuna.Trial, prune: bool = True) -> None:
        super().__init__(trial, MONITOR)
        self.trial, self.prune = trial, prune

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        trained = epoch + 1
        if self.prune and trained < self.params["epochs"]:
            super().on_epoch_end(trained, logs)
        elif logs and MONITOR in logs:
            self.trial.report(float(logs[MONITOR]), step=trained)


class CurveRecorder(keras.callbacks.Callback):
    def __init__(self, trial: optuna.Trial) -> None:
        super().__init__()
        self.trial, self.curve = trial, []

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.curve.append(float((logs or {}).get(MONITOR, float("nan"))))
        self.trial.set_user_attr(CURVE_ATTR, self.curve)
