"""cnnsearch command line: each command parses its options, calls one library function and
prints what comes back (the tables and lines come from search.analysis.views)."""

from __future__ import annotations

import time

# --timeout counts from the start of the process (the user's clock starts with the command,
# before the slow imports); main() hands this moment to the commands.
LOADED = time.time()

import contextlib  # noqa: E402
import os  # noqa: E402
from typing import Annotated  # noqa: E402

import typer  # noqa: E402

import cli_kit as kit  # noqa: E402
from cli_kit import app, command, console, err_console, show  # noqa: E402
from errors import CnnsearchError  # noqa: E402
from storage import DEFAULT_ARTIFACTS, DEFAULT_URL, mask_password  # noqa: E402


def _version(value: bool) -> None:
    if not value:
        return
    from importlib.metadata import PackageNotFoundError, version

    try:
        console.print(f"cnnsearch {version('cnnsearch')}")
    except PackageNotFoundError:  # run from a checkout without `pip install`
        import tomllib
        from pathlib import Path

        with open(Path(__file__).with_name("pyproject.toml"), "rb") as f:
            console.print(f"cnnsearch {tomllib.load(f)['project']['version']}")
    raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="print the version"),
    ] = False,
    debug: Annotated[bool, typer.Option(help="show TensorFlow's and absl's log lines")] = False,
) -> None:
    """Hyperparameter search for convolutional image classifiers (Optuna + Keras 3)."""
    import optuna

    from search.quiet import DEBUG_ENV, quiet_tensorflow

    if debug:
        os.environ[DEBUG_ENV] = "1"  # worker processes inherit it
    quiet_tensorflow()  # before any command imports Keras
    optuna.logging.set_verbosity(optuna.logging.ERROR)  # our own lines report trials


@command()
def optimize(
    ctx: typer.Context,
    dataset: kit.Dataset,
    space: kit.Space = "convnet",
    trials: kit.Trials = None,
    timeout: kit.Timeout = None,
    deadline: kit.Deadline = None,
    study: kit.StudyName = None,
    epochs: kit.Epochs = 10,
    sampler: kit.SamplerOption = "tpe",
    sampler_only: kit.SamplerOnly = False,
    pruner: kit.PrunerOption = None,
    objectives: kit.Objectives = "accuracy",
    set_: kit.Sets = None,
    train_size: kit.TrainSize = None,
    val_fraction: kit.ValFraction = 0.1,
    seed: kit.Seed = None,
    image_size: kit.ImageSize = None,
    color: kit.ColorOption = None,
    data_dir: kit.DataDir = None,
    max_params: kit.MaxParams = None,
    full_ranges: kit.FullRanges = False,
    storage: kit.Storage = DEFAULT_URL,
    artifacts: kit.Artifacts = DEFAULT_ARTIFACTS,
    gpus: kit.Gpus = "all",
    trials_per_gpu: kit.PerGpu = 1,
    quiet: kit.Quiet = False,
) -> None:
    """Create (or resume) a study and run trials until it holds --trials finished trials, or
    until its deadline (--timeout/--deadline, or one an earlier run stored that lies ahead).

    Example: [bold]cnnsearch optimize fashion_mnist --timeout 900 --train-size 15000[/]
    """
    slots = _slots(gpus, trials_per_gpu)  # --gpus none hides the GPUs before Keras loads
    from search.config import SearchConfig
    from search.run.deadline import resolve
    from search.run.progress import Progress
    from search.run.workers import optimize as run

    config = SearchConfig(
        dataset=dataset,
        space=space,
        study_name=study,
        trials=trials,
        epochs=epochs,
        sampler=kit.name_of(sampler),
        sampler_only=sampler_only,
        pruner=kit.name_of(pruner),
        objectives=tuple(name.strip() for name in objectives.split(",")),
        sets=tuple(set_ or ()),
        train_size=train_size,
        val_fraction=val_fraction,
        seed=seed,
        image_size=image_size,
        color=kit.name_of(color),
        data_dir=data_dir,
        max_params=max_params,
        full_ranges=full_ranges,
    )
    until = resolve(timeout, deadline, (ctx.obj or {}).get("started", time.time()))
    summary = run(config, storage, artifacts, Progress(console, quiet), until, slots)
    _summarize(summary, storage, artifacts)


@command()
def worker(
    study: kit.Study,
    storage: kit.Storage = DEFAULT_URL,
    artifacts: kit.Artifacts = DEFAULT_ARTIFACTS,
    gpus: kit.Gpus = "all",
    trials_per_gpu: kit.PerGpu = 1,
    quiet: kit.Quiet = False,
) -> None:
    """Join an existing study from any machine: its stored config, budget and deadline rule.

    Example: [bold]cnnsearch worker cifar10-convnet --storage postgresql+psycopg://u:pw@db/cns[/]
    """
    slots = _slots(gpus, trials_per_gpu)  # --gpus none hides the GPUs before Keras loads
    from search.run.progress import Progress
    from search.run.workers import join

    _summarize(join(study, storage, artifacts, Progress(console, quiet), slots), storage, artifacts)


