"""The arms that benchmarks 6, 12 and 14 run side by side: cnnsearch as a user runs it, and the
tools a user would pick instead, each in its own process, on the same data split and wall-clock
budget or trial count.

Every arm is stopped at the budget between two batches, or before its trial after `--trials`.
Its result is the best validation accuracy any of its models reached, the test accuracy of that
model at that epoch (the test set is scored while the arm's clock is paused), and two curves: per
trial, the seconds at its end and its best validation accuracy (`curve`), and per epoch, the
seconds at its end and its validation accuracy (`epoch_curve`). The searching tools search
cnnsearch's default searched space through their own APIs and build models with cnnsearch's
builder: the very same models. With several lanes, that many arms run at a time, each pinned to
one core (`taskset`) with one TensorFlow thread where the machine has a core for each lane, so
that every arm gets the same share of the machine.

The arm `4-workers` is cnnsearch's default arm run by four processes on one study, as a user's
machines share one: `optimize`, and once it has stored its first trial of the sitting (several
processes must not create one database at once), three `cnnsearch worker STUDY`; they share the
study's trial budget, and the arm's core where its lane is pinned.

The arm `best-start` is one of cnnsearch's starting points trained alone, as a user trains one
model with cnnsearch: `optimize --sampler-only --trials 1 --set dim=value …` for each of the
start's values, so the start trains its epochs and the timed run's final phase trains it on
until the deadline (`search.run.continuation`), with cnnsearch's training routine throughout.
Which start: `--start NAME`, or, in a benchmark's `run_all`, the start that reached the best
validation accuracy in the cnnsearch runs ordered before the arm's first run.

    python -m benchmarks.arms --arm NAME --seed S [--budget SECONDS] [--trials N] [--epochs E]
                              [--train-size N] [--val-fraction F] [--dataset NAME] [--start NAME]
                              [--keep DIR] [--sitting MINUTES]

runs one arm and prints its result as a JSON line (the scripts do this for you).

With `--keep DIR` an arm keeps its study in DIR/ARM-SEED instead of a temporary folder, and a
rerun with the same options resumes it, so a trial budget too long for one sitting is run in
several: a cnnsearch arm's `optimize` trains only the trials still missing; plain Optuna's study
is an SQLite file there, KerasTuner's and AutoKeras' projects reload their trials, and the
arm's record (`benchmarks.tracker`) goes on from the last trial it finished. `--sitting MINUTES`
ends a sitting: `optimize` is stopped as a scheduler stops it, another tool's arm between two
batches, and the arm reports the trials finished so far. The time between two sittings is left
out of the seconds (a cnnsearch study records it as `PAUSES_ATTR`).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import shlex
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from benchmarks.tracker import OutOfTime, Tracker
from search.vocabulary import (
    CONTINUES_ATTR,
    PROPOSAL_ATTR,
    STOPPED_BY_ATTR,
    TRAIN_SECONDS_ATTR,
)
from storage.sqlite_file import connect_read_only

ROOT = Path(__file__).resolve().parents[1]
EPOCHS = 10  # a trial's epochs in every searching arm, as cnnsearch's default --epochs
LOGS = Path(tempfile.gettempdir())
BEST_START = "best-start"  # one of cnnsearch's starts trained alone (see the docstring)
START_PROPOSAL = "start: "  # a start's trials' PROPOSAL_ATTR: "start: NAME"
TESTED = "tested.json"  # beside a cnnsearch arm's study: its best trial's test accuracy
# cnnsearch arms: `optimize` options besides the data, budget and seed (best-start adds its
# start's --set values)
CNNSEARCH_ARMS = {
    "cnnsearch": (),
    "random": ("--sampler", "random", "--sampler-only"),
    BEST_START: ("--sampler-only",),
    "4-workers": (),
}
# worker processes on one study, where an arm runs more than `optimize` alone: the others join
# with `cnnsearch worker STUDY`, as a user's other machines do
WORKERS = {"4-workers": 4}
# the package each other tool's arm imports
REQUIRES = {
    "autokeras": "autokeras",
    "kt-bayes": "keras_tuner",
    "kt-hyperband": "keras_tuner",
    "kt-random": "keras_tuner",
    "optuna": "optuna_integration",
}
# what an arm's process is given of the benchmark's options, where the benchmark has them
FORWARDED = (
    *("budget", "trials", "epochs", "train_size", "val_fraction", "dataset", "start"),
    *("keep", "sitting"),
)
# A kept study's pauses between sittings: [[Unix time the sitting resumed, seconds paused], ...].
# The benchmark's own attribute, not cnnsearch's (search.vocabulary).
PAUSES_ATTR = "benchmark_pauses"


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
    parser.add_argument("--start", help=f"the start the {BEST_START} arm trains (its name)")
    parser.add_argument("--keep", type=Path, help="keep the arm's study there; resume it")
    parser.add_argument("--sitting", type=float, help="minutes the arm runs, at most")
    args = parser.parse_args()
    if args.arm == BEST_START and args.start not in start_names():
        parser.error(f"the {BEST_START} arm needs --start NAME, one of {', '.join(start_names())}")
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
    """Each (arm, seed) in its own process, `args.lanes` at a time, in the order given; results
    by arm. A best-start run without `args.start` waits for the cnnsearch runs ordered before it
    and those running (later runs go ahead meanwhile); the first such run sets `args.start` to
    their best start, which the arm's other seeds train too."""
    results: dict[str, list[dict]] = {}
    pending = list(runs)
    lanes: dict[int, tuple[subprocess.Popen, str, int]] = {}
    while pending or lanes:
        for lane in range(args.lanes):
            running = [arm for _, arm, _ in lanes.values()]
            ready = next((r for r in pending if may_start(r, pending, running, args)), None)
            if lane in lanes or ready is None:
                continue
            pending.remove(ready)
            arm, seed = ready
            if arm == BEST_START and not getattr(args, "start", None):
                args.start = best_start(results.get("cnnsearch", []))
            if arm == BEST_START and not args.start:
                results.setdefault(arm, []).append({"seed": seed, "error": NO_START})
                print(f"{arm} seed {seed}: {NO_START}", flush=True)
                continue
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


