"""Which pruner judges a study's trials, and when it first may. No Keras here: `search.study`
imports it, and commands that only read a study (importance, report) start without Keras."""

from __future__ import annotations

import math

import optuna

from errors import UsageError

# A pruner judges a trial first once it has seen this many training images, not after one
# epoch: after one epoch of 10,000 images (40 steps) good models still sit near chance and the
# pruner cannot tell them from hopeless ones; on 54,000 images one epoch is enough.
FIRST_RUNG_IMAGES = 30_000


def first_rung(n_train: int) -> int:
    """Epochs a trial trains on `n_train` images before a pruner first judges it."""
    return max(1, math.ceil(FIRST_RUNG_IMAGES / max(n_train, 1)))


def make_pruner(name: str, epochs: int, min_epochs: int = 1) -> optuna.pruners.BasePruner:
    """Optuna's pruner for `name`, with rungs measured in epochs trained (see `EpochPruning`),
    the first after `min_epochs` (see `first_rung`)."""
    if name == "asha":
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=min_epochs, reduction_factor=3)
    if name == "hyperband":
        if min_epochs >= epochs:  # no rung before the last epoch: nothing to prune
            return optuna.pruners.NopPruner()
        return optuna.pruners.HyperbandPruner(
            min_resource=min_epochs, max_resource=epochs, reduction_factor=3
        )
    if name == "median":
        # judged from the second epoch on at least, as before steps counted epochs trained
        return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=max(2, min_epochs))
    if name == "none":
        return optuna.pruners.NopPruner()
    raise UsageError(f"unknown pruner {name!r}; choose asha, hyperband, median or none")
