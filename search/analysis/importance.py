"""Which dimensions mattered, and how: Optuna's importance evaluators plus per-value effects.

Importance comes from Optuna's evaluators, run on a copy of the study's trials with accuracy as
the single value (so multi-objective studies are explained for accuracy). Trials that repeat a
configuration are one observation (their accuracies averaged), and a trial that trained on
another's model (user attr `continues`) replaces it: neither is independent evidence.

The marginal effect of a dimension groups the observations by its value (categorical or
few-valued integer dimensions) or by quantile bins (other numeric ones); a conditional dimension
(dense_units exists only when n_dense > 0) gets a "not used" group for those that lack it.
Conclusions are sentences built from those numbers, each naming its evidence (trials, spread).
Two things keep them honest: a value whose trials sit at chance accuracy fails, which no low
importance share can make harmless; and an effect that follows which trials pruning let finish
(more epochs behind the best value, or fewer of its trials surviving the pruner) is flagged.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import optuna
from optuna.distributions import BaseDistribution, CategoricalDistribution, IntDistribution
from optuna.trial import FrozenTrial, TrialState

from errors import UsageError
from search.registry import EVALUATORS, choose
from search.study import load_study
from search.vocabulary import (
    CONFIG_ATTR,
    CONTINUES_ATTR,
    EPOCHS_RUN_ATTR,
    N_CLASSES_ATTR,
    PRUNED_ATTR,
    TRAIN_SECONDS_ATTR,
    TRIALS_ATTR,
)
from spaces.dimensions import format_value
from storage import open_storage

MIN_TRIALS = 10
SOLID_TRIALS = 30
NOT_USED = "not used"
MAX_VALUES_SHOWN = 10  # an integer dimension with more values than this is binned
BINS = 4
MINOR = 0.05  # importance below this share is "matters little"
MAJOR = 0.10  # importance at or above this share gets its own conclusion
CHANCE_MARGIN = 0.05  # accuracy up to chance + this margin is "at chance"
EPOCH_RATIO = 1.5  # the best group trained this many times the others' epochs: a pruning confound
SURVIVAL_RATIO = 0.5  # its trials finished at most this share of the others' rate: one too
# Classes of the built-in ten-class sources, for studies whose trials do not record `n_classes`.
KNOWN_CLASSES = {
    name: 10
    for name in ("digits", "mnist", "fashion_mnist", "cifar10", "notmnist", "notmnist_large")
}


@dataclass(frozen=True)
class Group:
    """Observations sharing one value (or bin) of a dimension."""

    label: str
    trials: int
    mean_accuracy: float
    best_accuracy: float
    mean_seconds: float | None
    value: Any = None  # the single value of the group, when it has one
    spread: float = 0.0  # standard deviation of the accuracies (0 for a single trial)
    mean_epochs: float | None = None
    at_chance: int = 0  # observations at chance accuracy
    pruned: int = 0  # trials with this value the pruner stopped (in `trials` with pruned ones)


@dataclass(frozen=True)
class Effect:
    dimension: str
    importance: float
    ordered: bool  # groups follow numeric order, so a trend can be read from them
    groups: list[Group]
    pruning_note: str = ""  # why the effect may come from which trials pruning let finish


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
    dataset's known class count). Raises UsageError below MIN_TRIALS.
    """
    trials = analysis_trials(study, with_pruned)
    pruned = study.get_trials(deepcopy=False, states=(TrialState.PRUNED,))
    observations = merge_repeats(trials)
    if len(observations) < MIN_TRIALS:
        hint = (
            f" (--with-pruned would add its {len(pruned)} pruned trials)"
            if pruned and not with_pruned
            else ""
        )
        distinct = (
            f", {len(observations)} distinct configurations"
            if len(observations) < len(trials)
            else ""
        )
        raise UsageError(
            f"importance needs at least {MIN_TRIALS} trials with an accuracy; study "
            f"{study.study_name!r} has {len(trials)}{distinct}{hint}. Run more trials, for "
            f"example `cnnsearch optimize … --study {study.study_name} --trials {MIN_TRIALS * 3}`"
        )
    copy = optuna.create_study(direction="maximize")
    copy.add_trials(observations)
    distributions = _distributions(observations)
    fixed = sorted(name for name, d in distributions.items() if d.single())
    importances = _importances(copy, make_evaluator(evaluator))
    importances = {k: v for k, v in importances.items() if k not in fixed}
    left_out = sorted(set(distributions) - set(importances) - set(fixed))
    chance = chance_accuracy(study, n_classes)
    stopped = [] if with_pruned else pruned
    effects = [
        effect(name, importances[name], distributions[name], observations, stopped, chance)
        for name in importances
    ]
    effects = [_flag_pruning(e, with_pruned) for e in effects]
    merged = [t.user_attrs[TRIALS_ATTR] for t in observations if len(t.user_attrs[TRIALS_ATTR]) > 1]
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
        notes=_notes(evaluator, len(trials), len(observations), left_out, importances, merged),
        observations=len(observations),
        merged=merged,
        chance_accuracy=chance,
        failing=[g.label for e in effects for g in e.groups if _fails(g)],
        pruning_confounded=[e.dimension for e in effects if e.pruning_note],
    )


