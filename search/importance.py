"""Which dimensions mattered, and how: Optuna's importance evaluators plus per-value effects.

Importance comes from Optuna's evaluators, run on a copy of the study's trials with accuracy as
the single value (so multi-objective studies are explained for accuracy). The marginal effect of
a dimension groups the trials by its value (categorical or few-valued integer dimensions) or by
quantile bins (other numeric ones); a conditional dimension (dense_units exists only when
n_dense > 0) gets a "not used" group for the trials that lack it. Conclusions are sentences built
from those numbers.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import optuna
from optuna.distributions import BaseDistribution, CategoricalDistribution, IntDistribution
from optuna.trial import FrozenTrial, TrialState

from errors import UsageError
from search.study import load_study
from storage import open_storage

MIN_TRIALS = 10
SOLID_TRIALS = 30
EVALUATORS = ("ped-anova", "fanova", "mdi")
NOT_USED = "not used"
MAX_VALUES_SHOWN = 10  # an integer dimension with more values than this is binned
BINS = 4
MINOR = 0.05  # importance below this share is "matters little"
MAJOR = 0.10  # importance at or above this share gets its own conclusion


@dataclass(frozen=True)
class Group:
    """Trials sharing one value (or bin) of a dimension."""

    label: str
    trials: int
    mean_accuracy: float
    best_accuracy: float
    mean_seconds: float | None
    value: Any = None  # the single value of the group, when it has one


@dataclass(frozen=True)
class Effect:
    dimension: str
    importance: float
    ordered: bool  # groups follow numeric order, so a trend can be read from them
    groups: list[Group]


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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def make_evaluator(name: str) -> optuna.importance.BaseImportanceEvaluator:
    """The Optuna evaluator behind an `--evaluator` name."""
    if name == "ped-anova":
        return optuna.importance.PedAnovaImportanceEvaluator()
    if name == "fanova":
        return optuna.importance.FanovaImportanceEvaluator(seed=0)
    if name == "mdi":
        return optuna.importance.MeanDecreaseImpurityImportanceEvaluator(seed=0)
    raise UsageError(f"unknown evaluator {name!r}; choose one of {', '.join(EVALUATORS)}")


def explain(
    study: optuna.Study, evaluator: str = "ped-anova", with_pruned: bool = False
) -> Explanation:
    """Importance, marginal effects and conclusions for `study`'s accuracy.

    Uses completed trials; with `with_pruned`, pruned trials too, valued at the last accuracy
    they reported (which favours settings that learn fast). Raises UsageError below MIN_TRIALS.
    """
    trials = analysis_trials(study, with_pruned)
    n_pruned = len(study.get_trials(deepcopy=False, states=(TrialState.PRUNED,)))
    if len(trials) < MIN_TRIALS:
        hint = (
            f" (--with-pruned would add its {n_pruned} pruned trials)"
            if n_pruned and not with_pruned
            else ""
        )
        raise UsageError(
            f"importance needs at least {MIN_TRIALS} trials with an accuracy; study "
            f"{study.study_name!r} has {len(trials)}{hint}. Run more trials, for example "
            f"`cli.py optimize … --study {study.study_name} --trials {MIN_TRIALS * 3}`"
        )
    copy = optuna.create_study(direction="maximize")
    copy.add_trials(trials)
    distributions = _distributions(trials)
    fixed = sorted(name for name, d in distributions.items() if d.single())
    importances = _importances(copy, make_evaluator(evaluator))
    importances = {k: v for k, v in importances.items() if k not in fixed}
    left_out = sorted(set(distributions) - set(importances) - set(fixed))
    effects = [effect(name, importances[name], distributions[name], trials) for name in importances]
    notes = []
    if len(trials) < SOLID_TRIALS:
        notes.append(
            f"only {len(trials)} trials: read the ranking and effects as rough (groups of one "
            f"or two trials are mostly noise); {SOLID_TRIALS}+ trials give steadier answers"
        )
    if left_out:
        notes.append(
            f"{evaluator} needs dimensions present in every trial, so it leaves out "
            f"{', '.join(left_out)} (conditional); --evaluator ped-anova rates them too"
        )
    if "dense_units" in importances:
        notes.append(
            f"dense_units exists only when n_dense > 0; {evaluator} rates it on the trials "
            "that have it, and its effects table shows the others as 'not used'"
        )
    return Explanation(
        study=study.study_name,
        evaluator=evaluator,
        trials_used=len(trials),
        pruned_included=with_pruned,
        pruned_left_out=0 if with_pruned else n_pruned,
        importances=importances,
        effects=effects,
        conclusions=conclusions(effects, evaluator),
        fixed=fixed,
        left_out=left_out,
        notes=notes,
    )


def explain_study(
    study_name: str, storage_url: str, evaluator: str = "ped-anova", with_pruned: bool = False
) -> Explanation:
    """`explain` for a stored study; unknown names raise the UsageError of `load_study`."""
    make_evaluator(evaluator)  # a bad name fails before the storage is read
    return explain(load_study(open_storage(storage_url), study_name), evaluator, with_pruned)


def analysis_trials(study: optuna.Study, with_pruned: bool) -> list[FrozenTrial]:
    """The study's trials as single-valued (accuracy) complete trials, ready for an evaluator."""
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
        rows.append(
            optuna.trial.create_trial(
                params=t.params,
                distributions=t.distributions,
                value=value,
                user_attrs=t.user_attrs,
            )
        )
    return rows


