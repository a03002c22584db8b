"""Benchmark 14: the trial budget users run (`optimize cifar --trials 200`), on a proxy small
enough for a CPU: cnnsearch with its defaults against random search over the same space
(`--sampler random --sampler-only`), the best of cnnsearch's starting points alone (read off its
first trials), plain Optuna (TPE and the Hyperband pruner, as its Keras example writes it),
KerasTuner's BayesianOptimization and Hyperband, AutoKeras' ImageClassifier, and cnnsearch with
4 workers on its study (`optimize` and three `worker`s, on the arm's core where lanes are
pinned): all on the same data, epochs per trial and trial count, without a deadline.

    python -m benchmarks.many_trials [--trials 100] [--seeds 0,1,2] [--arms cnnsearch,random,…]
                                     [--lanes 2] [--train-size 7000] [--val-fraction 0.285714]
                                     [--epochs 4] [--dataset fashion_mnist]
                                     [--out benchmarks/many_trials.png] [--keep DIR]
                                     [--sitting MINUTES]

For each arm and seed: the best validation accuracy after a tenth, a quarter, half and all of
the trials, and against seconds, and the test accuracy of the final best. A plot of best-so-far
against trials and seconds goes to --out (its results as JSON beside it), a row to RESULTS.md.
Arms whose package is not installed are skipped with a line saying so. With more lanes than
cores (a GPU machine), the lanes run unpinned. How every arm is run: benchmarks/arms.py.

A hundred trials of four epochs take hours on a CPU. With `--keep DIR` every arm keeps its study
in DIR, and the same command run again (after Ctrl-C, or in another sitting) resumes them where
they stopped; the time between sittings is left out of the seconds. `--sitting MINUTES` ends a
sitting on its own: each arm's process stops after that long (an arm waiting for a lane gets its
own MINUTES once it starts), and the plot and row show the trials finished so far (the row gives
how many). Arms can be added to a kept run in a later sitting: `--arms` names those in the row.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
from pathlib import Path

from benchmarks.arms import mean_std, missing_package, run_all
from benchmarks.common import RESULTS, append_row, description

ARMS = ("cnnsearch", "random", "optuna", "kt-bayes", "kt-hyperband", "autokeras", "4-workers")
PARALLEL = "4-workers"  # cnnsearch's defaults with 4 workers on its study: a peer of 1 worker
STARTS = "starts"  # cnnsearch's starting points alone, read off the cnnsearch arm
FRACTIONS = (0.1, 0.25, 0.5, 1.0)  # of --trials: 10, 25, 50 and 100 trials
MARGIN = 0.005  # the search proper must add half a point over the best start
SEEDS = 3  # the goals are judged on the mean and std over this many seeds of every arm


def main() -> None:
    parser = argparse.ArgumentParser(description=description(__doc__))
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--arms", default=",".join(ARMS))
    parser.add_argument("--lanes", type=int, default=2, help="arm-seed runs at a time")
    parser.add_argument("--train-size", type=int, default=7000, help="training + validation")
    parser.add_argument("--val-fraction", type=float, default=2 / 7)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--dataset", default="fashion_mnist")
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("many_trials.png"))
    parser.add_argument("--keep", type=Path, help="keep the arms' studies there; resume")
    parser.add_argument(
        "--sitting", type=float, help="minutes each arm runs in this sitting, at most"
    )
    args = parser.parse_args()
    args.budget = None  # a trial budget, no deadline
    arms = runnable(args.arms.split(","))
    seeds = [int(s) for s in args.seeds.split(",")]
    results = run_all([(arm, seed) for seed in seeds for arm in arms], args)
    if "cnnsearch" in results:
        results[STARTS] = [starts_alone(r) for r in results["cnnsearch"]]
    args.out.with_suffix(".json").write_text(json.dumps(results, indent=1))
    plot(results, args.out)
    append_row(
        "14 many trials: vs random search and peers, same trial count",
        figures(results, args),
        f"cnnsearch's best after {quarter(args.trials)} trials ≥ random's after {args.trials}, "
        f"and after a quarter of random's seconds; after {args.trials} above every other tool's "
        f"arm, and above the best start by ≥ {MARGIN * 100:g} points and more than the seeds' "
        f"std; {PARALLEL} no more than one std below 1 worker",
        *verdict(results, args.trials),
    )


def runnable(arms: list[str]) -> list[str]:
    """The arms whose packages are installed; a line for each one skipped."""
    kept = []
    for arm in arms:
        package = missing_package(arm)
        if package:
            print(f"skipped {arm}: {package} is not installed", flush=True)
        else:
            kept.append(arm)
    return kept


def quarter(trials: int) -> int:
    return max(1, round(trials / 4))


def checkpoints(trials: int) -> list[int]:
    return sorted({max(1, round(trials * f)) for f in FRACTIONS})


def starts_alone(result: dict) -> dict:
    """A cnnsearch run cut to its starting points: their curve, their best."""
    points = zip(result.get("curve", []), result.get("proposals", []), strict=True)
    curve = [point for point, proposal in points if proposal and proposal.startswith("start:")]
    return {"seed": result.get("seed"), "curve": curve, "val": best_after(curve, len(curve))}


def by_source(result: dict) -> str:
    """Where a cnnsearch run's trials came from (its starts, greedy steps around the best, the
    sampler alone), and how many of the latter two ended above the best start: what of the
    search proper added accuracy."""
    best_start = starts_alone(result)["val"]
    tally: dict[str, list[int]] = {}
    for (_, value), proposal in zip(result["curve"], result["proposals"], strict=True):
        source = proposal.split(":")[0] if proposal else "sampler"
        above = source != "start" and value is not None and value > best_start
        counts = tally.setdefault(source, [0, 0])
        counts[0], counts[1] = counts[0] + 1, counts[1] + above
    return f"seed {result['seed']}: " + ", ".join(
        f"{source} {n}" if source == "start" else f"{source} {n} ({above} above)"
        for source, (n, above) in tally.items()
    )


def best_after(curve: list[list], trials: int) -> float:
    """The best validation accuracy of a run's first `trials` trials (0.0 before any)."""
    return max((value for _, value in curve[:trials] if value is not None), default=0.0)


