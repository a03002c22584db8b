"""What cnnsearch's commands share: the typer app, the decorator that turns errors into one
line and an exit code, printing, and every option and argument, declared once (their choices
come from the registries in search.registry, so the CLI, the config checks and the help agree)."""

from __future__ import annotations

import contextlib
import functools
import json
import signal
import threading
import warnings
from collections.abc import Iterator
from enum import Enum
from typing import Annotated

import typer
from rich.console import Console

from errors import CnnsearchError, CnnsearchWarning
from search.registry import COLORS, EVALUATORS, PRUNERS, SAMPLERS
from storage import mask_password

app = typer.Typer(
    help="Hyperparameter search for convolutional image classifiers (Optuna + Keras 3).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)
console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def command(*args, **kwargs):
    """`app.command` that turns cnnsearch errors into one clear line and their exit code."""

    def register(fn):
        @functools.wraps(fn)
        def run(*a, **k):
            try:
                with warnings.catch_warnings(), _sigterm_as_ctrl_c():
                    warnings.showwarning = _show_warning
                    return fn(*a, **k)
            except CnnsearchError as e:
                err_console.print(f"[red]error:[/] {mask_password(str(e))}")
                raise typer.Exit(e.exit_code) from None
            except KeyboardInterrupt:
                err_console.print(
                    "[yellow]interrupted[/]: nothing is left running; run the same command "
                    "again to resume"
                )
                raise typer.Exit(130) from None

        return app.command(*args, **kwargs)(run)

    return register


@contextlib.contextmanager
def _sigterm_as_ctrl_c() -> Iterator[None]:
    """SIGTERM (a scheduler stopping the run) ends a command as Ctrl-C does, with the one
    `interrupted` line and exit 130, wherever it lands: Python's default would end the process
    without a word, as it did between the loading of the data and the first trial. Where a
    stop must wait for a safe point, `stop_requests` takes both signals over. Only the main
    thread takes signals, and one ignored by whoever started the process stays ignored."""
    ignored = signal.getsignal(signal.SIGTERM) is signal.SIG_IGN
    if ignored or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


_default_showwarning = warnings.showwarning


def _show_warning(message, category, *args, **kwargs) -> None:
    if issubclass(category, CnnsearchWarning):
        err_console.print(f"[yellow]warning:[/] {message}")
    else:
        _default_showwarning(message, category, *args, **kwargs)


def show(*renderables, as_json=None) -> None:
    if as_json is not None:
        console.print_json(json.dumps(as_json))
    else:
        for renderable in renderables:
            console.print(renderable)


def _choices(name: str, names) -> type[Enum]:
    """A typer choice type from a registry's names (`str, Enum`, as typer takes them)."""
    return Enum(name, {n.replace("-", "_"): n for n in names}, type=str)


def name_of(choice: Enum | str | None) -> str | None:
    """The registry name of a choice, whether typer parsed it or it is the default."""
    return getattr(choice, "value", choice)


Sampler = _choices("Sampler", SAMPLERS)
Pruner = _choices("Pruner", PRUNERS)
Evaluator = _choices("Evaluator", EVALUATORS)
Color = _choices("Color", COLORS)

Study = Annotated[str, typer.Argument(help="study name, as `studies` lists it")]
Storage = Annotated[
    str,
    typer.Option(
        envvar="CNNSEARCH_STORAGE",
        help="Optuna storage URL: sqlite:///FILE.db, postgresql+psycopg://…, mysql+pymysql://…, "
        "journal:///PATH, redis://…, grpc://HOST:PORT",
    ),
]
Artifacts = Annotated[
    str, typer.Option(envvar="CNNSEARCH_ARTIFACTS", help="folder of saved models (shared too)")
]
Json = Annotated[bool, typer.Option("--json", help="print JSON for scripts")]
Tta = Annotated[
    bool, typer.Option(help="average each image's prediction with its mirror's (flip-safe data)")
]
Quiet = Annotated[bool, typer.Option("-q", "--quiet", help="plain lines, trial outcomes only")]
Gpus = Annotated[str, typer.Option(help="all, none, or GPU indices like 0,1: one worker per GPU")]
PerGpu = Annotated[int, typer.Option(help="worker processes per GPU, for small models")]
Trial = Annotated[int | None, typer.Option(help="trial number", show_default="the best trial")]
Sets = Annotated[
    list[str] | None,
    typer.Option(
        "--set", help="fix a dimension (dim=value) or narrow it (dim=lo..hi or dim=a,b,c)"
    ),
]
TrainSize = Annotated[int | None, typer.Option(help="a stratified subsample of N images")]
ValFraction = Annotated[float, typer.Option(help="share of training images held out")]
Seed = Annotated[int | None, typer.Option(help="seed for the sampler, splits and weights")]
Space = Annotated[str, typer.Option(help="search space (see `spaces`)")]
DATASET_HELP = "digits, mnist, fashion_mnist, cifar10 (cifar), notmnist, folder:PATH (`datasets`)"

Dataset = Annotated[str, typer.Argument(help=DATASET_HELP)]
Trials = Annotated[
    int | None,
    typer.Option(
        help="finished trials the study holds in total",
        show_default="20; no limit with --timeout or --deadline",
    ),
]
Timeout = Annotated[
    float | None, typer.Option(help="stop the whole study, every worker, S seconds from now")
]
Deadline = Annotated[
    str | None, typer.Option(help="stop the whole study at this time: 2026-12-01T18:00Z")
]
StudyName = Annotated[str | None, typer.Option(help="study name", show_default="DATASET-SPACE")]
Epochs = Annotated[int, typer.Option(help="most epochs per trial")]
SamplerOption = Annotated[Sampler, typer.Option(help="how trials are chosen")]
PrunerOption = Annotated[
    Pruner | None,
    typer.Option(help="how poor trials stop", show_default="asha; none for 2 objectives"),
]
Objectives = Annotated[
    str, typer.Option(help="accuracy, or accuracy,time or accuracy,params (Pareto front)")
]
ImageSize = Annotated[
    int | None,
    typer.Option(help="folder:/notmnist: N x N", show_default="the most common size, or 32"),
]
ColorOption = Annotated[
    Color | None, typer.Option(help="folder:/notmnist:", show_default="grayscale if every image is")
]
DataDir = Annotated[str | None, typer.Option(help="notmnist: its tarball's folder")]
MaxParams = Annotated[
    int | None, typer.Option(help="prune bigger models before they train", show_default="none")
]
FullRanges = Annotated[
    bool, typer.Option(help="search the labs' full ranges, not the searched parts (`spaces`)")
]
SamplerOnly = Annotated[
    bool,
    typer.Option(help="every trial from --sampler: no starting points, no greedy steps"),
]
EvaluatorOption = Annotated[
    Evaluator, typer.Option(help="importance evaluator; ped-anova rates conditional dims too")
]
WithPruned = Annotated[
    bool, typer.Option(help="also pruned trials, at the last accuracy they reported")
]
Vary = Annotated[str, typer.Option(help="the dimension to vary: dim=v1,v2,… or dim=lo..hi")]
Repeats = Annotated[int, typer.Option(help="runs per value, each with its own seed")]
SweepName = Annotated[str | None, typer.Option(help="study name", show_default="DATASET-sweep-DIM")]
Host = Annotated[str, typer.Option(help="address to listen on; 0.0.0.0 serves others")]
Port = Annotated[int, typer.Option(help="port to listen on")]
Top = Annotated[int, typer.Option(help="effects tables of the N most important dimensions")]