NO_START = (
    f"no cnnsearch run ordered before {BEST_START} trained a start: pass --start NAME, or order "
    f"cnnsearch's runs first (--runs cnnsearch:0,cnnsearch:1,cnnsearch:2,{BEST_START}:0,…)"
)


def start_names() -> list[str]:
    from spaces import get_space

    return [start.name for start in get_space("convnet").STARTS]


def order_error(runs: list[tuple[str, int]], start: str | None) -> str | None:
    """Why `runs` cannot pick the best-start arm's start, if they cannot: an unknown --start, or
    no --start and no cnnsearch run ordered before the arm's first run."""
    arms = [arm for arm, _ in runs]
    if BEST_START not in arms:
        return None
    if start:
        names = start_names()
        return None if start in names else f"--start {start}: choose one of {', '.join(names)}"
    return None if "cnnsearch" in arms[: arms.index(BEST_START)] else NO_START


def may_start(
    run: tuple[str, int],
    pending: list[tuple[str, int]],
    running: list[str],
    args: argparse.Namespace,
) -> bool:
    """Whether `run` may start now: any run but a best-start one that still has to pick its
    start, which waits for the cnnsearch runs ordered before it and those running."""
    if run[0] != BEST_START or getattr(args, "start", None):
        return True
    ahead = [arm for arm, _ in pending[: pending.index(run)]]
    return "cnnsearch" not in ahead and "cnnsearch" not in running


def best_start(cnnsearch_results: list[dict]) -> str | None:
    """The start whose trial reached the best validation accuracy in these cnnsearch results
    (their `curve` and `proposals`); None when none completed a start's trial."""
    scored = [
        (value, proposal[len(START_PROPOSAL) :])
        for result in cnnsearch_results
        for (_, value), proposal in zip(
            result.get("curve", []), result.get("proposals", []), strict=True
        )
        if value is not None and proposal and proposal.startswith(START_PROPOSAL)
    ]
    return max(scored)[1] if scored else None


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
    folder = kept_folder(args)
    tracker = Tracker(
        args.budget,
        dataset.x_test,
        dataset.y_test,
        args.trials,
        state=folder / "tracker.json" if folder else None,
        sitting=sitting_seconds(args),
    )
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
    tracker.save()
    return tracker.result()


