"""Epoch-by-epoch reporting to Optuna, which prunes hopeless trials between epochs."""

from __future__ import annotations

import math
from typing import Any

import keras
import optuna
from optuna_integration.keras import KerasPruningCallback

from search.vocabulary import CURVE_ATTR

MONITOR = "val_accuracy"
# A pruner judges a trial first once it has seen this many training images, not after one
# epoch: after one epoch of 10,000 images (40 steps) good models still sit near chance and the
# pruner cannot tell them from hopeless ones; on 54,000 images one epoch is enough.
FIRST_RUNG_IMAGES = 30_000


def first_rung(n_train: int) -> int:
    """Epochs a trial trains on `n_train` images before a pruner first judges it."""
    return max(1, math.ceil(FIRST_RUNG_IMAGES / max(n_train, 1)))


def pruning_callback(trial: optuna.Trial, multi_objective: bool) -> keras.callbacks.Callback:
    """Reports validation accuracy each epoch; Optuna cannot prune multi-objective studies, so
    those keep their learning curve in a user attr instead."""
    if multi_objective:
        return CurveRecorder(trial)
    return EpochPruning(trial)


class RungWarning:
    """Says once when most trials a pruner stopped at its first rung were still at chance: the
    rung judges before models learn, and the search throws good ones away. Call it with every
    finished trial."""

    JUDGED = 6  # trials pruned at the first rung before the warning may come

    def __init__(self, rung: int, n_classes: int, progress: Any) -> None:
        self.rung, self.chance = rung, 1.5 / n_classes
        self.progress, self.said = progress, False

    def __call__(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        if self.said or trial.state != optuna.trial.TrialState.PRUNED:
            return
        at_rung = [
            t.intermediate_values.get(self.rung)
            for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.PRUNED,))
            if t.last_step == self.rung
        ]
        at_chance = sum(v is not None and v <= self.chance for v in at_rung)
        if len(at_rung) >= self.JUDGED and 2 * at_chance > len(at_rung):
            self.said = True
            self.progress.say(
                f"[yellow]warning:[/] {at_chance} of the {len(at_rung)} trials pruned after "
                f"epoch {self.rung} were still at chance: the pruner judges before models "
                "learn. Give more epochs (--epochs), more images (--train-size), or "
                "--pruner none"
            )


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
