"""cnnsearch command line: each command parses, builds a config, and calls the library."""

from __future__ import annotations

import functools
import json
import os
import sys
import warnings
from enum import Enum
from typing import Annotated

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import optuna  # noqa: E402
import typer  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from errors import CnnsearchError, CnnsearchWarning  # noqa: E402
from storage import DEFAULT_ARTIFACTS, DEFAULT_URL, mask_password  # noqa: E402

app = typer.Typer(
    help="Hyperparameter search for convolutional image classifiers (Optuna + Keras 3).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)

Storage = Annotated[
    str,
    typer.Option(
        "--storage",
        envvar="CNNSEARCH_STORAGE",
        help="Optuna storage URL: sqlite:///FILE.db, postgresql+psycopg://…, mysql+pymysql://…, "
        "journal:///PATH, redis://…, grpc://HOST:PORT",
    ),
]
Artifacts = Annotated[
    str,
    typer.Option(
        "--artifacts",
        envvar="CNNSEARCH_ARTIFACTS",
        help="folder for saved models (shared like the storage)",
    ),
]
Json = Annotated[bool, typer.Option("--json", help="print JSON for scripts")]


class Sampler(str, Enum):
    tpe = "tpe"
    random = "random"
    gp = "gp"
    cmaes = "cmaes"


class Color(str, Enum):
    grayscale = "grayscale"
    rgb = "rgb"


class Pruner(str, Enum):
    hyperband = "hyperband"
    median = "median"
    asha = "asha"
    none = "none"


def command(*args, **kwargs):
    """`app.command` that turns cnnsearch errors into one clear line and their exit code."""

    def register(fn):
        @functools.wraps(fn)
        def run(*a, **k):
            try:
                with warnings.catch_warnings():
                    warnings.showwarning = _show_warning
                    return fn(*a, **k)
            except CnnsearchError as e:
                err_console.print(f"[red]error:[/] {mask_password(str(e))}")
                raise typer.Exit(e.exit_code) from None

        return app.command(*args, **kwargs)(run)

    return register


_default_showwarning = warnings.showwarning


def _show_warning(message, category, *args, **kwargs) -> None:
    if issubclass(category, CnnsearchWarning):
        err_console.print(f"[yellow]warning:[/] {message}")
    else:
        _default_showwarning(message, category, *args, **kwargs)


@command()
def optimize(
    dataset: Annotated[
        str,
        typer.Argument(
            help="digits, mnist, fashion_mnist, cifar10 (cifar), notmnist, notmnist_large, "
            "folder:PATH (see `datasets`)"
        ),
    ],
    space: Annotated[str, typer.Option(help="search space")] = "convnet",
    trials: Annotated[
        int, typer.Option(help="finished trials the study should hold in total")
    ] = 20,
    timeout: Annotated[
        float | None, typer.Option(help="stop starting trials after S seconds")
    ] = None,
    study: Annotated[str | None, typer.Option(help="study name [default: DATASET-SPACE]")] = None,
    epochs: Annotated[int, typer.Option(help="most epochs per trial")] = 10,
    sampler: Annotated[Sampler, typer.Option(help="how trials are chosen")] = Sampler.tpe,
    pruner: Annotated[
        Pruner | None,
        typer.Option(
            help="how poor trials are stopped [default: hyperband; none for several objectives]"
        ),
    ] = None,
    objectives: Annotated[
        str, typer.Option(help="accuracy, or accuracy,time or accuracy,params for a Pareto front")
    ] = "accuracy",
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set", help="fix a dimension (dim=value) or narrow it (dim=lo..hi); repeatable"
        ),
    ] = None,
    train_size: Annotated[
        int | None, typer.Option(help="use a stratified subsample of N training images")
    ] = None,
    val_fraction: Annotated[float, typer.Option(help="share of training images held out")] = 0.1,
    seed: Annotated[
        int | None, typer.Option(help="seed for the sampler, splits and weights")
    ] = None,
    image_size: Annotated[
        int | None,
        typer.Option(help="folder:/notmnist: resize to N x N [default: most common size, or 32]"),
    ] = None,
    color: Annotated[
        Color | None,
        typer.Option(help="folder:/notmnist: [default: grayscale if every image is]"),
    ] = None,
    data_dir: Annotated[
        str | None, typer.Option(help="notmnist: folder holding the tarball or its extraction")
    ] = None,
    storage: Storage = DEFAULT_URL,
    artifacts: Artifacts = DEFAULT_ARTIFACTS,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="print only trial outcomes")] = False,
) -> None:
    """Create (or resume) a study and run trials until it holds --trials finished trials.

    Example: [bold]python cli.py optimize fashion_mnist --trials 30 --epochs 5 --set n_conv=2..6[/]
    """
    from search.config import SearchConfig
    from search.progress import Progress
    from search.workers import optimize as run

    config = SearchConfig(
        dataset=dataset,
        space=space,
        study_name=study,
        trials=trials,
        timeout=timeout,
        epochs=epochs,
        sampler=sampler.value,
        pruner=pruner.value if pruner else None,
        objectives=tuple(o.strip() for o in objectives.split(",")),
        sets=tuple(set_ or ()),
        train_size=train_size,
        val_fraction=val_fraction,
        seed=seed,
        image_size=image_size,
        color=color.value if color else None,
        data_dir=data_dir,
    )
    progress = Progress(console, quiet=quiet)
    try:
        summary = run(config, storage, artifacts, progress)
    except KeyboardInterrupt:
        err_console.print(
            "[yellow]interrupted[/]: the running trial was recorded as failed; "
            "run the same command again to resume the study"
        )
        raise typer.Exit(130) from None
    reason = "budget met" if summary.stopped_by == "budget" else "timeout reached"
    console.print(
        f"study [bold]{summary.study}[/]: {summary.finished} of {summary.budget} trials "
        f"finished ({reason})"
    )
    _print_best(summary.study, storage)


