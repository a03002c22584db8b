"""What a person sees while a study runs: trials n/N, elapsed time, ETA, best so far, the running
trial's epochs, and one line per finished trial.

On a terminal the run is a `rich.progress` display that stays at the bottom of the screen while
finished trials scroll above it. With `quiet`, on a pipe or file, or in a worker that one of
several GPU workers' parent started (`CNNSEARCH_PLAIN_PROGRESS=1`), it is plain lines instead.
"""

from __future__ import annotations

import atexit
import contextlib
import math
import os
import statistics
import time
from collections.abc import Iterable, Iterator
from datetime import datetime

import optuna
from optuna.trial import FrozenTrial, TrialState
from rich.console import Console, RenderableType
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.progress import Progress as RichProgress
from rich.text import Text

from search.study import best_completed
from search.vocabulary import (
    CONTINUES_ATTR,
    DUPLICATE_ATTR,
    EPOCHS_RUN_ATTR,
    FAIL_REASON_ATTR,
    PROPOSAL_ATTR,
    STOPPED_BY_ATTR,
    TRAIN_SECONDS_ATTR,
    counts,
)
from spaces.dimensions import format_value
from storage import mask_password

PLAIN_ENV = "CNNSEARCH_PLAIN_PROGRESS"
REFRESH_PER_SECOND = 4
# How a trial's user attrs `stopped_by` read in its outcome line.
STOP_REASONS = {
    "deadline": "stopped by the deadline",
    "cost": "stopped: its projected time was over its share of the budget",
    "max_params": "skipped: more parameters than max_params allows",
}


