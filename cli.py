"""cnnsearch command line: each command parses, builds a config, and calls the library."""

from __future__ import annotations

import atexit
import contextlib
import functools
import json
import os
import sys
import time
import warnings
from enum import Enum
from typing import Annotated

_LOADED = time.time()
# --timeout counts from the start of the process when run as a script (the user's clock starts
# with the command, before the slow imports); from the call when a command is invoked in-process.
STARTED: float | None = None


import optuna  # noqa: E402
import typer  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from errors import CnnsearchError, CnnsearchWarning  # noqa: E402
from storage import DEFAULT_ARTIFACTS, DEFAULT_URL, mask_password, open_storage  # noqa: E402

app = typer.Typer(
    help="Hyperparameter search for convolutional image classifiers (Optuna + Keras 3).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("cnnsearch")
    except PackageNotFoundError:  # run from a checkout without `pip install`
        import tomllib
        from pathlib import Path

        with open(Path(__file__).with_name("pyproject.toml"), "rb") as f:
            return tomllib.load(f)["project"]["version"]


def _print_version(value: bool) -> None:
    if value:
        console.print(f"cnnsearch {_version()}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="print the version and exit"
        ),
    ] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="show TensorFlow's and absl's log lines too")
    ] = False,
) -> None:
    """Hyperparameter search for convolutional image classifiers (Optuna + Keras 3)."""
    from search.quiet import DEBUG_ENV, quiet_tensorflow

    if debug:
        os.environ[DEBUG_ENV] = "1"  # worker processes inherit it
    quiet_tensorflow()  # before any command imports Keras


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
Quiet = Annotated[bool, typer.Option("-q", "--quiet", help="print only trial outcomes")]
Gpus = Annotated[str, typer.Option(help="all, none, or GPU indices like 0,1: one worker per GPU")]
TrialsPerGpu = Annotated[int, typer.Option(help="worker processes per GPU, for small models")]


class Sampler(str, Enum):
    tpe = "tpe"
    random = "random"
    gp = "gp"
    cmaes = "cmaes"


class Color(str, Enum):
    grayscale = "grayscale"
    rgb = "rgb"


