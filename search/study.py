"""Create, resume or join a study; its config lives in the study's user attrs."""

from __future__ import annotations

import optuna

from errors import RunError, UsageError
from search.budget import counts, read_trials
from search.config import SearchConfig
from search.pruning import make_pruner
from spaces import get_space

CONFIG_ATTR = "cnnsearch_config"


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


def open_study(config: SearchConfig, storage: optuna.storages.BaseStorage) -> optuna.Study:
    """Create the study, or resume it when its stored config matches `config`.

    The trial budget and sampler settings are refreshed from `config`; the fields
    that define what the study measures must match, else a UsageError names the difference.
    """
    existing = find_study(storage, config.study)
    if existing is not None:
        stored = stored_config(existing)
        differences = config.differences(stored)
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
    """An existing study with the sampler and pruner its stored config names."""
    study = find_study(storage, name)
    if study is None:
        names = [s.study_name for s in optuna.get_all_study_summaries(storage)]
        known = (
            f"; studies here: {', '.join(names)}" if names else "; this storage has no studies yet"
        )
        raise UsageError(f"no study named {name!r}{known} (see `cli.py studies`)")
    config = stored_config(study)
    return optuna.load_study(
        study_name=name,
        storage=storage,
        sampler=make_sampler(config.sampler, config.seed, config.multi_objective),
        pruner=make_pruner(config.pruner_name, config.epochs),
    )


def find_study(storage: optuna.storages.BaseStorage, name: str) -> optuna.Study | None:
    try:
        return optuna.load_study(study_name=name, storage=storage)
    except KeyError:
        return None


def stored_config(study: optuna.Study) -> SearchConfig:
    attrs = study.user_attrs.get(CONFIG_ATTR)
    if attrs is None:
        raise RunError(
            f"study {study.study_name!r} was not created by cnnsearch (it has no stored config)"
        )
    return SearchConfig.from_attrs(attrs)


def finished_trials(study: optuna.Study, in_trial: bool = False) -> int:
    """Trials that count towards the budget (see `search.budget.counts`); `in_trial`: from
    the read the running trial shares with the sampler (`search.budget.read_trials`)."""
    return sum(counts(t) for t in read_trials(study, in_trial))
