"""A study's trials as the observations importance is computed on, and the chance accuracy of
the study's data.

Each observation is a complete trial with accuracy as its single value (so multi-objective
studies are explained for accuracy). Trials that repeat a configuration are one observation
(their accuracies averaged), and a trial that trained on another's model (user attr
`continues`) replaces it: neither is independent evidence.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import optuna
from optuna.trial import FrozenTrial, TrialState

from search.data import class_count
from search.vocabulary import (
    CONFIG_ATTR,
    CONTINUES_ATTR,
    EPOCHS_RUN_ATTR,
    N_CLASSES_ATTR,
    PRUNED_ATTR,
    TRAIN_SECONDS_ATTR,
    TRIALS_ATTR,
)


def analysis_trials(study: optuna.Study, with_pruned: bool) -> list[FrozenTrial]:
    """The study's trials as single-valued (accuracy) complete trials, ready for an evaluator.

    Each keeps its user attrs, plus `merged_trials` ([its number]) and `pruned`."""
    rows = []
    for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED)):
        if t.state == TrialState.COMPLETE:
            value = t.values[0]
        elif with_pruned and t.last_step is not None:
            value = t.intermediate_values[t.last_step]
        else:
            continue
        if not math.isfinite(value):
            continue
        attrs = {**t.user_attrs, TRIALS_ATTR: [t.number], PRUNED_ATTR: t.state == TrialState.PRUNED}
        attrs.setdefault(EPOCHS_RUN_ATTR, t.last_step)
        rows.append(
            optuna.trial.create_trial(
                params=t.params, distributions=t.distributions, value=value, user_attrs=attrs
            )
        )
    return rows


def merge_repeats(trials: list[FrozenTrial]) -> list[FrozenTrial]:
    """One observation per configuration, from `analysis_trials` rows.

    A trial with user attr `continues` = N trained trial N's model further: it replaces N (the
    same model, at its final accuracy). Trials with identical params are one observation with
    their accuracies, epochs and seconds averaged; `merged_trials` lists their numbers.
    """
    by_number = {t.user_attrs[TRIALS_ATTR][0]: t for t in trials}
    replaced = {_continued(t, by_number) for t in trials} - {None}
    groups: dict[tuple, list[tuple[FrozenTrial, FrozenTrial, list[int]]]] = {}
    for number in sorted(by_number):
        if number in replaced:
            continue
        lineage = [number]
        while (earlier := _continued(by_number[lineage[0]], by_number)) is not None:
            lineage.insert(0, earlier)
        root = by_number[lineage[0]]
        groups.setdefault(_config_key(root.params), []).append((root, by_number[number], lineage))
    return [_observation(members) for members in groups.values()]


def merged_numbers(observations: list[FrozenTrial]) -> list[list[int]]:
    """The trial numbers of each observation that stands for more than one trial."""
    return [t.user_attrs[TRIALS_ATTR] for t in observations if len(t.user_attrs[TRIALS_ATTR]) > 1]


def _continued(t: FrozenTrial, by_number: dict[int, FrozenTrial]) -> int | None:
    """The earlier trial among `by_number` whose model `t` trained on, if any."""
    continued = t.user_attrs.get(CONTINUES_ATTR)
    return (
        continued if continued in by_number and continued < t.user_attrs[TRIALS_ATTR][0] else None
    )


def _config_key(params: dict[str, Any]) -> tuple:
    return tuple(sorted((name, repr(value)) for name, value in params.items()))


def _observation(members: list[tuple[FrozenTrial, FrozenTrial, list[int]]]) -> FrozenTrial:
    """One observation from (first trial, last trial, every trial number) of each model."""
    root = members[0][0]
    trials = [last for _, last, _ in members]
    attrs = dict(root.user_attrs)
    for key in (TRAIN_SECONDS_ATTR, EPOCHS_RUN_ATTR):
        found = [t.user_attrs[key] for t in trials if t.user_attrs.get(key) is not None]
        if found:
            attrs[key] = float(np.mean(found))
    attrs[TRIALS_ATTR] = sorted(n for _, _, lineage in members for n in lineage)
    attrs[PRUNED_ATTR] = all(t.user_attrs.get(PRUNED_ATTR, False) for t in trials)
    return optuna.trial.create_trial(
        params=root.params,
        distributions=root.distributions,
        value=float(np.mean([t.value for t in trials])),
        user_attrs=attrs,
    )


def chance_accuracy(study: optuna.Study, n_classes: int | None = None) -> float | None:
    """1 / the number of classes: given, recorded by the trials (`n_classes`) or the study, or
    declared by the dataset's source; None when unknown."""
    if n_classes is None:
        recorded = [
            t.user_attrs[N_CLASSES_ATTR]
            for t in study.get_trials(deepcopy=False)
            if N_CLASSES_ATTR in t.user_attrs
        ]
        dataset = study.user_attrs.get(CONFIG_ATTR, {}).get("dataset")
        n_classes = (
            max(recorded)
            if recorded
            else study.user_attrs.get(N_CLASSES_ATTR, class_count(dataset))
        )
    return None if not n_classes else 1.0 / n_classes