def used_trials_text(explanation: Explanation) -> str:
    """One sentence saying which trials the analysis rests on."""
    text = f"{explanation.trials_used} trials"
    if explanation.pruned_included:
        return text + " (completed, and pruned ones at the last accuracy they reported)"
    if explanation.pruned_left_out:
        return (
            f"{text} (completed only; {explanation.pruned_left_out} pruned left out, "
            "--with-pruned adds them at their last reported accuracy)"
        )
    return text + " (completed)"


def _importances(
    study: optuna.Study, evaluator: optuna.importance.BaseImportanceEvaluator
) -> dict[str, float]:
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


def effect(
    name: str, importance: float, distribution: BaseDistribution, trials: list[FrozenTrial]
) -> Effect:
    """Trials grouped by `name`'s value or quantile bin, with accuracy and time per group."""
    present = [t for t in trials if name in t.params]
    values = [t.params[name] for t in present]
    numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
    if isinstance(distribution, CategoricalDistribution) or (
        isinstance(distribution, IntDistribution) and len(set(values)) <= MAX_VALUES_SHOWN
    ):
        order = (
            sorted(set(values))
            if numeric
            else [c for c in getattr(distribution, "choices", sorted(set(values))) if c in values]
        )
        groups = [
            _group(f"{name}={_fmt(v)}", [t for t in present if t.params[name] == v], v)
            for v in order
        ]
    else:
        groups = _binned(name, present)
    absent = [t for t in trials if name not in t.params]
    if absent:
        groups.append(_group(f"{name} {NOT_USED}", absent, None))
    return Effect(name, importance, numeric, groups)


def _binned(name: str, trials: list[FrozenTrial]) -> list[Group]:
    values = np.array([t.params[name] for t in trials], dtype=float)
    edges = np.unique(np.quantile(values, np.linspace(0, 1, BINS + 1)))
    if len(edges) < 2:  # every trial took the same value: one group
        edges = np.array([edges[0], edges[0]])
    index = np.searchsorted(edges[1:-1], values, side="right")
    groups = []
    for b in range(len(edges) - 1):
        members = [t for t, i in zip(trials, index, strict=True) if i == b]
        if not members:
            continue
        low = min(t.params[name] for t in members)
        high = max(t.params[name] for t in members)
        label = f"{name}={_fmt(low)}" if low == high else f"{name} {_fmt(low)}–{_fmt(high)}"
        groups.append(_group(label, members, low if low == high else None))
    return groups


