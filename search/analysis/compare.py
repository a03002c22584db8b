"""Studies side by side: the labs' CNN-vs-dense-vs-LeNet question in one table."""

from __future__ import annotations

from typing import Any

import optuna
from optuna.trial import TrialState

from errors import UsageError
from search.study import load_study
from search.vocabulary import CONFIG_ATTR, N_PARAMS_ATTR, SECONDS_PER_EPOCH_ATTR, skipped
from storage import open_storage


def compare_studies(names: list[str], storage_url: str) -> list[dict[str, Any]]:
    """One row per study: dataset, space, trials by state, and its most accurate trial's
    accuracy, parameter count and seconds per epoch."""
    if len(names) < 2:
        raise UsageError("compare needs at least two studies, for example: compare STUDY1 STUDY2")
    storage = open_storage(storage_url, read_only=True)
    return [study_row(load_study(storage, name)) for name in names]


def study_row(study: optuna.Study) -> dict[str, Any]:
    trials = study.get_trials(deepcopy=False)
    config = study.user_attrs.get(CONFIG_ATTR, {})
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    # Accuracy is always the first objective, so this also picks from a Pareto study.
    best = max(complete, key=lambda t: t.values[0], default=None)
    attrs = best.user_attrs if best else {}
    return {
        "study": study.study_name,
        "dataset": config.get("dataset", "?"),
        "space": config.get("space", "?"),
        "complete": len(complete),
        "pruned": sum(t.state == TrialState.PRUNED for t in trials),
        "failed": sum(t.state == TrialState.FAIL and not skipped(t) for t in trials),
        "skipped": sum(map(skipped, trials)),
        "best_trial": best.number if best else None,
        "best_accuracy": best.values[0] if best else None,
        "n_params": attrs.get(N_PARAMS_ATTR),
        "seconds_per_epoch": attrs.get(SECONDS_PER_EPOCH_ATTR),
    }
