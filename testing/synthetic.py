"""Studies with a known structure, built without training: accuracy is driven by n_conv and
learning_rate, not by pool or n_dense/dense_units."""

from __future__ import annotations

import math

import numpy as np
import optuna
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.trial import TrialState

from search.config import SearchConfig
from search.vocabulary import CONFIG_ATTR, EPOCHS_RUN_ATTR, N_PARAMS_ATTR, TRAIN_SECONDS_ATTR

DISTRIBUTIONS = {
    "n_conv": IntDistribution(1, 10),
    "learning_rate": FloatDistribution(1e-4, 1e-1, log=True),
    "pool": CategoricalDistribution(("max", "avg")),
    "n_dense": IntDistribution(0, 2),
    "dense_units": IntDistribution(32, 1024, log=True),
}


def true_accuracy(n_conv: int, learning_rate: float) -> float:
    return 0.55 + 0.04 * n_conv - 0.12 * abs(math.log10(learning_rate) + 3)


def build_study(
    storage: optuna.storages.BaseStorage | str | None = None,
    name: str = "synthetic",
    n: int = 60,
    pruned: int = 0,
    objectives: tuple[str, ...] = ("accuracy",),
    seed: int = 0,
) -> optuna.Study:
    """`n` completed trials (plus `pruned` pruned ones) with the accuracy of `true_accuracy`."""
    config = SearchConfig("digits", study_name=name, objectives=objectives, trials=n + pruned)
    study = optuna.create_study(storage=storage, study_name=name, directions=config.directions)
    study.set_user_attr(CONFIG_ATTR, config.to_attrs())
    rng = np.random.default_rng(seed)
    for i in range(n + pruned):
        params = {
            "n_conv": int(rng.integers(1, 11)),
            "learning_rate": float(10 ** rng.uniform(-4, -1)),
            "pool": str(rng.choice(["max", "avg"])),
            "n_dense": int(rng.integers(0, 3)),
        }
        if params["n_dense"]:
            params["dense_units"] = int(2 ** rng.integers(5, 11))
        accuracy = true_accuracy(params["n_conv"], params["learning_rate"]) + rng.normal(0, 0.005)
        seconds = 1.0 + params["n_conv"]
        values = {"accuracy": accuracy, "time": seconds, "params": 1000.0 * params["n_conv"]}
        is_pruned = i >= n
        study.add_trial(
            optuna.trial.create_trial(
                params=params,
                distributions={k: DISTRIBUTIONS[k] for k in params},
                values=None if is_pruned else [values[o] for o in objectives],
                state=TrialState.PRUNED if is_pruned else TrialState.COMPLETE,
                intermediate_values={1: accuracy - 0.1, 2: accuracy - 0.05},
                user_attrs={
                    TRAIN_SECONDS_ATTR: seconds,
                    N_PARAMS_ATTR: 1000 * params["n_conv"],
                    EPOCHS_RUN_ATTR: 2,
                },
            )
        )
    return study


def evaluation(trial: int, source: str = "saved model") -> dict:
    """A stored test evaluation of two classes and four images, as `evaluate` writes one."""
    return {
        "trial": trial,
        "model_source": source,
        "test_images": 4,
        "accuracy": 0.75,
        "class_names": ["a", "b"],
        "per_class": {
            "a": {"precision": 1.0, "recall": 0.5, "f1-score": 0.6667, "support": 2},
            "b": {"precision": 0.6667, "recall": 1.0, "f1-score": 0.8, "support": 2},
        },
        "report_text": "",
        "confusion": [[1, 1], [0, 2]],
    }
