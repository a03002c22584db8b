"""Search spaces: each turns an Optuna trial into a `Spec`; `build_model` turns a spec into Keras.

Public names: `get_space`, `SPACES`, `reference_params`, `completed_params`, `conditions`,
`parse_sets`, `Bounds`, `Spec`.
"""

from __future__ import annotations

from types import ModuleType

import optuna

from errors import UsageError
from spaces import alexnet, convnet, lenet5, mlp
from spaces.dimensions import NO_BOUNDS, Bounds, Dimension, parse_sets, search_bounds
from spaces.spec import ConvLayer, ModelSpec, Spec, TrainSpec

SPACES: dict[str, ModuleType] = {module.NAME: module for module in (convnet, alexnet, lenet5, mlp)}

__all__ = [
    "NO_BOUNDS",
    "SPACES",
    "Bounds",
    "ConvLayer",
    "Dimension",
    "ModelSpec",
    "Spec",
    "TrainSpec",
    "completed_params",
    "conditions",
    "describe_spaces",
    "get_space",
    "parse_sets",
    "reference_params",
    "reference_spec",
]


def get_space(name: str) -> ModuleType:
    """The space module registered as `name`; it has NAME, DIMENSIONS and suggest_spec."""
    try:
        return SPACES[name]
    except KeyError:
        raise UsageError(
            f"unknown space {name!r}; choose one of {', '.join(SPACES)} (see `cli.py spaces`)"
        ) from None


def reference_params(space: ModuleType) -> dict:
    """The space's reference values: the seed lab's model, which `sweep` varies one at a time."""
    return {d.name: d.reference for d in space.DIMENSIONS}


def completed_params(space: ModuleType, params: dict) -> dict:
    """`params` of a trial stored before some of the space's dimensions existed, with those at
    their reference values (what the trial trained with), where the trial would have them: a
    conditional dimension only when its condition holds."""
    fixed = optuna.trial.FixedTrial(reference_params(space) | params)
    space.suggest_spec(fixed)
    return fixed.params


def conditions(space: str | None) -> dict[str, str]:
    """The conditional dimensions of the space named `space`, each with the condition under
    which a trial has it (`only_when`); none for an unknown space."""
    module = SPACES.get(space)
    return {d.name: d.only_when for d in module.DIMENSIONS if d.only_when} if module else {}


def reference_spec(space: ModuleType) -> Spec:
    return space.suggest_spec(optuna.trial.FixedTrial(reference_params(space)))


def describe_spaces() -> list[dict]:
    """Every space with its dimensions: values they take, the part a default search samples,
    reference value, help (no Keras)."""
    return [
        {
            "space": name,
            "description": module.DESCRIPTION,
            "dimensions": [
                {
                    "name": d.name,
                    "values": d.describe(),
                    "searched": searched[d].describe(),
                    "reference": d.reference,
                    "help": d.help,
                }
                for d in module.DIMENSIONS
            ],
        }
        for name, module in SPACES.items()
        for searched in (search_bounds((), module.DIMENSIONS, name),)
    ]