@command()
def studies(storage: Storage = DEFAULT_URL, json_: Json = False) -> None:
    """List the studies in the storage: dataset, space, trials by state, best value.

    Example: [bold]python cli.py studies --storage sqlite:///cnnsearch.db[/]
    """
    from search.summary import list_studies

    rows = list_studies(storage)
    if json_:
        console.print_json(json.dumps(rows))
        return
    if not rows:
        console.print(
            f"no studies in {mask_password(storage)} yet; start one with "
            "`python cli.py optimize digits`"
        )
        return
    table = Table("study", "dataset", "space", "complete", "pruned", "failed", "running", "best")
    for r in rows:
        best = "-" if r["best"] is None else ", ".join(f"{v:.4f}" for v in r["best"])
        table.add_row(
            r["study"],
            r["dataset"],
            r["space"],
            *(str(r["states"].get(s, 0)) for s in ("COMPLETE", "PRUNED", "FAIL", "RUNNING")),
            best,
        )
    console.print(table)


@command()
def best(
    study: Annotated[str, typer.Argument(help="study name, as `studies` lists it")],
    storage: Storage = DEFAULT_URL,
    json_: Json = False,
) -> None:
    """The best trial (or the Pareto front): params, accuracy, time, parameter count.

    Example: [bold]python cli.py best fashion_mnist-convnet --json[/]
    """
    from search.summary import best_trials

    rows = best_trials(study, storage)
    if json_:
        console.print_json(json.dumps(rows))
        return
    for row in rows:
        _print_trial(row)


@command()
def spaces(json_: Json = False) -> None:
    """List the search spaces with their dimensions, ranges and reference values.

    Example: [bold]python cli.py spaces --json[/]
    """
    from spaces import describe_spaces

    rows = describe_spaces()
    if json_:
        console.print_json(json.dumps(rows))
        return
    for row in rows:
        table = Table("dimension", "values", "reference", "meaning", title_justify="left")
        table.title = f"[bold]{row['space']}[/]: {row['description']}"
        for d in row["dimensions"]:
            table.add_row(d["name"], d["values"], _show_value(d["reference"]), d["help"])
        console.print(table)


@command()
def datasets(json_: Json = False) -> None:
    """List the data sources, where each loads from, and whether it is here now (no download).

    Example: [bold]python cli.py datasets[/]
    """
    from search.data import describe_sources

    rows = describe_sources()
    if json_:
        console.print_json(json.dumps(rows))
        return
    marks = {True: "[green]here[/]", False: "[yellow]not here[/]", None: "any folder"}
    for r in rows:
        console.print(f"[bold]{r['dataset']}[/] ({marks[r['available']]}): {r['description']}")
        console.print(f"  {r['location']}", overflow="fold")


@command()
def compare(
    studies: Annotated[list[str], typer.Argument(help="two or more study names")],
    storage: Storage = DEFAULT_URL,
    json_: Json = False,
) -> None:
    """Studies side by side: best accuracy, its parameter count and seconds per epoch, trials.

    Example: [bold]python cli.py compare digits-convnet digits-mlp digits-lenet5[/]
    """
    from search.compare import compare_studies

    rows = compare_studies(studies, storage)
    if json_:
        console.print_json(json.dumps(rows))
        return
    table = Table("study", "dataset", "space", "best accuracy", "params", "s/epoch", "trials")
    for r in rows:
        acc = "-" if r["best_accuracy"] is None else f"{r['best_accuracy']:.4f}"
        trials = f"{r['complete']} complete, {r['pruned']} pruned, {r['failed']} failed"
        table.add_row(
            r["study"],
            r["dataset"],
            r["space"],
            acc,
            _show_value(r["n_params"] or "-"),
            _show_value(r["seconds_per_epoch"] or "-"),
            trials,
        )
    console.print(table)


def _show_value(value) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _print_best(study: str, storage: str) -> None:
    from search.summary import best_trials

    try:
        rows = best_trials(study, storage)
    except CnnsearchError as e:
        console.print(str(e))
        return
    for row in rows:
        _print_trial(row)


def _print_trial(row: dict) -> None:
    values = ", ".join(
        f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}" for k, v in row["values"].items()
    )
    console.print(
        f"[bold]trial {row['number']}[/]: {values}; {row['n_params']} params, "
        f"{row['train_seconds']} s over {row['epochs_run']} epochs"
    )
    for name, value in row["params"].items():
        console.print(f"  {name:15} {value}")


def main() -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    app()


if __name__ == "__main__":
    sys.exit(main())
