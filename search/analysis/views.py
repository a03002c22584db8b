"""What the commands show a person: the tables and lines built from what the library returns.

Each function takes a command's result and returns rich renderables for the CLI to print, so
the CLI only parses and prints, and what a person sees is tested here. No Keras.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.console import RenderableType
from rich.table import Table

from spaces.dimensions import format_value

# Optuna's trial states, as the studies table heads them
STATES = {"COMPLETE": "complete", "PRUNED": "pruned", "FAIL": "failed", "RUNNING": "running"}


def run_summary(summary: Any) -> str:
    """The line that ends `optimize`, `worker` and `sweep`: trials finished and why it ended."""
    reason = {"budget": "budget met", "exhausted": "space exhausted"}.get(
        summary.stopped_by, "deadline reached"
    )
    of = "" if summary.budget is None else f" of {summary.budget}"
    trials = "trial" if summary.finished == 1 and not of else "trials"
    return f"study [bold]{summary.study}[/]: {summary.finished}{of} {trials} finished ({reason})"


def studies_table(rows: list[dict[str, Any]], storage: str) -> RenderableType:
    if not rows:
        return f"no studies in {storage} yet; start one with `cnnsearch optimize digits`"
    table = Table("study", "dataset", "space", *STATES.values(), "best")
    for r in rows:
        best = "-" if r["best"] is None else ", ".join(f"{v:.4f}" for v in r["best"])
        # a skipped trial is stored as failed, but nothing went wrong (search.vocabulary.skipped)
        counts = {s: r["states"].get(s, 0) for s in STATES}
        counts["FAIL"] -= r["skipped"]
        table.add_row(r["study"], r["dataset"], r["space"], *map(str, counts.values()), best)
    if skips := [f"{r['study']} {r['skipped']}" for r in rows if r["skipped"]]:
        table.caption = "trials skipped untrained (repeats, over the budget), not failed: " + (
            ", ".join(skips)
        )
    for column in table.columns:
        column.overflow = "fold"  # names wrap whole, never cut to "digits-…"
    return table


def best_view(rows: list[dict[str, Any]]) -> list[RenderableType]:
    """One trial as a list of params; a Pareto front as a table, shared params below it."""
    if len(rows) == 1 or len(rows[0]["values"]) == 1:
        return [line for row in rows for line in _trial_lines(row)]
    names = sorted({name for row in rows for name in row["params"]})
    varying = [n for n in names if len({str(r["params"].get(n)) for r in rows}) > 1]
    objectives = list(rows[0]["values"])
    table = Table(
        "trial",
        *objectives,
        "n_params",
        "train s",
        "epochs",
        title=f"Pareto front: {len(rows)} trials that no other trial beats on every objective",
        title_justify="left",
    )
    rows = sorted(rows, key=lambda r: -r["values"]["accuracy"])
    for row in rows:
        values = (f"{v:.4g}" for v in row["values"].values())
        extra = (row["n_params"], row["train_seconds"], row["epochs_run"])
        table.add_row(str(row["number"]), *values, *map(str, extra))
    lines: list[RenderableType] = [table]
    for row in rows:
        shown = " ".join(
            f"{n}={format_value(row['params'][n])}" for n in varying if n in row["params"]
        )
        lines.append(f"  trial {row['number']:<4} {shown}")
    shared = [f"{n}={format_value(rows[0]['params'][n])}" for n in names if n not in varying]
    if shared:
        lines.append(f"  shared by all: {' '.join(shared)}")
    return lines


def _trial_lines(row: dict[str, Any]) -> list[str]:
    values = ", ".join(
        f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}" for k, v in row["values"].items()
    )
    head = (
        f"[bold]trial {row['number']}[/]: {values}; {row['n_params']} params, "
        f"{row['train_seconds']} s over {row['epochs_run']} epochs"
    )
    if row.get("continues") is not None:
        head += f" (trial {row['continues']}'s model trained on)"
    width = max(15, *map(len, row["params"]))  # one column, however long a name
    lines = [head, *(f"  {name:{width}} {format_value(v)}" for name, v in row["params"].items())]
    if row.get("model"):
        lines.append(f"  {'saved model':{width}} {row['model']}")
    return lines


def explanation_view(explanation: Any, top: int) -> list[RenderableType]:
    from search.analysis.sentences import used_trials_text

    lines: list[RenderableType] = [
        f"[bold]{explanation.study}[/]: importance for accuracy by {explanation.evaluator}, "
        f"from {used_trials_text(explanation)}"
    ]
    table = Table("dimension", "importance", "")
    for name, value in explanation.importances.items():
        table.add_row(name, f"{value:.1%}", "█" * round(value * 40))
    lines.append(table)
    lines += [f"[dim]note: {note}[/]" for note in explanation.notes]
    if explanation.fixed:
        lines.append(f"[dim]fixed in this study: {', '.join(explanation.fixed)}[/]")
    lines += [_effect_table(e) for e in explanation.effects[:top]]
    lines.append("[bold]conclusions[/]")
    lines += [f"- {line}" for line in explanation.conclusions]
    return lines


def _effect_table(effect: Any) -> Table:
    table = Table(
        "value",
        "trials",
        "pruned",
        "mean acc ± std",
        "best",
        "epochs",
        "s/trial",
        title=f"{effect.dimension} ({effect.importance:.0%})",
        title_justify="left",
        caption=effect.pruning_note or None,
        caption_justify="left",
    )
    for g in effect.groups:
        table.add_row(
            g.label,
            str(g.trials),
            str(g.pruned),
            f"{g.mean_accuracy:.4f} ± {g.spread:.4f}",
            f"{g.best_accuracy:.4f}",
            _number(g.mean_epochs),
            _number(g.mean_seconds),
        )
    return table


def sweep_table(study: str, dimension: str, rows: Sequence[Any]) -> Table:
    table = Table(
        dimension,
        "runs",
        "val accuracy (mean ± std)",
        "best",
        "mean time",
        "params",
        title=f"{study}: other dimensions at their reference values",
        title_justify="left",
    )
    for r in rows:
        seconds = "-" if r.mean_seconds is None else f"{r.mean_seconds:.1f} s"
        params = "-" if r.params is None else f"{r.params:,}"
        table.add_row(
            format_value(r.value),
            str(r.runs),
            f"{r.mean:.4f} ± {r.std:.4f}",
            f"{r.best:.4f}",
            seconds,
            params,
        )
    return table


def evaluation_view(result: Any) -> list[RenderableType]:
    head = (
        f"[bold]{result.study}[/] trial {result.trial} ({result.model_source}): test accuracy "
        f"[bold]{result.accuracy:.4f}[/] on {result.test_images} images"
        + (", each averaged with its mirror (TTA)" if result.tta else "")
    )
    table = Table("true \\ predicted", *result.class_names, title="confusion matrix")
    for name, row in zip(result.class_names, result.confusion, strict=True):
        table.add_row(name, *(str(n) for n in row))
    return [head, result.report_text, table]


def spaces_view(rows: list[dict[str, Any]]) -> list[RenderableType]:
    tables = []
    for row in rows:
        table = Table("dimension", "values", "searched", "reference", "meaning")
        table.title = f"[bold]{row['space']}[/]: {row['description']}"
        table.title_justify = "left"
        for d in row["dimensions"]:
            values, searched = d["values"], d.get("searched", d["values"])
            table.add_row(
                d["name"],
                values,
                "all" if searched == values else searched,
                format_value(d["reference"]),
                d["help"],
            )
        tables.append(table)
    return tables


def datasets_view(rows: list[dict[str, Any]]) -> list[RenderableType]:
    marks = {True: "[green]here[/]", False: "[yellow]not here[/]", None: "any folder"}
    lines: list[RenderableType] = []
    for r in rows:
        lines.append(f"[bold]{r['dataset']}[/] ({marks[r['available']]}): {r['description']}")
        lines.append(f"  {r['location']}")
    return lines


def compare_table(rows: list[dict[str, Any]]) -> Table:
    table = Table("study", "dataset", "space", "best accuracy", "params", "s/epoch", "trials")
    for r in rows:
        accuracy = "-" if r["best_accuracy"] is None else f"{r['best_accuracy']:.4f}"
        trials = f"{r['complete']} complete, {r['pruned']} pruned, {r['failed']} failed"
        trials += f", {r['skipped']} skipped untrained" if r["skipped"] else ""
        table.add_row(
            r["study"],
            r["dataset"],
            r["space"],
            accuracy,
            format_value(r["n_params"] or "-"),
            format_value(r["seconds_per_epoch"] or "-"),
            trials,
        )
    return table


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"