def run_cnnsearch(args: argparse.Namespace) -> dict:
    start = {"start": args.start} if args.arm == BEST_START else {}
    sets = start_sets(args.start, args.dataset, training_images(args)) if start else []
    with work_folder(args) as tmp:
        database = Path(tmp) / "bench.db"
        common = ["--storage", f"sqlite:///{database}", "--artifacts", f"{tmp}/artifacts"]
        options = cnnsearch_options(args, sets)
        cli, study = [sys.executable, "cli.py"], f"{args.dataset}-convnet"
        record_pause(database, study)
        started = time.time()
        optimize = [*cli, "optimize", args.dataset, *shlex.split(options), *common, "-q"]
        workers = [[*cli, "worker", study, *common, "-q"]] * (WORKERS.get(args.arm, 1) - 1)
        stored = stored_trials(database, study)  # joining workers wait for one trial more
        joinable = lambda: stored_trials(database, study) > stored  # noqa: E731
        run_sitting([optimize, *workers], sitting_seconds(args), joinable)
        searched = time.time() - started
        best = json.loads(_output([*cli, "best", study, "--json", *common[:2]]))
        evaluate = [*cli, "evaluate", study, "--json", *common]
        test = tested(evaluate, best[0]["number"], Path(tmp) / TESTED)
        studies = json.loads(_output([*cli, "studies", "--json", "--storage", common[1]]))
        costs = cost_overruns(common[1], study, args.budget) if args.budget else {}
        curve, proposals = trial_curve(common[1], study)
        epochs, continued = epoch_curve(common[1], study)
    return {
        **start,
        "val": max(row["values"]["accuracy"] for row in best),
        "test": test,
        "trials": sum(studies[0]["states"].values()),
        "states": studies[0]["states"],
        "continued": continued,
        "seconds": round(searched),
        "options": options,
        "curve": curve,
        "proposals": proposals,
        "epoch_curve": epochs,
        **costs,
    }


def tested(evaluate: list[str], best_trial: int, remembered: Path) -> float:
    """The test accuracy `evaluate` gives the study's best trial. It is remembered beside the
    study, so a report of a kept study whose best has not changed evaluates nothing again (an
    evaluation loads the data and the model: minutes on a busy CPU)."""
    if remembered.exists():
        earlier = json.loads(remembered.read_text())
        if earlier["trial"] == best_trial:
            return earlier["accuracy"]
    accuracy = json.loads(_output(evaluate))["accuracy"]
    remembered.write_text(json.dumps({"trial": best_trial, "accuracy": accuracy}))
    return accuracy


def sitting_seconds(args: argparse.Namespace) -> float | None:
    """How long an arm's sitting lasts (`--sitting` minutes; 0: no training, only the report of
    what the kept study holds), or None without one."""
    sitting = getattr(args, "sitting", None)
    return None if sitting is None else 60 * sitting


def run_sitting(
    commands: list[list[str]], seconds: float | None, joinable: Callable[[], bool] = lambda: True
) -> None:
    """Run the first command, and the others once `joinable()` (they join the study it opened:
    several processes must not create one database at once, and a resumed study's budget is
    the one the first stores), until all end, or for `seconds` at most: then stop them together
    as a scheduler would (SIGTERM: `optimize` and `worker` record their running trial as failed
    and exit), and go on with what the study holds. One that fails stops the others and fails
    the sitting. Ctrl-C reaches every process: each is given time to record its trial."""
    if seconds == 0:
        return
    deadline = time.monotonic() + (float("inf") if seconds is None else seconds)
    first, *joining = commands
    processes = [subprocess.Popen(first, cwd=ROOT, stdout=sys.stderr)]
    try:
        while not any(p.poll() for p in processes):  # a non-zero exit ends the sitting
            if joining and processes[0].poll() is None and joinable():
                for command in joining:
                    processes.append(subprocess.Popen(command, cwd=ROOT, stdout=sys.stderr))
                joining = []
            if all(p.poll() is not None for p in processes):
                break
            if time.monotonic() >= deadline:
                print(f"the sitting ended after {seconds:g} s: stopping it", file=sys.stderr)
                break
            time.sleep(0.5)
    except KeyboardInterrupt:
        wait_all(processes, STOP_GRACE)
        raise
    finally:
        failed = [p for p in processes if p.poll()]  # before stop_all's SIGTERMs
        stop_all(processes)
    if joining:
        print("the first command ended before the others could join it", file=sys.stderr)
    if failed:
        raise subprocess.CalledProcessError(failed[0].returncode, failed[0].args)


STOP_GRACE = 120  # seconds a process stopped by Ctrl-C is given to record its trial


