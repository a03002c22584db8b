"""The clock and record of a benchmark arm that runs another tool in its own process (KerasTuner,
AutoKeras, plain Optuna, a model trained alone): a Keras callback given to every `fit` counts the
trials, times them, keeps the best validation accuracy and scores the test set at it, and ends
the arm at its budget, trial count or sitting.

A kept arm (`state`: a JSON file) writes its record there at the start of every trial, so a
later sitting picks up where this one ended: the trial a sitting ends in is dropped, as the tool
itself drops or retries it, and the time between sittings is left out of the seconds.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

# what a kept record holds, beside the seconds worked
RECORD = ("best_val", "test", "trials", "best_at", "curve", "epoch_curve")


class OutOfTime(BaseException):
    """Ends an arm at its budget, between two batches, or before the trial after its last
    (KerasTuner swallows ordinary errors)."""


class Tracker:
    """The arm's clock (paused while the test set is scored), its best validation accuracy,
    the test accuracy of the model at the epoch that reached it, per trial (each `fit`) the
    seconds at its last epoch and its best validation accuracy, and per epoch its seconds and
    validation accuracy. `sitting`: seconds this process may run before it ends the arm; the
    trial under way then is left out of the record."""

    def __init__(
        self,
        budget: float,
        x_test,
        y_test,
        max_trials: int = 0,
        state: Path | None = None,
        sitting: float | None = None,
    ) -> None:
        self.budget, self.x_test, self.y_test = budget or float("inf"), x_test, y_test
        self.max_trials = max_trials or float("inf")
        self.state = state
        self.sitting_ends = time.perf_counter() + (float("inf") if sitting is None else sitting)
        self.started, self.paused = time.perf_counter(), 0.0
        self.best_val, self.test, self.trials, self.best_at = 0.0, None, 0, None
        self.curve: list[list] = []
        self.epoch_curve: list[list] = []
        if state is not None and state.exists():
            self._restore(json.loads(state.read_text()))
        self._trial_start = self._record()

    def elapsed(self) -> float:
        return time.perf_counter() - self.started - self.paused

    def callback(self):
        import keras

        tracker = self

        class Budget(keras.callbacks.Callback):
            def __deepcopy__(self, memo: dict):
                return self  # KerasTuner deep-copies callbacks per trial; keep this one

            def on_train_begin(self, logs=None) -> None:
                tracker.trial_began()

            def on_train_batch_end(self, batch, logs=None) -> None:
                tracker.check_time()

            def on_epoch_end(self, epoch, logs=None) -> None:
                tracker.epoch_ended(self.model, (logs or {}).get("val_accuracy", 0.0))

        return Budget()

    def check_time(self) -> None:
        """End the arm at its budget, or at the end of its sitting without the trial under way."""
        if time.perf_counter() >= self.sitting_ends:
            self._restore(self._trial_start)
            raise OutOfTime
        if self.elapsed() >= self.budget:
            raise OutOfTime

    def trial_began(self) -> None:
        self._trial_start = self._record()
        self.save()
        if self.trials >= self.max_trials:
            raise OutOfTime
        self.check_time()
        self.trials += 1
        self.curve.append([round(self.elapsed(), 1), None])

    def epoch_ended(self, model, val_accuracy: float) -> None:
        import numpy as np

        if self.elapsed() < self.budget:
            trial_best = max(float(val_accuracy), self.curve[-1][1] or 0.0)
            self.curve[-1] = [round(self.elapsed(), 1), trial_best]
            self.epoch_curve.append([round(self.elapsed(), 1), float(val_accuracy)])
        if self.elapsed() >= self.budget or val_accuracy <= self.best_val:
            return
        self.best_val, self.best_at = float(val_accuracy), round(self.elapsed())
        paused = time.perf_counter()
        # predictions, not model.evaluate: AutoKeras' models take one-hot labels
        predicted = np.argmax(model.predict(self.x_test, verbose=0, batch_size=512), axis=-1)
        self.test = float(np.mean(predicted == self.y_test))
        self.paused += time.perf_counter() - paused

    def save(self) -> None:
        """Write the record to the kept state file, if the arm keeps one."""
        if self.state is not None:
            self.state.write_text(json.dumps(self._record()))

    def result(self) -> dict:
        return {
            "val": self.best_val,
            "test": self.test,
            "trials": self.trials,
            "best_at": self.best_at,
            "curve": self.curve,
            "epoch_curve": self.epoch_curve,
        }

    def _record(self) -> dict:
        """A copy of the record as it stands, with the seconds worked."""
        record = {key: getattr(self, key) for key in RECORD}
        return json.loads(json.dumps({"seconds": self.elapsed(), **record}))

    def _restore(self, record: dict) -> None:
        for key in RECORD:
            setattr(self, key, record[key])
        self.started, self.paused = time.perf_counter() - record["seconds"], 0.0
