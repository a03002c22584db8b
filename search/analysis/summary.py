"""Read-only views of stored studies: the list of studies, the best trial or Pareto front."""

from __future__ import annotations

from typing import Any

from optuna.study import StudyDirection
from optuna.trial import FrozenTrial, TrialState

from errors import UsageError
from search.analysis.export import saved_model_path
from search.study import best_completed, load_study
from search.vocabulary import (
    CONFIG_ATTR,
    CONTINUES_ATTR,
    DEVICE_ATTR,
    EPOCHS_RUN_ATTR,
    N_PARAMS_ATTR,
    TRAIN_SECONDS_ATTR,
    skipped,
)
from storage import open_storage


def list_studies(storage_url: str) -> list[dict[str, Any]]:
    """One row per study: name, dataset, space, trial counts by state (Optuna's), how many of
    the failed ones were skipped untrained (`search.vocabulary.skipped`), best values."""
    storage = open_storage(storage_url, read_only=True)
    rows = []
    for study in storage.get_all_studies():
        study_id = storage.get_study_id_from_name(study.study_name)
        trials = storage.get_all_trials(study_id, deepcopy=False)
        states: dict[str, int] = {}
        for trial in trials:
            states[trial.state.name] = states.get(trial.state.name, 0) + 1
        config = study.user_attrs.get(CONFIG_ATTR, {})
        rows.append(
            {
                "study": study.study_name,
                "dataset": config.get("dataset", "?"),
                "space": config.get("space", "?"),
                "states": states,
                "skipped": sum(map(skipped, trials)),
                "best": _best_values(trials, study.directions),
            }
        )
    return rows


def _best_values(trials: list[FrozenTrial], directions: list[StudyDirection]) -> list | None:
    """The best completed trial's values for one objective; None for several or before any."""
    best = best_completed(trials, directions[0]) if len(directions) == 1 else None
    return None if best is None else best.values


def best_trials(
    study_name: str, storage_url: str, artifacts: str | None = None
) -> list[dict[str, Any]]:
    """The best trial, or every trial of the Pareto front for a multi-objective study; with
    `artifacts`, each row names the trial's saved model there (`model`, None without one)."""
    study = load_study(open_storage(storage_url, read_only=True), study_name)
    if not study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        raise UsageError(
            f"study {study_name!r} has no completed trial yet; run `optimize` or "
            "`worker` on it first"
        )
    objectives = study.user_attrs[CONFIG_ATTR]["objectives"]
    rows = [trial_row(t, objectives) for t in study.best_trials]
    if artifacts is not None:
        for row, trial in zip(rows, study.best_trials, strict=True):
            path = saved_model_path(trial, artifacts)
            row["model"] = None if path is None else str(path)
    return rows


def trial_row(trial: FrozenTrial, objectives: list[str]) -> dict[str, Any]:
    attrs = trial.user_attrs
    return {
        "number": trial.number,
        "values": dict(zip(objectives, trial.values, strict=True)),
        "params": trial.params,
        "n_params": attrs.get(N_PARAMS_ATTR),
        "train_seconds": attrs.get(TRAIN_SECONDS_ATTR),
        "epochs_run": attrs.get(EPOCHS_RUN_ATTR),
        "device": attrs.get(DEVICE_ATTR),
        "continues": attrs.get(CONTINUES_ATTR),  # the trial whose model this one trained on
    }