def wait_all(processes: list[subprocess.Popen], seconds: float) -> None:
    ends = time.monotonic() + seconds
    for process in processes:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=max(0.0, ends - time.monotonic()))


def stop_all(processes: list[subprocess.Popen]) -> None:
    """SIGTERM to every process still running, all at once, then wait for each."""
    running = [p for p in processes if p.poll() is None]
    for process in running:
        process.terminate()
    for process in running:
        process.wait()


def stored_trials(database: Path, study_name: str) -> int:
    """How many trials the SQLite file holds for the study (0 before its schema exists)."""
    if not database.exists():
        return 0
    try:
        with contextlib.closing(connect_read_only(database, lock_seconds=1)) as db:
            (count,) = db.execute(
                "SELECT COUNT(*) FROM trials JOIN studies USING (study_id) WHERE study_name = ?",
                (study_name,),
            ).fetchone()
    except sqlite3.Error:  # the schema is not there yet, or is being written
        return 0
    return count


def kept_folder(args: argparse.Namespace) -> Path | None:
    """Where an arm keeps what a later sitting resumes: ARM-SEED under `--keep`, if given."""
    if getattr(args, "keep", None) is None:
        return None
    folder = args.keep / f"{args.arm}-{args.seed}"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@contextlib.contextmanager
def work_folder(args: argparse.Namespace) -> Iterator[str]:
    """Where an arm keeps its study and models: its kept folder, which a rerun resumes, or a
    temporary folder."""
    folder = kept_folder(args)
    if folder is None:
        with tempfile.TemporaryDirectory() as tmp:
            yield tmp
        return
    yield str(folder)


def record_pause(database: Path, study_name: str) -> None:
    """When a kept study is resumed, add the time since its last trial ended to its pauses."""
    import optuna

    if not database.exists():
        return
    try:
        study = optuna.load_study(study_name=study_name, storage=f"sqlite:///{database}")
    except KeyError:  # created, but its study never was: nothing to resume
        return
    ends = [t.datetime_complete for t in study.get_trials(deepcopy=False) if t.datetime_complete]
    if ends:
        now = time.time()
        pauses = study.user_attrs.get(PAUSES_ATTR, [])
        study.set_user_attr(PAUSES_ATTR, [*pauses, [now, round(now - max(ends).timestamp(), 1)]])


def cnnsearch_options(args: argparse.Namespace, sets: Sequence[str] = ()) -> str:
    """`optimize`'s options for a cnnsearch arm: only what the benchmark fixes, and the arm's.
    The best-start arm trains one trial (and its continuation), `sets` its start's values."""
    options = [f"--train-size {args.train_size}"] if args.train_size else []
    options.append(f"--val-fraction {args.val_fraction:g}")
    options += [f"--timeout {args.budget:g}"] if args.budget else []
    trials = 1 if args.arm == BEST_START else args.trials
    options += [f"--trials {trials}"] if trials else []
    options += [f"--epochs {args.epochs}"] if args.epochs else []
    options += [f"--seed {args.seed}", *CNNSEARCH_ARMS[args.arm]]
    return " ".join([*options, *(f"--set {shlex.quote(s)}" for s in sets)])


def start_sets(name: str, dataset: str, n_train: int) -> list[str]:
    """`dim=value` for every parameter that start `name` trains with on `dataset` (its default
    bounds) and `n_train` training images, as `optimize --set` takes them: the start's trial
    exactly, nothing left to the sampler but what the bounds fix."""
    from search.config import SearchConfig
    from spaces import get_space
    from spaces.starts import start_params

    space = get_space("convnet")
    by_name = {start.name: start for start in space.STARTS}
    if name not in by_name:
        raise ValueError(f"no start {name!r}; the starts are {', '.join(by_name)}")
    bounds = SearchConfig(dataset).bounds
    params = start_params(by_name[name], space.DIMENSIONS, bounds, n_train)
    return [f"{dim}={set_value(value)}" for dim, value in params.items()]


