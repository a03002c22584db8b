"""What a person sees while a study runs: trial starts, epochs, outcomes, best so far."""

from __future__ import annotations

import contextlib
import math
import time

import keras
import optuna
from optuna.trial import FrozenTrial, TrialState
from rich.console import Console

from storage import mask_password


class Progress:
    """Prints one line per trial event; `quiet` keeps only the outcomes."""

    def __init__(self, console: Console | None = None, quiet: bool = False) -> None:
        self.console = console or Console(highlight=False)
        self.quiet = quiet

    def say(self, text: str) -> None:
        self.console.print(mask_password(text))

    def status(self, text: str) -> contextlib.AbstractContextManager:
        """A spinner while `text` is under way (loading, decoding); nothing when quiet."""
        return contextlib.nullcontext() if self.quiet else self.console.status(text)

    def trial_started(self, trial: optuna.Trial, finished: int, budget: int, epochs: int) -> None:
        if self.quiet:
            return
        params = " ".join(f"{k}={_fmt(v)}" for k, v in trial.params.items())
        self.say(
            f"[bold]trial {trial.number}[/] ({finished + 1} of {budget}, up to {epochs} "
            f"epochs) {params}"
        )

    def epoch_ended(self, epoch: int, epochs: int, logs: dict, seconds: float) -> None:
        if self.quiet:
            return
        self.say(
            f"  epoch {epoch + 1}/{epochs}  val_accuracy {logs.get('val_accuracy', math.nan):.4f}"
            f"  loss {logs.get('loss', math.nan):.4f}  {seconds:.1f}s"
        )

    def trial_finished(self, study: optuna.Study, trial: FrozenTrial) -> None:
        epochs = trial.user_attrs.get("epochs_run", "?")
        if trial.state == TrialState.COMPLETE:
            values = ", ".join(_fmt(v) for v in trial.values)
            outcome = f"[green]complete[/] {values} after {epochs} epochs"
        elif trial.state == TrialState.PRUNED:
            last = (
                trial.intermediate_values.get(trial.last_step, math.nan)
                if trial.last_step is not None
                else math.nan
            )
            why = " by the deadline" if trial.user_attrs.get("stopped_by") == "deadline" else ""
            if epochs == 0:
                outcome = f"[yellow]pruned{why}[/] in its first epoch"
            else:
                outcome = f"[yellow]pruned{why}[/] at epoch {epochs} (val_accuracy {last:.4f})"
        else:
            outcome = f"[red]failed[/]: {trial.user_attrs.get('fail_reason', 'see the log above')}"
        self.say(f"  trial {trial.number} {outcome}{self._best(study)}")

    def _best(self, study: optuna.Study) -> str:
        if len(study.directions) > 1:
            return f"; Pareto front: {len(study.best_trials)} trials"
        try:
            best = study.best_trial
        except ValueError:
            return ""
        return f"; best so far {best.value:.4f} (trial {best.number})"


class EpochReporter(keras.callbacks.Callback):
    """Keras callback forwarding each epoch's logs to `Progress`."""

    def __init__(self, progress: Progress, epochs: int) -> None:
        super().__init__()
        self.progress, self.epochs = progress, epochs
        self._started = time.perf_counter()

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._started = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.progress.epoch_ended(
            epoch, self.epochs, logs or {}, time.perf_counter() - self._started
        )


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
