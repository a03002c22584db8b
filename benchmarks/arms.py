"""The arms that benchmarks 6, 12 and 14 run side by side: cnnsearch as a user runs it, and the
tools a user would pick instead, each in its own process, on the same data split and wall-clock
budget or trial count.

Every arm is stopped at the budget between two batches, or before its trial after `--trials`.
Its result is the best validation accuracy any of its models reached, the test accuracy of that
model at that epoch (the test set is scored while the arm's clock is paused), and its curve: per
trial, the seconds at its end and its best validation accuracy. The searching tools search
cnnsearch's default searched space through their own APIs and build models with cnnsearch's
builder: the very same models. With several lanes, that many arms run at a time, each pinned to
one core (`taskset`) with one TensorFlow thread where the machine has a core for each lane, so
that every arm gets the same share of the machine.

    python -m benchmarks.arms --arm NAME --seed S [--budget SECONDS] [--trials N] [--epochs E]
                              [--train-size N] [--val-fraction F] [--dataset NAME]

runs one arm and prints its result as a JSON line (the scripts do this for you).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from search.vocabulary import CONTINUES_ATTR, STOPPED_BY_ATTR, TRAIN_SECONDS_ATTR

ROOT = Path(__file__).resolve().parents[1]
EPOCHS = 10  # a trial's epochs in every searching arm, as cnnsearch's default --epochs
LOGS = Path(tempfile.gettempdir())
# cnnsearch arms: `optimize` options besides the data, budget and seed
CNNSEARCH_ARMS = {"cnnsearch": (), "random": ("--sampler", "random", "--sampler-only")}
# the package each other tool's arm imports
REQUIRES = {
    "autokeras": "autokeras",
    "kt-bayes": "keras_tuner",
    "kt-hyperband": "keras_tuner",
    "kt-random": "keras_tuner",
    "optuna": "optuna_integration",
}
# what an arm's process is given of the benchmark's options, where the benchmark has them
FORWARDED = ("budget", "trials", "epochs", "train_size", "val_fraction", "dataset")


def main() -> None:
    parser = argparse.ArgumentParser(description="Run one benchmark arm; print its JSON result.")
    parser.add_argument("--arm", required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--budget", type=float, default=0, help="seconds; 0: no time limit")
    parser.add_argument("--trials", type=int, default=0, help="0: no trial limit")
    parser.add_argument("--epochs", type=int, help="a trial's epochs; default: each tool's")
    parser.add_argument("--train-size", type=int, default=0, help="0: every training image")
    parser.add_argument("--val-fraction", type=float, default=0.1)
    parser.add_argument("--dataset", default="fashion_mnist")
    args = parser.parse_args()
    print("RESULT " + json.dumps({"seed": args.seed, **run_arm(args)}), flush=True)


def mean_std(values: list[float], form: str = ".4f") -> str:
    if not values:
        return "-"
    spread = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):{form}} ± {spread:{form}}"


def missing_package(arm: str) -> str | None:
    """The package an arm needs that is not installed here, if any."""
    package = REQUIRES.get(arm)
    if package is None or package in sys.modules:
        # find_spec raises on a module already imported whose __spec__ is None (optuna_integration
        # is imported lazily that way), and an imported package is installed anyway.
        return None
    return package if importlib.util.find_spec(package) is None else None


def run_all(runs: list[tuple[str, int]], args: argparse.Namespace) -> dict[str, list[dict]]:
    """Each (arm, seed) in its own process, `args.lanes` at a time; results by arm."""
    results: dict[str, list[dict]] = {}
    pending = list(runs)
    lanes: dict[int, tuple[subprocess.Popen, str, int]] = {}
    while pending or lanes:
        for lane in range(args.lanes):
            if lane not in lanes and pending:
                arm, seed = pending.pop(0)
                lanes[lane] = (start_arm(arm, seed, lane, args), arm, seed)
        for lane, (process, arm, seed) in list(lanes.items()):
            if process.poll() is None:
                continue
            del lanes[lane]
            result = read_result(process, arm, seed)
            results.setdefault(arm, []).append(result)
            print(f"{arm} seed {seed}: {result}", flush=True)
        time.sleep(1)
    return results


def start_arm(arm: str, seed: int, lane: int, args: argparse.Namespace) -> subprocess.Popen:
    command = [sys.executable, "-m", "benchmarks.arms", "--arm", arm, "--seed", str(seed)]
    for name in FORWARDED:
        if getattr(args, name, None) is not None:
            command += ["--" + name.replace("_", "-"), str(getattr(args, name))]
    # lanes share a GPU: no process takes its memory up front (JAX would take 75%)
    env = dict(
        os.environ,
        TF_CPP_MIN_LOG_LEVEL="3",
        TF_FORCE_GPU_ALLOW_GROWTH="true",
        XLA_PYTHON_CLIENT_PREALLOCATE="false",
    )
    core = lane_core(lane, args.lanes)
    if core is not None:
        command = ["taskset", "-c", str(core), *command]
        env.update(TF_NUM_INTRAOP_THREADS="1", TF_NUM_INTEROP_THREADS="1")
    log = open(log_path(arm, seed), "w")  # noqa: SIM115
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=log, text=True
    )


def lane_core(lane: int, lanes: int) -> int | None:
    """The core a lane's arm is pinned to: none with one lane, or more lanes than cores."""
    cores = sorted(os.sched_getaffinity(0))
    return cores[lane] if 1 < lanes <= len(cores) else None