class Progress:
    """Reports a run: a live display on a terminal, plain lines elsewhere.

    `quiet` keeps only the outcome lines; `live` forces the display on or off (default: on for
    a terminal, unless quiet or `CNNSEARCH_PLAIN_PROGRESS=1`). Call `run_started` before the
    first trial and `run_ended` after the last; the display also starts with the first trial
    and ends when the process exits.
    """

    def __init__(
        self, console: Console | None = None, quiet: bool = False, live: bool | None = None
    ) -> None:
        self.console = console or Console(highlight=False)
        self.quiet = quiet
        self.live = _wants_live(self.console, quiet) if live is None else live and not quiet
        self._board: _Board | None = None
        self._budget: int | None = None
        self._deadline: datetime | None = None
        self._deadline_known = False

    def say(self, text: str) -> None:
        """Print a line (rich markup); on a terminal it appears above the live display."""
        self._print(mask_password(text), soft_wrap=not self.live)

    def _print(self, text: str, **options) -> None:
        # Rich's Live places the cursor under its lock but writes the line and the display after
        # releasing it; a refresh in between that grows the display (a trial starting) left a
        # stale line of it on screen, about 1 run in 25 on a loaded machine. Holding the lock
        # for the whole print keeps the two apart.
        with self._board.live._lock if self._board is not None else contextlib.nullcontext():
            self.console.print(text, **options)

    def status(self, text: str) -> contextlib.AbstractContextManager:
        """A spinner while `text` is under way (loading, decoding); nothing when quiet."""
        if self.quiet or self._board is not None:  # one live display at a time
            return contextlib.nullcontext()
        return self.console.status(text)

    def run_started(
        self, budget: int | None, deadline: datetime | None = None, finished: int = 0
    ) -> None:
        """A run towards `budget` finished trials (None: no trial limit) begins, `finished`
        already there; its ETA counts down to `deadline` when that comes before the trials'
        median pace would end the run."""
        self._budget, self._deadline, self._deadline_known = budget, deadline, True
        if self.live:
            self._start_board(finished)
            self._board.update_run(finished, budget, estimated_end(budget, finished, [], deadline))

    def run_ended(self) -> None:
        """Take the live display off the screen (the lines printed above it stay)."""
        if self._board is not None:
            board, self._board = self._board, None
            board.stop()
            atexit.unregister(self.run_ended)

    @contextlib.contextmanager
    def running(
        self, budget: int | None, deadline: datetime | None = None, finished: int = 0
    ) -> Iterator[Progress]:
        """`run_started` on entry and `run_ended` on exit, an interruption included.

        Example:
            >>> with progress.running(budget=20, deadline=None, finished=3):
            ...     study.optimize(objective, n_trials=17, callbacks=[progress.trial_finished])
        """
        self.run_started(budget, deadline, finished)
        try:
            yield self
        finally:
            self.run_ended()

    def handover(self, text: str) -> None:
        """Print `text` and take the live display off the screen: this process is about to be
        replaced by a fresh one (`search.run.restart`), whose own display takes over."""
        self.run_ended()
        self.say(text)

    def trial_started(
        self, trial: optuna.Trial, finished: int, budget: int | None, epochs: int
    ) -> None:
        """Trial `trial` starts as the study's `finished + 1`-th of `budget` (None: no trial
        limit, the deadline ends the run), for up to `epochs`. A trial with the user attr
        `continues` trains that trial's model on."""
        self._budget = budget
        if not self._deadline_known:
            self._deadline, self._deadline_known = _read_deadline(trial.study), True
        continued = trial.user_attrs.get(CONTINUES_ATTR)
        if continued is not None:
            about = f"trains trial {continued}'s model on, in the time kept for it"
        else:
            about = _with_proposal(
                varied_params(trial.params, trial.distributions),
                trial.user_attrs.get(PROPOSAL_ATTR),
            )
        if self.live:
            self._start_board(finished)
            self._board.trial_started(trial.number, epochs, about)
            return
        if self.quiet:
            return
        count = "until the deadline" if budget is None else f"{finished + 1} of {budget}"
        if continued is not None:
            count = "no new configuration"
        self.say(f"[bold]trial {trial.number}[/] ({count}, up to {epochs} epochs) {escape(about)}")

    def epoch_ended(self, epoch: int, epochs: int, logs: dict, seconds: float) -> None:
        """Epoch `epoch` (from 0) of `epochs` ended after `seconds`, with Keras' `logs`."""
        accuracy = logs.get("val_accuracy", math.nan)
        if self._board is not None:
            self._board.epoch_ended(epoch + 1, f"val_accuracy {accuracy:.4f}")
            return
        if self.quiet:
            return
        self.say(
            f"  epoch {epoch + 1}/{epochs}  val_accuracy {accuracy:.4f}"
            f"  loss {logs.get('loss', math.nan):.4f}  {seconds:.1f}s"
        )

    def trial_finished(self, study: optuna.Study, trial: FrozenTrial) -> None:
        """One line for the finished `trial`; the display's count, best and ETA move on."""
        trials = study.get_trials(deepcopy=False)
        best = best_text(study, trials)
        if self._board is None:
            self.say(f"  trial {trial.number} {outcome_text(trial)}{'; ' + best if best else ''}")
            return
        params = _with_proposal(
            varied_params(trial.params, trial.distributions), trial.user_attrs.get(PROPOSAL_ATTR)
        )
        self._print(
            f"[bold]trial {trial.number}[/] {outcome_text(trial)}  [dim]{escape(params)}[/]",
            no_wrap=True,
            overflow="ellipsis",
        )
        finished = sum(counts(t) for t in trials)
        budget = self._budget
        durations = [
            t.duration.total_seconds()
            for t in trials
            if t.state in (TrialState.COMPLETE, TrialState.PRUNED)
            and t.duration is not None
            and CONTINUES_ATTR not in t.user_attrs  # its time is what the run kept for it
        ]
        self._board.trial_finished(best)
        self._board.update_run(
            finished, budget, estimated_end(budget, finished, durations, self._deadline)
        )

    def _start_board(self, finished: int) -> None:
        if self._board is None:
            self._board = _Board(self.console, self._budget, finished)
            self._board.start()
            atexit.register(self.run_ended)


def _wants_live(console: Console, quiet: bool) -> bool:
    plain = os.environ.get(PLAIN_ENV, "").strip() not in ("", "0")
    return not quiet and not plain and console.is_terminal and not console.is_dumb_terminal


def _read_deadline(study: optuna.Study) -> datetime | None:
    from search.run.deadline import read_deadline

    return read_deadline(study)


def varied_params(params: dict, distributions: dict) -> str:
    """`name=value` for each parameter the search varies (those `--set` fixed are left out)."""
    return " ".join(
        f"{name}={format_value(value)}"
        for name, value in params.items()
        if name not in distributions or not distributions[name].single()
    )


def _with_proposal(params: str, proposal: str | None) -> str:
    # The proposal first: a line too long for the terminal loses its end.
    return f"({proposal}) {params}" if proposal else params


