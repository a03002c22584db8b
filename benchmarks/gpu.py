"""Benchmark 7: trials per GPU-hour on CIFAR-shaped data with 1, 2 and 4 trials per GPU, and
the effect of mixed precision and XLA, each against one trial per GPU in float32 with XLA.

    KERAS_BACKEND=jax python -m benchmarks.gpu [--trials 16] [--epochs 2] [--train-size 20000]

Needs an NVIDIA GPU (Keras on JAX where TensorFlow is absent); `--allow-cpu` runs the same
commands on the CPU as a check of the path, and its row says that no GPU was measured. The data
are random images of CIFAR-10's shape written in its python-tarball format into a temporary
KERAS_HOME, so the real loader reads them (accuracy stays at chance; throughput is the measure).
Every trial trains the convnet reference model, so settings differ only in how they run it.
Throughput counts from the first trial's start to the last one's end, leaving out process start
and data loading.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import optuna

from benchmarks.common import append_row, description
from search.run.gpus import detect_gpus
from spaces import convnet, reference_params
from testing.upstream_files import write_cifar_tarball

ROOT = Path(__file__).resolve().parents[1]
BENCHMARK = "7 GPU: trials per GPU-hour, mixed precision, XLA"
GOAL = "trials/GPU-hour at 1, 2, 4 per GPU; mixed precision and XLA against float32 with XLA"
SETTINGS = [  # label, trials per GPU, environment
    ("1 per GPU", 1, {}),
    ("2 per GPU", 2, {}),
    ("4 per GPU", 4, {}),
    ("1 per GPU, mixed precision", 1, {"CNNSEARCH_PRECISION": "mixed"}),
    ("1 per GPU, XLA off", 1, {"CNNSEARCH_XLA": "off"}),
]


def trials_per_gpu_hour(
    tmp: str, index: int, per_gpu: int, env: dict[str, str], args: argparse.Namespace, gpus: int
) -> float:
    study, storage = f"gpu-{index}", f"sqlite:///{tmp}/gpu.db"
    sets = [f"--set={name}={value}" for name, value in reference_params(convnet).items()]
    command = [
        sys.executable, "cli.py", "optimize", "cifar10", "--study", study,
        "--trials", str(args.trials), "--epochs", str(args.epochs), "--pruner", "none",
        "--train-size", str(args.train_size), "--storage", storage, "--artifacts", f"{tmp}/art",
        "--gpus", "all" if gpus else "none", "--trials-per-gpu", str(per_gpu), "-q", *sets,
    ]  # fmt: skip
    subprocess.run(command, cwd=ROOT, env={**os.environ, **env}, check=True)
    trials = optuna.load_study(study_name=study, storage=storage).trials
    span = max(t.datetime_complete for t in trials) - min(t.datetime_start for t in trials)
    return len(trials) / (span.total_seconds() / 3600) / max(gpus, 1)


def gpu_name() -> str:
    listing = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True).stdout
    return listing.splitlines()[0].split(":", 1)[1].split("(UUID")[0].strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=description(__doc__))
    parser.add_argument("--trials", type=int, default=16)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--train-size", type=int, default=20000)
    parser.add_argument(
        "--allow-cpu", action="store_true", help="without a GPU, check the path on the CPU"
    )
    args = parser.parse_args()
    gpus = len(detect_gpus())
    if not gpus and not args.allow_cpu:
        raise SystemExit("benchmark 7 needs an NVIDIA GPU (nvidia-smi lists none here)")

    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    # Keras on JAX always compiles with XLA (search.run.hardware.use_xla): no setting turns it off.
    settings = [s for s in SETTINGS if backend != "jax" or "CNNSEARCH_XLA" not in s[2]]
    with tempfile.TemporaryDirectory() as tmp:
        datasets = Path(tmp, "keras", "datasets")
        datasets.mkdir(parents=True)
        write_cifar_tarball(datasets / "cifar-10-python.tar.gz", per_batch=10_000)
        os.environ["KERAS_HOME"] = str(datasets.parent)
        rates = {
            label: trials_per_gpu_hour(tmp, i, per_gpu, env, args, gpus)
            for i, (label, per_gpu, env) in enumerate(settings)
        }
    base = rates[SETTINGS[0][0]]
    figures = (
        f"{args.trials} trials of the convnet reference model, {args.epochs} epochs on "
        f"{args.train_size} CIFAR-shaped images, {gpus}× {gpu_name() if gpus else 'no GPU'}, "
        f"Keras on {backend}{' (always XLA)' if backend == 'jax' else ''}: "
        + "; ".join(
            f"{label} {rate:.0f} trials/GPU-hour (×{rate / base:.2f})"
            for label, rate in rates.items()
        )
    )
    if gpus:
        append_row(BENCHMARK, figures, GOAL, None, "measured")
    else:
        append_row(
            BENCHMARK,
            f"path checked on the CPU, no GPU measured: {figures}",
            GOAL,
            None,
            "no NVIDIA GPU on this machine; run this command where one is",
        )


if __name__ == "__main__":
    main()
