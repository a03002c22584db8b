"""Benchmark 3: cnnsearch against KerasTuner (Hyperband and RandomSearch) on the same space,
data and wall-clock budget: best validation accuracy, and time to reach a target accuracy.

    python -m benchmarks.kerastuner [--budget 600] [--target 0.84] [--train-size 8000]
                                    [--val-fraction 0.5]

Half the images validate, so that best accuracies a point apart are not noise (4000 images:
about 0.55 points standard error at 85%).

KerasTuner's build function asks `hp` for every dimension, the way its docs recommend, and
hands the values to cnnsearch's own builder, so both search the very same models.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import keras_tuner as kt  # noqa: E402
import optuna  # noqa: E402
from optuna.trial import FixedTrial  # noqa: E402

from benchmarks.arms import ask_keras_tuner  # noqa: E402
from benchmarks.common import append_row, description, parse_with_data  # noqa: E402
from search.config import SearchConfig  # noqa: E402
from search.data import split_validation  # noqa: E402
from search.objective import Objective, TrialFailed  # noqa: E402
from search.proposals import Duplicate, Proposer  # noqa: E402
from search.study import make_pruner, open_study  # noqa: E402
from spaces import convnet  # noqa: E402
from spaces.build import build_model, compile_model  # noqa: E402

SETS = ("n_conv=1..4", "filters=8..64", "n_dense=0..2", "dense_units=32..256")


class OutOfTime(BaseException):
    """Ends a KerasTuner search at the budget (KerasTuner swallows ordinary exceptions)."""


class Clock:
    """Best validation accuracy over time, and when the target was first reached."""

    def __init__(self, budget: float, target: float) -> None:
        self.started, self.budget, self.target = time.perf_counter(), budget, target
        self.best, self.reached_at, self.trials = 0.0, None, 0

    def trial_ended(self, accuracy: float) -> bool:
        """Record a finished trial; True when the budget is spent."""
        elapsed = time.perf_counter() - self.started
        self.trials += 1
        self.best = max(self.best, accuracy)
        if self.reached_at is None and accuracy >= self.target:
            self.reached_at = elapsed
        return elapsed >= self.budget


def run_cnnsearch(config: SearchConfig, dataset, clock: Clock) -> None:
    study = open_study(config, optuna.storages.InMemoryStorage())
    objective = Objective(config, dataset)
    # as `optimize` does: the first rung after 30,000 images, starting points, greedy steps
    study.pruner = make_pruner(config.pruner_name, config.epochs, objective.first_rung)
    propose = Proposer(config, len(objective.split.y_train))

    def on_trial_end(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        curve = trial.intermediate_values.values()
        if clock.trial_ended(max(curve, default=0.0)):
            study.stop()
        propose(study)

    propose(study)
    study.optimize(objective, catch=(TrialFailed, Duplicate), callbacks=[on_trial_end])


def kt_build(bounds):
    def build(hp: kt.HyperParameters) -> keras.Model:
        params = ask_keras_tuner(hp, bounds)
        spec = convnet.suggest_spec(FixedTrial(params))
        model = build_model(spec.model, INPUT_SHAPE, N_CLASSES)
        compile_model(model, spec.train)
        return model

    return build


class TrialEnd(keras.callbacks.Callback):
    def __init__(self, clock: Clock) -> None:
        super().__init__()
        self.clock = clock

    def __deepcopy__(self, memo: dict) -> TrialEnd:
        # KerasTuner deep-copies the callbacks for every trial; a copy would record its
        # trial's accuracy on a copy of the clock, which the benchmark never reads.
        return self

    def on_train_end(self, logs=None) -> None:
        history = self.model.history.history.get("val_accuracy", [0.0])
        if self.clock.trial_ended(max(history)):
            raise OutOfTime


def run_kerastuner(kind: str, config: SearchConfig, split, clock: Clock) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        common = dict(
            objective="val_accuracy", directory=tmp, project_name=kind, seed=0, overwrite=True
        )
        build = kt_build(config.bounds)
        if kind == "hyperband":
            tuner = kt.Hyperband(build, max_epochs=config.epochs, factor=3, **common)
        else:
            tuner = kt.RandomSearch(build, max_trials=10_000, **common)
        with contextlib.suppress(OutOfTime):
            tuner.search(
                split.x_train,
                split.y_train,
                validation_data=(split.x_val, split.y_val),
                epochs=config.epochs,
                verbose=0,
                callbacks=[
                    keras.callbacks.EarlyStopping("val_accuracy", patience=3),
                    TrialEnd(clock),
                ],
            )


INPUT_SHAPE: tuple = ()
N_CLASSES = 0


def main() -> None:
    global INPUT_SHAPE, N_CLASSES
    parser = argparse.ArgumentParser(description=description(__doc__))
    parser.add_argument("--budget", type=float, default=600)
    parser.add_argument("--target", type=float, default=0.84)
    args, dataset = parse_with_data(parser, train_size=8000, epochs=9, val_fraction=0.5)
    INPUT_SHAPE, N_CLASSES = dataset.input_shape, dataset.n_classes
    config = SearchConfig(
        args.dataset,
        epochs=args.epochs,
        train_size=args.train_size,
        val_fraction=args.val_fraction,
        sets=SETS,
        seed=0,
        trials=10_000,
    )
    split = split_validation(dataset, config.val_fraction, 0, args.train_size)
    clocks = {}
    for name, run in (
        ("cnnsearch", lambda c: run_cnnsearch(config, dataset, c)),
        ("kt-hyperband", lambda c: run_kerastuner("hyperband", config, split, c)),
        ("kt-random", lambda c: run_kerastuner("random", config, split, c)),
    ):
        clocks[name] = clock = Clock(args.budget, args.target)
        run(clock)
        print(f"{name}: {clock.trials} trials, best {clock.best:.4f}, target at {clock.reached_at}")
        if not clock.trials:
            raise SystemExit(f"{name} finished no trial in {args.budget:g} s; raise --budget")

    ours, hb, rnd = clocks["cnnsearch"], clocks["kt-hyperband"], clocks["kt-random"]
    reach = lambda c: f"{c.reached_at:.0f} s" if c.reached_at is not None else "never"  # noqa: E731
    time_ratio = (
        ours.reached_at / rnd.reached_at if ours.reached_at is not None and rnd.reached_at else None
    )
    short = []
    if ours.best < hb.best:
        short.append(f"best {ours.best:.4f} is below KT Hyperband's {hb.best:.4f}")
    if ours.reached_at is None:
        short.append(f"cnnsearch never reached {args.target}")
    elif time_ratio is not None and time_ratio > 0.5:
        short.append(f"cnnsearch took {time_ratio:.2f}× KT RandomSearch's time to the target")
    append_row(
        "3 vs KerasTuner, same space, data and budget",
        f"{args.dataset} {args.train_size} images ({args.val_fraction:g} for validation), "
        f"{args.budget:.0f} s each: trials cnnsearch {ours.trials}, KT Hyperband {hb.trials}, "
        f"KT RandomSearch {rnd.trials}; best val accuracy cnnsearch {ours.best:.4f}, "
        f"KT Hyperband {hb.best:.4f}, KT RandomSearch {rnd.best:.4f}; "
        f"time to {args.target}: cnnsearch {reach(ours)}, KT RandomSearch {reach(rnd)}"
        + (f" (ratio {time_ratio:.2f})" if time_ratio is not None else ""),
        "best ≥ KT Hyperband; time to target ≤ 0.5× KT RandomSearch",
        not short,
        "; ".join(short),
    )


if __name__ == "__main__":
    main()
