"""Benchmark 15: seconds per epoch of one model with the default augmentation and without.

The model is the fashion lab's main model (the `fashion-lab` start); the augmentation is the
`resnet-small` start's (random shifts of up to 10% and horizontal flips, as Keras layers in the
model). The two models train in turns, one epoch at a time, after a warm-up epoch each, so the
machine's load changes both alike.

    python -m benchmarks.augmentation_cost [--train-size 10000] [--repeats 3] [--note TEXT]

The models compile as a trial's do (XLA where `search.run.hardware.use_xla` says so: always
under JAX, whose steps run op by op otherwise).
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import optuna  # noqa: E402

from benchmarks.common import append_row, description  # noqa: E402
from search.data import load, split_validation  # noqa: E402
from search.run import hardware  # noqa: E402
from spaces import convnet, reference_params  # noqa: E402
from spaces.build import build_model, compile_model  # noqa: E402

GOAL = 1.15
AUGMENTATION = ("augment_translate", "augment_flip", "augment_erase")


def start_params(name: str) -> dict:
    (start,) = (s for s in convnet.STARTS if s.name == name)
    return reference_params(convnet) | dict(start.params)


def model(augmented: bool, input_shape, n_classes) -> tuple[keras.Model, int]:
    params = start_params("fashion-lab")
    if augmented:
        params |= {k: v for k, v in start_params("resnet-small").items() if k in AUGMENTATION}
    spec = convnet.suggest_spec(optuna.trial.FixedTrial(params))
    built = build_model(spec.model, input_shape, n_classes)
    compile_model(built, spec.train, hardware.use_xla())
    return built, spec.train.batch_size


def epoch_seconds(built: keras.Model, batch_size: int, split) -> float:
    started = time.perf_counter()
    built.fit(split.x_train, split.y_train, batch_size=batch_size, epochs=1, verbose=0)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=description(__doc__))
    parser.add_argument("--train-size", type=int, default=10000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--note",
        default="2 cores shared with other jobs while it ran, so single epochs vary",
        help="what the row says of the machine and the run",
    )
    args = parser.parse_args()

    dataset = load("fashion_mnist")
    # val_fraction is tiny: the benchmark times training epochs only
    split = split_validation(dataset, 0.01, seed=0, train_size=args.train_size)
    models = {a: model(a, dataset.input_shape, dataset.n_classes) for a in (False, True)}
    for built, batch_size in models.values():
        epoch_seconds(built, batch_size, split)  # warm-up: tracing and first-call costs
    seconds = {False: [], True: []}
    for _ in range(args.repeats):
        for augmented, (built, batch_size) in models.items():
            seconds[augmented].append(epoch_seconds(built, batch_size, split))
            print(f"augmented={augmented}: {seconds[augmented][-1]:.2f} s", flush=True)
    # the fastest epoch of each: the one the other jobs on the machine slowed least
    plain, augmented = min(seconds[False]), min(seconds[True])
    ratio = augmented / plain
    append_row(
        "15 augmentation cost: seconds per epoch with the default augmentation and without",
        f"fashion_mnist {len(split.y_train)} images, the fashion-lab model, fastest of "
        f"{args.repeats} alternating epochs: without {plain:.2f} s, with shifts ≤ 10% and "
        f"flips {augmented:.2f} s, ratio {ratio:.3f} (each: "
        f"{', '.join(f'{s:.1f}' for s in seconds[False])} / "
        f"{', '.join(f'{s:.1f}' for s in seconds[True])} s)",
        f"ratio ≤ {GOAL}",
        ratio <= GOAL,
        args.note,
    )


if __name__ == "__main__":
    main()
