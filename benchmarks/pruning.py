"""Benchmark 2: the same TPE study with the default pruner (and any others named) vs no
pruner: epochs trained, wall time, best accuracy.

    python -m benchmarks.pruning [--trials 30] [--train-size 8000] [--val-fraction 0.5]
                                 [--epochs 15] [--others hyperband,median] [--storage URL]

A large validation share keeps "best within 0.5 points" above the noise of a small validation set
(4000 images: about 0.55 points standard error at 85%, against 1.9 points for 300). With
--storage the studies stay, and `benchmarks.pruning_replay` can replay other pruners on the
curves of the unpruned one.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from typing import NamedTuple

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import optuna  # noqa: E402

from benchmarks.common import append_row, description, parse_with_data  # noqa: E402
from search.config import SearchConfig  # noqa: E402
from search.objective import Objective, TrialFailed  # noqa: E402
from search.proposals import Duplicate, Proposer  # noqa: E402
from search.study import make_pruner, open_study  # noqa: E402
from search.vocabulary import EPOCHS_RUN_ATTR, N_PARAMS_ATTR, TRAIN_SECONDS_ATTR
from storage import open_storage  # noqa: E402

# Narrowed so that 2 × 30 trials fit in minutes on a 2-core CPU; pruning acts the same way.
SETS = ("n_conv=1..4", "filters=8..48", "n_dense=0..2", "dense_units=32..256")


class Run(NamedTuple):
    epochs: int
    seconds: float
    best: float
    trials: list[optuna.trial.FrozenTrial]


def run(pruner: str, args: argparse.Namespace, dataset) -> Run:
    config = SearchConfig(
        args.dataset,
        epochs=args.epochs,
        trials=args.trials,
        pruner=pruner,
        train_size=args.train_size,
        val_fraction=args.val_fraction,
        sets=SETS,
        seed=args.seed,
        study_name=f"pruning-{pruner}-{time.strftime('%H%M%S')}",
    )
    storage = open_storage(args.storage) if args.storage else optuna.storages.InMemoryStorage()
    study = open_study(config, storage)
    objective = Objective(config, dataset)
    # as `optimize` does: the first rung after 30,000 images, starting points, greedy steps
    study.pruner = make_pruner(config.pruner_name, config.epochs, objective.first_rung)
    propose = Proposer(config, len(objective.split.y_train))
    propose(study)
    started = time.perf_counter()
    study.optimize(
        objective,
        n_trials=args.trials,
        catch=(TrialFailed, Duplicate),
        callbacks=[lambda study, trial: print(_line(trial), flush=True), lambda s, t: propose(s)],
    )
    seconds = time.perf_counter() - started
    epochs = sum(t.user_attrs.get(EPOCHS_RUN_ATTR, 0) for t in study.trials)
    return Run(epochs, seconds, study.best_value, study.trials)


def _line(trial: optuna.trial.FrozenTrial) -> str:
    attrs = trial.user_attrs
    return (
        f"trial {trial.number} {trial.state.name.lower()} {trial.value or 0:.4f} after "
        f"{attrs.get(EPOCHS_RUN_ATTR)} epochs, {trial.duration.total_seconds():.0f} s, "
        f"{attrs.get(N_PARAMS_ATTR)} params"
    )


def what_stands_in_the_way(pruned: Run, full: Run, gap: float) -> str:
    """Why a pruned run missed the goal, from its trials."""
    reasons = []
    if pruned.epochs / full.epochs > 0.35:
        past = sum(t.user_attrs.get(EPOCHS_RUN_ATTR, 0) > 1 for t in pruned.trials)
        reasons.append(f"{past} of {len(pruned.trials)} trials trained past epoch 1")
    if pruned.seconds / full.seconds > pruned.epochs / full.epochs + 0.05:
        outside = statistics.median(
            t.duration.total_seconds() - t.user_attrs[TRAIN_SECONDS_ATTR]
            for t in pruned.trials
            if t.duration is not None and TRAIN_SECONDS_ATTR in t.user_attrs
        )
        reasons.append(
            f"every trial, pruned or not, pays {outside:.1f} s outside model.fit (median) and "
            "the tracing of its graphs in its first epoch"
        )
    if gap > 0.5:
        reasons.append(f"the pruned study's best is {gap:.1f} points lower")
    return "; ".join(reasons)


def main() -> None:
    parser = argparse.ArgumentParser(description=description(__doc__))
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--others", default="", help="more pruners to compare, like asha,median")
    parser.add_argument("--storage", help="keep the studies there (default: in memory)")
    args, dataset = parse_with_data(parser, train_size=8000, epochs=15, val_fraction=0.5)
    default_pruner = SearchConfig(args.dataset).pruner_name
    full = run("none", args, dataset)
    for pruner in [default_pruner, *filter(None, args.others.split(","))]:
        pruned = run(pruner, args, dataset)
        epoch_ratio, time_ratio = pruned.epochs / full.epochs, pruned.seconds / full.seconds
        gap = (full.best - pruned.best) * 100
        append_row(
            f"2 pruning: {pruner}{' (default)' if pruner == default_pruner else ''} vs none",
            f"{args.trials} TPE trials, {args.dataset} {args.train_size} images "
            f"({args.val_fraction:g} for validation), ≤{args.epochs} epochs: {pruner} "
            f"{pruned.epochs} epochs / {pruned.seconds:.0f} s / best {pruned.best:.4f}; none "
            f"{full.epochs} epochs / {full.seconds:.0f} s / best {full.best:.4f}; epoch ratio "
            f"{epoch_ratio:.2f}, time ratio {time_ratio:.2f}, accuracy gap {gap:+.1f} points",
            "ratio ≤ 0.35, best within 0.5 points",
            max(epoch_ratio, time_ratio) <= 0.35 and gap <= 0.5,
            what_stands_in_the_way(pruned, full, gap),
        )


if __name__ == "__main__":
    main()
