"""A worker replaces itself with a fresh `cli.py worker` process when its memory has grown.

TensorFlow keeps about 4 MB per `model.fit` for the life of the process, even after
`keras.backend.clear_session()` and `gc.collect()` (measured with a plain Keras loop), so a worker
running hundreds of trials grows without bound. Between trials, a worker whose resident memory
has grown past a limit since its first trial execs `cli.py worker STUDY`: the same PID, a fresh
interpreter, and the study resumes from its stored config, budget and deadline. The new process
inherits the environment, so it keeps the GPU its slot chose (`CUDA_VISIBLE_DEVICES`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from errors import UsageError
from search.run.stopping import raise_if_stop_requested
from storage import STORAGE_ENV

CLI = Path(__file__).resolve().parents[2] / "cli.py"
LIMIT_ENV = "CNNSEARCH_RESTART_MB"
# Set in the fresh process: it waits for a database that is down at that moment, as the worker
# it replaces would have (a user's own mistyped URL, at a first start, fails at once instead).
RESTARTED_ENV = "CNNSEARCH_RESTARTED"
DEFAULT_LIMIT_MB = 100.0


@dataclass(frozen=True)
class WorkerCommand:
    """A `cli.py worker` process: its argv, and what it adds to the environment it starts in.

    The storage URL travels in the environment (`$CNNSEARCH_STORAGE`, which `--storage` reads):
    every user on the machine can read a process's argv (`ps`, `/proc/PID/cmdline`), only its
    owner its environment.
    """

    argv: list[str]
    env: dict[str, str]

    def environment(self, base: Mapping[str, str]) -> dict[str, str]:
        """`base` with this command's additions."""
        return {**base, **self.env}


def worker_command(study: str, storage_url: str, artifacts: str, quiet: bool) -> WorkerCommand:
    """The process that joins `study` as one more worker, with the same storage and artifacts."""
    argv = [sys.executable, str(CLI), "worker", study, "--artifacts", artifacts]
    return WorkerCommand(argv + (["-q"] if quiet else []), {STORAGE_ENV: storage_url})


def rss_mb() -> float:
    """This process's resident memory in MB (Linux /proc; 0 where there is none)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def limit_mb() -> float:
    """The growth allowed before a restart, from `$CNNSEARCH_RESTART_MB`; 0 turns restarts off."""
    text = os.environ.get(LIMIT_ENV, str(DEFAULT_LIMIT_MB))
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0:
        raise UsageError(
            f"{LIMIT_ENV}={text!r}: give the memory growth in MB after which a worker restarts, "
            f"like {DEFAULT_LIMIT_MB:g}, or 0 to never restart"
        )
    return value


class Restarter:
    """Call between trials: execs `command` once memory has grown by more than `limit` MB since
    the first call, which should come after the process's first trial (TensorFlow's own start-up
    memory is not growth)."""

    def __init__(
        self,
        command: WorkerCommand,
        say: Callable[[str], None],
        limit: float | None = None,
        memory: Callable[[], float] = rss_mb,
        execve: Callable[[str, list[str], dict[str, str]], None] = os.execve,
    ) -> None:
        self.command, self.say = command, say
        self.limit = limit_mb() if limit is None else limit
        self.memory, self.execve = memory, execve
        self.baseline: float | None = None

    def __call__(self) -> None:
        rss = self.memory()
        if self.baseline is None:
            self.baseline = rss
            return
        grown = rss - self.baseline
        if self.limit and grown > self.limit:
            self.say(
                f"restarting this worker: it grew {grown:.0f} MB since its first trial "
                f"(over {LIMIT_ENV}={self.limit:g}), memory TensorFlow does not give back"
            )
            sys.stdout.flush()
            sys.stderr.flush()
            argv = self.command.argv
            env = {**self.command.environment(os.environ), RESTARTED_ENV: "1"}
            raise_if_stop_requested()  # the new process would not know a stop was asked for
            self.execve(argv[0], argv, env)
