"""The labs' one-factor experiment as a stored grid study: one dimension varied over a list of
values, every other dimension at the space's reference value, each value repeated with
different seeds so the table shows the noise next to the effect."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import optuna
from optuna.trial import TrialState

from errors import UsageError
from search.config import FLIP, SearchConfig
from search.data import flips_keep_labels, load
from search.objective import Objective
from search.run import hardware
from search.run.progress import Progress
from search.run.workers import run_until_budget
from search.study import find_study, grid_sampler, open_study
from search.vocabulary import N_PARAMS_ATTR, SWEEP_ATTR, TRAIN_SECONDS_ATTR
from spaces import get_space, parse_sets, reference_params
from spaces.dimensions import Dimension, Value, format_value, narrow
from storage import open_artifact_store, open_storage

MAX_RANGE = 50


@dataclass(frozen=True)
class Vary:
    """The varied dimension and its values, parsed from `--vary dim=v1,v2,…` or `dim=lo..hi`."""

    dimension: str
    values: tuple[Value, ...]


@dataclass(frozen=True)
class SweepRow:
    value: Value
    runs: int
    mean: float
    std: float  # sample standard deviation (ddof=1); 0 for a single run
    best: float
    mean_seconds: float | None
    params: int | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse_vary(text: str, space: str) -> Vary:
    """`dim=v1,v2,…` or `dim=lo..hi` (integers: every integer; choices: those inside)."""
    name, sep, values = (part.strip() for part in text.partition("="))
    dims = {d.name: d for d in get_space(space).DIMENSIONS}
    if not sep or not values:
        raise UsageError(
            f"--vary {text!r}: expected dim=v1,v2,… or dim=lo..hi, for example --vary n_conv=1..6"
        )
    if name not in dims:
        raise UsageError(
            f"--vary {text!r}: {space!r} has no dimension {name!r}; its dimensions are "
            f"{', '.join(dims)}"
        )
    dim = dims[name]
    if ".." in values:
        return Vary(name, _expand_range(dim, values))
    parsed = tuple(_single(narrow(dim, v)) for v in values.split(",") if v.strip())
    if len(set(parsed)) != len(parsed) or len(parsed) < 2:
        raise UsageError(f"--vary {text!r}: give at least two different values")
    return Vary(name, parsed)


def _expand_range(dim: Dimension, text: str) -> tuple[Value, ...]:
    narrowed = narrow(dim, text)
    if narrowed.choices is not None:
        return narrowed.choices
    if not dim.integer:
        raise UsageError(
            f"--vary {dim.name}={text}: {dim.name} is continuous; list the values instead, "
            f"for example --vary {dim.name}={narrowed.low:g},{narrowed.high:g}"
        )
    values = tuple(range(int(narrowed.low), int(narrowed.high) + 1))
    if len(values) > MAX_RANGE:
        raise UsageError(
            f"--vary {dim.name}={text}: {len(values)} values is too many for a sweep "
            f"(at most {MAX_RANGE}); list the ones you want, for example 8,16,32,64"
        )
    return values


def _single(dim: Dimension) -> Value:
    return dim.choices[0] if dim.choices is not None else dim.low


def sweep_config(
    dataset: str,
    vary: Vary,
    repeats: int,
    sets: tuple[str, ...] = (),
    space: str = "convnet",
    **options: Any,
) -> SearchConfig:
    """A config with every dimension but the varied one fixed: at the reference value, or
    at the value of a `--set dim=value`. No pruning: every run trains to the end."""
    if repeats < 1:
        raise UsageError(f"--repeats must be at least 1, got {repeats}")
    module = get_space(space)
    user = parse_sets(sets, module.DIMENSIONS, space).overrides
    if vary.dimension in user:
        raise UsageError(
            f"--set {vary.dimension}=… and --vary {vary.dimension}=… conflict; "
            "a sweep varies a dimension, drop its --set"
        )
    ranged = [name for name, d in user.items() if d.choices is None and d.low != d.high]
    ranged += [name for name, d in user.items() if d.choices is not None and len(d.choices) > 1]
    if ranged:
        raise UsageError(
            f"a sweep fixes every other dimension; --set {ranged[0]} needs one value here, "
            f"for example --set {ranged[0]}={reference_params(module)[ranged[0]]}"
        )
    fixed = {**reference_params(module), **{n: _single(d) for n, d in user.items()}}
    fixed.pop(vary.dimension)
    sets = tuple(f"{name}={value}" for name, value in fixed.items())
    if vary.dimension == FLIP and flips_keep_labels(dataset) is None:
        # An image folder is flipped only when asked (search.config._label_safe): varying the
        # flip asks for it.
        sets += (f"{FLIP}={','.join(format_value(v) for v in vary.values)}",)
    if not options.get("study_name"):
        options["study_name"] = f"{SearchConfig(dataset).dataset}-sweep-{vary.dimension}"
    config = SearchConfig(
        dataset,
        space=space,
        trials=len(vary.values) * repeats,
        pruner="none",
        sets=sets,
        full_ranges=True,  # a sweep's values may lie anywhere in the labs' ranges
        **options,
    )
    (dim,) = (d for d in module.DIMENSIONS if d.name == vary.dimension)
    allowed = config.bounds[dim]  # narrower than the range where the data set forbids a value
    refused = [format_value(v) for v in vary.values if not allowed.contains(v)]
    if refused:
        raise UsageError(
            f"--vary {vary.dimension}: {config.dataset} never takes {', '.join(refused)} "
            f"(only {allowed.describe()}: a flip would change its labels); vary another dimension"
        )
    return config


def open_sweep(
    config: SearchConfig, vary: Vary, repeats: int, storage: optuna.storages.BaseStorage
) -> optuna.Study:
    """The sweep's study with a grid sampler over the values × repeat index."""
    wanted = {"dimension": vary.dimension, "values": list(vary.values), "repeats": repeats}
    existing = find_study(storage, config.study)
    stored = None if existing is None else existing.user_attrs.get(SWEEP_ATTR)
    if stored is not None and stored != wanted:
        raise UsageError(
            f"study {config.study!r} swept {stored['dimension']}={stored['values']} with "
            f"{stored['repeats']} repeats; use the same --vary and --repeats to resume it, "
            "or --study NEW_NAME"
        )
    study = open_study(config, storage, attrs={SWEEP_ATTR: wanted})
    study.sampler = grid_sampler(wanted, config.seed)
    return study


