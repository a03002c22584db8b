"""One worker process per GPU slot: which GPUs, the environment each worker gets, and running
the workers as one command: their failures and signals are the command's."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import threading
from types import FrameType

from errors import RunError, UsageError
from search.run.progress import PLAIN_ENV
from search.run.restart import worker_command

VISIBLE_ENV = "CUDA_VISIBLE_DEVICES"
FORWARDED_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def detect_gpus() -> list[str]:
    """The GPUs this process may use, as `CUDA_VISIBLE_DEVICES` names them: the list it holds
    when it is set (so a worker started for one slot sees one GPU and starts no workers of its
    own), else the indices `nvidia-smi -L` lists (none when it is missing). Imports no framework.
    """
    visible = os.environ.get(VISIBLE_ENV)
    if visible is not None:
        return visible_gpus(visible)
    if shutil.which("nvidia-smi") is None:
        return []
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return []
    return [str(i) for i, line in enumerate(out.stdout.splitlines()) if line.startswith("GPU ")]


def visible_gpus(text: str) -> list[str]:
    """CUDA's reading of a `CUDA_VISIBLE_DEVICES` value: the devices listed up to the first
    invalid one, so "" and "-1" hide every GPU."""
    gpus = []
    for part in text.split(","):
        part = part.strip()
        if not part or part.startswith("-"):
            break
        gpus.append(part)
    return gpus


def parse_gpus(text: str) -> list[str]:
    """`all`, `none` or a comma list of indices, as values for `CUDA_VISIBLE_DEVICES`.

    `none` also hides every GPU from this process and the ones it starts: it sets
    `CUDA_VISIBLE_DEVICES` to "" (call it before a framework first uses the GPU). Where
    `CUDA_VISIBLE_DEVICES` is already set, indices count among the GPUs it shows, as the
    frameworks count them.
    """
    if text == "all":
        return detect_gpus()
    if text == "none":
        os.environ[VISIBLE_ENV] = ""
        return []
    ids = [part.strip() for part in text.split(",")]
    if not all(i.isdigit() for i in ids):
        raise UsageError(f"--gpus {text!r}: use all, none or indices like 0,1")
    visible = os.environ.get(VISIBLE_ENV)
    if visible is None:
        return ids
    shown = visible_gpus(visible)
    if any(int(i) >= len(shown) for i in ids):
        raise UsageError(
            f"--gpus {text}: {VISIBLE_ENV}={visible!r} shows {len(shown)} GPU(s), and --gpus "
            f"counts among those; use indices below {len(shown)}, all, or none"
        )
    return [shown[int(i)] for i in ids]


def worker_environments(
    gpus: list[str], per_gpu: int, base: dict[str, str]
) -> list[dict[str, str]]:
    """One environment per worker slot: K slots per GPU, each seeing only its GPU, with memory
    growth on so that K small trials share it."""
    if per_gpu < 1:
        raise UsageError(f"--trials-per-gpu must be at least 1, got {per_gpu}")
    return [
        {
            **base,
            VISIBLE_ENV: gpu,
            "TF_FORCE_GPU_ALLOW_GROWTH": "true",
            "XLA_PYTHON_CLIENT_PREALLOCATE": "false",
        }
        for gpu in gpus
        for _ in range(per_gpu)
    ]


def run_gpu_workers(
    study: str, storage_url: str, artifacts: str, envs: list[dict[str, str]], quiet: bool
) -> None:
    """Run `python cli.py worker STUDY` once per environment and wait for every one.

    The workers get the storage URL in their environment, never in their argv. They run in
    their own process group, so a Ctrl-C at the terminal reaches this process alone, which
    passes it (or a SIGTERM) on to each worker once and waits while they record their trials.

    Raises:
        KeyboardInterrupt: SIGINT or SIGTERM came; every worker has stopped.
        RunError: a worker exited with a non-zero code; the message names its slot and code.
    """
    command = worker_command(study, storage_url, artifacts, quiet)
    with _SignalsForwarded() as forwarded:
        for env in envs:
            if forwarded.received is not None:
                break
            forwarded.add(
                subprocess.Popen(
                    command.argv,
                    # several live displays on one terminal would overwrite each other
                    env={**command.environment(env), PLAIN_ENV: "1"},
                    start_new_session=forwarded.active,
                )
            )
        codes = [worker.wait() for worker in forwarded.workers]
    if forwarded.received is not None:
        raise KeyboardInterrupt
    failures = [
        f"the worker of slot {slot} ({VISIBLE_ENV}={env[VISIBLE_ENV]}) {_exit_text(code)}"
        for slot, (env, code) in enumerate(zip(envs, codes, strict=False))
        if code != 0
    ]
    if failures:
        raise RunError("; ".join(failures) + "; its error is printed above")


def base_environment() -> dict[str, str]:
    return dict(os.environ)


def _exit_text(code: int) -> str:
    if code < 0:
        return f"was killed by {signal.Signals(-code).name}"
    return f"exited with code {code}"


class _SignalsForwarded:
    """While active, SIGINT and SIGTERM go on to the workers instead of stopping this process;
    `received` is the last one that came. Only the main thread can take signals, so elsewhere
    the workers stay in this process's group and get the terminal's Ctrl-C themselves."""

    def __init__(self) -> None:
        self.workers: list[subprocess.Popen] = []
        self.received: int | None = None
        self.active = threading.current_thread() is threading.main_thread()
        self._previous: dict[int, object] = {}

    def __enter__(self) -> _SignalsForwarded:
        if self.active:
            for signum in FORWARDED_SIGNALS:
                self._previous[signum] = signal.signal(signum, self._forward)
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)

    def add(self, worker: subprocess.Popen) -> None:
        self.workers.append(worker)
        if self.received is not None:  # it came while the worker was starting
            self._send(worker, self.received)

    def _forward(self, signum: int, frame: FrameType | None) -> None:
        self.received = signum
        for worker in self.workers:
            self._send(worker, signum)

    @staticmethod
    def _send(worker: subprocess.Popen, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            worker.send_signal(signum)
