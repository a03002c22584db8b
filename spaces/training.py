"""The training dimensions every space shares: optimizer, learning rate, batch size."""

from __future__ import annotations

import optuna

from spaces.dimensions import NO_BOUNDS, Bounds, Dimension, suggest
from spaces.spec import TrainSpec

DIMENSIONS = (
    # SGD wants rates ten times Adam's; one shared rate range makes half its trials hopeless.
    Dimension(
        "optimizer", "adam", choices=("adam", "sgd", "rmsprop"), help="optimizer", searched="adam"
    ),
    Dimension(
        "learning_rate",
        1e-3,
        low=1e-4,
        high=1e-1,
        log=True,
        help="initial learning rate",
        searched="3e-4..3e-3",
    ),
    Dimension(
        "batch_size", 256, choices=(64, 128, 256, 512), help="images per step", searched="64..256"
    ),
)

GROUP = tuple(d.name for d in DIMENSIONS)  # re-sampled together by a greedy step


def suggest_training(trial: optuna.trial.BaseTrial, bounds: Bounds = NO_BOUNDS) -> TrainSpec:
    optimizer, learning_rate, batch_size = (suggest(trial, d, bounds) for d in DIMENSIONS)
    return TrainSpec(optimizer, learning_rate, batch_size)
