"""The study report: summary, best trial or Pareto front, importance, effects and conclusions,
Optuna's plots and the test evaluation, as one HTML page (plotly.js embedded once, opens offline,
fits any window from a laptop's to a wide screen) or a Markdown file with PNG plots beside it.

The report is built once as sections of text, tables and plots; two small renderers write it.
Nothing here imports Keras: the report reads the storage only.
"""

from __future__ import annotations

import html
import warnings
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from errors import UsageError
from search.analysis.evaluations import stored_evaluations
from search.analysis.importance import MIN_TRIALS, Explanation, explain, make_evaluator
from search.analysis.observations import analysis_trials
from search.analysis.sentences import used_trials_text
from search.config import SearchConfig
from search.study import load_study, stored_config
from search.vocabulary import EPOCHS_RUN_ATTR, N_PARAMS_ATTR, TRAIN_SECONDS_ATTR, TRIALS_ATTR
from spaces.dimensions import format_value
from storage import open_storage
from storage.writable import can_write_in

FORMATS = (".html", ".md")
TOP_PARAMS = 6  # dimensions shown in the slice and parallel-coordinate plots
SLICES_PER_ROW = 3  # slice panels per figure: each stays readable on a narrow window
TOP_CURVES = 10  # completed (and, with pruned trials, pruned) trials in the learning curves
TOP_EFFECTS = 5  # effects tables shown, for the most important dimensions
PLOT_HEIGHT = 420  # pixels; the width follows the page
# Markdown PNGs: Optuna's slice plot gives each panel half the default figure width.
PNG_FIGSIZE = (8.0, 4.8)  # inches: 4 per slice panel, so tick labels do not overlap
PARALLEL_AXIS_INCHES = 1.8  # width per axis of a parallel-coordinate PNG


@dataclass(frozen=True)
class Table:
    headers: list[str]
    rows: list[list[str]]
    shading: list[list[float]] | None = None  # per cell, 0..1: how dark its background is (HTML)


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
    if not folder.is_dir() or not can_write_in(folder) or path.is_dir():
        raise _unwritable(out, f"{folder} is missing or read-only")
    return path


def _unwritable(out: str, why: str) -> UsageError:
    return UsageError(
        f"--out {out!r}: cannot write there ({why}); "
        "choose a writable path, for example --out ./report.html"
    )


def write_report(
    study_name: str,
    storage_url: str,
    out: str,
    evaluator: str = "ped-anova",
    with_pruned: bool = False,
) -> Path:
    """Write the report of `study_name` to `out` (.html or .md) and return its path.

    With `with_pruned`, pruned trials count in the importance and plots at the last accuracy
    they reported, and their learning curves are drawn beside the completed trials'.
    """
    path = check_out_path(out)
    study = load_study(open_storage(storage_url, read_only=True), study_name)
    sections = build_sections(study, evaluator, with_pruned)
    try:
        if path.suffix.lower() == ".html":
            path.write_text(render_html(study_name, sections), encoding="utf-8")
        else:
            path.write_text(render_markdown(study_name, sections, path), encoding="utf-8")
    except OSError as e:
        raise _unwritable(out, e.strerror or str(e)) from None
    return path


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
        sections.append(_learning_curves(study, with_pruned))
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
                lambda v: _quiet(
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


class _TrialsView:
    """The study as Optuna's plots see it, holding only `trials`: the plots label each curve
    with the trial's own number (a copy into a new study would renumber them from 0)."""

    def __init__(self, study: optuna.Study, trials: list[FrozenTrial]) -> None:
        self._study, self._trials = study, trials

    def get_trials(
        self, deepcopy: bool = True, states: Iterable[TrialState] | None = None
    ) -> list[FrozenTrial]:
        return [t for t in self._trials if states is None or t.state in states]

    @property
    def trials(self) -> list[FrozenTrial]:
        return self.get_trials()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._study, name)


def _learning_curves(study: optuna.Study, with_pruned: bool) -> Section:
    """Validation accuracy per epoch (the intermediate values) of the most accurate completed
    trials, and with `with_pruned` of the pruned trials that reached the highest accuracy."""
    complete = _top(study, TrialState.COMPLETE)
    pruned = _top(study, TrialState.PRUNED) if with_pruned else []
    shown = complete + pruned
    if not shown:
        return Section("Learning curves", ["No trial reported a learning curve."])
    text = f"Validation accuracy per epoch of the {len(complete)} most accurate completed trials"
    if pruned:
        text += f" and of the {len(pruned)} best pruned trials (dotted, ending where pruned)"
    text += f"; each curve is labelled with its trial number ({', '.join(_numbers(shown))})."
    all_pruned = len(study.get_trials(deepcopy=False, states=(TrialState.PRUNED,)))
    if all_pruned and not with_pruned:
        text += f" The study's {all_pruned} pruned trials are left out: --with-pruned draws them."
    return Section(
        "Learning curves",
        [text, Plot("learning_curves", lambda v: _curves(v, _TrialsView(study, shown), pruned))],
    )


def _top(study: optuna.Study, state: TrialState) -> list[FrozenTrial]:
    with_curve = [
        t for t in study.get_trials(deepcopy=False, states=(state,)) if t.intermediate_values
    ]
    return sorted(with_curve, key=lambda t: -max(t.intermediate_values.values()))[:TOP_CURVES]


def _numbers(trials: list[FrozenTrial]) -> list[str]:
    return [str(t.number) for t in trials]


