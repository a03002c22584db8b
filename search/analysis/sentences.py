"""What `importance` and `report` say in words: the conclusions drawn from the effects, the
notes on how far the numbers can be trusted, and the line naming the trials they rest on.

Each conclusion names its evidence (trials, spread). A value at chance accuracy fails whatever
its importance share, and an effect that pruning may explain carries a caution.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from search.analysis.effects import (
    CHANCE_MARGIN,
    NOT_USED,
    Effect,
    Group,
    PruningConfound,
    best_group,
    fails,
    gap,
    noise,
    pruning_confound,
    used_groups,
)
from spaces.dimensions import format_value

SOLID_TRIALS = 30
MINOR = 0.05  # importance below this share is "matters little"
MAJOR = 0.10  # importance at or above this share gets its own conclusion
MERGED_SHOWN = 5  # sets of merged trial numbers a note lists


def used_trials_text(explanation: Any) -> str:
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


def notes(
    evaluator: str,
    n_trials: int,
    n_observations: int,
    left_out: list[str],
    importances: Mapping[str, float],
    merged: list[list[int]],
    conditional: Mapping[str, str],
) -> list[str]:
    """How far the ranking and effects can be trusted, what the evaluator left out, and how it
    rated the dimensions that exist only under a condition (`conditional`, from the space)."""
    found = []
    if n_observations < SOLID_TRIALS:
        found.append(
            f"only {n_observations} distinct configurations: read the ranking and effects as "
            f"rough (groups of one or two trials are mostly noise); {SOLID_TRIALS}+ give "
            "steadier answers"
        )
    if merged:
        shown = "; ".join(", ".join(map(str, numbers)) for numbers in merged[:MERGED_SHOWN])
        found.append(
            f"{n_trials - n_observations} trials repeated another's configuration or continued "
            f"its model, so each such set counts once (trials {shown}"
            f"{'; …' if len(merged) > MERGED_SHOWN else ''}): repeats are averaged, a continued "
            "model counts at its final accuracy"
        )
    if left_out:
        found.append(
            f"{evaluator} needs dimensions present in every trial, so it leaves out "
            f"{', '.join(left_out)} (conditional); --evaluator ped-anova rates them too"
        )
    found += [
        f"{name} exists only when {condition}; {evaluator} rates it on the trials "
        "that have it, and its effects table shows the others as 'not used'"
        for name, condition in conditional.items()
        if name in importances
    ]
    return found


def with_pruning_note(e: Effect, with_pruned: bool) -> Effect:
    """`e` with a `pruning_note` when its best group's lead may come from pruning."""
    confound = pruning_confound(e, with_pruned)
    return e if confound is None else replace(e, pruning_note=_pruning_note(confound, e))


def _pruning_note(confound: PruningConfound, e: Effect) -> str:
    best, mine, others = confound.best, confound.mine, confound.others
    if confound.by_epochs:
        return (
            f"the trials with {best.label} trained {mine:.1f} epochs on average against "
            f"{others:.1f} for the others; pruned trials count at the accuracy of the epoch "
            f"they stopped at, so this effect may come from which trials pruning let "
            f"finish rather than from {e.dimension}"
        )
    return (
        f"only {best.trials} of {best.trials + best.pruned} trials with {best.label} "
        f"finished (the pruner stopped the rest) against {others:.0%} for the others' "
        f"values; its mean accuracy is that of the survivors, so this effect may come "
        f"from which trials pruning let finish (--with-pruned counts them all)"
    )


def conclusions(
    effects: list[Effect], evaluator: str, observations: int, chance: float | None = None
) -> list[str]:
    """Plain sentences from the numbers, each naming its evidence: what the important dimensions
    do, which values fail (at chance), which effects pruning may explain, what can be fixed."""
    every = [g for e in effects for g in e.groups]
    if chance is not None and every and all(fails(g) for g in every):
        return [
            f"every trial stayed near chance accuracy ({chance:.2f}): the models learned "
            "nothing, so no dimension can be judged; check the data, or try more epochs and "
            "learning rates near 1e-3"
        ]
    lines = [
        *_major_lines(effects, evaluator),
        *(
            f"{e.dimension}: caution, {e.pruning_note}."
            for e in effects
            if e.pruning_note and not _major(e)
        ),
        *_failing_lines(effects, chance),
        *_minor_lines(effects, evaluator, observations),
    ]
    if not lines:
        lines.append(
            f"no dimension stands out in {observations} trials; run more trials before "
            "drawing conclusions."
        )
    return lines


