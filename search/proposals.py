"""Where a trial's configuration comes from besides the sampler, and which ones not to train.

A search first trains its space's starting points (`spaces.starts`): known-good models instead
of random draws. After them, every other trial is a greedy step:
the best trial so far with one group of dimensions left to the sampler, as AutoKeras' greedy
oracle searches around its best model. The sampler proposes the rest, informed by the whole
history. A proposal that repeats a configuration already trained (or in training) is not
trained again: it is recorded FAIL with the user attr `duplicate_of`, counts nowhere, and a run
whose proposals keep repeating has exhausted its space.
"""

from __future__ import annotations

import random
import time

import optuna
from optuna.trial import FrozenTrial, TrialState

from search.config import SearchConfig
from search.trials import read_trials
from search.vocabulary import CLAIM_ATTR, CONTINUES_ATTR, DUPLICATE_ATTR, PROPOSAL_ATTR, counts
from spaces import get_space
from spaces.starts import start_params

GREEDY_SHARE = 0.5  # of the trials after the starting points
MAX_DUPLICATES_IN_A_ROW = 20  # then every proposal repeats: the space is exhausted
CLAIM_WAIT_SECONDS = 90.0  # a live worker decides once its read returns (SQLite waits 60 s)
CLAIM_POLL_SECONDS = 0.1


class Duplicate(Exception):
    """The trial repeats a configuration already trained; it is recorded FAIL, untrained."""


class Proposer:
    """Called before each trial of a search: queues the next starting point while one is left,
    then, for a share of the trials, a greedy step around the best trial.

    Nothing is queued while a trial waits (another worker's proposal, a retry), so a run never
    leaves queued trials behind. Greedy steps need a completed trial and one objective; the
    choice is seeded by the study's seed and its trial count, so a seeded run is reproducible.
    A `sampler_only` search queues nothing: the sampler proposes every trial.
    """

    def __init__(self, config: SearchConfig, n_train: int) -> None:
        self.space = get_space(config.space)
        self.bounds, self.seed, self.n_train = config.bounds, config.seed, n_train
        self.sampler_only = config.sampler_only

    def __call__(self, study: optuna.Study) -> None:
        if self.sampler_only:
            return
        trials = study.get_trials(deepcopy=False)
        if any(t.state == TrialState.WAITING for t in trials):
            return
        used = {t.user_attrs.get(PROPOSAL_ATTR) for t in trials}
        start = next((s for s in self.space.STARTS if f"start: {s.name}" not in used), None)
        if start is not None:
            params = start_params(start, self.space.DIMENSIONS, self.bounds, self.n_train)
            user_attrs = {PROPOSAL_ATTR: f"start: {start.name}"}
            study.enqueue_trial(params, user_attrs=user_attrs, skip_if_exists=True)
        elif len(study.directions) == 1:
            self._greedy_step(study, trials)

    def _greedy_step(self, study: optuna.Study, trials: list[FrozenTrial]) -> None:
        """The best trial's params without one group of `space.GROUPS`, which the sampler
        proposes anew, informed by the whole history."""
        complete = [t for t in trials if t.state == TrialState.COMPLETE]
        rng = random.Random(None if self.seed is None else f"{self.seed}:{len(trials)}")
        if not complete or rng.random() >= GREEDY_SHARE:
            return
        best = max(complete, key=lambda t: t.value)
        group = rng.choice(self.space.GROUPS)
        if not best.params.keys() & set(group):
            return
        study.enqueue_trial(
            {k: v for k, v in best.params.items() if k not in group},
            user_attrs={PROPOSAL_ATTR: f"greedy: trial {best.number} with new {', '.join(group)}"},
        )


def check_duplicate(trial: optuna.Trial, wait: float = CLAIM_WAIT_SECONDS) -> None:
    """Claim `trial`'s configuration, or raise `Duplicate` when another trial of the study already
    has its params and was trained, judged or is training now. Trials the deadline stopped before
    their first epoch, and those of workers that died, were never judged: repeating them is not a
    duplicate.

    Workers may propose one configuration at the same moment (the same start, the same greedy
    step), so the study is read afresh, not from the per-trial cache that predates their params.
    A tie goes to the earlier trial: a later one yields to an earlier one still deciding, and an
    earlier one waits for a later one's decision. Past `wait` seconds without one it yields too:
    the later trial trains the configuration, or its worker died and its retry will.
    """
    give_up = time.monotonic() + wait
    while rivals := [
        other
        for other in read_trials(trial.study)
        if other.number != trial.number and other.params == trial.params and _judged(other)
    ]:
        winner = next((other for other in rivals if _wins_over(other, trial)), None)
        if winner is None and time.monotonic() < give_up:
            time.sleep(CLAIM_POLL_SECONDS)  # only later trials, still deciding, share the params
            continue
        winner = winner or rivals[0]
        trial.set_user_attr(DUPLICATE_ATTR, winner.number)
        raise Duplicate(f"repeats trial {winner.number}'s configuration")
    trial.study._storage.set_trial_system_attr(trial._trial_id, CLAIM_ATTR, trial.number)


def _wins_over(rival: FrozenTrial, trial: optuna.Trial) -> bool:
    """Whether `rival`, which has `trial`'s params, keeps them: it was judged, it claimed them,
    or it is the earlier trial. A claim counts only under the number of the trial that made it:
    Optuna copies a stale trial's system attrs into its retry, which has not checked yet."""
    return (
        rival.state != TrialState.RUNNING
        or rival.system_attrs.get(CLAIM_ATTR) == rival.number
        or rival.number < trial.number
    )


def _judged(trial: FrozenTrial) -> bool:
    """The trials that count toward the budget (`search.vocabulary.counts`), and one more kind:
    a trial training now, which will be judged, unless it is itself a repeat or a continuation
    (a second worker must not train the configuration a first one is training)."""
    if trial.state == TrialState.RUNNING:
        return not {CONTINUES_ATTR, DUPLICATE_ATTR} & trial.user_attrs.keys()
    return counts(trial)
