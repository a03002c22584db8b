"""Drives `Progress` through a short fake run, for the terminal tests of the live display.

    python -m tests.search.run.progress_driver [--quiet]

Four trials, no Keras: trial 0 completes, 1 is pruned, 2 repeats trial 0's configuration (FAIL,
`duplicate_of`), 3 is stopped by the cost rule. `kernel_size` is fixed; the others vary.
"""

import sys
import time

import optuna

from search.vocabulary import (
    DUPLICATE_ATTR,
    EPOCHS_RUN_ATTR,
    PROPOSAL_ATTR,
    STOPPED_BY_ATTR,
    TRAIN_SECONDS_ATTR,
)

EPOCHS = 3
PAUSE = 0.3  # longer than a refresh of the live display
BUDGET = 4
REFERENCE = {"n_conv": 6, "learning_rate": 1e-3, "kernel_size": 3, "activation": "relu"}


class Skipped(Exception):
    pass


def objective(progress, pause: float):
    def run(trial: optuna.Trial) -> float:
        n_conv = trial.suggest_int("n_conv", 1, 10)
        trial.suggest_float("learning_rate", 1e-4, 1e-1, log=True)
        trial.suggest_int("kernel_size", 3, 3)
        trial.suggest_categorical("activation", ["relu", "tanh"])
        if trial.number == 0:
            trial.set_user_attr(PROPOSAL_ATTR, "start: keras-example")
        progress.trial_started(trial, trial.number, BUDGET, EPOCHS)
        if trial.number == 2:
            trial.set_user_attr(DUPLICATE_ATTR, 0)
            raise Skipped
        for epoch in range(EPOCHS):
            time.sleep(pause)
            accuracy = 0.5 + 0.1 * epoch + 0.01 * n_conv
            trial.report(accuracy, epoch + 1)
            progress.epoch_ended(epoch, EPOCHS, {"val_accuracy": accuracy, "loss": 1.0}, pause)
            trial.set_user_attr(EPOCHS_RUN_ATTR, epoch + 1)
            trial.set_user_attr(TRAIN_SECONDS_ATTR, round(pause * (epoch + 1), 3))
            if trial.number == 1 and epoch == 1:
                raise optuna.TrialPruned
            if trial.number == 3 and epoch == 0:
                trial.set_user_attr(STOPPED_BY_ATTR, "cost")
                raise optuna.TrialPruned
        return accuracy

    return run


def drive(progress, pause: float = PAUSE) -> None:
    """The fake run, reported to `progress` (a `search.run.progress.Progress`)."""
    study = optuna.create_study(
        direction="maximize", study_name="driven", sampler=optuna.samplers.RandomSampler(seed=0)
    )
    for params in (REFERENCE, {**REFERENCE, "n_conv": 2, "activation": "tanh"}, REFERENCE):
        study.enqueue_trial(params)
    progress.run_started(BUDGET)
    progress.say(f"study [bold]driven[/]: 0 of {BUDGET} trials finished")
    study.optimize(
        objective(progress, pause),
        n_trials=BUDGET,
        catch=(Skipped,),
        callbacks=[progress.trial_finished],
    )
    time.sleep(pause)
    progress.run_ended()
    progress.say(f"driven: {BUDGET} of {BUDGET} trials finished (budget met)")


def main() -> None:
    from search.run.progress import Progress

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    drive(Progress(quiet="--quiet" in sys.argv))


if __name__ == "__main__":
    main()
