"""LeNet-5 as a fixed model: only the training dimensions (optimizer, rate, batch) are searched."""

from __future__ import annotations

import optuna

from spaces import training
from spaces.dimensions import NO_BOUNDS, Bounds
from spaces.models import LENET5
from spaces.spec import Spec
from spaces.starts import Start

NAME = "lenet5"
DESCRIPTION = "fixed LeNet-5 (conv6-avgpool-conv16-avgpool-120-84, tanh); training searched"
DIMENSIONS = training.DIMENSIONS

STARTS = (Start("reference"),)
GROUPS = training.GROUPS


def suggest_spec(trial: optuna.trial.BaseTrial, bounds: Bounds = NO_BOUNDS) -> Spec:
    return Spec(LENET5, training.suggest_training(trial, bounds))
