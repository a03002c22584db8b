"""Benchmark 6: an hour of `optimize fashion_mnist --timeout 3600` with default options, then
`evaluate` on the real test set, beside AutoKeras' ImageClassifier and the fashion lab's main
model trained alone for the same hour, on the same data and machine.

    python -m benchmarks.accuracy_per_hour [--budget 3600] [--seeds 0] [--lanes 1]

How every arm is run and scored: benchmarks/arms.py. The labs' hand-tuned best is 91.64% test.
"""

from __future__ import annotations

import argparse
import statistics

from benchmarks.arms import mean_std, run_all
from benchmarks.common import append_row, description
from benchmarks.vs_autokeras import append_cost_row

ARMS = ("cnnsearch", "autokeras", "labs-main")
TARGET = 0.93


def main() -> None:
    parser = argparse.ArgumentParser(description=description(__doc__))
    parser.add_argument("--budget", type=float, default=3600)
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--arms", default=",".join(ARMS))
    parser.add_argument("--lanes", type=int, default=1, choices=(1, 2))
    args = parser.parse_args()
    args.train_size, args.val_fraction = 0, 0.1  # every image, as `optimize` by default
    arms = args.arms.split(",")
    results = run_all([(arm, int(s)) for s in args.seeds.split(",") for arm in arms], args)

    def values(arm: str, key: str) -> list[float]:
        return [r[key] for r in results.get(arm, []) if r.get(key) is not None]

    figures = "; ".join(
        f"{arm} val {mean_std(values(arm, 'val'))}, test {mean_std(values(arm, 'test'))} "
        f"(trials {[r.get('trials') for r in results.get(arm, [])]})"
        for arm in arms
    )
    test = statistics.mean(values("cnnsearch", "test") or [0.0])
    lanes = "two arms at a time, one core each" if args.lanes > 1 else "one arm at a time"
    append_row(
        "6 accuracy per hour: fashion_mnist, default options",
        f"{args.budget / 60:.0f} min each, every training image (0.1 for validation), seeds "
        f"{args.seeds}, {lanes}: {figures}; the labs' hand-tuned best 0.9164 test",
        f"≥ {TARGET} test accuracy, above AutoKeras and the labs' main model",
        test >= TARGET,
    )
    append_cost_row(results.get("cnnsearch", []), args.budget)


if __name__ == "__main__":
    main()
