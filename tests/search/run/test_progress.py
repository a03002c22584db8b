"""The run's progress: a live display in a terminal (driven through a pseudo-terminal and read
back as a screen), plain lines on a pipe, and each outcome in words."""

import fcntl
import io
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from datetime import UTC, datetime
from pathlib import Path

import optuna
import pytest
from optuna.distributions import FloatDistribution, IntDistribution
from optuna.trial import TrialState
from rich.console import Console

from search.run.progress import Progress, estimated_end, outcome_text, varied_params
from search.vocabulary import EPOCHS_RUN_ATTR
from tests.search.run.progress_driver import drive

ROOT = Path(__file__).resolve().parents[3]
COLUMNS, ROWS = 120, 30
CSI = re.compile(r"\x1b\[([0-9;?]*)([A-Za-z])")


class Screen:
    """The little of a VT100 that rich's live display uses: text, CR, LF, cursor up, erase line.
    Keeps every line as it was before being erased or left, so passing states can be checked."""

    def __init__(self, columns: int) -> None:
        self.columns = columns
        self.lines: list[str] = [""]
        self.row = self.col = 0
        self.seen: list[str] = []

    def feed(self, text: str) -> None:
        at = 0
        for match in CSI.finditer(text):
            self._text(text[at : match.start()])
            self._control(match.group(1), match.group(2))
            at = match.end()
        self._text(text[at:])

    def _text(self, text: str) -> None:
        for char in text:
            if char == "\r":
                self.col = 0
            elif char == "\n":
                self._leave_line()
                self.row += 1
                if self.row == len(self.lines):
                    self.lines.append("")
            elif char.isprintable():
                line = self.lines[self.row].ljust(self.col)
                self.lines[self.row] = line[: self.col] + char + line[self.col + 1 :]
                self.col += 1

    def _control(self, argument: str, command: str) -> None:
        if command == "A":
            self._leave_line()
            self.row = max(0, self.row - int(argument or 1))
        elif command == "K":
            self._leave_line()
            self.lines[self.row] = ""

    def _leave_line(self) -> None:
        if self.lines[self.row].strip():
            self.seen.append(self.lines[self.row].rstrip())

    @property
    def text(self) -> list[str]:
        return [line.rstrip() for line in self.lines if line.strip()]


def run_in_terminal(*args: str) -> Screen:
    """Run the progress driver with a pseudo-terminal as its terminal; what it drew."""
    main, child = pty.openpty()
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(COLUMNS), "LINES": str(ROWS)}
    env.pop("CNNSEARCH_PLAIN_PROGRESS", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.search.run.progress_driver", *args],
        stdin=child,
        stdout=child,
        stderr=child,
        cwd=ROOT,
        env=env,
    )
    os.close(child)
    output = b""
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        output += chunk
    os.close(main)
    assert process.wait(timeout=60) == 0, output.decode(errors="replace")
    screen = Screen(COLUMNS)
    screen.feed(output.decode())
    return screen


@pytest.fixture(scope="module")
def terminal() -> Screen:
    return run_in_terminal()


def test_the_live_display_shows_trials_elapsed_eta_best_and_the_epoch_bar(terminal):
    bars = [line for line in terminal.seen if re.search(r"\btrials\b.*━", line)]
    assert any(
        re.search(r"1/4 +\d:\d\d:\d\d +ETA \d:\d\d:\d\d +best so far 0\.7600 \(trial 0\)", line)
        for line in bars
    ), bars
    assert any(
        re.search(r"trial 1 .*━.* 1/3 .*val_accuracy 0\.5200", line) for line in terminal.seen
    )
    assert "  (start: keras-example) n_conv=6 learning_rate=0.001 activation=relu" in terminal.seen


def test_each_finished_trial_stays_on_screen_as_one_line_of_varied_params(terminal):
    screen = terminal.text
    assert screen[0] == "study driven: 0 of 4 trials finished"
    assert screen[-1] == "driven: 4 of 4 trials finished (budget met)"
    trials = screen[1:-1]
    assert [line.split()[1] for line in trials] == ["0", "1", "2", "3"]
    assert trials[0] == (
        "trial 0 complete 0.76 after 3 epochs in 0.9 s  "
        "(start: keras-example) n_conv=6 learning_rate=0.001 activation=relu"
    )
    assert trials[1].startswith("trial 1 pruned at epoch 2 (val_accuracy 0.6200, 0.6 s)  n_conv=2")
    assert trials[2].startswith("trial 2 skipped: same configuration as trial 0 (not trained)")
    assert trials[3].startswith("trial 3 stopped: its projected time was over its share of")
    assert trials[3].endswith("…") and len(trials[3]) == COLUMNS  # cropped, not wrapped
    assert all(len(line) <= COLUMNS for line in screen)
    assert not any("kernel_size" in line for line in screen)  # fixed: not shown
    assert not any("ETA" in line for line in screen)  # the live display left with the run


def test_quiet_in_a_terminal_prints_plain_outcome_lines():
    screen = run_in_terminal("--quiet")
    assert not any("━" in line for line in screen.seen)
    assert (
        screen.text[1]
        == "  trial 0 complete 0.76 after 3 epochs in 0.9 s; best so far 0.7600 (trial 0)"
    )


