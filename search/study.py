"""Create, resume or join a study; its config lives in the study's user attrs."""

from __future__ import annotations

import optuna

from errors import RunError, UsageError
from search.budget import counts
from search.config import SearchConfig
from search.pruning import make_pruner

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


def finished_trials(study: optuna.Study) -> int:
    """Trials that count towards the budget (see `search.budget.counts`)."""
    return sum(counts(t) for t in study.get_trials(deepcopy=False))
