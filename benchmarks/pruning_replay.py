"""Benchmark 2, replayed: each pruner decides on the learning curves a study without pruning
recorded, trial by trial in the study's order. Epochs and seconds it would have saved, and
whether it would have stopped the best trial. Cheap (no training), so it compares pruners and
epoch budgets that a live run could not afford; it ignores how pruning steers the sampler,
which the live benchmark (`benchmarks.pruning`) measures.

    python -m benchmarks.pruning --epochs 27 --storage sqlite:///pruning.db   # records the curves
    python -m benchmarks.pruning_replay --storage sqlite:///pruning.db [--epochs 9,15,27]
"""

from __future__ import annotations

import argparse
from typing import NamedTuple

import optuna
from optuna.trial import FrozenTrial, TrialState

from benchmarks.common import append_row, description
from search.config import PRUNERS, SearchConfig
from search.study import make_pruner
from search.vocabulary import CONFIG_ATTR, FIRST_EPOCH_ATTR


class Curve(NamedTuple):
    accuracy: list[float]  # validation accuracy after each epoch
    first_epoch: float  # seconds from the trial's start to the end of its first epoch
    later_epoch: float  # seconds per later epoch

    def seconds(self, epochs: int) -> float:
        return self.first_epoch + (epochs - 1) * self.later_epoch


class Outcome(NamedTuple):
    epochs: int
    seconds: float
    best: float


def curves(trials: list[FrozenTrial]) -> list[Curve]:
    """The completed trials' curves, in trial order."""
    out = []
    for t in trials:
        if t.state != TrialState.COMPLETE or not t.intermediate_values:
            continue
        accuracy = [t.intermediate_values[s] for s in sorted(t.intermediate_values)]
        first = t.user_attrs[FIRST_EPOCH_ATTR]
        later = (t.duration.total_seconds() - first) / max(len(accuracy) - 1, 1)
        out.append(Curve(accuracy, first, later))
    return out


def replay(recorded: list[Curve], pruner: optuna.pruners.BasePruner, epochs: int) -> Outcome:
    """Epochs, seconds and best accuracy had `pruner` judged each curve, cut at `epochs`, as
    `search.callbacks.EpochPruning` does: at step = epochs trained, never after the last."""
    study = optuna.create_study(direction="maximize", pruner=pruner)
    trained, seconds, best = 0, 0.0, 0.0
    for curve in recorded:
        accuracy = curve.accuracy[:epochs]
        trial = study.ask()
        for step, value in enumerate(accuracy, 1):
            trial.report(value, step)
            if step < epochs and trial.should_prune():
                study.tell(trial, state=TrialState.PRUNED)
                break
        else:
            study.tell(trial, max(accuracy))
            best = max(best, max(accuracy))
        trained += step
        seconds += curve.seconds(step)
    return Outcome(trained, seconds, best)


def unpruned_study(storage: str, name: str | None) -> optuna.Study:
    """The named study, or the last one run with `--pruner none`."""
    if name is None:
        candidates = [
            s.study_name
            for s in optuna.get_all_study_summaries(storage)
            if s.user_attrs.get(CONFIG_ATTR, {}).get("pruner") == "none"
        ]
        if not candidates:
            raise SystemExit(f"{storage} holds no study run with --pruner none; name one")
        name = candidates[-1]
    return optuna.load_study(study_name=name, storage=storage)


def main() -> None:
    parser = argparse.ArgumentParser(description=description(__doc__))
    parser.add_argument("--storage", required=True)
    parser.add_argument("--study", help="a study run without pruning [default: the last one]")
    parser.add_argument("--epochs", default="9,15,27", help="epoch budgets to replay")
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)

    study = unpruned_study(args.storage, args.study)
    recorded = curves(study.trials)
    default = SearchConfig("digits").pruner_name
    for epochs in map(int, args.epochs.split(",")):
        full = replay(recorded, optuna.pruners.NopPruner(), epochs)
        figures = []
        for name in (p for p in PRUNERS if p != "none"):
            run = replay(recorded, make_pruner(name, epochs), epochs)
            figures.append(
                f"{name}{' (default)' if name == default else ''}: epoch ratio "
                f"{run.epochs / full.epochs:.2f}, time ratio {run.seconds / full.seconds:.2f}, "
                f"best {run.best:.4f} (gap {(full.best - run.best) * 100:+.1f} points)"
            )
        append_row(
            f"2 pruning, replayed at {epochs} epochs",
            f"{len(recorded)} curves of study `{study.study_name}` cut at {epochs} epochs, "
            f"each pruner judging from epoch 1; none "
            f"{full.epochs} epochs / {full.seconds:.0f} s / best {full.best:.4f}; "
            + "; ".join(figures),
            "ratio ≤ 0.35, best within 0.5 points",
            None,
            "a replay: the goal is judged on the live rows",
        )


if __name__ == "__main__":
    main()
