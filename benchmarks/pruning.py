"""Benchmark 2: the same TPE study with the default pruner (and any others named) vs no
pruner: epochs trained, wall time, best accuracy.

    python -m benchmarks.pruning [--trials 30] [--train-size 3000] [--epochs 9] [--others asha]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import optuna  # noqa: E402

from benchmarks.common import append_row  # noqa: E402
from search.config import SearchConfig  # noqa: E402
from search.data import load  # noqa: E402
from search.objective import Objective, TrialFailed  # noqa: E402
from search.study import enqueue_reference, open_study  # noqa: E402

# Narrowed so that 2 × 30 trials fit in minutes on a 2-core CPU; pruning acts the same way.
SETS = ("n_conv=1..4", "filters=8..48", "n_dense=0..2", "dense_units=32..256")


def run(pruner: str, args: argparse.Namespace, dataset) -> tuple[int, float, float]:
    config = SearchConfig(
        args.dataset,
        epochs=args.epochs,
        trials=args.trials,
        pruner=pruner,
        train_size=args.train_size,
        sets=SETS,
        seed=args.seed,
    )
    study = open_study(config, optuna.storages.InMemoryStorage())
    enqueue_reference(study, config)  # as `optimize` does for a new study
    started = time.perf_counter()
    study.optimize(Objective(config, dataset), n_trials=args.trials, catch=(TrialFailed,))
    seconds = time.perf_counter() - started
    epochs = sum(t.user_attrs.get("epochs_run", 0) for t in study.trials)
    return epochs, seconds, study.best_value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="fashion_mnist")
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--train-size", type=int, default=3000)
    parser.add_argument("--epochs", type=int, default=9)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--others", default="", help="more pruners to compare, like asha,median")
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)

    dataset = load(args.dataset)
    default_pruner = SearchConfig(args.dataset).pruner_name
    full_epochs, full_s, full_best = run("none", args, dataset)
    for pruner in [default_pruner, *filter(None, args.others.split(","))]:
        epochs, seconds, best = run(pruner, args, dataset)
        epoch_ratio, time_ratio = epochs / full_epochs, seconds / full_s
        gap = (full_best - best) * 100
        append_row(
            f"2 pruning: {pruner}{' (default)' if pruner == default_pruner else ''} vs none",
            f"{args.trials} TPE trials, {args.dataset} {args.train_size} images, "
            f"≤{args.epochs} epochs: {pruner} {epochs} epochs / {seconds:.0f} s / best "
            f"{best:.4f}; none {full_epochs} epochs / {full_s:.0f} s / best {full_best:.4f}; "
            f"epoch ratio {epoch_ratio:.2f}, time ratio {time_ratio:.2f}, accuracy gap "
            f"{gap:+.1f} points",
            "ratio ≤ 0.35, best within 0.5 points",
            max(epoch_ratio, time_ratio) <= 0.35 and gap <= 0.5,
        )


if __name__ == "__main__":
    main()