def set_value(value: int | float | str | bool) -> str:
    """A value as `--set` reads it back exactly: booleans as true/false, floats in full."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def training_images(args: argparse.Namespace) -> int:
    """The training images of the split every cnnsearch trial of these options trains on."""
    from search.config import SearchConfig
    from search.data import load

    config = SearchConfig(
        args.dataset,
        train_size=args.train_size or None,
        val_fraction=args.val_fraction,
        seed=args.seed,
    )
    return len(config.split(load(args.dataset)).y_train)


def trial_curve(storage_url: str, study_name: str) -> tuple[list[list], list[str | None]]:
    """Per trial that counts toward the budget, in the order they ended: seconds from the first
    trial's start to its end and its value (None unless completed: `best` and `evaluate` judge
    completed trials only), and where its configuration came from."""
    import optuna
    from optuna.trial import TrialState

    from search.vocabulary import counts

    study = optuna.load_study(study_name=study_name, storage=storage_url)
    trials = sorted(
        (t for t in study.get_trials(deepcopy=False) if counts(t)),
        key=lambda t: t.datetime_complete,
    )
    if not trials:
        return [], []
    started = min(t.datetime_start for t in trials).timestamp()
    pauses = study.user_attrs.get(PAUSES_ATTR, [])
    curve = [
        [
            round(working_seconds(started, t.datetime_complete.timestamp(), pauses), 1),
            t.value if t.state == TrialState.COMPLETE else None,
        ]
        for t in trials
    ]
    return curve, [t.user_attrs.get(PROPOSAL_ATTR) for t in trials]


def working_seconds(started: float, end: float, pauses: list[list[float]]) -> float:
    """Seconds from `started` to `end` (Unix times) without the pauses that resumed by `end`."""
    return end - started - sum(seconds for resumed, seconds in pauses if resumed <= end)


def epoch_curve(storage_url: str, study_name: str) -> tuple[list[list], int]:
    """Per epoch of every finished trial, continuations included: seconds from the first
    trial's start to the epoch's end and its validation accuracy; and how many trials trained
    another's model on. Epoch ends are not stored: a trial's epochs are spread evenly over it."""
    import optuna

    study = optuna.load_study(study_name=study_name, storage=storage_url)
    trials = [t for t in study.get_trials(deepcopy=False) if t.datetime_complete is not None]
    if not trials:
        return [], 0
    started = min(t.datetime_start for t in trials).timestamp()
    pauses = study.user_attrs.get(PAUSES_ATTR, [])
    points = []
    for t in trials:
        values = [t.intermediate_values[step] for step in sorted(t.intermediate_values)]
        begin, end = t.datetime_start.timestamp(), t.datetime_complete.timestamp()
        ends = [begin + (end - begin) * (i + 1) / len(values) for i in range(len(values))]
        points += [
            [round(working_seconds(started, at, pauses), 1), value]
            for at, value in zip(ends, values, strict=True)
        ]
    continued = sum(CONTINUES_ATTR in t.user_attrs for t in trials)
    return sorted(points), continued


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
    with work_folder(args) as tmp:
        # a kept tuner reloads its trials and retries the one a sitting ended in
        common = dict(
            objective="val_accuracy", directory=tmp, seed=args.seed, overwrite=args.keep is None
        )
        if args.arm == "kt-hyperband":  # no trial limit of its own: the tracker's ends it
            # One Hyperband iteration holds only a few trials (a single one at max_epochs=1, about
            # five at 4): iterations without end, so that the tracker's trial count ends the arm.
            tuner = kt.Hyperband(
                HyperModel(), max_epochs=epochs, factor=3, hyperband_iterations=10**6, **common
            )
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
    with work_folder(args) as tmp:
        classifier = ak.ImageClassifier(
            overwrite=args.keep is None, seed=args.seed, directory=tmp, **limits
        )
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
    folder = kept_folder(args)
    storage = f"sqlite:///{folder}/optuna.db" if folder else None
    study = optuna.create_study(
        direction="maximize",
        storage=storage,
        study_name="optuna",
        load_if_exists=True,
        pruner=optuna.pruners.HyperbandPruner(),
    )
    end_interrupted_trials(study)
    # a resumed study's sampler starts from another seed, or it would repeat its first proposals
    study.sampler = optuna.samplers.TPESampler(seed=args.seed + len(study.trials))
    study.optimize(objective, n_trials=args.trials or 10**4)


def end_interrupted_trials(study) -> None:
    """Record as failed the trial a kept study's last sitting ended in (the tracker ends a
    sitting with a BaseException, which Optuna leaves running), so that the sampler's constant
    liar does not count it as under way forever."""
    from optuna.trial import TrialState

    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        study.tell(trial.number, state=TrialState.FAIL)


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