def read_result(process: subprocess.Popen, arm: str, seed: int) -> dict:
    for line in process.stdout.read().splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    return {"seed": seed, "error": f"exit {process.returncode}; see {log_path(arm, seed)}"}


def log_path(arm: str, seed: int) -> Path:
    """An arm's log, apart from those of other benchmarks running beside this one."""
    return LOGS / f"benchmark-{arm}-{seed}-{os.getpid()}.log"


def run_arm(args: argparse.Namespace) -> dict:
    if args.arm in CNNSEARCH_ARMS:
        return run_cnnsearch(args)
    import keras

    from search.data import load, split_validation

    dataset = load(args.dataset)
    split = split_validation(dataset, args.val_fraction, args.seed, args.train_size or None)
    keras.utils.set_random_seed(args.seed)
    tracker = Tracker(args.budget, dataset.x_test, dataset.y_test, args.trials)
    runner = {
        "autokeras": run_autokeras,
        "kt-bayes": run_kerastuner,
        "kt-hyperband": run_kerastuner,
        "kt-random": run_kerastuner,
        "optuna": run_optuna,
        "keras-cnn": run_keras_cnn,
        "labs-main": run_labs_main,
    }[args.arm]
    with contextlib.suppress(OutOfTime):
        runner(args, split, dataset, tracker)
    return tracker.result()


def run_cnnsearch(args: argparse.Namespace) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        common = ["--storage", f"sqlite:///{tmp}/bench.db", "--artifacts", f"{tmp}/artifacts"]
        options = cnnsearch_options(args)
        cli, study = [sys.executable, "cli.py"], f"{args.dataset}-convnet"
        started = time.time()
        subprocess.run(
            [*cli, "optimize", args.dataset, *shlex.split(options), *common, "-q"],
            cwd=ROOT,
            check=True,
            stdout=sys.stderr,
        )
        searched = time.time() - started
        best = json.loads(_output([*cli, "best", study, "--json", *common[:2]]))
        test = json.loads(_output([*cli, "evaluate", study, "--json", *common]))
        studies = json.loads(_output([*cli, "studies", "--json", "--storage", common[1]]))
        costs = cost_overruns(common[1], study, args.budget) if args.budget else {}
        curve, proposals = trial_curve(common[1], study)
    return {
        "val": max(row["values"]["accuracy"] for row in best),
        "test": test["accuracy"],
        "trials": sum(studies[0]["states"].values()),
        "states": studies[0]["states"],
        "seconds": round(searched),
        "options": options,
        "curve": curve,
        "proposals": proposals,
        **costs,
    }