class Pruner(str, Enum):
    asha = "asha"
    hyperband = "hyperband"
    median = "median"
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
        int | None,
        typer.Option(
            help="finished trials the study should hold in total "
            "\\[default: 20; no limit with --timeout or --deadline]"
        ),
    ] = None,
    timeout: Annotated[
        float | None,
        typer.Option(
            help="stop the whole study S seconds from now, running trials included "
            "(stored with the study: every worker stops then)"
        ),
    ] = None,
    deadline: Annotated[
        str | None,
        typer.Option(help="stop the whole study at this time, e.g. 2026-12-01T18:00Z"),
    ] = None,
    study: Annotated[str | None, typer.Option(help="study name [default: DATASET-SPACE]")] = None,
    epochs: Annotated[int, typer.Option(help="most epochs per trial")] = 10,
    sampler: Annotated[Sampler, typer.Option(help="how trials are chosen")] = Sampler.tpe,
    pruner: Annotated[
        Pruner | None,
        typer.Option(
            help="how poor trials are stopped [default: asha; none for several objectives]"
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
    max_params: Annotated[
        int | None,
        typer.Option(help="prune models with more parameters before they train [default: none]"),
    ] = None,
    full_ranges: Annotated[
        bool,
        typer.Option(
            help="search the labs' full ranges (every activation, optimizer, depth 1-10…) "
            "instead of the parts that train in a few epochs (see `spaces`)"
        ),
    ] = False,
    storage: Storage = DEFAULT_URL,
    artifacts: Artifacts = DEFAULT_ARTIFACTS,
    gpus: Gpus = "all",
    trials_per_gpu: TrialsPerGpu = 1,
    quiet: Quiet = False,
) -> None:
    """Create (or resume) a study and run trials until it holds --trials finished trials, or
    until its deadline (--timeout/--deadline, or one an earlier run stored that lies ahead).

    Example: [bold]python cli.py optimize fashion_mnist --trials 30 --epochs 5 --set n_conv=2..6[/]
    """
    slots = _slots(gpus, trials_per_gpu)  # --gpus none hides the GPUs before Keras loads
    from search.config import SearchConfig
    from search.deadline import resolve
    from search.progress import Progress
    from search.workers import optimize as run

    until = resolve(timeout, deadline, STARTED or time.time())
    config = SearchConfig(
        dataset=dataset,
        space=space,
        study_name=study,
        trials=trials,
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
        max_params=max_params,
        full_ranges=full_ranges,
    )
    progress = Progress(console, quiet=quiet)
    with _interruptible():
        summary = run(config, storage, artifacts, progress, deadline=until, slots=slots)
    _print_summary(summary, storage)


@command()
def worker(
    study: Annotated[str, typer.Argument(help="study name, as `studies` lists it")],
    storage: Storage = DEFAULT_URL,
    artifacts: Artifacts = DEFAULT_ARTIFACTS,
    gpus: Gpus = "all",
    trials_per_gpu: TrialsPerGpu = 1,
    quiet: Quiet = False,
) -> None:
    """Join an existing study from any machine: its stored config, budget and deadline rule.

    Example: [bold]python cli.py worker cifar10-convnet --storage postgresql+psycopg://user:pw@db/cnnsearch[/]
    """
    slots = _slots(gpus, trials_per_gpu)  # --gpus none hides the GPUs before Keras loads
    from search.progress import Progress
    from search.workers import join

    with _interruptible():
        summary = join(study, storage, artifacts, Progress(console, quiet=quiet), slots=slots)
    _print_summary(summary, storage)


@command("storage-proxy")
def storage_proxy(
    storage: Storage = DEFAULT_URL,
    host: Annotated[
        str, typer.Option(help="address to listen on; 0.0.0.0 serves other machines")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 13000,
) -> None:
    """Serve the storage through Optuna's gRPC proxy, for more workers than a database takes.

    Example: [bold]python cli.py storage-proxy --storage postgresql+psycopg://u:pw@db/cns[/]
    (workers then use --storage grpc://THIS_HOST:13000)
    """
    from optuna.storages import run_grpc_proxy_server

    backend = open_storage(storage)
    console.print(f"serving {mask_password(storage)} on grpc://{host}:{port} (Ctrl-C stops)")
    with contextlib.suppress(KeyboardInterrupt):
        run_grpc_proxy_server(backend, host=host, port=port)


@command()
def dashboard(
    storage: Storage = DEFAULT_URL,
    artifacts: Artifacts = DEFAULT_ARTIFACTS,
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8080,
) -> None:
    """Browse every study in optuna-dashboard: history, learning curves, params, saved models.

    Example: [bold]python cli.py dashboard --port 8080[/]  (then open http://127.0.0.1:8080)
    """
    from search.dashboard import serve

    def announce() -> None:
        console.print(
            f"optuna-dashboard on http://{host}:{port} for {mask_password(storage)} (Ctrl-C stops)"
        )

    with contextlib.suppress(KeyboardInterrupt):
        serve(storage, artifacts, host, port, announce=announce)


def _slots(gpus: str, trials_per_gpu: int) -> list[dict[str, str]]:
    from search.gpus import base_environment, parse_gpus, worker_environments

    return worker_environments(parse_gpus(gpus), trials_per_gpu, base_environment())


@contextlib.contextmanager
def _interruptible():
    try:
        yield
    except KeyboardInterrupt:
        err_console.print(
            "[yellow]interrupted[/]: the running trial was recorded as failed; "
            "run the same command again to resume the study"
        )
        raise typer.Exit(130) from None


def _print_summary(summary, storage: str) -> None:
    reason = {"budget": "budget met", "exhausted": "space exhausted"}.get(
        summary.stopped_by, "deadline reached"
    )
    of = "" if summary.budget is None else f" of {summary.budget}"
    console.print(
        f"study [bold]{summary.study}[/]: {summary.finished}{of} trials finished ({reason})"
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
    _print_rows(rows)


class Evaluator(str, Enum):
    ped_anova = "ped-anova"
    fanova = "fanova"
    mdi = "mdi"


@command()
def importance(
    study: Annotated[str, typer.Argument(help="study name, as `studies` lists it")],
    evaluator: Annotated[
        Evaluator,
        typer.Option(help="ped-anova (rates conditional dims too), fanova or mdi"),
    ] = Evaluator.ped_anova,
    with_pruned: Annotated[
        bool, typer.Option(help="also use pruned trials, at the last accuracy they reported")
    ] = False,
    top: Annotated[int, typer.Option(help="effects tables for the N most important dims")] = 5,
    storage: Storage = DEFAULT_URL,
    json_: Json = False,
) -> None:
    """Which dimensions mattered for accuracy, how each value did, and what to conclude.

    Example: [bold]python cli.py importance digits-convnet --evaluator fanova[/]
    """
    from search.importance import explain_study

    explanation = explain_study(study, storage, evaluator.value, with_pruned)
    if json_:
        console.print_json(json.dumps(explanation.to_dict()))
        return
    _print_explanation(explanation, top)


def _print_explanation(explanation, top: int) -> None:
    from search.importance import used_trials_text

    console.print(
        f"[bold]{explanation.study}[/]: importance for accuracy by {explanation.evaluator}, "
        f"from {used_trials_text(explanation)}"
    )
    table = Table("dimension", "importance", "")
    for name, value in explanation.importances.items():
        table.add_row(name, f"{value:.1%}", "█" * round(value * 40))
    console.print(table)
    for note in explanation.notes:
        console.print(f"[dim]note: {note}[/]")
    if explanation.fixed:
        console.print(f"[dim]fixed in this study: {', '.join(explanation.fixed)}[/]")
    for e in explanation.effects[:top]:
        table = Table(
            "value",
            "trials",
            "mean acc",
            "best acc",
            "mean s/trial",
            title=f"{e.dimension} ({e.importance:.0%})",
            title_justify="left",
        )
        for g in e.groups:
            seconds = "-" if g.mean_seconds is None else f"{g.mean_seconds:.1f}"
            table.add_row(
                g.label, str(g.trials), f"{g.mean_accuracy:.4f}", f"{g.best_accuracy:.4f}", seconds
            )
        console.print(table)
    console.print("[bold]conclusions[/]")
    for line in explanation.conclusions:
        console.print(f"- {line}")


@command()
def sweep(
    dataset: Annotated[str, typer.Argument(help="digits, mnist, fashion_mnist, cifar10 (cifar)")],
    vary: Annotated[
        str, typer.Option(help="the dimension to vary: dim=v1,v2,… or dim=lo..hi (integers)")
    ],
    repeats: Annotated[int, typer.Option(help="runs per value, each with its own seed")] = 3,
    space: Annotated[str, typer.Option(help="search space")] = "convnet",
    study: Annotated[
        str | None, typer.Option(help="study name [default: DATASET-sweep-DIM]")
    ] = None,
    epochs: Annotated[int, typer.Option(help="most epochs per run")] = 10,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="fix another dimension away from its reference (dim=value)"),
    ] = None,
    train_size: Annotated[
        int | None, typer.Option(help="use a stratified subsample of N training images")
    ] = None,
    val_fraction: Annotated[float, typer.Option(help="share of training images held out")] = 0.1,
    seed: Annotated[int | None, typer.Option(help="base seed for splits and weights")] = None,
    storage: Storage = DEFAULT_URL,
    artifacts: Artifacts = DEFAULT_ARTIFACTS,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="print only run outcomes")] = False,
    json_: Json = False,
) -> None:
    """The labs' one-factor experiment: vary one dimension, all others at their reference.

    Example: [bold]python cli.py sweep digits --vary n_conv=1..6 --repeats 3 --epochs 5[/]
    """
    from search.progress import Progress
    from search.sweep import parse_vary, sweep_config
    from search.sweep import sweep as run

    varied = parse_vary(vary, space)
    config = sweep_config(
        dataset,
        varied,
        repeats,
        tuple(set_ or ()),
        space,
        study_name=study,
        epochs=epochs,
        train_size=train_size,
        val_fraction=val_fraction,
        seed=seed,
    )
    rows = run(
        config,
        varied,
        repeats,
        storage,
        artifacts,
        Progress(err_console if json_ else console, quiet=quiet or json_),
    )
    if json_:
        console.print_json(json.dumps([r.to_dict() for r in rows]))
        return
    table = Table(
        varied.dimension,
        "runs",
        "val accuracy (mean ± std)",
        "best",
        "mean time",
        "params",
        title=f"{config.study}: other dimensions at their reference values",
        title_justify="left",
    )
    for r in rows:
        seconds = "-" if r.mean_seconds is None else f"{r.mean_seconds:.1f} s"
        table.add_row(
            str(r.value),
            str(r.runs),
            f"{r.mean:.4f} ± {r.std:.4f}",
            f"{r.best:.4f}",
            seconds,
            "-" if r.params is None else f"{r.params:,}",
        )
    console.print(table)


