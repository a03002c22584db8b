"""Every pluggable name list, once: samplers, pruners, importance evaluators, objectives and
image colours. The CLI's choices, the config's checks and the help texts all come from here;
the spaces (`spaces.SPACES`) and data sources (`search.data.SOURCES`) keep their own registries
beside their modules. Nothing here imports Keras.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypeVar

import optuna

from errors import UsageError

T = TypeVar("T")


def _gp(seed: int | None) -> optuna.samplers.BaseSampler:
    try:
        import torch  # noqa: F401 - GPSampler needs it
    except ImportError:
        raise UsageError("the gp sampler needs PyTorch: pip install torch (or use tpe)") from None
    return optuna.samplers.GPSampler(seed=seed)


# name -> sampler for a seed
SAMPLERS: dict[str, Callable[[int | None], optuna.samplers.BaseSampler]] = {
    "tpe": lambda seed: optuna.samplers.TPESampler(seed=seed),
    "random": lambda seed: optuna.samplers.RandomSampler(seed=seed),
    "gp": _gp,
    "cmaes": lambda seed: optuna.samplers.CmaEsSampler(seed=seed, warn_independent_sampling=False),
}
SINGLE_OBJECTIVE_SAMPLERS = ("cmaes",)


def _hyperband(epochs: int, first: int) -> optuna.pruners.BasePruner:
    if first >= epochs:  # no rung before the last epoch: nothing to prune
        return optuna.pruners.NopPruner()
    return optuna.pruners.HyperbandPruner(
        min_resource=first, max_resource=epochs, reduction_factor=3
    )


# name -> pruner for (most epochs, epochs before the first rung); rungs count epochs trained
PRUNERS: dict[str, Callable[[int, int], optuna.pruners.BasePruner]] = {
    "asha": lambda epochs, first: optuna.pruners.SuccessiveHalvingPruner(
        min_resource=first, reduction_factor=3
    ),
    "hyperband": _hyperband,
    # judged from the second epoch on at least, as before steps counted epochs trained
    "median": lambda epochs, first: optuna.pruners.MedianPruner(
        n_startup_trials=5, n_warmup_steps=max(2, first)
    ),
    "none": lambda epochs, first: optuna.pruners.NopPruner(),
}
# Replayed on recorded learning curves and run live, asynchronous successive halving trained about
# a third of an unpruned study's epochs for the same best accuracy, Hyperband about half: with tens
# of trials, its conservative brackets rarely prune (benchmarks/RESULTS.md, rows "2 pruning").
DEFAULT_PRUNER = "asha"

EVALUATORS: dict[str, Callable[[], optuna.importance.BaseImportanceEvaluator]] = {
    "ped-anova": lambda: optuna.importance.PedAnovaImportanceEvaluator(),
    "fanova": lambda: optuna.importance.FanovaImportanceEvaluator(seed=0),
    "mdi": lambda: optuna.importance.MeanDecreaseImpurityImportanceEvaluator(seed=0),
}

OBJECTIVES = {"accuracy": "maximize", "time": "minimize", "params": "minimize"}
COLORS = ("grayscale", "rgb")


def choose(kind: str, registry: Mapping[str, T], name: str) -> T:
    """`registry[name]`, or a UsageError naming the `kind` and its choices."""
    try:
        return registry[name]
    except KeyError:
        raise UsageError(f"unknown {kind} {name!r}; choose one of {', '.join(registry)}") from None
