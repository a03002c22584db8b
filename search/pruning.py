"""Epoch-by-epoch reporting to Optuna, which prunes hopeless trials between epochs."""

from __future__ import annotations

import keras
import optuna
from optuna_integration.keras import KerasPruningCallback

from errors import UsageError

MONITOR = "val_accuracy"


def make_pruner(name: str, epochs: int) -> optuna.pruners.BasePruner:
    """Optuna's pruner for `name`, with rungs measured in epochs."""
    if name == "hyperband":
        return optuna.pruners.HyperbandPruner(
            min_resource=1, max_resource=epochs, reduction_factor=3
        )
    if name == "asha":
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3)
    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=1)
    if name == "none":
        return optuna.pruners.NopPruner()
    raise UsageError(f"unknown pruner {name!r}; choose hyperband, median, asha or none")


def pruning_callback(trial: optuna.Trial, multi_objective: bool) -> keras.callbacks.Callback:
    """Reports validation accuracy each epoch; Optuna cannot prune multi-objective studies, so
    those keep their learning curve in a user attr instead."""
    if multi_objective:
        return CurveRecorder(trial)
    return KerasPruningCallback(trial, MONITOR)


class CurveRecorder(keras.callbacks.Callback):
    def __init__(self, trial: optuna.Trial) -> None:
        super().__init__()
        self.trial, self.curve = trial, []

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.curve.append(float((logs or {}).get(MONITOR, float("nan"))))
        self.trial.set_user_attr("val_accuracy_curve", self.curve)