@command()
def evaluate(
    study: Annotated[str, typer.Argument(help="study name, as `studies` lists it")],
    trial: Annotated[
        int | None, typer.Option(help="trial number [default: the best trial]")
    ] = None,
    storage: Storage = DEFAULT_URL,
    artifacts: Artifacts = DEFAULT_ARTIFACTS,
    json_: Json = False,
) -> None:
    """A trial's model on the held-out test set: accuracy, per-class report, confusion matrix.

    Example: [bold]python cli.py evaluate digits-convnet --trial 12[/]
    """
    from search.evaluate import evaluate_trial
    from search.progress import Progress

    result = evaluate_trial(study, storage, artifacts, trial, Progress(err_console))
    if json_:
        console.print_json(json.dumps(result.to_dict()))
        return
    console.print(
        f"[bold]{result.study}[/] trial {result.trial} ({result.model_source}): test accuracy "
        f"[bold]{result.accuracy:.4f}[/] on {result.test_images} images"
    )
    console.print(result.report_text)
    table = Table("true \\ predicted", *result.class_names, title="confusion matrix")
    for name, row in zip(result.class_names, result.confusion, strict=True):
        table.add_row(name, *(str(n) for n in row))
    console.print(table)


@command()
def report(
    study: Annotated[str, typer.Argument(help="study name, as `studies` lists it")],
    out: Annotated[str, typer.Option(help="FILE.html (one offline page) or FILE.md (+ PNGs)")],
    evaluator: Annotated[
        Evaluator, typer.Option(help="importance evaluator")
    ] = Evaluator.ped_anova,
    storage: Storage = DEFAULT_URL,
    json_: Json = False,
) -> None:
    """The study's report: summary, best, importance, effects, conclusions, plots, evaluation.

    Example: [bold]python cli.py report digits-convnet --out digits.html[/]
    """
    from search.report import write_report

    path = write_report(study, storage, out, evaluator.value)
    if json_:
        console.print_json(json.dumps({"study": study, "report": str(path)}))
        return
    console.print(f"report written to [bold]{path}[/]")


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
    _print_rows(rows)