def explain_study(
    study_name: str, storage_url: str, evaluator: str = "ped-anova", with_pruned: bool = False
) -> Explanation:
    """`explain` for a stored study; unknown names raise the UsageError of `load_study`."""
    make_evaluator(evaluator)  # a bad name fails before the storage is read
    return explain(
        load_study(open_storage(storage_url, read_only=True), study_name), evaluator, with_pruned
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
    known for the dataset; None when unknown."""
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
            else study.user_attrs.get(N_CLASSES_ATTR, KNOWN_CLASSES.get(dataset))
        )
    return None if not n_classes else 1.0 / n_classes


def used_trials_text(explanation: Explanation) -> str:
    """One sentence saying which trials the analysis rests on."""
    text = f"{explanation.trials_used} trials"
    if explanation.pruned_included:
        text += " (completed, and pruned ones at the last accuracy they reported)"
    elif explanation.pruned_left_out:
        text += (
            f" (completed only; {explanation.pruned_left_out} pruned left out, "
            "--with-pruned adds them at their last reported accuracy)"
        )
    else:
        text += " (completed)"
    if explanation.observations and explanation.observations < explanation.trials_used:
        text += f", {explanation.observations} distinct configurations"
    return text


def _notes(
    evaluator: str,
    n_trials: int,
    n_observations: int,
    left_out: list[str],
    importances: dict[str, float],
    merged: list[list[int]],
) -> list[str]:
    notes = []
    if n_observations < SOLID_TRIALS:
        notes.append(
            f"only {n_observations} distinct configurations: read the ranking and effects as "
            f"rough (groups of one or two trials are mostly noise); {SOLID_TRIALS}+ give "
            "steadier answers"
        )
    if merged:
        shown = "; ".join(", ".join(map(str, numbers)) for numbers in merged[:5])
        notes.append(
            f"{n_trials - n_observations} trials repeated another's configuration or continued "
            f"its model, so each such set counts once (trials {shown}"
            f"{'; …' if len(merged) > 5 else ''}): repeats are averaged, a continued model "
            "counts at its final accuracy"
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
    return notes


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
    name: str,
    importance: float,
    distribution: BaseDistribution,
    trials: list[FrozenTrial],
    pruned: Sequence[FrozenTrial] = (),
    chance: float | None = None,
) -> Effect:
    """Observations grouped by `name`'s value or quantile bin, with accuracy, spread, epochs and
    time per group; `pruned` trials (left out of `trials`) are counted into the same groups."""
    present = [t for t in trials if name in t.params]
    values = [t.params[name] for t in present]
    numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
    if isinstance(distribution, CategoricalDistribution) or (
        isinstance(distribution, IntDistribution) and len(set(values)) <= MAX_VALUES_SHOWN
    ):
        keys = (
            sorted(set(values))
            if numeric
            else [c for c in getattr(distribution, "choices", sorted(set(values))) if c in values]
        )
        key_of: Callable[[Any], Any] = lambda v: v  # noqa: E731
    else:
        edges = _bin_edges(values)
        keys = list(range(len(edges) - 1))
        key_of = lambda v: int(np.searchsorted(edges[1:-1], v, side="right"))  # noqa: E731
    groups = []
    for key in keys:
        members = [t for t in present if key_of(t.params[name]) == key]
        if not members:
            continue
        stopped = sum(name in t.params and key_of(t.params[name]) == key for t in pruned)
        label, value = _label(name, members)
        groups.append(_group(label, members, value, stopped, chance))
    absent = [t for t in trials if name not in t.params]
    if absent:
        stopped = sum(name not in t.params for t in pruned)
        groups.append(_group(f"{name} {NOT_USED}", absent, None, stopped, chance))
    return Effect(name, importance, numeric, groups)


def _bin_edges(values: list[Any]) -> np.ndarray:
    edges = np.unique(np.quantile(np.array(values, dtype=float), np.linspace(0, 1, BINS + 1)))
    return edges if len(edges) >= 2 else np.array([edges[0], edges[0]])


def _label(name: str, members: list[FrozenTrial]) -> tuple[str, Any]:
    """`name=value` and the value when the members share one; `name low–high` otherwise."""
    values = [t.params[name] for t in members]
    if all(v == values[0] for v in values):
        return f"{name}={format_value(values[0])}", values[0]
    return f"{name} {format_value(min(values))}–{format_value(max(values))}", None


def _group(
    label: str, trials: list[FrozenTrial], value: Any, pruned: int, chance: float | None
) -> Group:
    accuracy = np.array([t.value for t in trials])
    seconds = [
        t.user_attrs[TRAIN_SECONDS_ATTR] for t in trials if TRAIN_SECONDS_ATTR in t.user_attrs
    ]
    epochs = [t.user_attrs[EPOCHS_RUN_ATTR] for t in trials if t.user_attrs.get(EPOCHS_RUN_ATTR)]
    return Group(
        label=label,
        trials=len(trials),
        mean_accuracy=float(accuracy.mean()),
        best_accuracy=float(accuracy.max()),
        mean_seconds=float(np.mean(seconds)) if seconds else None,
        value=value,
        spread=float(accuracy.std(ddof=1)) if len(trials) > 1 else 0.0,
        mean_epochs=float(np.mean(epochs)) if epochs else None,
        at_chance=0 if chance is None else int(np.sum(accuracy <= chance + CHANCE_MARGIN)),
        pruned=pruned + sum(bool(t.user_attrs.get(PRUNED_ATTR)) for t in trials),
    )


def _fails(g: Group) -> bool:
    """Whether at least half of the group's observations stayed at chance accuracy."""
    return g.at_chance > 0 and 2 * g.at_chance >= g.trials


def _flag_pruning(e: Effect, with_pruned: bool) -> Effect:
    """`e` with a `pruning_note` when its best group's lead may come from pruning: with pruned
    trials in, its trials trained many more epochs than the others (a pruned trial counts at the
    epoch it stopped); with completed trials only, far fewer of its trials survived the pruner,
    so its mean is that of a few survivors."""
    used = [g for g in e.groups if not g.label.endswith(NOT_USED)]
    if len(used) < 2:
        return e
    best = max(used, key=lambda g: g.mean_accuracy)
    rest = [g for g in used if g is not best]
    note = ""
    if with_pruned:
        mine, others = best.mean_epochs, _weighted(rest, lambda g: g.mean_epochs)
        if mine and others and mine >= EPOCH_RATIO * others and mine - others >= 1:
            note = (
                f"the trials with {best.label} trained {mine:.1f} epochs on average against "
                f"{others:.1f} for the others; pruned trials count at the accuracy of the epoch "
                f"they stopped at, so this effect may come from which trials pruning let "
                f"finish rather than from {e.dimension}"
            )
    elif best.pruned >= 2:
        finished = sum(g.trials for g in rest)
        others = finished / (finished + sum(g.pruned for g in rest))
        mine = best.trials / (best.trials + best.pruned)
        if mine <= SURVIVAL_RATIO * others:
            note = (
                f"only {best.trials} of {best.trials + best.pruned} trials with {best.label} "
                f"finished (the pruner stopped the rest) against {others:.0%} for the others' "
                f"values; its mean accuracy is that of the survivors, so this effect may come "
                f"from which trials pruning let finish (--with-pruned counts them all)"
            )
    return e if not note else Effect(e.dimension, e.importance, e.ordered, e.groups, note)


def _weighted(groups: list[Group], of: Callable[[Group], float | None]) -> float | None:
    pairs = [(of(g), g.trials) for g in groups if of(g) is not None]
    if not pairs:
        return None
    return sum(v * n for v, n in pairs) / sum(n for _, n in pairs)


def conclusions(
    effects: list[Effect], evaluator: str, observations: int, chance: float | None = None
) -> list[str]:
    """Plain sentences from the numbers, each naming its evidence: what the important dimensions
    do, which values fail (at chance), which effects pruning may explain, what can be fixed."""
    every = [g for e in effects for g in e.groups]
    if chance is not None and every and all(_fails(g) for g in every):
        return [
            f"every trial stayed near chance accuracy ({chance:.2f}): the models learned "
            "nothing, so no dimension can be judged; check the data, or try more epochs and "
            "learning rates near 1e-3"
        ]
    lines = []
    for e in effects:
        if e.importance < MAJOR or len(e.groups) < 2:
            continue
        share = (
            f"explains {e.importance:.0%} of the variance"
            if evaluator == "fanova"
            else f"carries {e.importance:.0%} of the importance ({evaluator})"
        )
        line = f"{e.dimension} {share}: {_trend(e)}{_time(e)}."
        if e.pruning_note:
            line += f" Caution: {e.pruning_note}."
        lines.append(line)
    for e in effects:
        if e.pruning_note and (e.importance < MAJOR or len(e.groups) < 2):
            lines.append(f"{e.dimension}: caution, {e.pruning_note}.")
    for e in effects:
        for g in e.groups:
            if _fails(g):
                lines.append(
                    f"{g.label} fails: {g.at_chance} of {_n(g)} stayed at chance accuracy "
                    f"(at most {chance + CHANCE_MARGIN:.2f}; chance is {chance:.2f}), so "
                    f"{e.dimension} matters whatever its importance share says."
                )
    judged = [e for e in effects if len([g for g in e.groups if g.trials]) >= 2]
    single = [e for e in effects if e not in judged]
    minor = [
        e
        for e in judged
        if e.importance < MINOR and not e.pruning_note and not any(_fails(g) for g in e.groups)
    ]
    # A low share is not enough: the values' means must also differ less than the trials scatter.
    little = [e for e in minor if (noise := _noise(e)) is not None and _gap(e) <= noise]
    unsure = [e for e in minor if e not in little]
    if little:
        names, many = ", ".join(e.dimension for e in little), len(little) > 1
        example = next(
            (
                f" (for example --set {e.dimension}={format_value(best.value)})"
                for e in little
                if (best := _best_group(e)) and best.value is not None
            ),
            "",
        )
        verb, each, whose, them = (
            ("matter", " each", "each one's", "them") if many else ("matters", "", "its", "it")
        )
        lines.append(
            f"{names} {verb} little here (under {MINOR:.0%} of the importance{each}; the mean "
            f"accuracies of {whose} values differ by at most {max(_gap(e) for e in little):.2f}, "
            f"less than the trials' own spread, over {observations} trials): fix {them} at "
            f"{'their' if many else 'its'} best value{example} to spend trials on the rest."
        )
    if unsure:
        names, many = ", ".join(e.dimension for e in unsure), len(unsure) > 1
        lines.append(
            f"{names} {'are' if many else 'is'} rated under {MINOR:.0%} by {evaluator}, yet "
            f"the mean accuracies of {'their' if many else 'its'} values differ by up to "
            f"{max(_gap(e) for e in unsure):.2f}, more than the trials' own spread (or with one "
            f"trial per value, none to compare with): too little evidence to fix "
            f"{'them' if many else 'it'} yet."
        )
    if single:
        lines.append(
            f"{', '.join(e.groups[0].label for e in single)}: the only value tried in these "
            "trials, so there is nothing to compare it with."
        )
    if not lines:
        lines.append(
            f"no dimension stands out in {observations} trials; run more trials before "
            "drawing conclusions."
        )
    return lines


def _noise(e: Effect) -> float | None:
    """The pooled standard deviation of accuracy within the groups of two or more trials: how
    much trials with the same value scatter. None when every group has a single trial."""
    repeated = [g for g in e.groups if g.trials > 1]
    freedom = sum(g.trials - 1 for g in repeated)
    if not freedom:
        return None
    return math.sqrt(sum((g.trials - 1) * g.spread**2 for g in repeated) / freedom)


def _gap(e: Effect) -> float:
    means = [g.mean_accuracy for g in e.groups]
    return max(means) - min(means)


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
            f"{_evidence(best)}) and lowest with {worst.label} ({worst.mean_accuracy:.2f}, "
            f"{_evidence(worst)})"
        )
    first, last = groups[0], groups[-1]
    peak = max(groups, key=lambda g: g.mean_accuracy)
    low = min(groups, key=lambda g: g.mean_accuracy)
    at = lambda g: f"{g.mean_accuracy:.2f} at {g.label} ({_evidence(g)})"  # noqa: E731
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


def _evidence(g: Group) -> str:
    return _n(g) if g.trials == 1 else f"{_n(g)}, ±{g.spread:.2f}"


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