def cnnsearch_options(args: argparse.Namespace) -> str:
    """`optimize`'s options for a cnnsearch arm: only what the benchmark fixes, and the arm's."""
    options = [f"--train-size {args.train_size}"] if args.train_size else []
    options.append(f"--val-fraction {args.val_fraction:g}")
    options += [f"--timeout {args.budget:g}"] if args.budget else []
    options += [f"--trials {args.trials}"] if args.trials else []
    options += [f"--epochs {args.epochs}"] if args.epochs else []
    return " ".join([*options, f"--seed {args.seed}", *CNNSEARCH_ARMS[args.arm]])


def trial_curve(storage_url: str, study_name: str) -> tuple[list[list], list[str | None]]:
    """Per trial that counts toward the budget, in the order they ended: seconds from the first
    trial's start to its end and its value (None unless completed: `best` and `evaluate` judge
    completed trials only), and where its configuration came from."""
    import optuna
    from optuna.trial import TrialState

    from search.vocabulary import PROPOSAL_ATTR, counts

    study = optuna.load_study(study_name=study_name, storage=storage_url)
    trials = sorted(
        (t for t in study.get_trials(deepcopy=False) if counts(t)),
        key=lambda t: t.datetime_complete,
    )
    if not trials:
        return [], []
    started = min(t.datetime_start for t in trials)
    curve = [
        [
            round((t.datetime_complete - started).total_seconds(), 1),
            t.value if t.state == TrialState.COMPLETE else None,
        ]
        for t in trials
    ]
    return curve, [t.user_attrs.get(PROPOSAL_ATTR) for t in trials]


def cost_overruns(storage_url: str, study_name: str, budget: float) -> dict:
    """How a timed study spent its time: trials the cost guard stopped, and trials that trained
    longer than a trial's share of the search time (`search.run.cost.SHARE` of it, at the
    start) on a configuration that ended below the study's median accuracy."""
    import optuna
    from optuna.trial import TrialState

    from search.run.cost import SHARE
    from search.run.deadline import RESERVE

    study = optuna.load_study(study_name=study_name, storage=storage_url)
    trials = study.get_trials(states=(TrialState.COMPLETE, TrialState.PRUNED))
    searched = [t for t in trials if CONTINUES_ATTR not in t.user_attrs]
    accuracy = {t.number: max(t.intermediate_values.values(), default=0.0) for t in searched}
    median = statistics.median(accuracy.values()) if accuracy else 0.0
    share = SHARE * (1 - RESERVE) * budget
    return {
        "cost_stopped": sum(t.user_attrs.get(STOPPED_BY_ATTR) == "cost" for t in searched),
        "over_share_below_median": sum(
            t.user_attrs.get(TRAIN_SECONDS_ATTR, 0) > share and accuracy[t.number] < median
            for t in searched
        ),
        "longest_trial_seconds": max(
            (t.user_attrs.get(TRAIN_SECONDS_ATTR, 0) for t in searched), default=0
        ),
        "share_seconds": round(share),
    }


def _output(command: list[str]) -> str:
    return subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True).stdout


class OutOfTime(BaseException):
    """Ends an arm at its budget, between two batches, or before the trial after its last
    (KerasTuner swallows ordinary errors)."""


