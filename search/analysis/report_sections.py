"""What a report says, as sections: summary, best trial or Pareto front, importance, effects and
conclusions, Optuna's plots, learning curves and the test evaluation. Renderers write them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from errors import UsageError
from search.analysis.evaluations import stored_evaluations
from search.analysis.importance import MIN_TRIALS, Explanation, explain, make_evaluator
from search.analysis.observations import analysis_trials
from search.analysis.report_blocks import Block, Bullets, Heading, Plot, Section, Table, quiet
from search.analysis.report_curves import learning_curves
from search.analysis.sentences import used_trials_text
from search.config import SearchConfig
from search.study import stored_config
from search.vocabulary import EPOCHS_RUN_ATTR, N_PARAMS_ATTR, TRAIN_SECONDS_ATTR, TRIALS_ATTR
from spaces.dimensions import format_value

TOP_PARAMS = 6  # dimensions shown in the slice and parallel-coordinate plots
SLICES_PER_ROW = 3  # slice panels per figure: each stays readable on a narrow window
TOP_EFFECTS = 5  # effects tables shown, for the most important dimensions


def build_sections(study: optuna.Study, evaluator: str, with_pruned: bool = False) -> list[Section]:
    config = stored_config(study)
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    accuracy_study = _accuracy_copy(study, with_pruned)
    sections = [_summary(study, config), _best(study, config, complete)]
    explanation = None
    valued = accuracy_study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if len(valued) >= MIN_TRIALS:
        try:
            explanation = explain(study, evaluator, with_pruned)
        except UsageError as e:  # too few distinct configurations among them
            sections.append(Section("Importance", [f"No importance yet: {e}"]))
        else:
            sections += _importance(explanation, accuracy_study, evaluator)
    else:
        pruned = len(study.get_trials(deepcopy=False, states=(TrialState.PRUNED,)))
        hint = f" (--with-pruned would add its {pruned} pruned trials)" if pruned else ""
        sections.append(
            Section(
                "Importance",
                [
                    f"Importance needs at least {MIN_TRIALS} completed trials; this study has "
                    f"{len(complete)}{'' if with_pruned else hint}. Run more trials, then make "
                    "the report again."
                ],
            )
        )
    if valued:
        sections.append(_plots(accuracy_study, explanation))
        sections.append(learning_curves(study, with_pruned))
    sections.append(_evaluations(study))
    return sections


def _accuracy_copy(study: optuna.Study, with_pruned: bool) -> optuna.Study:
    """Trials valued by accuracy alone, for plots that need one objective. Each keeps its trial
    number (a failed placeholder stands in for every trial left out), so the plots' "Trial"
    axes and colours name the study's own trials."""
    kept = {t.user_attrs[TRIALS_ATTR][0]: t for t in analysis_trials(study, with_pruned)}
    last = max(kept, default=-1)
    copy = optuna.create_study(direction="maximize", study_name=study.study_name)
    copy.add_trials(
        kept.get(n) or optuna.trial.create_trial(state=TrialState.FAIL) for n in range(last + 1)
    )
    return copy


def _summary(study: optuna.Study, config: SearchConfig) -> Section:
    trials = study.get_trials(deepcopy=False)
    states = Counter(t.state.name.lower() for t in trials)
    seconds = sum(t.user_attrs.get(TRAIN_SECONDS_ATTR, 0) for t in trials)
    sets = ", ".join(config.sets) or "none"
    rows = [
        ["dataset", config.dataset],
        ["space", config.space],
        ["objectives", ", ".join(config.objectives)],
        ["epochs per trial (most)", str(config.epochs)],
        ["training images", "all" if config.train_size is None else str(config.train_size)],
        ["fixed or narrowed (--set)", sets],
        ["sampler / pruner", f"{config.sampler} / {config.pruner_name}"],
        ["trials", ", ".join(f"{n} {s}" for s, n in sorted(states.items())) or "none"],
        ["total training time", f"{seconds / 60:.1f} min ({seconds:.0f} s)"],
    ]
    return Section("Summary", [Table(["setting", "value"], rows)])


def _best(study: optuna.Study, config: SearchConfig, complete: list) -> Section:
    """The best trial (or the Pareto front) with one column per trial, so that its many
    parameters run down the page instead of across it."""
    if not complete:
        return Section("Best trial", ["No completed trial yet."])
    best = sorted(study.best_trials, key=lambda t: -t.values[0])
    title = "Pareto front" if config.multi_objective else "Best trial"
    params = sorted({name for t in best for name in t.params})
    fields: list[tuple[str, Callable[[FrozenTrial], Any]]] = [
        *((name, lambda t, i=i: t.values[i]) for i, name in enumerate(config.objectives)),
        ("n_params", lambda t: t.user_attrs.get(N_PARAMS_ATTR, "-")),
        ("epochs", lambda t: t.user_attrs.get(EPOCHS_RUN_ATTR, "-")),
        *((name, lambda t, name=name: t.params.get(name, "-")) for name in params),
    ]
    rows = [[name, *(format_value(get(t)) for t in best)] for name, get in fields]
    blocks: list[Block] = [Table(["", *(f"trial {t.number}" for t in best)], rows)]
    if config.multi_objective:
        names = list(config.objectives)
        blocks.append(
            Plot("pareto_front", lambda v: v.plot_pareto_front(study, target_names=names))
        )
    return Section(title, blocks)


