"""Epoch-by-epoch reporting to Optuna, which prunes hopeless trials between epochs."""

from __future__ import annotations

import keras
import optuna
from optuna_integration.keras import KerasPruningCallback

from errors import UsageError

MONITOR = "val_accuracy"


def make_pruner(name: str, epochs: int) -> optuna.pruners.BasePruner:
    """Optuna's pruner for `name`, with rungs measured in epochs trained (see `EpochPruning`)."""
    if name == "asha":
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3)
    if name == "hyperband":
        return optuna.pruners.HyperbandPruner(
            min_resource=1, max_resource=epochs, reduction_factor=3
        )
    if name == "median":
        # judged from the second epoch on, as before steps counted epochs trained
        return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=2)
    if name == "none":
        return optuna.pruners.NopPruner()
    raise UsageError(f"unknown pruner {name!r}; choose asha, hyperband, median or none")


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
    the last epoch is reported but never pruned: the trial completes.
    """

    def __init__(self, trial: optuna.Trial) -> None:
        super().__init__(trial, MONITOR)
        self.trial = trial

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        trained = epoch + 1
        if trained < self.params["epochs"]:
            super().on_epoch_end(trained, logs)
        elif logs and MONITOR in logs:
            self.trial.report(float(logs[MONITOR]), step=trained)


class CurveRecorder(keras.callbacks.Callback):
    def __init__(self, trial: optuna.Trial) -> None:
        super().__init__()
        self.trial, self.curve = trial, []

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.curve.append(float((logs or {}).get(MONITOR, float("nan"))))
        self.trial.set_user_attr("val_accuracy_curve", self.curve)