class Tracker:
    """The arm's clock (paused while the test set is scored), its best validation accuracy,
    the test accuracy of the model at the epoch that reached it, and per trial (each `fit`) the
    seconds at its last epoch and its best validation accuracy."""

    def __init__(self, budget: float, x_test, y_test, max_trials: int = 0) -> None:
        self.budget, self.x_test, self.y_test = budget or float("inf"), x_test, y_test
        self.max_trials = max_trials or float("inf")
        self.started, self.paused = time.perf_counter(), 0.0
        self.best_val, self.test, self.trials, self.best_at = 0.0, None, 0, None
        self.curve: list[list] = []

    def elapsed(self) -> float:
        return time.perf_counter() - self.started - self.paused

    def callback(self):
        import keras

        tracker = self

        class Budget(keras.callbacks.Callback):
            def __deepcopy__(self, memo: dict):
                return self  # KerasTuner deep-copies callbacks per trial; keep this one

            def on_train_begin(self, logs=None) -> None:
                tracker.trial_began()

            def on_train_batch_end(self, batch, logs=None) -> None:
                if tracker.elapsed() >= tracker.budget:
                    raise OutOfTime

            def on_epoch_end(self, epoch, logs=None) -> None:
                tracker.epoch_ended(self.model, (logs or {}).get("val_accuracy", 0.0))

        return Budget()

    def trial_began(self) -> None:
        if self.trials >= self.max_trials:
            raise OutOfTime
        self.trials += 1
        self.curve.append([round(self.elapsed(), 1), None])

    def epoch_ended(self, model, val_accuracy: float) -> None:
        import numpy as np

        if self.elapsed() < self.budget:
            trial_best = max(float(val_accuracy), self.curve[-1][1] or 0.0)
            self.curve[-1] = [round(self.elapsed(), 1), trial_best]
        if self.elapsed() >= self.budget or val_accuracy <= self.best_val:
            return
        self.best_val, self.best_at = float(val_accuracy), round(self.elapsed())
        paused = time.perf_counter()
        # predictions, not model.evaluate: AutoKeras' models take one-hot labels
        predicted = np.argmax(model.predict(self.x_test, verbose=0, batch_size=512), axis=-1)
        self.test = float(np.mean(predicted == self.y_test))
        self.paused += time.perf_counter() - paused

    def result(self) -> dict:
        return {
            "val": self.best_val,
            "test": self.test,
            "trials": self.trials,
            "best_at": self.best_at,
            "curve": self.curve,
        }


def _default_bounds(dataset: str):
    """The default search's bounds on `dataset`: never flips where a flip changes the labels."""
    from search.config import SearchConfig

    return SearchConfig(dataset).bounds


def build_spec(spec, dataset, split, epochs: int):
    """cnnsearch's builder, as every tool's hypermodel here uses it: the very same models,
    compiled as a trial's (a schedule sized to `epochs` over the split's training images)."""
    from search import training

    return training.build(spec, dataset.input_shape, dataset.n_classes, len(split.y_train), epochs)


def run_kerastuner(args, split, dataset, tracker: Tracker) -> None:
    import keras
    import keras_tuner as kt
    from optuna.trial import FixedTrial

    from spaces import convnet

    bounds = _default_bounds(args.dataset)

    class HyperModel(kt.HyperModel):
        def build(self, hp):
            spec = convnet.suggest_spec(FixedTrial(ask_keras_tuner(hp, bounds)), bounds)
            self.batch_size = spec.train.batch_size
            return build_spec(spec, dataset, split, args.epochs or EPOCHS)

        def fit(self, hp, model, *fit_args, **kwargs):
            return model.fit(*fit_args, batch_size=self.batch_size, **kwargs)

    epochs, max_trials = args.epochs or EPOCHS, args.trials or 10**4
    with tempfile.TemporaryDirectory() as tmp:
        common = dict(objective="val_accuracy", directory=tmp, seed=args.seed, overwrite=True)
        if args.arm == "kt-hyperband":  # no trial limit of its own: the tracker's ends it
            tuner = kt.Hyperband(HyperModel(), max_epochs=epochs, factor=3, **common)
            callbacks = [tracker.callback()]
        else:
            tuner_class = kt.BayesianOptimization if args.arm == "kt-bayes" else kt.RandomSearch
            tuner = tuner_class(HyperModel(), max_trials=max_trials, **common)
            stop_early = keras.callbacks.EarlyStopping("val_accuracy", patience=3)
            callbacks = [stop_early, tracker.callback()]
        tuner.search(
            split.x_train,
            split.y_train,
            validation_data=(split.x_val, split.y_val),
            epochs=epochs,
            verbose=0,
            callbacks=callbacks,
        )


def ask_keras_tuner(hp, bounds) -> dict:
    """The convnet space's values asked of KerasTuner's `hp`, one call per dimension, as its
    docs recommend (dense_units only with dense layers), inside `bounds`."""
    from spaces import convnet

    params = {}
    for dim in convnet.DIMENSIONS:
        dim = bounds[dim]
        if dim.name == "dense_units" and not params["n_dense"]:
            continue
        sampling = "log" if dim.log else "linear"
        if dim.choices is not None:
            params[dim.name] = hp.Choice(dim.name, list(dim.choices))
        elif dim.integer:
            params[dim.name] = hp.Int(dim.name, int(dim.low), int(dim.high), sampling=sampling)
        else:
            params[dim.name] = hp.Float(dim.name, dim.low, dim.high, sampling=sampling)
    return params