def _print_rows(rows: list[dict]) -> None:
    """One trial as a list of params; a Pareto front as a table, shared params below it."""
    if len(rows) == 1 or len(rows[0]["values"]) == 1:
        for row in rows:
            _print_trial(row)
        return
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
        table.add_row(
            str(row["number"]),
            *(f"{v:.4g}" for v in row["values"].values()),
            str(row["n_params"]),
            str(row["train_seconds"]),
            str(row["epochs_run"]),
        )
    console.print(table)
    for row in rows:
        params = " ".join(f"{n}={_short(row['params'][n])}" for n in varying if n in row["params"])
        console.print(f"  trial {row['number']:<4} {params}")
    shared = [f"{n}={rows[0]['params'][n]}" for n in names if n not in varying]
    if shared:
        console.print(f"  shared by all: {' '.join(shared)}")


def _short(value) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


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
    global STARTED
    STARTED = _LOADED
    optuna.logging.set_verbosity(optuna.logging.ERROR)  # our own lines report trials
    try:
        app()
        code = 0
    except SystemExit as e:
        if not isinstance(e.code, int | None):
            raise
        code = e.code or 0
    # TensorFlow's interpreter teardown takes over a second after the work is done, and a
    # --timeout promise counts it: run the exit hooks, then leave without the teardown.
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