def outcome_text(trial: FrozenTrial) -> str:
    """What became of a finished trial, in words (rich markup)."""
    attrs = trial.user_attrs
    epochs = attrs.get(EPOCHS_RUN_ATTR, "?")
    stopped = STOP_REASONS.get(attrs.get(STOPPED_BY_ATTR, ""))
    if trial.state == TrialState.COMPLETE:
        values = ", ".join(f"{v:.4g}" for v in trial.values)
        text = f"[green]complete[/] {values} after {epochs} epochs{_seconds(attrs)}"
        if CONTINUES_ATTR in attrs:
            text += f", training on trial {attrs[CONTINUES_ATTR]}'s model in the time kept for it"
        return text + (f" ({stopped})" if stopped else "")
    if trial.state == TrialState.PRUNED:
        if epochs == 0:
            where = "in its first epoch"
        else:
            last = (
                trial.intermediate_values.get(trial.last_step, math.nan)
                if trial.last_step is not None
                else math.nan
            )
            where = f"at epoch {epochs} (val_accuracy {last:.4f}{_seconds(attrs, ', ')})"
        if attrs.get(STOPPED_BY_ATTR) == "max_params":
            return f"[yellow]{stopped}[/]"
        return f"[yellow]{stopped or 'pruned'}[/] {where}"
    if DUPLICATE_ATTR in attrs:
        return f"[dim]skipped[/]: same configuration as trial {attrs[DUPLICATE_ATTR]} (not trained)"
    if stopped:
        return f"[yellow]{stopped}[/]"
    reason = escape(str(attrs.get(FAIL_REASON_ATTR, "see the log above")))
    return f"[red]failed[/]: {reason}"


def _seconds(attrs: dict, lead: str = " in ") -> str:
    seconds = attrs.get(TRAIN_SECONDS_ATTR)
    return "" if seconds is None else f"{lead}{seconds:.1f} s"


def best_text(study: optuna.Study, trials: Iterable[FrozenTrial]) -> str:
    """`best so far 0.9722 (trial 4)`, or the Pareto front's size; empty before any result."""
    if len(study.directions) > 1:
        return f"Pareto front: {len(study.best_trials)} trials"
    best = best_completed(trials, study.direction)
    return "" if best is None else f"best so far {best.value:.4f} (trial {best.number})"


def estimated_end(
    budget: int | None, finished: int, durations: list[float], deadline: datetime | None
) -> float | None:
    """When the run should end, in seconds since the epoch: after the `budget - finished`
    remaining trials at the median of the finished trials' `durations` (seconds), or at the
    deadline when that comes first; None when neither is known yet."""
    ends = []
    if budget is not None and finished >= budget:
        ends.append(time.time())
    elif budget is not None and durations:
        ends.append(time.time() + (budget - finished) * statistics.median(durations))
    if deadline is not None:
        ends.append(deadline.timestamp())
    return min(ends) if ends else None


class _EtaColumn(ProgressColumn):
    """Time left until the task's `finish_at` field, counted down at every refresh."""

    def render(self, task: Task) -> Text:
        if "finish_at" not in task.fields:
            return Text("")
        finish_at = task.fields["finish_at"]
        if finish_at is None:
            return Text("ETA -:--:--", style="progress.remaining")
        left = max(0, round(finish_at - time.time()))
        clock = f"{left // 3600}:{left % 3600 // 60:02d}:{left % 60:02d}"
        return Text(f"ETA {clock}", style="progress.remaining")


class _Board(RichProgress):
    """The run's bar and the running trial's epoch bar, with that trial's parameters below."""

    def __init__(self, console: Console, budget: int | None, finished: int) -> None:
        self.footer = _footer("")  # before Progress's init, which renders once
        super().__init__(
            SpinnerColumn(),
            TextColumn("[bold]{task.description}"),
            BarColumn(bar_width=24),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            _EtaColumn(),
            TextColumn("{task.fields[info]}"),
            console=console,
            transient=True,
            refresh_per_second=REFRESH_PER_SECOND,
        )
        self.run_task = self.add_task(
            "trials", total=budget, completed=finished, info="", finish_at=None
        )
        self.trial_task: TaskID | None = None

    def get_renderables(self) -> Iterable[RenderableType]:
        yield self.make_tasks_table(self.tasks)
        if self.footer.plain:
            yield self.footer

    def update_run(self, finished: int, budget: int | None, finish_at: float | None) -> None:
        self.update(self.run_task, total=budget, completed=finished, finish_at=finish_at)

    def trial_started(self, number: int, epochs: int, params: str) -> None:
        if self.trial_task is None:
            self.trial_task = self.add_task("", total=epochs, info="")
        self.reset(
            self.trial_task,
            total=epochs,
            completed=0,
            description=f"trial {number}",
            info="building and compiling the model …",
            visible=True,
        )
        self.footer = _footer(f"  {params}")

    def epoch_ended(self, epoch: int, info: str) -> None:
        if self.trial_task is not None:
            self.update(self.trial_task, completed=epoch, info=info)

    def trial_finished(self, best: str) -> None:
        self.update(self.run_task, info=best)
        if self.trial_task is not None:
            self.update(self.trial_task, visible=False)
        self.footer = _footer("")


def _footer(text: str) -> Text:
    # A new Text each time: the refresh thread may be rendering the old one.
    return Text(text, no_wrap=True, overflow="ellipsis", style="dim")