def _curves(v: ModuleType, view: _TrialsView, pruned: list[FrozenTrial]) -> Any:
    """Optuna's intermediate-values plot with its axes named and the pruned curves dotted."""
    dotted = {f"Trial{t.number}" for t in pruned}
    if v is optuna.visualization:
        figure = v.plot_intermediate_values(view)
        for trace in figure.data:
            if trace.name in dotted:
                trace.line.dash = "dot"
            trace.name = trace.name.replace("Trial", "trial ")
        figure.update_layout(
            title="Learning curves",
            xaxis_title="epoch",
            yaxis_title="validation accuracy",
            showlegend=True,
        )
        last = max(t.last_step or 1 for t in view.trials)
        figure.update_xaxes(tick0=1, dtick=max(1, round(last / 10)))
        return figure
    from matplotlib.ticker import MaxNLocator

    axes = v.plot_intermediate_values(view)
    for line in axes.get_lines():
        if line.get_label() in dotted:
            line.set_linestyle(":")
        line.set_label(line.get_label().replace("Trial", "trial "))
    axes.set_title("Learning curves")
    axes.set_xlabel("epoch")
    axes.set_ylabel("validation accuracy")
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    if len(axes.get_lines()) >= 2:
        axes.legend(bbox_to_anchor=(1.02, 1), loc="upper left", borderaxespad=0.0)
    return axes


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


def _quiet(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


STYLE = """
body{font-family:system-ui,sans-serif;max-width:1200px;margin:0 auto;padding:0 16px;
  line-height:1.4}
.table{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;margin:8px 0}
td,th{border:1px solid #ccc;padding:2px 8px}
th{text-align:left}
td{text-align:right}
.plot{width:100%;margin:8px 0}
code{background:#f3f3f3;padding:0 3px}
"""


def render_html(title: str, sections: list[Section]) -> str:
    """One self-contained page: plotly.js is embedded with the first plot; plots and tables take
    the page's width, whatever the window's."""
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>{html.escape(title)} report</title>",
        f"<style>{STYLE}</style></head><body>",
        f"<h1>Study {html.escape(title)}</h1>",
    ]
    plotly_included = False
    for section in sections:
        parts.append(f"<h2>{html.escape(section.title)}</h2>")
        for block in section.blocks:
            if isinstance(block, Table):
                parts.append(_html_table(block))
            elif isinstance(block, Plot):
                figure = _quiet(block.draw, optuna.visualization)
                figure.update_layout(width=None, height=PLOT_HEIGHT, autosize=True)
                plot = figure.to_html(
                    full_html=False,
                    include_plotlyjs=not plotly_included,
                    default_width="100%",
                    default_height=f"{PLOT_HEIGHT}px",
                    config={"responsive": True, "displaylogo": False},
                )
                parts.append(f"<div class='plot' id='plot-{block.name}'>{plot}</div>")
                plotly_included = True
            elif isinstance(block, Heading):
                parts.append(f"<h3>{html.escape(block.text)}</h3>")
            elif isinstance(block, Bullets):
                items = "".join(f"<li>{_inline_html(i)}</li>" for i in block.items)
                parts.append(f"<ul>{items}</ul>")
            else:
                parts.append(f"<p>{_inline_html(block)}</p>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _html_table(table: Table) -> str:
    head = (
        "<tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in table.headers) + "</tr>"
        if any(table.headers)
        else ""
    )
    rows = []
    for r, row in enumerate(table.rows):
        cells = []
        for c, cell in enumerate(row):
            share = table.shading[r][c] if table.shading else 0.0
            if c == 0 and any(table.headers):
                cells.append(f"<th>{html.escape(cell)}</th>")
            elif table.shading:
                color = "#fff" if share > 0.6 else "#000"
                style = f"background:rgba(31,119,180,{share:.2f});color:{color}"
                cells.append(f"<td style='{style}'>{html.escape(cell)}</td>")
            else:
                cells.append(f"<td>{html.escape(cell)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<div class='table'><table>{head}{''.join(rows)}</table></div>"


def _inline_html(text: str) -> str:
    """Escaped text with `code` spans, as the Markdown renderer shows them."""
    pieces = html.escape(text).split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(pieces))


def render_markdown(title: str, sections: list[Section], path: Path) -> str:
    """Markdown with each plot as a PNG in a folder beside the file."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder = path.with_name(f"{path.stem}-plots")
    folder.mkdir(exist_ok=True)
    lines = [f"# Study {title}", ""]
    with matplotlib.rc_context({"figure.figsize": PNG_FIGSIZE}):
        for section in sections:
            lines += _markdown_section(section, folder, plt)
    return "\n".join(lines)


def _markdown_section(section: Section, folder: Path, plt: ModuleType) -> list[str]:
    lines = [f"## {section.title}", ""]
    for block in section.blocks:
        if isinstance(block, Table):
            lines.append("| " + " | ".join(block.headers) + " |")
            lines.append("|" + "---|" * len(block.headers))
            lines += ["| " + " | ".join(row) + " |" for row in block.rows]
        elif isinstance(block, Plot):
            _quiet(block.draw, optuna.visualization.matplotlib)
            figure = plt.gcf()
            readable_ticks(figure)
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
    return lines


def readable_ticks(figure: Any) -> None:
    """Room for tick labels where panels sit side by side: small slanted x labels, and a width
    per axis for a parallel-coordinate plot (whose axes overlap in one panel)."""
    panels = [ax for ax in figure.get_axes() if ax.get_label() != "<colorbar>"]
    columns = len({round(ax.get_position().x0, 3) for ax in panels}) or 1
    overlapping = len(panels) > columns
    if overlapping:
        width, height = figure.get_size_inches()
        figure.set_size_inches(max(width, PARALLEL_AXIS_INCHES * len(panels)), height)
    if columns == 1 and not overlapping:
        return
    for ax in panels:
        for label in ax.get_xticklabels():
            label.set_rotation(30)
            label.set_horizontalalignment("right")
            label.set_fontsize(8)
        if overlapping:
            ax.tick_params(axis="y", labelsize=8)
