"""Create, resume or join a study; its config lives in the study's user attrs."""

from __future__ import annotations

import time

import optuna

from errors import RunError, UsageError
from search.budget import counts, read_trials
from search.config import SearchConfig
from search.pruning import make_pruner
from spaces import get_space

CONFIG_ATTR = "cnnsearch_config"
SWEEP_ATTR = "cnnsearch_sweep"  # a sweep's grid: {"dimension", "values", "repeats"}
REPEAT = "repeat"  # a sweep grid's second axis: which repeat of a value a trial is
# Another process creates a study and stores its config in two steps; how long one that finds
# the study in between waits for the config.
CONFIG_PATIENCE = 15.0


def make_sampler(name: str, seed: int | None, multi_objective: bool) -> optuna.samplers.BaseSampler:
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if name == "cmaes":
        if multi_objective:
            raise UsageError("the cmaes sampler is single-objective; use tpe for --objectives")
        return optuna.samplers.CmaEsSampler(seed=seed, warn_independent_sampling=False)
    if name == "gp":
        try:
            import torch  # noqa: F401 - GPSampler needs it
        except ImportError:
            raise UsageError(
                "the gp sampler needs PyTorch: pip install torch (or use tpe)"
            ) from None
        return optuna.samplers.GPSampler(seed=seed)
    raise UsageError(f"unknown sampler {name!r}; choose tpe, random, gp or cmaes")


def grid_sampler(sweep: dict, seed: int | None) -> optuna.samplers.GridSampler:
    """A sweep's sampler: every value of its dimension × every repeat index."""
    return optuna.samplers.GridSampler(
        {sweep["dimension"]: list(sweep["values"]), REPEAT: list(range(sweep["repeats"]))},
        seed=seed,
    )


def sweep_repeats(study: optuna.Study) -> int | None:
    """How often a sweep's study repeats each value; None for a search's study."""
    sweep = study.user_attrs.get(SWEEP_ATTR)
    return None if sweep is None else sweep["repeats"]


def open_study(
    config: SearchConfig, storage: optuna.storages.BaseStorage, attrs: dict | None = None
) -> optuna.Study:
    """Create the study, or resume it when its stored config matches `config`.

    The trial budget and sampler settings are refreshed from `config`; the fields
    that define what the study measures must match, else a UsageError names the difference.
    `attrs` (a sweep's grid) are stored before the config, so a worker that finds the config
    finds them too.
    """
    existing = find_study(storage, config.study)
    # A config-less study without trials is one whose creator died before storing its config:
    # this process adopts it.
    stored = None if existing is None else _config_attrs(existing)
    if stored is not None:
        differences = config.differences(SearchConfig.from_attrs(stored))
        if differences:
            raise UsageError(
                f"study {config.study!r} exists with another config: {'; '.join(differences)}. "
                "Use the same options to resume it, or --study NEW_NAME for a new study"
            )
    study = optuna.create_study(
        storage=storage,
        study_name=config.study,
        directions=config.directions,
        sampler=make_sampler(config.sampler, config.seed, config.multi_objective),
        pruner=make_pruner(config.pruner_name, config.epochs),
        load_if_exists=True,
    )
    for name, value in (attrs or {}).items():
        study.set_user_attr(name, value)
    study.set_user_attr(CONFIG_ATTR, config.to_attrs())
    return study


def enqueue_reference(study: optuna.Study, config: SearchConfig) -> None:
    """Queue the space's reference model as the first trial of a new study, as SMAC starts from
    the default configuration: the search begins from a known, sane baseline rather than from a
    random draw. Dimensions that --set moved away from their reference are left to the sampler."""
    bounds = config.bounds
    params = {
        dim.name: dim.reference
        for dim in get_space(config.space).DIMENSIONS
        if bounds[dim].contains(dim.reference)
    }
    study.enqueue_trial(params, skip_if_exists=True)


def load_study(storage: optuna.storages.BaseStorage, name: str) -> optuna.Study:
    """An existing study with the sampler and pruner its stored config names (a sweep's grid
    for a sweep's study)."""
    study = find_study(storage, name)
    if study is None:
        names = [s.study_name for s in optuna.get_all_study_summaries(storage)]
        known = (
            f"; studies here: {', '.join(names)}" if names else "; this storage has no studies yet"
        )
        raise UsageError(f"no study named {name!r}{known} (see `cli.py studies`)")
    config = stored_config(study)
    sweep = study.user_attrs.get(SWEEP_ATTR)
    return optuna.load_study(
        study_name=name,
        storage=storage,
        sampler=grid_sampler(sweep, config.seed)
        if sweep
        else make_sampler(config.sampler, config.seed, config.multi_objective),
        pruner=make_pruner(config.pruner_name, config.epochs),
    )


def find_study(storage: optuna.storages.BaseStorage, name: str) -> optuna.Study | None:
    try:
        return optuna.load_study(study_name=name, storage=storage)
    except KeyError:
        return None


def stored_config(study: optuna.Study) -> SearchConfig:
    attrs = _config_attrs(study)
    if attrs is None:
        raise _not_ours(study)
    return SearchConfig.from_attrs(attrs)


def _config_attrs(study: optuna.Study) -> dict | None:
    """The study's stored config. A study with trials but no config was not made by cnnsearch;
    one with neither may be a moment old, so its config gets CONFIG_PATIENCE seconds to appear."""
    give_up = time.monotonic() + CONFIG_PATIENCE
    while (attrs := study.user_attrs.get(CONFIG_ATTR)) is None:
        if study.get_trials(deepcopy=False):
            raise _not_ours(study)
        if time.monotonic() > give_up:
            return None
        time.sleep(0.1)
    return attrs


def _not_ours(study: optuna.Study) -> RunError:
    return RunError(
        f"study {study.study_name!r} was not created by cnnsearch (it has no stored config)"
    )


def finished_trials(study: optuna.Study, in_trial: bool = False) -> int:
    """Trials that count towards the budget (see `search.budget.counts`); `in_trial`: from
    the read the running trial shares with the sampler (`search.budget.read_trials`)."""
    return sum(counts(t) for t in read_trials(study, in_trial))
