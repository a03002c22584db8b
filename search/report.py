"""The study report: summary, best trial or Pareto front, importance, effects and conclusions,
Optuna's plots and the test evaluation, as one HTML page (plotly.js embedded once, opens offline)
or a Markdown file with PNG plots written beside it.

The report is built once as sections of text, tables and plots; two small renderers write it.
"""

from __future__ import annotations

import html
import os
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import optuna
from optuna.trial import TrialState

from errors import UsageError
from search.config import SearchConfig
from search.evaluate import stored_evaluations
from search.importance import MIN_TRIALS, Explanation, analysis_trials, explain, used_trials_text
from search.study import load_study, stored_config
from storage import open_storage

FORMATS = (".html", ".md")
TOP_PARAMS = 6  # dimensions shown in the slice and parallel-coordinate plots
TOP_CURVES = 10  # trials shown in the learning curves


@dataclass(frozen=True)
class Table:
    headers: list[str]
    rows: list[list[str]]


@dataclass(frozen=True)
class Heading:
    text: str


@dataclass(frozen=True)
class Bullets:
    items: list[str]


@dataclass(frozen=True)
class Plot:
    """One of Optuna's plots; `draw` gets optuna.visualization or its matplotlib twin."""

    name: str
    draw: Callable[[ModuleType], Any]


Block = str | Heading | Bullets | Table | Plot


@dataclass
class Section:
    title: str
    blocks: list[Block] = field(default_factory=list)


def check_out_path(out: str) -> Path:
    """The report path, or a UsageError when its format or folder will not do."""
    path = Path(out)
    if path.suffix.lower() not in FORMATS:
        raise UsageError(f"--out {out!r}: end it in .html or .md, for example --out report.html")
    folder = path.parent.resolve()
    writable = folder.is_dir() and os.access(folder, os.W_OK)
    if not writable or (path.exists() and not os.access(path, os.W_OK)):
        raise UsageError(
            f"--out {out!r}: cannot write there ({folder} is missing or read-only); "
            "choose a writable path, for example --out ./report.html"
        )
    return path


def write_report(study_name: str, storage_url: str, out: str, evaluator: str = "ped-anova") -> Path:
    """Write the report of `study_name` to `out` (.html or .md) and return its path."""
    path = check_out_path(out)
    study = load_study(open_storage(storage_url), study_name)
    sections = build_sections(study, evaluator)
    if path.suffix.lower() == ".html":
        path.write_text(render_html(study_name, sections), encoding="utf-8")
    else:
        path.write_text(render_markdown(study_name, sections, path), encoding="utf-8")
    return path


def build_sections(study: optuna.Study, evaluator: str) -> list[Section]:
    config = stored_config(study)
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    accuracy_study = _accuracy_copy(study)
    sections = [_summary(study, config), _best(study, config, complete)]
    explanation = None
    if len(complete) >= MIN_TRIALS:
        explanation = explain(study, evaluator)
        sections += _importance(explanation, accuracy_study, evaluator)
    else:
        sections.append(
            Section(
                "Importance",
                [
                    f"Importance needs at least {MIN_TRIALS} completed trials; this study has "
                    f"{len(complete)}. Run more trials, then make the report again."
                ],
            )
        )
    if complete:
        sections.append(_plots(study, config, accuracy_study, explanation))
        sections.append(_learning_curves(study))
    sections.append(_evaluations(study))
    return sections


def _accuracy_copy(study: optuna.Study) -> optuna.Study:
    """Completed trials valued by accuracy alone, for plots that need one objective."""
    copy = optuna.create_study(direction="maximize", study_name=study.study_name)
    copy.add_trials(analysis_trials(study, with_pruned=False))
    return copy


def _summary(study: optuna.Study, config: SearchConfig) -> Section:
    trials = study.get_trials(deepcopy=False)
    states = Counter(t.state.name.lower() for t in trials)
    seconds = sum(t.user_attrs.get("train_seconds", 0) for t in trials)
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
    return Section("Summary", [Table(["", ""], rows)])


def _best(study: optuna.Study, config: SearchConfig, complete: list) -> Section:
    if not complete:
        return Section("Best trial", ["No completed trial yet."])
    best = sorted(study.best_trials, key=lambda t: -t.values[0])
    title = "Pareto front" if config.multi_objective else "Best trial"
    params = sorted({name for t in best for name in t.params})
    headers = ["trial", *config.objectives, "n_params", "epochs", *params]
    rows = [
        [
            str(t.number),
            *(_fmt(v) for v in t.values),
            str(t.user_attrs.get("n_params", "-")),
            str(t.user_attrs.get("epochs_run", "-")),
            *(_fmt(t.params.get(p, "-")) for p in params),
        ]
        for t in best
    ]
    blocks: list[Block] = [Table(headers, rows)]
    if config.multi_objective:
        names = list(config.objectives)
        blocks.append(
            Plot("pareto_front", lambda v: v.plot_pareto_front(study, target_names=names))
        )
    return Section(title, blocks)


def _importance(
    explanation: Explanation, accuracy_study: optuna.Study, evaluator: str
) -> list[Section]:
    from search.importance import make_evaluator

    importance = Section(
        "Importance",
        [
            f"Importance for accuracy by {evaluator}, from {used_trials_text(explanation)}.",
            *explanation.notes,
            Plot(
                "importance",
                lambda v: _quiet(
                    v.plot_param_importances, accuracy_study, evaluator=make_evaluator(evaluator)
                ),
            ),
        ],
    )
    effects = Section(
        "Effects and conclusions", [Heading("Conclusions"), Bullets(explanation.conclusions)]
    )
    for e in explanation.effects:
        effects.blocks.append(Heading(f"{e.dimension} ({e.importance:.0%} of the importance)"))
        effects.blocks.append(
            Table(
                ["value", "trials", "mean acc", "best acc", "mean s/trial"],
                [
                    [
                        g.label,
                        str(g.trials),
                        f"{g.mean_accuracy:.4f}",
                        f"{g.best_accuracy:.4f}",
                        "-" if g.mean_seconds is None else f"{g.mean_seconds:.1f}",
                    ]
                    for g in e.groups
                ],
            )
        )
    return [importance, effects]


