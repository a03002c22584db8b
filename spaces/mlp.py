"""The fully connected baseline the labs compared CNNs against: Flatten, then dense layers."""

from __future__ import annotations

import optuna

from spaces import training
from spaces.dimensions import NO_BOUNDS, Bounds, Dimension, log_int, suggest
from spaces.spec import ModelSpec, Spec
from spaces.starts import Start

NAME = "mlp"
DESCRIPTION = "flatten the image, then dense layers (the labs' non-convolutional baseline)"

MODEL_DIMENSIONS = (
    Dimension("n_dense", 2, low=1, high=4, integer=True, help="hidden dense layers"),
    log_int("dense_units", 128, 32, 1024, help="units per layer"),
    Dimension(
        "activation",
        "relu",
        choices=("relu", "tanh", "sigmoid", "softplus", "linear", "elu", "gelu"),
        searched="relu,elu,gelu",
    ),
    Dimension("dropout", 0.0, low=0.0, high=0.5, help="after each dense layer"),
)
DIMENSIONS = MODEL_DIMENSIONS + training.DIMENSIONS
_dim = {d.name: d for d in DIMENSIONS}

STARTS = (Start("reference"),)
GROUPS = (("n_dense", "dense_units"), ("activation",), ("dropout",), *training.GROUPS)


def suggest_spec(trial: optuna.trial.BaseTrial, bounds: Bounds = NO_BOUNDS) -> Spec:
    n_dense, units, activation, dropout = (
        suggest(trial, _dim[name], bounds)
        for name in ("n_dense", "dense_units", "activation", "dropout")
    )
    model = ModelSpec(
        conv_layers=(),
        activation=activation,
        head="flatten",
        dense_units=(units,) * n_dense,
        dropout=dropout,
    )
    return Spec(model, training.suggest_training(trial, bounds))
