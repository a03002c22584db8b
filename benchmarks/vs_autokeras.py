"""Benchmark 12: cnnsearch's default run against the tools a user would pick instead, on the same
data, budget and machine: AutoKeras' ImageClassifier with its defaults, KerasTuner's Hyperband
and RandomSearch, plain Optuna (TPE and the Hyperband pruner, as its Keras example writes it),
and the classic Keras CNN trained alone with early stopping.

    python -m benchmarks.vs_autokeras [--budget 900] [--train-size 15000] [--val-fraction 0.3334]
                                      [--seeds 0,1,2] [--arms cnnsearch,autokeras,…] [--lanes 2]
                                      [--runs cnnsearch:0,autokeras:0,…]

cnnsearch runs as a user runs it: `cli.py optimize fashion_mnist --train-size N --val-fraction F
--timeout S --seed K`, then `cli.py evaluate`. How every arm is run and scored: benchmarks/arms.py.
"""

from __future__ import annotations

import argparse
import statistics

from benchmarks.arms import mean_std, run_all
from benchmarks.common import append_row, description

ARMS = ("cnnsearch", "autokeras", "kt-hyperband", "kt-random", "optuna", "keras-cnn")
TARGET = 0.90
SEEDS_NEEDED = 3  # one run is an anecdote


def main() -> None:
    parser = argparse.ArgumentParser(description=description(__doc__))
    parser.add_argument("--budget", type=float, default=900)
    parser.add_argument("--train-size", type=int, default=15000)
    parser.add_argument("--val-fraction", type=float, default=0.3334)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--arms", default=",".join(ARMS))
    parser.add_argument("--lanes", type=int, default=1, choices=(1, 2))
    parser.add_argument(
        "--runs", help="ARM:SEED pairs, in this order, instead of every arm on every seed"
    )
    args = parser.parse_args()
    runs = chosen_runs(args)
    arms = list(dict.fromkeys(arm for arm, _ in runs))
    results = run_all(runs, args)

    def values(arm: str, key: str) -> list[float]:
        return [r[key] for r in results.get(arm, []) if r.get(key) is not None]

    def mean(arm: str, key: str) -> float:
        return statistics.mean(values(arm, key) or [0.0])

    figures = "; ".join(
        f"{arm} val {mean_std(values(arm, 'val'))}, test {mean_std(values(arm, 'test'))} "
        f"(trials {[r.get('trials') for r in results.get(arm, [])]})"
        for arm in arms
    )
    short = [
        f"{key} not above {arm}"
        for arm in arms
        if arm != "cnnsearch"
        for key in ("val", "test")
        if mean("cnnsearch", key) <= mean(arm, key)
    ]
    if mean("cnnsearch", "val") < TARGET:
        short.append(f"cnnsearch val below {TARGET}")
    few = [arm for arm in arms if len(results.get(arm, [])) < SEEDS_NEEDED]
    if few:
        short.append(f"fewer than {SEEDS_NEEDED} seeds for {', '.join(few)}")
    lanes = (
        "two arms at a time, each pinned to one core with one TensorFlow thread"
        if args.lanes > 1
        else "one arm at a time on every core"
    )
    append_row(
        "12 vs AutoKeras and peers, default options",
        f"fashion_mnist {args.train_size} images ({args.val_fraction:g} for validation), "
        f"{args.budget:.0f} s each, {lanes}; mean ± std over seeds: "
        f"{figures}{seeds_note(runs)}. cnnsearch ran `optimize` with only the data size, time "
        "and seed given; "
        "AutoKeras 3.0 with Dense units cast to int for Keras 3.15",
        f"cnnsearch above every arm in validation and test accuracy; ≥ {TARGET} validation",
        not short,
        "; ".join(short),
    )
    append_cost_row(results.get("cnnsearch", []), args.budget)


def chosen_runs(args: argparse.Namespace) -> list[tuple[str, int]]:
    """(arm, seed) pairs: `--runs` as given, or every arm on every seed."""
    if args.runs:
        pairs = [pair.split(":") for pair in args.runs.split(",")]
        return [(arm, int(seed)) for arm, seed in pairs]
    return [(arm, int(seed)) for seed in args.seeds.split(",") for arm in args.arms.split(",")]


def seeds_note(runs: list[tuple[str, int]]) -> str:
    """Which seeds each arm ran, where they differ between arms (a shortened run says so)."""
    seeds: dict[str, list[int]] = {}
    for arm, seed in runs:
        seeds.setdefault(arm, []).append(seed)
    if len({tuple(s) for s in seeds.values()}) == 1:
        return f" (seeds {next(iter(seeds.values()))})"
    return " (seeds by arm: " + ", ".join(f"{arm} {s}" for arm, s in seeds.items()) + ")"


def append_cost_row(runs: list[dict], budget: float) -> None:
    """The cost goal, from cnnsearch's runs above: no trial spent more than its share of the
    budget on a configuration that ended below its study's median."""
    runs = [r for r in runs if "over_share_below_median" in r]
    if not runs:
        return
    overruns = sum(r["over_share_below_median"] for r in runs)
    append_row(
        "13 cost: trials over their share of a timed budget",
        f"cnnsearch's {len(runs)} runs of {budget:.0f} s above: trials stopped by the cost guard "
        f"{[r['cost_stopped'] for r in runs]}; longest trial "
        f"{[round(r['longest_trial_seconds']) for r in runs]} s against a share of "
        f"{runs[0]['share_seconds']} s; trials over the share that ended below the median: "
        f"{[r['over_share_below_median'] for r in runs]}",
        "0 trials over their share below the median",
        overruns == 0,
    )


if __name__ == "__main__":
    main()