def _plots(
    study: optuna.Study,
    config: SearchConfig,
    accuracy_study: optuna.Study,
    explanation: Explanation | None,
) -> Section:
    if explanation is not None:
        params = list(explanation.importances)[:TOP_PARAMS]
    else:
        params = [n for n, d in _varied(accuracy_study).items()][:TOP_PARAMS]
    return Section(
        "Plots",
        [
            "Optimization history (accuracy per trial and best so far):",
            Plot(
                "history",
                lambda v: v.plot_optimization_history(accuracy_study, target_name="accuracy"),
            ),
            f"Accuracy against each of the {len(params)} most important dimensions:",
            Plot(
                "slice",
                lambda v: v.plot_slice(accuracy_study, params=params, target_name="accuracy"),
            ),
            "Parallel coordinates of the same dimensions:",
            Plot(
                "parallel",
                lambda v: v.plot_parallel_coordinate(
                    accuracy_study, params=params, target_name="accuracy"
                ),
            ),
        ],
    )


def _varied(study: optuna.Study) -> dict[str, Any]:
    return {
        name: dist
        for t in study.get_trials(deepcopy=False)
        for name, dist in t.distributions.items()
        if not dist.single()
    }


def _learning_curves(study: optuna.Study) -> Section:
    """Validation accuracy per epoch of the best trials (their intermediate values)."""
    top = sorted(
        study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)),
        key=lambda t: -t.values[0],
    )[:TOP_CURVES]
    curves = optuna.create_study(direction="maximize")
    curves.add_trials(
        optuna.trial.create_trial(
            params=t.params,
            distributions=t.distributions,
            value=t.values[0],
            intermediate_values=t.intermediate_values,
        )
        for t in top
    )
    numbers = ", ".join(str(t.number) for t in top)
    return Section(
        "Learning curves",
        [
            f"Validation accuracy per epoch of the {len(top)} most accurate trials "
            f"(trials {numbers}; plotted in that order as trials 0-{len(top) - 1}):",
            Plot("learning_curves", lambda v: v.plot_intermediate_values(curves)),
        ],
    )


def _evaluations(study: optuna.Study) -> Section:
    found = stored_evaluations(study)
    if not found:
        return Section(
            "Test evaluation",
            [f"Not evaluated yet: `python cli.py evaluate {study.study_name}` adds it here."],
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
        blocks.append(
            Table(
                ["true \\ predicted", *e["class_names"]],
                [
                    [n, *map(str, row)]
                    for n, row in zip(e["class_names"], e["confusion"], strict=True)
                ],
            )
        )
    return Section("Test evaluation", blocks)


def _quiet(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def render_html(title: str, sections: list[Section]) -> str:
    """One self-contained page: plotly.js is embedded with the first plot."""
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)} report</title>",
        "<style>body{font-family:sans-serif;max-width:1100px;margin:auto}"
        "table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;"
        "padding:2px 8px;text-align:left}</style></head><body>",
        f"<h1>Study {html.escape(title)}</h1>",
    ]
    plotly_included = False
    for section in sections:
        parts.append(f"<h2>{html.escape(section.title)}</h2>")
        for block in section.blocks:
            if isinstance(block, Table):
                head = "".join(f"<th>{html.escape(h)}</th>" for h in block.headers)
                body = "".join(
                    "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
                    for row in block.rows
                )
                parts.append(f"<table><tr>{head}</tr>{body}</table>")
            elif isinstance(block, Plot):
                figure = _quiet(block.draw, optuna.visualization)
                parts.append(figure.to_html(full_html=False, include_plotlyjs=not plotly_included))
                plotly_included = True
            elif isinstance(block, Heading):
                parts.append(f"<h3>{html.escape(block.text)}</h3>")
            elif isinstance(block, Bullets):
                items = "".join(f"<li>{html.escape(i)}</li>" for i in block.items)
                parts.append(f"<ul>{items}</ul>")
            else:
                parts.append(f"<p>{html.escape(block)}</p>")
    parts.append("</body></html>")
    return "\n".join(parts)


def render_markdown(title: str, sections: list[Section], path: Path) -> str:
    """Markdown with each plot as a PNG in a folder beside the file."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder = path.with_name(f"{path.stem}-plots")
    folder.mkdir(exist_ok=True)
    lines = [f"# Study {title}", ""]
    for section in sections:
        lines += [f"## {section.title}", ""]
        for block in section.blocks:
            if isinstance(block, Table):
                lines.append("| " + " | ".join(block.headers) + " |")
                lines.append("|" + "---|" * len(block.headers))
                lines += ["| " + " | ".join(row) + " |" for row in block.rows]
            elif isinstance(block, Plot):
                _quiet(block.draw, optuna.visualization.matplotlib)
                figure = plt.gcf()
                figure.savefig(folder / f"{block.name}.png", dpi=100, bbox_inches="tight")
                plt.close("all")
                lines.append(f"![{block.name}]({folder.name}/{block.name}.png)")
            elif isinstance(block, Heading):
                lines.append(f"### {block.text}")
            elif isinstance(block, Bullets):
                lines += [f"- {item}" for item in block.items]
            else:
                lines.append(block)
            lines.append("")
    return "\n".join(lines)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