def best_within(curve: list[list], seconds: float) -> float:
    """The best validation accuracy of the trials that ended within `seconds`."""
    return max((value for end, value in curve if end <= seconds and value is not None), default=0.0)


def best_so_far(curve: list[list]) -> list[float]:
    running, best = [], 0.0
    for _, value in curve:
        best = max(best, value if value is not None else 0.0)
        running.append(best)
    return running


def by_seed(results: dict[str, list[dict]], arm: str) -> dict[int, dict]:
    return {r["seed"]: r for r in results.get(arm, []) if "curve" in r}


def at(results: dict[str, list[dict]], arm: str, trials: int) -> list[float]:
    return [best_after(r["curve"], trials) for r in by_seed(results, arm).values()]


def cnnsearch_in_random_quarter(results: dict[str, list[dict]]) -> list[float]:
    """Per seed, cnnsearch's best within a quarter of the seconds random search ran."""
    ours, random_ = by_seed(results, "cnnsearch"), by_seed(results, "random")
    return [
        best_within(ours[seed]["curve"], random_[seed]["curve"][-1][0] / 4)
        for seed in ours.keys() & random_.keys()
        if random_[seed]["curve"]
    ]


def verdict(results: dict[str, list[dict]], trials: int) -> tuple[bool, str]:
    """Whether the goals are met, and the shortfalls in words."""
    mean = lambda values: statistics.mean(values) if values else 0.0  # noqa: E731
    std = lambda values: statistics.stdev(values) if len(values) > 1 else 0.0  # noqa: E731
    ours, random_ = at(results, "cnnsearch", trials), at(results, "random", trials)
    short = []
    if mean(at(results, "cnnsearch", quarter(trials))) < mean(random_):
        short.append(f"after {quarter(trials)} trials below random's {trials}")
    if mean(cnnsearch_in_random_quarter(results)) < mean(random_):
        short.append("within a quarter of random's seconds below random's best")
    for arm in (a for a in results if a not in ("cnnsearch", STARTS, PARALLEL)):
        if mean(ours) <= mean(at(results, arm, trials)):
            short.append(f"not above {arm}")
    parallel = at(results, PARALLEL, trials)
    if parallel and mean(parallel) < mean(ours) - std(ours):
        short.append(f"{PARALLEL} more than one std below 1 worker")
    starts = [r["val"] for r in results.get(STARTS, [])]
    gain = mean(ours) - mean(starts)
    if gain < MARGIN or gain <= max(std(ours), std(starts)):
        short.append(f"{gain * 100:+.2f} points over the best start")
    short += [f"{arm} ran {n} of {trials} trials" for arm, n in fewest(results) if n < trials]
    short += [f"{arm} ran {n} of {SEEDS} seeds" for arm, n in seeds_run(results) if n < SEEDS]
    if missing := [arm for arm in ARMS if not by_seed(results, arm)]:
        short.append(f"not run: {', '.join(missing)}")
    return not short, "; ".join(short)