def run_autokeras(args, split, dataset, tracker: Tracker) -> None:
    import keras

    # AutoKeras 3.0 passes a NumPy integer as a Dense layer's units, which Keras 3.15 refuses.
    dense_init = keras.layers.Dense.__init__

    def init(self, units, *a, **k):
        dense_init(self, int(units), *a, **k)

    keras.layers.Dense.__init__ = init
    import autokeras as ak

    # its defaults (100 trials, up to 1000 epochs each with early stopping) unless the
    # benchmark caps them; the tracker ends the final refit after the last trial
    limits = {"max_trials": args.trials} if args.trials else {}
    epochs = {"epochs": args.epochs} if args.epochs else {}
    with tempfile.TemporaryDirectory() as tmp:
        classifier = ak.ImageClassifier(overwrite=True, seed=args.seed, directory=tmp, **limits)
        classifier.fit(
            split.x_train,
            split.y_train,
            validation_data=(split.x_val, split.y_val),
            callbacks=[tracker.callback()],
            verbose=0,
            **epochs,
        )


def run_optuna(args, split, dataset, tracker: Tracker) -> None:
    import optuna
    from optuna_integration.keras import KerasPruningCallback

    from spaces import convnet

    bounds = _default_bounds(args.dataset)

    def objective(trial: optuna.Trial) -> float:
        import keras

        keras.backend.clear_session()
        spec = convnet.suggest_spec(trial, bounds)
        model = build_spec(spec, dataset, split, args.epochs or EPOCHS)
        history = model.fit(
            split.x_train,
            split.y_train,
            validation_data=(split.x_val, split.y_val),
            epochs=args.epochs or EPOCHS,
            batch_size=spec.train.batch_size,
            verbose=0,
            # the tracker first, so that it sees the epoch at which a trial is pruned
            callbacks=[tracker.callback(), KerasPruningCallback(trial, "val_accuracy")],
        )
        return max(history.history["val_accuracy"])

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=args.seed),
        pruner=optuna.pruners.HyperbandPruner(),
    )
    study.optimize(objective, n_trials=args.trials or 10**4)


def run_keras_cnn(args, split, dataset, tracker: Tracker) -> None:
    """The classic Keras MNIST CNN (AutoKeras' first trial) trained alone, with early stopping
    (AutoKeras' patience of 10 epochs)."""
    import keras
    from keras import layers

    model = keras.Sequential(
        [
            keras.Input(dataset.input_shape),
            layers.Rescaling(1 / 255),
            layers.Conv2D(32, 3, activation="relu"),
            layers.Conv2D(64, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Dropout(0.25),
            layers.Flatten(),
            layers.Dense(128, activation="relu"),
            layers.Dropout(0.5),
            layers.Dense(dataset.n_classes, activation="softmax"),
        ]
    )
    train_alone(model, 128, split, tracker)


def run_labs_main(args, split, dataset, tracker: Tracker) -> None:
    """The fashion lab's main model (Conv32-Pool-Conv32-Pool-Dense128), trained alone."""
    from spaces.build import build_model
    from spaces.models import FASHION_MAIN

    train_alone(
        build_model(FASHION_MAIN, dataset.input_shape, dataset.n_classes), 256, split, tracker
    )


def train_alone(model, batch_size: int, split, tracker: Tracker) -> None:
    """One model, Adam at 1e-3, until the budget or 10 epochs without a better accuracy."""
    import keras

    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.fit(
        split.x_train,
        split.y_train,
        validation_data=(split.x_val, split.y_val),
        epochs=10**4,
        batch_size=batch_size,
        verbose=0,
        callbacks=[
            keras.callbacks.EarlyStopping("val_accuracy", patience=10, restore_best_weights=True),
            tracker.callback(),
        ],
    )


if __name__ == "__main__":
    main()
