"""Benchmark 5: resident memory after each of N trials in one worker process, against a plain
Keras loop that builds the same models without clearing the session.

    python -m benchmarks.memory [--trials 50]
"""

from __future__ import annotations

import argparse
import gc
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import optuna  # noqa: E402

from benchmarks.common import append_row, rss_mb  # noqa: E402
from search.config import SearchConfig  # noqa: E402
from search.data import load  # noqa: E402
from search.objective import Objective  # noqa: E402
from spaces import get_space  # noqa: E402
from spaces.build import build_model, compile_model  # noqa: E402

SETS = ("n_conv=1..3", "filters=8..32", "n_dense=0..1", "dense_units=32..64", "batch_size=128")
WARMUP = 5


def cnnsearch_rss(trials: int) -> list[float]:
    config = SearchConfig("digits", epochs=1, train_size=500, sets=SETS, seed=0, trials=trials)
    study = optuna.create_study(
        direction="maximize",
        pruner=optuna.pruners.NopPruner(),
        sampler=optuna.samplers.RandomSampler(seed=0),
    )
    rss: list[float] = []
    study.optimize(
        Objective(config, load("digits")),
        n_trials=trials,
        callbacks=[lambda s, t: rss.append(rss_mb())],
    )
    return rss


def plain_rss(trials: int) -> list[float]:
    """The labs' loop: a new model per run, no clear_session, no gc."""
    dataset = load("digits")
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    space, bounds = get_space("convnet"), SearchConfig("digits", sets=SETS).bounds
    rss = []
    for _ in range(trials):
        spec = space.suggest_spec(study.ask(), bounds)
        model = build_model(spec.model, dataset.input_shape, dataset.n_classes)
        compile_model(model, spec.train)
        model.fit(
            dataset.x_train[:450],
            dataset.y_train[:450],
            epochs=1,
            verbose=0,
            validation_data=(dataset.x_train[450:500], dataset.y_train[450:500]),
        )
        rss.append(rss_mb())
    return rss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=50)
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)

    ours = cnnsearch_rss(args.trials)
    keras.backend.clear_session()
    gc.collect()
    plain = plain_rss(args.trials)
    growth = ours[-1] - ours[WARMUP - 1]
    plain_growth = plain[-1] - plain[WARMUP - 1]
    append_row(
        "5 memory: RSS over trials in one worker",
        f"{args.trials} digits trials: cnnsearch RSS {ours[WARMUP - 1]:.0f} → {ours[-1]:.0f} MB "
        f"(+{growth:.0f} MB after trial {WARMUP}, {growth / (args.trials - WARMUP):.1f} MB/trial); "
        f"plain loop without clear_session +{plain_growth:.0f} MB",
        "growth ≤ 100 MB",
        growth <= 100,
    )


if __name__ == "__main__":
    main()