def seeds_run(results: dict[str, list[dict]]) -> list[tuple[str, int]]:
    """Per arm that ran, how many seeds it has a result for."""
    return [(arm, len(by_seed(results, arm))) for arm in results if arm != STARTS]


def fewest(results: dict[str, list[dict]]) -> list[tuple[str, int]]:
    """Per arm, the fewest trials a seed of it ran: fewer than asked after a sitting (--sitting)."""
    return [
        (arm, min(len(r["curve"]) for r in runs.values()))
        for arm in results
        if arm != STARTS and (runs := by_seed(results, arm))
    ]


def figures(results: dict[str, list[dict]], args: argparse.Namespace) -> str:
    marks = checkpoints(args.trials)
    lanes = f"{args.lanes} arm-seed runs at a time" + (
        ", each pinned to one core" if 1 < args.lanes <= len(os.sched_getaffinity(0)) else ""
    )
    rows = []
    for arm, runs in results.items():
        curves = [r for r in runs if "curve" in r]
        best = ", ".join(f"{n}: {mean_std(at(results, arm, n))}" for n in marks)
        seconds = mean_std([r["curve"][-1][0] for r in curves if r["curve"]], ".0f")
        test = mean_std([r["test"] for r in curves if r.get("test") is not None])
        trials = [len(r["curve"]) for r in curves]
        pruned = [r["states"].get("PRUNED", 0) for r in curves if "states" in r]
        errors = [r["error"] for r in runs if "error" in r]
        rows.append(
            f"{arm}: best val after {best}; seconds {seconds}; test {test} (trials {trials}"
            + (f", pruned {pruned})" if pruned else ")")
            + (f" errors {errors}" if errors else "")
        )
    quarter_best = mean_std(cnnsearch_in_random_quarter(results))
    sources = "; ".join(by_source(r) for r in by_seed(results, "cnnsearch").values())
    capped = f"; AutoKeras' trials capped at {args.epochs} epochs" if "autokeras" in results else ""
    kept = f"; studies kept in {args.keep}, time between sittings left out" if args.keep else ""
    kept += sitting_note(args.sitting)
    plot_link = os.path.relpath(args.out.resolve(), RESULTS.parent.resolve())
    return (
        f"{args.dataset} {args.train_size} images ({args.val_fraction:g} for validation), "
        f"{args.epochs} epochs a trial, {args.trials} trials, no deadline, seeds {args.seeds}, "
        f"Keras on {os.environ.get('KERAS_BACKEND', 'tensorflow')}, {lanes}; mean ± std over "
        f"seeds: {'; '.join(rows)}; cnnsearch within a quarter of random's seconds "
        f"{quarter_best}; cnnsearch's trials by source, and how many ended above the best start: "
        f"{sources or '-'}{capped}{kept}; [plot]({plot_link})"
    )


def sitting_note(sitting: float | None) -> str:
    if sitting is None:
        return ""
    if sitting == 0:
        return "; no training in this sitting: the kept studies as they stood"
    return f"; a sitting of at most {sitting:g} minutes"


def plot(results: dict[str, list[dict]], out: Path) -> None:
    """Best-so-far against trials (mean ± std over seeds) and against seconds (each seed)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import numpy as np
    except ImportError:
        print("no plot: matplotlib is not installed", flush=True)
        return
    figure, (by_trials, by_seconds) = plt.subplots(1, 2, figsize=(12, 4.5))
    for index, (arm, runs) in enumerate(results.items()):
        color, curves = f"C{index}", [r["curve"] for r in runs if r.get("curve")]
        if not curves:
            continue
        length = max(map(len, curves))
        padded = np.array([(b := best_so_far(c)) + [b[-1]] * (length - len(b)) for c in curves])
        mean, spread = padded.mean(axis=0), padded.std(axis=0)
        trials, style = range(1, length + 1), ":" if arm == STARTS else "-"
        by_trials.plot(trials, mean, style, color=color, label=arm)
        by_trials.fill_between(trials, mean - spread, mean + spread, color=color, alpha=0.15)
        for seed, curve in enumerate(curves):
            ends = [end for end, _ in curve]
            label = arm if seed == 0 else None
            by_seconds.step(ends, best_so_far(curve), style, where="post", color=color, label=label)
    by_trials.set(xlabel="trials", ylabel="best validation accuracy so far")
    by_seconds.set(xlabel="seconds", ylabel="best validation accuracy so far")
    by_trials.legend()
    figure.tight_layout()
    figure.savefig(out, dpi=100)
    print(f"plot written to {out}", flush=True)


if __name__ == "__main__":
    main()
