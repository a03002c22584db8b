"""Create, resume or join a study; its config lives in the study's user attrs."""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import optuna
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial, TrialState

from errors import RunError, UsageError
from search.config import SearchConfig
from search.registry import PRUNERS, SAMPLERS, SINGLE_OBJECTIVE_SAMPLERS, choose
from search.trials import read_trials
from search.vocabulary import CONFIG_ATTR, SWEEP_ATTR, counts

REPEAT = "repeat"  # a sweep grid's second axis: which repeat of a value a trial is
# Another process creates a study and stores its config in two steps; how long one that finds
# the study in between waits for the config.
CONFIG_PATIENCE = 15.0


def make_sampler(name: str, seed: int | None, multi_objective: bool) -> optuna.samplers.BaseSampler:
    """The sampler `name`; with a seed, each trial's proposals come from a seed of their own
    (`PerTrialSeed`), so restarted and parallel workers never replay each other's draws."""
    make = choose("sampler", SAMPLERS, name)
    if multi_objective and name in SINGLE_OBJECTIVE_SAMPLERS:
        raise UsageError(f"the {name} sampler is single-objective; use tpe for --objectives")
    return make(seed) if seed is None else PerTrialSeed(make, seed)


def make_pruner(name: str, epochs: int, first_rung: int = 1) -> optuna.pruners.BasePruner:
    """The pruner `name` for trials of at most `epochs` epochs, first judged after `first_rung`
    (see `search.pruning.first_rung`)."""
    return choose("pruner", PRUNERS, name)(epochs, first_rung)


class PerTrialSeed(optuna.samplers.BaseSampler):
    """A sampler seeded anew before every trial, from the study's seed and the trial's number.

    A seeded sampler replays its draws in every process that builds it: a worker that restarts
    (search.run.restart) or a second worker given the same --seed proposes the very trials the first
    one did. Trial numbers are unique within a study, so seeding from them gives every trial its
    own draws, and one process with a fixed seed still proposes the same trials on every run.
    """

    def __init__(self, make: Callable[[int | None], optuna.samplers.BaseSampler], seed: int):
        self._make, self._seed = make, seed
        self._sampler = make(seed)

    def before_trial(self, study: optuna.Study, trial: FrozenTrial) -> None:
        self._sampler = self._make(sampler_seed(self._seed, trial.number))
        self._sampler.before_trial(study, trial)

    def infer_relative_search_space(self, study: optuna.Study, trial: FrozenTrial) -> dict:
        return self._sampler.infer_relative_search_space(study, trial)

    def sample_relative(self, study: optuna.Study, trial: FrozenTrial, search_space: dict) -> dict:
        return self._sampler.sample_relative(study, trial, search_space)

    def sample_independent(
        self, study: optuna.Study, trial: FrozenTrial, param_name: str, param_distribution: Any
    ) -> Any:
        return self._sampler.sample_independent(study, trial, param_name, param_distribution)

    def after_trial(
        self, study: optuna.Study, trial: FrozenTrial, state: TrialState, values: Any
    ) -> None:
        self._sampler.after_trial(study, trial, state, values)

    def reseed_rng(self) -> None:
        self._sampler.reseed_rng()


def sampler_seed(seed: int, number: int) -> int:
    """The sampler's seed for trial `number` of a study seeded with `seed`, independent of its
    neighbours' (the seed of its weights is `search.training.weights_seed`)."""
    return int(np.random.SeedSequence([seed, number]).generate_state(1)[0])


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
    finds them too. Of several processes creating one study at once, one creates it (the
    storage's unique study name decides) and the others compare their config with its.
    """
    study = _create(config, storage)
    if study is None:
        existing = find_study(storage, config.study)
        # A config-less study without trials is one whose creator died before storing its
        # config: this process adopts it.
        stored = _config_attrs(existing)
        if stored is not None:
            differences = config.differences(SearchConfig.from_attrs(stored))
            if differences:
                raise UsageError(
                    f"study {config.study!r} exists with another config: "
                    f"{'; '.join(differences)}. Use the same options to resume it, or "
                    "--study NEW_NAME for a new study"
                )
        study = optuna.load_study(
            study_name=config.study,
            storage=storage,
            sampler=make_sampler(config.sampler, config.seed, config.multi_objective),
            pruner=make_pruner(config.pruner_name, config.epochs),
        )
    for name, value in (attrs or {}).items():
        study.set_user_attr(name, value)
    study.set_user_attr(CONFIG_ATTR, config.to_attrs())
    return study


def _create(config: SearchConfig, storage: optuna.storages.BaseStorage) -> optuna.Study | None:
    """The new study, or None when one of that name exists already."""
    try:
        study = optuna.create_study(
            storage=storage,
            study_name=config.study,
            directions=config.directions,
            sampler=make_sampler(config.sampler, config.seed, config.multi_objective),
            pruner=make_pruner(config.pruner_name, config.epochs),
        )
    except optuna.exceptions.DuplicatedStudyError:
        return None
    with warnings.catch_warnings():  # experimental since Optuna 3.2
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        study.set_metric_names(list(config.objectives))  # the dashboard's axis titles
    return study


def load_study(storage: optuna.storages.BaseStorage, name: str) -> optuna.Study:
    """An existing study with the sampler and pruner its stored config names (a sweep's grid
    for a sweep's study)."""
    study = existing_study(storage, name)
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


def existing_study(storage: optuna.storages.BaseStorage, name: str) -> optuna.Study:
    """An existing study, to read and annotate: without the sampler and pruner that only
    running trials needs. An unknown name raises a UsageError that names the studies there."""
    study = find_study(storage, name)
    if study is None:
        names = [s.study_name for s in optuna.get_all_study_summaries(storage)]
        known = (
            f"; studies here: {', '.join(names)}" if names else "; this storage has no studies yet"
        )
        raise UsageError(f"no study named {name!r}{known} (see `cnnsearch studies`)")
    return study


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
    """Trials that count towards the budget (see `search.vocabulary.counts`); `in_trial`: from
    the read the running trial shares with the sampler (`search.trials.read_trials`)."""
    return sum(counts(t) for t in read_trials(study, in_trial))


def best_completed(trials: Iterable[FrozenTrial], direction: StudyDirection) -> FrozenTrial | None:
    """The best of `trials` that completed, for one objective in `direction`; None before any."""
    complete = [t for t in trials if t.state == TrialState.COMPLETE and t.value is not None]
    pick = max if direction == StudyDirection.MAXIMIZE else min
    return pick(complete, key=lambda t: t.value, default=None)
