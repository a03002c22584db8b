"""The whole path on Keras' JAX backend, for GPU machines that carry JAX but no TensorFlow."""

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


@pytest.mark.slow
def test_optimize_and_evaluate_run_on_jax(sqlite_url, tmp_path):
    pytest.importorskip("jax")
    env = {**os.environ, "KERAS_BACKEND": "jax"}
    common = ["--storage", sqlite_url, "--artifacts", str(tmp_path / "artifacts")]
    sets = [arg for s in SMALL_MODEL for arg in ("--set", s)]
    optimize = [sys.executable, "cli.py", "optimize", "digits", "--trials", "2", "--epochs", "1"]
    run = subprocess.run(
        [*optimize, "--train-size", "300", "-q", *sets, *common],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    trials = optuna.load_study(study_name="digits-convnet", storage=sqlite_url).trials
    assert [t.state.name for t in trials] == ["COMPLETE", "COMPLETE"]
    assert {t.user_attrs[BACKEND_ATTR] for t in trials} == {"jax"}

    evaluate = subprocess.run(
        [sys.executable, "cli.py", "evaluate", "digits-convnet", "--json", *common],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert evaluate.returncode == 0, evaluate.stderr[-2000:]
    result = json.loads(evaluate.stdout)
    assert result["model_source"] == "saved model" and result["test_images"] == 360
