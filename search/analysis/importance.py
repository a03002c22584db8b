"""Which dimensions mattered for accuracy: Optuna's importance evaluators run on the study's
observations (search.analysis.observations), with the effect of each dimension
(search.analysis.effects) and the conclusions drawn from them (search.analysis.sentences), as
one Explanation.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass, field
from typing import Any

import optuna
from optuna.distributions import BaseDistribution
from optuna.trial import FrozenTrial, TrialState

from errors import UsageError
from search.analysis.effects import Effect, effect, fails
from search.analysis.observations import (
    analysis_trials,
    chance_accuracy,
    merge_repeats,
    merged_numbers,
)
from search.analysis.sentences import conclusions, notes, with_pruning_note
from search.registry import EVALUATORS, choose
from search.study import load_study
from search.vocabulary import CONFIG_ATTR
from spaces import conditions
from storage import open_storage

MIN_TRIALS = 10


@dataclass(frozen=True)
class Explanation:
    study: str
    evaluator: str
    trials_used: int
    pruned_included: bool
    pruned_left_out: int
    importances: dict[str, float]
    effects: list[Effect]
    conclusions: list[str]
    fixed: list[str] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    observations: int = 0  # distinct configurations among the trials used
    merged: list[list[int]] = field(default_factory=list)  # trials counted as one observation
    chance_accuracy: float | None = None
    failing: list[str] = field(default_factory=list)  # group labels at chance, e.g. optimizer=sgd
    pruning_confounded: list[str] = field(default_factory=list)  # dimensions flagged

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def make_evaluator(name: str) -> optuna.importance.BaseImportanceEvaluator:
    """The Optuna evaluator behind an `--evaluator` name."""
    return choose("evaluator", EVALUATORS, name)()


def explain(
    study: optuna.Study,
    evaluator: str = "ped-anova",
    with_pruned: bool = False,
    n_classes: int | None = None,
) -> Explanation:
    """Importance, marginal effects and conclusions for `study`'s accuracy.

    Uses completed trials; with `with_pruned`, pruned trials too, valued at the last accuracy
    they reported (which favours settings that learn fast). Repeated configurations count once.
    `n_classes` sets chance accuracy (default: the trials' `n_classes` user attr, else the
    class count its source declares). Raises UsageError below MIN_TRIALS.
    """
    trials = analysis_trials(study, with_pruned)
    pruned = study.get_trials(deepcopy=False, states=(TrialState.PRUNED,))
    observations = merge_repeats(trials)
    if len(observations) < MIN_TRIALS:
        raise _too_few(study, trials, observations, [] if with_pruned else pruned)
    distributions = _distributions(observations)
    fixed = sorted(name for name, d in distributions.items() if d.single())
    importances = _importances(observations, make_evaluator(evaluator))
    importances = {k: v for k, v in importances.items() if k not in fixed}
    left_out = sorted(set(distributions) - set(importances) - set(fixed))
    chance = chance_accuracy(study, n_classes)
    conditional = conditions(study.user_attrs.get(CONFIG_ATTR, {}).get("space"))
    stopped = [] if with_pruned else pruned
    effects = [
        with_pruning_note(
            effect(name, importances[name], distributions[name], observations, stopped, chance),
            with_pruned,
        )
        for name in importances
    ]
    merged = merged_numbers(observations)
    return Explanation(
        study=study.study_name,
        evaluator=evaluator,
        trials_used=len(trials),
        pruned_included=with_pruned,
        pruned_left_out=0 if with_pruned else len(pruned),
        importances=importances,
        effects=effects,
        conclusions=conclusions(effects, evaluator, len(observations), chance),
        fixed=fixed,
        left_out=left_out,
        notes=notes(
            evaluator, len(trials), len(observations), left_out, importances, merged, conditional
        ),
        observations=len(observations),
        merged=merged,
        chance_accuracy=chance,
        failing=[g.label for e in effects for g in e.groups if fails(g)],
        pruning_confounded=[e.dimension for e in effects if e.pruning_note],
    )


def _too_few(
    study: optuna.Study,
    trials: list[FrozenTrial],
    observations: list[FrozenTrial],
    pruned_left_out: list[FrozenTrial],
) -> UsageError:
    hint = (
        f" (--with-pruned would add its {len(pruned_left_out)} pruned trials)"
        if pruned_left_out
        else ""
    )
    distinct = (
        f", {len(observations)} distinct configurations" if len(observations) < len(trials) else ""
    )
    return UsageError(
        f"importance needs at least {MIN_TRIALS} trials with an accuracy; study "
        f"{study.study_name!r} has {len(trials)}{distinct}{hint}. Run more trials, for "
        f"example `cnnsearch optimize … --study {study.study_name} --trials {MIN_TRIALS * 3}`"
    )


def explain_study(
    study_name: str, storage_url: str, evaluator: str = "ped-anova", with_pruned: bool = False
) -> Explanation:
    """`explain` for a stored study; unknown names raise the UsageError of `load_study`."""
    make_evaluator(evaluator)  # a bad name fails before the storage is read
    return explain(
        load_study(open_storage(storage_url, read_only=True), study_name), evaluator, with_pruned
    )


def _importances(
    observations: list[FrozenTrial], evaluator: optuna.importance.BaseImportanceEvaluator
) -> dict[str, float]:
    study = optuna.create_study(direction="maximize")
    study.add_trials(observations)
    with warnings.catch_warnings():  # small studies make PED-ANOVA warn about sparse regimes
        warnings.simplefilter("ignore")
        found = optuna.importance.get_param_importances(study, evaluator=evaluator)
    return {name: float(value) for name, value in found.items()}


def _distributions(trials: list[FrozenTrial]) -> dict[str, BaseDistribution]:
    merged: dict[str, BaseDistribution] = {}
    for t in trials:
        for name, dist in t.distributions.items():
            merged.setdefault(name, dist)
    return merged
