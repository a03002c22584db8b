"""The whole path on Keras' JAX backend, for GPU machines that carry JAX but no TensorFlow.

One JAX process runs `optimize` and then `evaluate` as the CLI runs them, then trains a model
with the default augmentation (the `resnet-small` start's shifts and flips) compiled with XLA,
which Keras would silently not compile if a layer could not be."""

import json
import os
import subprocess
import sys
from pathlib import Path

import optuna
import pytest

from search.vocabulary import BACKEND_ATTR
from tests.conftest import SMALL_MODEL

ROOT = Path(__file__).resolve().parents[1]
EVALUATED = "--- evaluated ---"
ON_JAX = f"""
import json
import sys
import cli


def run_cli(*args):
    sys.argv = ["cli.py", *args]
    try:
        cli.main()
    except SystemExit as exit_:
        return exit_.code or 0
    return 0


optimize, evaluate = map(json.loads, sys.argv[1:])
print("optimize exit", run_cli(*optimize), flush=True)
print({EVALUATED!r}, flush=True)
print("evaluate exit", run_cli(*evaluate), flush=True)
print({EVALUATED!r}, flush=True)

import numpy as np
from spaces.build import build_model, compile_model
from spaces.spec import ConvLayer, ModelSpec, TrainSpec
from tests.spaces.test_augmentation import resnet_small_spec

# the augmentation layers are what XLA might refuse; one conv layer under them keeps the compile
# short (the whole resnet took three times as long)
augmentation = resnet_small_spec().model.augmentation
spec = ModelSpec((ConvLayer(8, 3, pool_after=True),), augmentation=augmentation)
model = build_model(spec, (16, 16, 1), 10)
compile_model(model, TrainSpec(schedule="cosine"), jit_compile=True, steps_per_epoch=1, epochs=1)
x = np.random.default_rng(0).integers(0, 256, (64, 16, 16, 1), dtype=np.uint8)
model.fit(x, np.arange(64) % 10, batch_size=32, epochs=1, verbose=0)
assert model.jit_compile is True
print("compiled", flush=True)
"""


@pytest.mark.slow
def test_optimize_evaluate_and_the_default_augmentation_compiled_run_on_jax(sqlite_url, tmp_path):
    pytest.importorskip("jax")
    env = {**os.environ, "KERAS_BACKEND": "jax"}
    common = ["--storage", sqlite_url, "--artifacts", str(tmp_path / "artifacts")]
    sets = [arg for s in SMALL_MODEL for arg in ("--set", s)]
    optimize = ["optimize", "digits", "--trials", "2", "--epochs", "1", "--train-size", "300"]
    optimize += ["-q", *sets, *common]
    evaluate = ["evaluate", "digits-convnet", "--json", *common]
    run = subprocess.run(
        [sys.executable, "-c", ON_JAX, json.dumps(optimize), json.dumps(evaluate)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    searched, evaluated, trained = run.stdout.split(EVALUATED + "\n")
    assert searched.rstrip().endswith("optimize exit 0"), searched[-2000:]
    trials = optuna.load_study(study_name="digits-convnet", storage=sqlite_url).trials
    assert [t.state.name for t in trials] == ["COMPLETE", "COMPLETE"]
    assert {t.user_attrs[BACKEND_ATTR] for t in trials} == {"jax"}

    report, exit_line = evaluated.rstrip().rsplit("\n", 1)
    assert exit_line == "evaluate exit 0", evaluated[-2000:]
    result = json.loads(report)
    assert result["model_source"] == "saved model" and result["test_images"] == 360

    assert trained.strip() == "compiled"
    assert "support `jit_compile" not in run.stderr
