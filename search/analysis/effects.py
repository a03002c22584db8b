"""The marginal effect of a dimension on accuracy: its observations grouped by value, with the
statistics the conclusions rest on.

Observations are grouped by the dimension's value (categorical or few-valued integer
dimensions) or by quantile bins (other numeric ones); a conditional dimension gets a "not used"
group for the observations that lack it. Two checks keep conclusions honest: a value whose
trials sit at chance accuracy fails, and an effect that follows which trials pruning let finish
(more epochs behind the best value, or fewer of its trials surviving the pruner) is a confound.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from optuna.distributions import BaseDistribution, CategoricalDistribution, IntDistribution
from optuna.trial import FrozenTrial

from search.vocabulary import EPOCHS_RUN_ATTR, PRUNED_ATTR, TRAIN_SECONDS_ATTR
from spaces.dimensions import format_value

NOT_USED = "not used"
MAX_VALUES_SHOWN = 10  # an integer dimension with more values than this is binned
BINS = 4
CHANCE_MARGIN = 0.05  # accuracy up to chance + this margin is "at chance"
EPOCH_RATIO = 1.5  # the best group trained this many times the others' epochs: a pruning confound
SURVIVAL_RATIO = 0.5  # its trials finished at most this share of the others' rate: one too


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
class PruningConfound:
    """Why the best group's lead may come from pruning rather than from the dimension."""

    best: Group
    by_epochs: bool  # True: its trials trained more epochs; False: fewer of them finished
    mine: float  # the best group's mean epochs, or the share of its trials that finished
    others: float  # the same for the other values' trials


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
    keys, key_of = _grouping(distribution, values, numeric)
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


def _grouping(
    distribution: BaseDistribution, values: list[Any], numeric: bool
) -> tuple[list[Any], Callable[[Any], Any]]:
    """The group keys, in order, and the key of a value: the value itself, or its bin."""
    if isinstance(distribution, CategoricalDistribution) or (
        isinstance(distribution, IntDistribution) and len(set(values)) <= MAX_VALUES_SHOWN
    ):
        keys = (
            sorted(set(values))
            if numeric
            else [c for c in getattr(distribution, "choices", sorted(set(values))) if c in values]
        )
        return keys, lambda v: v
    edges = _bin_edges(values)
    return (
        list(range(len(edges) - 1)),
        lambda v: int(np.searchsorted(edges[1:-1], v, side="right")),
    )


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


def fails(g: Group) -> bool:
    """Whether at least half of the group's observations stayed at chance accuracy."""
    return g.at_chance > 0 and 2 * g.at_chance >= g.trials


def used_groups(e: Effect) -> list[Group]:
    """The groups of observations that have the dimension (all but its "not used" group)."""
    return [g for g in e.groups if not g.label.endswith(NOT_USED)]


def best_group(e: Effect) -> Group | None:
    used = used_groups(e)
    return max(used, key=lambda g: g.mean_accuracy) if used else None


def pruning_confound(e: Effect, with_pruned: bool) -> PruningConfound | None:
    """Whether `e`'s best group's lead may come from pruning: with pruned trials in, its trials
    trained many more epochs than the others (a pruned trial counts at the epoch it stopped);
    with completed trials only, far fewer of its trials survived the pruner, so its mean is that
    of a few survivors."""
    used = used_groups(e)
    if len(used) < 2:
        return None
    best = max(used, key=lambda g: g.mean_accuracy)
    rest = [g for g in used if g is not best]
    if with_pruned:
        mine, others = best.mean_epochs, _weighted(rest, lambda g: g.mean_epochs)
        if mine and others and mine >= EPOCH_RATIO * others and mine - others >= 1:
            return PruningConfound(best, True, mine, others)
    elif best.pruned >= 2:
        finished = sum(g.trials for g in rest)
        others = finished / (finished + sum(g.pruned for g in rest))
        mine = best.trials / (best.trials + best.pruned)
        if mine <= SURVIVAL_RATIO * others:
            return PruningConfound(best, False, mine, others)
    return None


def _weighted(groups: list[Group], of: Callable[[Group], float | None]) -> float | None:
    pairs = [(of(g), g.trials) for g in groups if of(g) is not None]
    if not pairs:
        return None
    return sum(v * n for v, n in pairs) / sum(n for _, n in pairs)


def noise(e: Effect) -> float | None:
    """The pooled standard deviation of accuracy within the groups of two or more trials: how
    much trials with the same value scatter. None when every group has a single trial."""
    repeated = [g for g in e.groups if g.trials > 1]
    freedom = sum(g.trials - 1 for g in repeated)
    if not freedom:
        return None
    return math.sqrt(sum((g.trials - 1) * g.spread**2 for g in repeated) / freedom)


def gap(e: Effect) -> float:
    """How far apart the groups' mean accuracies lie."""
    means = [g.mean_accuracy for g in e.groups]
    return max(means) - min(means)