def sweep(
    config: SearchConfig,
    vary: Vary,
    repeats: int,
    storage_url: str,
    artifacts: str,
    progress: Progress | None = None,
) -> list[SweepRow]:
    """Run the sweep's missing runs (resuming a stored one) and return its lab table."""
    progress = progress or Progress()
    hardware.check_settings()
    study = open_sweep(config, vary, repeats, open_storage(storage_url))
    progress.say(
        f"sweep [bold]{config.study}[/]: {vary.dimension} over "
        f"{', '.join(map(str, vary.values))}, {repeats} repeats, other dimensions fixed"
    )
    objective = Objective(
        config, load(config.dataset), progress, open_artifact_store(artifacts), repeats=repeats
    )
    run_until_budget(study, objective, config, progress)
    return sweep_table(study, vary.dimension)


@dataclass(frozen=True)
class SweepResult:
    study: str
    dimension: str
    rows: list[SweepRow]


def run_sweep(
    dataset: str,
    vary: str,
    repeats: int,
    sets: tuple[str, ...],
    storage_url: str,
    artifacts: str,
    progress: Progress | None = None,
    space: str = "convnet",
    **options: Any,
) -> SweepResult:
    """`sweep` from the command's words: `vary` is `dim=v1,v2,…` or `dim=lo..hi`, `sets` fix
    other dimensions, `options` are SearchConfig fields (epochs, seed, study_name…)."""
    varied = parse_vary(vary, space)
    config = sweep_config(dataset, varied, repeats, sets, space, **options)
    rows = sweep(config, varied, repeats, storage_url, artifacts, progress)
    return SweepResult(config.study, varied.dimension, rows)


def sweep_table(study: optuna.Study, dimension: str) -> list[SweepRow]:
    """One row per value of `dimension`: runs, mean ± std, best accuracy, time, params."""
    by_value: dict[Value, list[optuna.trial.FrozenTrial]] = {}
    for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        if dimension in t.params:
            by_value.setdefault(t.params[dimension], []).append(t)
    rows = []
    for value in sorted(by_value, key=_order):
        trials = by_value[value]
        accuracy = np.array([t.values[0] for t in trials])
        seconds = [
            t.user_attrs[TRAIN_SECONDS_ATTR] for t in trials if TRAIN_SECONDS_ATTR in t.user_attrs
        ]
        n_params = [t.user_attrs[N_PARAMS_ATTR] for t in trials if N_PARAMS_ATTR in t.user_attrs]
        rows.append(
            SweepRow(
                value=value,
                runs=len(trials),
                mean=float(accuracy.mean()),
                std=float(accuracy.std(ddof=1)) if len(trials) > 1 else 0.0,
                best=float(accuracy.max()),
                mean_seconds=float(np.mean(seconds)) if seconds else None,
                params=int(np.mean(n_params)) if n_params else None,
            )
        )
    return rows


def _order(value: Value) -> tuple[int, Any]:
    return (0, value) if isinstance(value, int | float) else (1, str(value))