def _slots(gpus: str, trials_per_gpu: int) -> list[dict[str, str]]:
    from search.run.gpus import base_environment, parse_gpus, worker_environments

    return worker_environments(parse_gpus(gpus), trials_per_gpu, base_environment())


def _summarize(summary, storage: str, artifacts: str) -> None:
    from search.analysis.summary import best_trials
    from search.analysis.views import best_view, run_summary

    console.print(run_summary(summary))
    try:
        show(*best_view(best_trials(summary.study, storage, artifacts)))
    except CnnsearchError as e:
        console.print(str(e))


@command("storage-proxy")
def storage_proxy(
    storage: kit.Storage = DEFAULT_URL, host: kit.Host = "127.0.0.1", port: kit.Port = 13000
) -> None:
    """Serve the storage through Optuna's gRPC proxy, for more workers than a database takes.

    Example: [bold]cnnsearch storage-proxy --storage postgresql+psycopg://u:pw@db/cns[/]
    (workers then use --storage grpc://THIS_HOST:13000)
    """
    from optuna.storages import run_grpc_proxy_server

    from storage import open_storage

    backend = open_storage(storage)
    console.print(f"serving {mask_password(storage)} on grpc://{host}:{port} (Ctrl-C stops)")
    with contextlib.suppress(KeyboardInterrupt):
        run_grpc_proxy_server(backend, host=host, port=port)


@command()
def dashboard(
    storage: kit.Storage = DEFAULT_URL,
    artifacts: kit.Artifacts = DEFAULT_ARTIFACTS,
    host: kit.Host = "127.0.0.1",
    port: kit.Port = 8080,
) -> None:
    """Browse every study in optuna-dashboard: history, learning curves, params, saved models.

    Example: [bold]cnnsearch dashboard --port 8080[/]  (then open http://127.0.0.1:8080)
    """
    from search.analysis.dashboard import serve

    banner = f"optuna-dashboard on http://{host}:{port} for {mask_password(storage)} (Ctrl-C stops)"
    with contextlib.suppress(KeyboardInterrupt):
        serve(storage, artifacts, host, port, announce=lambda: console.print(banner))


@command()
def studies(storage: kit.Storage = DEFAULT_URL, json_: kit.Json = False) -> None:
    """List the studies in the storage: dataset, space, trials by state, best value.

    Example: [bold]cnnsearch studies --storage sqlite:///cnnsearch.db[/]
    """
    from search.analysis.summary import list_studies
    from search.analysis.views import studies_table

    rows = list_studies(storage)
    show(studies_table(rows, mask_password(storage)), as_json=rows if json_ else None)


@command()
def best(
    study: kit.Study,
    storage: kit.Storage = DEFAULT_URL,
    artifacts: kit.Artifacts = DEFAULT_ARTIFACTS,
    json_: kit.Json = False,
) -> None:
    """The best trial (or the Pareto front): params, accuracy, time, size, saved model.

    Example: [bold]cnnsearch best fashion_mnist-convnet --json[/]
    """
    from search.analysis.summary import best_trials
    from search.analysis.views import best_view

    rows = best_trials(study, storage, artifacts)
    show(*best_view(rows), as_json=rows if json_ else None)


@command()
def importance(
    study: kit.Study,
    evaluator: kit.EvaluatorOption = "ped-anova",
    with_pruned: kit.WithPruned = False,
    top: kit.Top = 5,
    storage: kit.Storage = DEFAULT_URL,
    json_: kit.Json = False,
) -> None:
    """Which dimensions mattered for accuracy, how each value did, and what to conclude.

    Example: [bold]cnnsearch importance digits-convnet --evaluator fanova[/]
    """
    from search.analysis.importance import explain_study
    from search.analysis.views import explanation_view

    explanation = explain_study(study, storage, kit.name_of(evaluator), with_pruned)
    show(*explanation_view(explanation, top), as_json=explanation.to_dict() if json_ else None)


