"""Reading a study's trials: the one read that budget and progress checks share."""

from __future__ import annotations

import optuna
from optuna.trial import FrozenTrial


def read_trials(study: optuna.Study, in_trial: bool = False) -> list[FrozenTrial]:
    """Every trial of `study`, read now; `in_trial`: read once per trial, after it was created,
    and shared with the sampler (Optuna's per-trial cache, which `ask` clears), which saves a
    full read of the study per trial."""
    return study._get_trials(deepcopy=False, use_cache=in_trial)
