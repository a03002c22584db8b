"""The pruning rules: what a pruner judges (MONITOR), after how many epochs it first judges a
trial, and the warning when it judges before models learn. The Keras callbacks that report to
the pruner live in `search.callbacks`."""

from __future__ import annotations

import math
from typing import Any

import optuna

MONITOR = "val_accuracy"
# A pruner judges a trial first once it has seen this many training images, not after one
# epoch: after one epoch of 10,000 images (40 steps) good models still sit near chance and the
# pruner cannot tell them from hopeless ones; on 54,000 images one epoch is enough.
FIRST_RUNG_IMAGES = 30_000


def first_rung(n_train: int) -> int:
    """Epochs a trial trains on `n_train` images before a pruner first judges it."""
    return max(1, math.ceil(FIRST_RUNG_IMAGES / max(n_train, 1)))


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