@command()
def sweep(
    dataset: kit.Dataset,
    vary: kit.Vary,
    repeats: kit.Repeats = 3,
    space: kit.Space = "convnet",
    study: kit.SweepName = None,
    epochs: kit.Epochs = 10,
    set_: kit.Sets = None,
    train_size: kit.TrainSize = None,
    val_fraction: kit.ValFraction = 0.1,
    seed: kit.Seed = None,
    storage: kit.Storage = DEFAULT_URL,
    artifacts: kit.Artifacts = DEFAULT_ARTIFACTS,
    quiet: kit.Quiet = False,
    json_: kit.Json = False,
) -> None:
    """The labs' one-factor experiment: vary one dimension, all others at their reference.

    Example: [bold]cnnsearch sweep digits --vary n_conv=1..6 --repeats 3 --epochs 5[/]
    """
    from search.analysis.views import sweep_table
    from search.run.progress import Progress
    from search.run.sweep import run_sweep

    progress = Progress(err_console if json_ else console, quiet=quiet or json_)
    options = dict(study_name=study, epochs=epochs, train_size=train_size, seed=seed)
    result = run_sweep(
        dataset, vary, repeats, tuple(set_ or ()), storage, artifacts, progress, space,
        val_fraction=val_fraction, **options,
    )  # fmt: skip
    rows = [r.to_dict() for r in result.rows] if json_ else None
    show(sweep_table(result.study, result.dimension, result.rows), as_json=rows)


@command()
def evaluate(
    study: kit.Study,
    trial: kit.Trial = None,
    storage: kit.Storage = DEFAULT_URL,
    artifacts: kit.Artifacts = DEFAULT_ARTIFACTS,
    json_: kit.Json = False,
    tta: kit.Tta = False,
) -> None:
    """A trial's model on the held-out test set: accuracy, per-class report, confusion matrix.

    Example: [bold]cnnsearch evaluate digits-convnet --trial 12[/]
    """
    from search.analysis.views import evaluation_view
    from search.evaluate import evaluate_trial
    from search.run.progress import Progress

    result = evaluate_trial(study, storage, artifacts, trial, Progress(err_console), tta)
    show(*evaluation_view(result), as_json=result.to_dict() if json_ else None)


@command()
def export(
    study: kit.Study,
    out: Annotated[str, typer.Option(help="FILE.keras, for keras.models.load_model")],
    trial: kit.Trial = None,
    storage: kit.Storage = DEFAULT_URL,
    artifacts: kit.Artifacts = DEFAULT_ARTIFACTS,
    tta: kit.Tta = False,
) -> None:
    """Write a trial's saved model (default: the best trial's) to a .keras file.

    Example: [bold]cnnsearch export digits-convnet --out best.keras[/]
    """
    from search.analysis.export import export_model

    path = export_model(study, storage, artifacts, trial, out, tta)
    console.print(f"model written to [bold]{path}[/]")


@command()
def report(
    study: kit.Study,
    out: Annotated[str, typer.Option(help="FILE.html (one offline page) or FILE.md (+ PNGs)")],
    evaluator: kit.EvaluatorOption = "ped-anova",
    with_pruned: kit.WithPruned = False,
    storage: kit.Storage = DEFAULT_URL,
    json_: kit.Json = False,
) -> None:
    """The study's report: summary, best, importance, effects, conclusions, plots, evaluation.

    Example: [bold]cnnsearch report digits-convnet --out digits.html[/]
    """
    from search.analysis.report import write_report

    path = write_report(study, storage, out, kit.name_of(evaluator), with_pruned=with_pruned)
    summary = {"study": study, "report": str(path)}
    show(f"report written to [bold]{path}[/]", as_json=summary if json_ else None)


@command()
def spaces(json_: kit.Json = False) -> None:
    """The search spaces: dimensions, their full and searched ranges, reference values.

    Example: [bold]cnnsearch spaces --json[/]
    """
    from search.analysis.views import spaces_view
    from spaces import describe_spaces

    rows = describe_spaces()
    show(*spaces_view(rows), as_json=rows if json_ else None)


@command()
def datasets(json_: kit.Json = False) -> None:
    """The data sources, where each loads from, and whether it is here now (no download).

    Example: [bold]cnnsearch datasets[/]
    """
    from search.analysis.views import datasets_view
    from search.data import describe_sources

    rows = describe_sources()
    show(*datasets_view(rows), as_json=rows if json_ else None)


@command()
def compare(
    studies: Annotated[list[str], typer.Argument(help="two or more study names")],
    storage: kit.Storage = DEFAULT_URL,
    json_: kit.Json = False,
) -> None:
    """Studies side by side: best accuracy, its parameter count and seconds per epoch, trials.

    Example: [bold]cnnsearch compare digits-convnet digits-mlp digits-lenet5[/]
    """
    from search.analysis.compare import compare_studies
    from search.analysis.views import compare_table

    rows = compare_studies(studies, storage)
    show(compare_table(rows), as_json=rows if json_ else None)


def main() -> None:
    app(obj={"started": LOADED})


if __name__ == "__main__":
    main()