def _importance(
    explanation: Explanation, accuracy_study: optuna.Study, evaluator: str
) -> list[Section]:
    importance = Section(
        "Importance",
        [
            f"Importance for accuracy by {evaluator}, from {used_trials_text(explanation)}.",
            *([Bullets([f"Note: {n}." for n in explanation.notes])] if explanation.notes else []),
            Plot(
                "importance",
                lambda v: quiet(
                    v.plot_param_importances, accuracy_study, evaluator=make_evaluator(evaluator)
                ),
            ),
        ],
    )
    effects = Section(
        "Effects and conclusions", [Heading("Conclusions"), Bullets(explanation.conclusions)]
    )
    for e in explanation.effects[:TOP_EFFECTS]:
        effects.blocks.append(Heading(f"{e.dimension} ({e.importance:.0%} of the importance)"))
        effects.blocks.append(
            Table(
                ["value", "trials", "mean acc", "± std", "best acc", "epochs", "pruned", "s/trial"],
                [
                    [
                        g.label,
                        str(g.trials),
                        f"{g.mean_accuracy:.4f}",
                        f"{g.spread:.4f}",
                        f"{g.best_accuracy:.4f}",
                        "-" if g.mean_epochs is None else f"{g.mean_epochs:.1f}",
                        str(g.pruned),
                        "-" if g.mean_seconds is None else f"{g.mean_seconds:.1f}",
                    ]
                    for g in e.groups
                ],
            )
        )
    rest = [e.dimension for e in explanation.effects[TOP_EFFECTS:]]
    if rest:
        effects.blocks.append(
            f"Effects of the {len(rest)} less important dimensions ({', '.join(rest)}): "
            f"`cnnsearch importance {explanation.study} --top {len(explanation.effects)}`."
        )
    return [importance, effects]


def _plots(accuracy_study: optuna.Study, explanation: Explanation | None) -> Section:
    if explanation is not None:
        params = list(explanation.importances)[:TOP_PARAMS]
        which = f"the {len(params)} most important dimensions"
    else:
        params = list(_varied(accuracy_study))[:TOP_PARAMS]
        which = (
            f"{len(params)} searched dimensions (in the space's order; importance needs "
            f"{MIN_TRIALS} trials)"
        )
    blocks: list[Block] = [
        "Optimization history (accuracy per trial and best so far):",
        Plot(
            "history",
            lambda v: v.plot_optimization_history(accuracy_study, target_name="accuracy"),
        ),
    ]
    if params:
        blocks.append(f"Accuracy against each of {which}:")
        for i in range(0, len(params), SLICES_PER_ROW):
            row = params[i : i + SLICES_PER_ROW]
            blocks.append(
                Plot(
                    "slice" if i == 0 else f"slice-{i // SLICES_PER_ROW + 1}",
                    lambda v, row=row: v.plot_slice(
                        accuracy_study, params=row, target_name="accuracy"
                    ),
                )
            )
    if len(params) > 1:
        blocks += [
            "Parallel coordinates of the same dimensions:",
            Plot(
                "parallel",
                lambda v: v.plot_parallel_coordinate(
                    accuracy_study, params=params, target_name="accuracy"
                ),
            ),
        ]
    return Section("Plots", blocks)


def _varied(study: optuna.Study) -> dict[str, Any]:
    return {
        name: dist
        for t in study.get_trials(deepcopy=False)
        for name, dist in t.distributions.items()
        if not dist.single()
    }


def _evaluations(study: optuna.Study) -> Section:
    found = stored_evaluations(study)
    if not found:
        return Section(
            "Test evaluation",
            [f"Not evaluated yet: `cnnsearch evaluate {study.study_name}` adds it here."],
        )
    blocks: list[Block] = []
    for e in found:
        blocks.append(
            f"Trial {e['trial']} ({e['model_source']}): test accuracy {e['accuracy']:.4f} "
            f"on {e['test_images']} images."
        )
        blocks.append(
            Table(
                ["class", "precision", "recall", "F1", "support"],
                [
                    [
                        name,
                        *(f"{m[k]:.4f}" for k in ("precision", "recall", "f1-score")),
                        str(int(m["support"])),
                    ]
                    for name, m in e["per_class"].items()
                ],
            )
        )
        blocks.append(_confusion(e["class_names"], e["confusion"]))
    return Section("Test evaluation", blocks)


def _confusion(names: list[str], matrix: list[list[int]]) -> Table:
    """The confusion matrix, each cell shaded by its share of the true class's images."""
    shading = [[0.0, *(n / max(sum(row), 1) for n in row)] for row in matrix]
    return Table(
        ["true \\ predicted", *names],
        [[name, *map(str, row)] for name, row in zip(names, matrix, strict=True)],
        shading=shading,
    )
