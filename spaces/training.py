"""The training dimensions every space shares: optimizer, learning rate, batch size, and the
regularization and schedule that make a trial use its epochs."""

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
    Dimension(
        "weight_decay",
        0.0,
        low=0.0,
        high=0.5,
        help="decoupled weight decay (AdamW)",
        searched="0..0.1",
    ),
    Dimension(
        "label_smoothing",
        0.0,
        low=0.0,
        high=0.3,
        help="share of each label spread over the other classes",
        searched="0..0.2",
    ),
    Dimension(
        "lr_schedule",
        "plateau",
        choices=("plateau", "cosine"),
        help="plateau: halve on a plateau; cosine: warmup, then decay over the epochs",
    ),
)

GROUP = ("optimizer", "learning_rate", "batch_size")
# What a greedy step re-samples together: the optimizer's settings, and how training uses them.
GROUPS = (GROUP, ("weight_decay", "label_smoothing", "lr_schedule"))
_dim = {d.name: d for d in DIMENSIONS}


def suggest_training(trial: optuna.trial.BaseTrial, bounds: Bounds = NO_BOUNDS) -> TrainSpec:
    values = {name: suggest(trial, dim, bounds) for name, dim in _dim.items()}
    return TrainSpec(
        optimizer=values["optimizer"],
        learning_rate=values["learning_rate"],
        batch_size=values["batch_size"],
        weight_decay=values["weight_decay"],
        label_smoothing=values["label_smoothing"],
        schedule=values["lr_schedule"],
    )
