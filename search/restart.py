"""A worker replaces itself with a fresh `cli.py worker` process when its memory has grown.

TensorFlow keeps about 4 MB per `model.fit` for the life of the process, even after
`keras.backend.clear_session()` and `gc.collect()` (measured with a plain Keras loop), so a worker
running hundreds of trials grows without bound. Between trials, a worker whose resident memory
has grown past a limit since its first trial execs `cli.py worker STUDY`: the same PID, a fresh
interpreter, and the study resumes from its stored config, budget and deadline.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

from errors import UsageError

CLI = Path(__file__).resolve().parents[1] / "cli.py"
LIMIT_ENV = "CNNSEARCH_RESTART_MB"
DEFAULT_LIMIT_MB = 100.0


def worker_command(study: str, storage_url: str, artifacts: str, quiet: bool) -> list[str]:
    """The command line that joins `study` as one more worker."""
    return [
        sys.executable,
        str(CLI),
        "worker",
        study,
        "--storage",
        storage_url,
        "--artifacts",
        artifacts,
        *(["-q"] if quiet else []),
    ]


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
        command: list[str],
        say: Callable[[str], None],
        limit: float | None = None,
        memory: Callable[[], float] = rss_mb,
        execv: Callable[[str, list[str]], None] = os.execv,
    ) -> None:
        self.command, self.say = command, say
        self.limit = limit_mb() if limit is None else limit
        self.memory, self.execv = memory, execv
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
            self.execv(self.command[0], self.command)