def _major(e: Effect) -> bool:
    return e.importance >= MAJOR and len(e.groups) >= 2


def _major_lines(effects: list[Effect], evaluator: str) -> list[str]:
    """A sentence for each dimension with a large importance share: how accuracy follows it."""
    lines = []
    for e in filter(_major, effects):
        share = (
            f"explains {e.importance:.0%} of the variance"
            if evaluator == "fanova"
            else f"carries {e.importance:.0%} of the importance ({evaluator})"
        )
        line = f"{e.dimension} {share}: {_trend(e)}{_time(e)}."
        if e.pruning_note:
            line += f" Caution: {e.pruning_note}."
        lines.append(line)
    return lines


def _failing_lines(effects: list[Effect], chance: float | None) -> list[str]:
    return [
        f"{g.label} fails: {g.at_chance} of {_n(g)} stayed at chance accuracy "
        f"(at most {chance + CHANCE_MARGIN:.2f}; chance is {chance:.2f}), so "
        f"{e.dimension} matters whatever its importance share says."
        for e in effects
        for g in e.groups
        if fails(g)
    ]


def _minor_lines(effects: list[Effect], evaluator: str, observations: int) -> list[str]:
    """What to do with the dimensions of small importance share: fix them when their values
    differ less than the trials scatter, wait for more trials otherwise."""
    judged = [e for e in effects if len([g for g in e.groups if g.trials]) >= 2]
    single = [e for e in effects if e not in judged]
    minor = [
        e
        for e in judged
        if e.importance < MINOR and not e.pruning_note and not any(fails(g) for g in e.groups)
    ]
    # A low share is not enough: the values' means must also differ less than the trials scatter.
    little = [e for e in minor if (scatter := noise(e)) is not None and gap(e) <= scatter]
    unsure = [e for e in minor if e not in little]
    lines = []
    if little:
        lines.append(_little_line(little, observations))
    if unsure:
        names, many = ", ".join(e.dimension for e in unsure), len(unsure) > 1
        lines.append(
            f"{names} {'are' if many else 'is'} rated under {MINOR:.0%} by {evaluator}, yet "
            f"the mean accuracies of {'their' if many else 'its'} values differ by up to "
            f"{max(gap(e) for e in unsure):.2f}, more than the trials' own spread (or with one "
            f"trial per value, none to compare with): too little evidence to fix "
            f"{'them' if many else 'it'} yet."
        )
    if single:
        lines.append(
            f"{', '.join(e.groups[0].label for e in single)}: the only value tried in these "
            "trials, so there is nothing to compare it with."
        )
    return lines


def _little_line(little: list[Effect], observations: int) -> str:
    names, many = ", ".join(e.dimension for e in little), len(little) > 1
    example = next(
        (
            f" (for example --set {e.dimension}={format_value(best.value)})"
            for e in little
            if (best := best_group(e)) and best.value is not None
        ),
        "",
    )
    verb, each, whose, them = (
        ("matter", " each", "each one's", "them") if many else ("matters", "", "its", "it")
    )
    return (
        f"{names} {verb} little here (under {MINOR:.0%} of the importance{each}; the mean "
        f"accuracies of {whose} values differ by at most {max(gap(e) for e in little):.2f}, "
        f"less than the trials' own spread, over {observations} trials): fix {them} at "
        f"{'their' if many else 'its'} best value{example} to spend trials on the rest."
    )


def _trend(e: Effect) -> str:
    groups = used_groups(e)
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
    if peak is last and low is first:
        text = f"mean accuracy rises from {_at(first)} to {_at(last)}"
    elif peak is first and low is last:
        text = f"mean accuracy falls from {_at(first)} to {_at(last)}"
    elif peak not in (first, last) and low in (first, last):
        text = f"mean accuracy rises from {_at(first)} to {_at(peak)} and falls to {_at(last)}"
    else:
        text = f"mean accuracy peaks at {_at(peak)} and is lowest at {_at(low)}"
    unused = [g for g in e.groups if g.label.endswith(NOT_USED)]
    if unused:
        text += f"; {_at(unused[0])}"
    return text


def _at(g: Group) -> str:
    return f"{g.mean_accuracy:.2f} at {g.label} ({_evidence(g)})"


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