def _group(label: str, trials: list[FrozenTrial], value: Any) -> Group:
    accuracy = [t.value for t in trials]
    seconds = [t.user_attrs["train_seconds"] for t in trials if "train_seconds" in t.user_attrs]
    return Group(
        label=label,
        trials=len(trials),
        mean_accuracy=float(np.mean(accuracy)),
        best_accuracy=float(np.max(accuracy)),
        mean_seconds=float(np.mean(seconds)) if seconds else None,
        value=value,
    )


def conclusions(effects: list[Effect], evaluator: str) -> list[str]:
    """Plain sentences from the numbers: what the important dimensions do, what can be fixed."""
    lines = []
    for e in effects:
        if e.importance < MAJOR or len(e.groups) < 2:
            continue
        share = (
            f"explains {e.importance:.0%} of the variance"
            if evaluator == "fanova"
            else f"carries {e.importance:.0%} of the importance ({evaluator})"
        )
        lines.append(f"{e.dimension} {share}: {_trend(e)}{_time(e)}.")
    minor = [e for e in effects if e.importance < MINOR]
    if minor:
        names = ", ".join(e.dimension for e in minor)
        example = next(
            (
                f" (for example --set {e.dimension}={_fmt(best.value)})"
                for e in minor
                if (best := _best_group(e)) and best.value is not None
            ),
            "",
        )
        lines.append(
            f"{names} matter little here (under {MINOR:.0%} each): fix them at their best "
            f"value{example} to spend trials on the rest."
        )
    if not lines:
        lines.append("no dimension stands out; run more trials before drawing conclusions.")
    return lines


def _best_group(e: Effect) -> Group | None:
    used = [g for g in e.groups if not g.label.endswith(NOT_USED)]
    return max(used, key=lambda g: g.mean_accuracy) if used else None


def _trend(e: Effect) -> str:
    groups = [g for g in e.groups if not g.label.endswith(NOT_USED)]
    if not e.ordered or len(groups) < 2:
        ranked = sorted(e.groups, key=lambda g: g.mean_accuracy, reverse=True)
        best, worst = ranked[0], ranked[-1]
        return (
            f"mean accuracy is highest with {best.label} ({best.mean_accuracy:.2f}, "
            f"{_n(best)}) and lowest with {worst.label} ({worst.mean_accuracy:.2f}, {_n(worst)})"
        )
    first, last = groups[0], groups[-1]
    peak = max(groups, key=lambda g: g.mean_accuracy)
    low = min(groups, key=lambda g: g.mean_accuracy)
    at = lambda g: f"{g.mean_accuracy:.2f} at {g.label}"  # noqa: E731
    if peak is last and low is first:
        text = f"mean accuracy rises from {at(first)} to {at(last)}"
    elif peak is first and low is last:
        text = f"mean accuracy falls from {at(first)} to {at(last)}"
    elif peak not in (first, last) and low in (first, last):
        text = f"mean accuracy rises from {at(first)} to {at(peak)} and falls to {at(last)}"
    else:
        text = f"mean accuracy peaks at {at(peak)} and is lowest at {at(low)}"
    unused = [g for g in e.groups if g.label.endswith(NOT_USED)]
    if unused:
        text += f"; {at(unused[0])}"
    return text


def _time(e: Effect) -> str:
    timed = [g for g in e.groups if g.mean_seconds]
    if len(timed) < 2:
        return ""
    fast = min(timed, key=lambda g: g.mean_seconds)
    slow = max(timed, key=lambda g: g.mean_seconds)
    if slow.mean_seconds < 2 * fast.mean_seconds:
        return ""
    return (
        f"; a trial takes {slow.mean_seconds:.0f} s at {slow.label} "
        f"against {fast.mean_seconds:.0f} s at {fast.label}"
    )


def _n(g: Group) -> str:
    return f"{g.trials} trial" + ("" if g.trials == 1 else "s")


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)
