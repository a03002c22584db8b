"""One worker process per GPU slot: which GPUs, and the environment each worker gets."""

from __future__ import annotations

import os
import shutil
import subprocess

from errors import UsageError
from search.restart import worker_command


def detect_gpus() -> list[str]:
    """GPU indices `nvidia-smi -L` lists (none when it is missing); no framework is imported."""
    if shutil.which("nvidia-smi") is None:
        return []
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return []
    return [str(i) for i, line in enumerate(out.stdout.splitlines()) if line.startswith("GPU ")]


def parse_gpus(text: str) -> list[str]:
    """`all`, `none` or a comma list of indices, as GPU indices."""
    if text == "all":
        return detect_gpus()
    if text == "none":
        return []
    ids = [part.strip() for part in text.split(",")]
    if not all(i.isdigit() for i in ids):
        raise UsageError(f"--gpus {text!r}: use all, none or indices like 0,1")
    return ids


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
            "CUDA_VISIBLE_DEVICES": gpu,
            "TF_FORCE_GPU_ALLOW_GROWTH": "true",
            "XLA_PYTHON_CLIENT_PREALLOCATE": "false",
        }
        for gpu in gpus
        for _ in range(per_gpu)
    ]


def run_gpu_workers(
    study: str, storage_url: str, artifacts: str, envs: list[dict[str, str]], quiet: bool
) -> int:
    """Start `python cli.py worker STUDY` once per environment and wait for all; returns the
    worst exit code. Ctrl-C reaches the workers too (same process group); we wait for them to
    record their trials."""
    command = worker_command(study, storage_url, artifacts, quiet)
    processes = [subprocess.Popen(command, env=env) for env in envs]
    try:
        return max(p.wait() for p in processes)
    except KeyboardInterrupt:
        for p in processes:
            p.wait()
        raise


def base_environment() -> dict[str, str]:
    return dict(os.environ)