def test_on_a_pipe_each_trial_is_one_start_line_then_epochs_then_its_outcome():
    out = io.StringIO()
    drive(Progress(Console(file=out, width=60, highlight=False)), pause=0)
    lines = out.getvalue().splitlines()
    assert "\x1b" not in out.getvalue()
    assert lines[:6] == [
        "study driven: 0 of 4 trials finished",
        "trial 0 (1 of 4, up to 3 epochs) (start: keras-example) n_conv=6 learning_rate=0.001 "
        "activation=relu",
        "  epoch 1/3  val_accuracy 0.5600  loss 1.0000  0.0s",
        "  epoch 2/3  val_accuracy 0.6600  loss 1.0000  0.0s",
        "  epoch 3/3  val_accuracy 0.7600  loss 1.0000  0.0s",
        "  trial 0 complete 0.76 after 3 epochs in 0.0 s; best so far 0.7600 (trial 0)",
    ]
    assert (
        "  trial 2 skipped: same configuration as trial 0 (not trained); "
        "best so far 0.7600 (trial 0)"
    ) in lines


def test_quiet_on_a_pipe_prints_only_outcomes():
    out = io.StringIO()
    drive(Progress(Console(file=out, width=200), quiet=True), pause=0)
    lines = out.getvalue().splitlines()
    assert [line.split()[:2] for line in lines[1:-1]] == [["trial", str(n)] for n in range(4)]


def finished(state: TrialState, **attrs) -> optuna.trial.FrozenTrial:
    return optuna.trial.create_trial(
        state=state,
        value=0.9 if state == TrialState.COMPLETE else None,
        params={"n_conv": 3},
        distributions={"n_conv": IntDistribution(1, 10)},
        intermediate_values={1: 0.5, 2: 0.6} if attrs.get(EPOCHS_RUN_ATTR) else {},
        user_attrs=attrs,
    )


@pytest.mark.parametrize(
    "trial, words",
    [
        (finished(TrialState.COMPLETE, epochs_run=4), "complete 0.9 after 4 epochs"),
        (
            finished(TrialState.COMPLETE, epochs_run=9, continues=4),
            "complete 0.9 after 9 epochs, training on trial 4's model in the time kept for it",
        ),
        (
            finished(TrialState.PRUNED, epochs_run=0, stopped_by="deadline"),
            "stopped by the deadline in its first epoch",
        ),
        (
            finished(TrialState.PRUNED, epochs_run=2, stopped_by="deadline"),
            "stopped by the deadline at epoch 2 (val_accuracy 0.6000)",
        ),
        (
            finished(TrialState.PRUNED, epochs_run=2, stopped_by="cost"),
            "stopped: its projected time was over its share of the budget at epoch 2",
        ),
        (
            finished(TrialState.FAIL, stopped_by="max_params", fail_reason="too big"),
            "skipped: more parameters than max_params allows",
        ),
        (finished(TrialState.FAIL, duplicate_of=7), "skipped: same configuration as trial 7"),
        (
            finished(TrialState.FAIL, fail_reason="loss became NaN [x]"),
            "failed: loss became NaN [x]",
        ),
    ],
)
def test_outcomes_say_in_words_what_stopped_a_trial(trial, words):
    out = io.StringIO()
    Console(file=out, width=300).print(outcome_text(trial))
    assert words in out.getvalue()


def test_varied_params_leave_out_the_fixed_ones():
    distributions = {"n_conv": IntDistribution(2, 2), "lr": FloatDistribution(1e-4, 1e-1, log=True)}
    assert varied_params({"n_conv": 2, "lr": 0.0012345}, distributions) == "lr=0.001234"


def test_eta_follows_the_median_trial_or_the_deadline_when_it_comes_first():
    now = datetime.now(UTC).timestamp()
    assert estimated_end(10, 4, [], None) is None
    by_pace = estimated_end(10, 4, [5.0, 100.0, 10.0], None)
    assert by_pace == pytest.approx(now + 6 * 10.0, abs=5)
    soon = datetime.fromtimestamp(now + 30, UTC)
    assert estimated_end(10, 4, [10.0], soon) == soon.timestamp()
    assert estimated_end(10, 4, [], soon) == soon.timestamp()
    assert estimated_end(10, 10, [10.0], None) == pytest.approx(now, abs=5)


def started_line(budget, **attrs) -> str:
    out = io.StringIO()
    study = optuna.create_study()
    trial = study.ask({"n_conv": IntDistribution(1, 10)})
    for key, value in attrs.items():
        trial.set_user_attr(key, value)
    Progress(Console(file=out, width=60)).trial_started(trial, 3, budget, 5)
    return out.getvalue().strip()


def test_a_run_without_a_trial_limit_says_it_runs_until_the_deadline():
    assert started_line(None).startswith("trial 0 (until the deadline, up to 5 epochs) n_conv=")


def test_a_continued_trial_says_whose_model_it_trains_on():
    assert started_line(10, continues=7) == (
        "trial 0 (no new configuration, up to 5 epochs) trains trial 7's model on, "
        "in the time kept for it"
    )
