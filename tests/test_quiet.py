"""TensorFlow's and absl's log lines stay off the terminal unless CNNSEARCH_DEBUG asks for
them: start-up notices written below Python, and the tf.function retracing warnings."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SMALL_MODEL

ROOT = Path(__file__).resolve().parents[1]
# absl's pre-init warning, glog/absl-formatted lines (I0000 00:00:… file.cc:12]), TensorFlow's
# Python logger, and the notices TensorFlow prints at start-up.
LOG_LINE = re.compile(
    r"absl|^[IWEF]\d{4} [\d:. ]+\d+ \S+:\d+\]|^WARNING:tensorflow|tensorflow|oneDNN|"
    r"cpu_feature_guard|cuda|retracing|rebuild TensorFlow",
    re.IGNORECASE,
)
# Seven small models, each trained and asked to predict: Keras' per-model tf.functions make
# TensorFlow warn about retracing from the fifth on, as a search's trials do.
TRAIN_SEVEN_MODELS = """
import sys
sys.path.insert(0, {root!r})
from search.quiet import quiet_tensorflow
quiet_tensorflow()
import keras, numpy as np
x, y = np.random.rand(64, 8, 8, 1).astype("float32"), np.arange(64) % 10
for i in range(7):
    model = keras.Sequential([
        keras.Input((8, 8, 1)), keras.layers.Conv2D(4, 3), keras.layers.GlobalMaxPooling2D(),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=1, batch_size=32, verbose=0, validation_data=(x, y))
    model.predict(x[: i + 1], verbose=0)
print("trained")
"""


def user_environment(**extra: str) -> dict[str, str]:
    """The environment of a user who set nothing (the tests' conftest sets the log level)."""
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL",)}
    env.pop("CNNSEARCH_DEBUG", None)
    return {**env, "KERAS_BACKEND": "tensorflow", **extra}


def log_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if LOG_LINE.search(line)]


def train(**env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", TRAIN_SEVEN_MODELS.format(root=str(ROOT))],
        capture_output=True,
        text=True,
        env=user_environment(**env),
        timeout=300,
    )


@pytest.mark.slow
def test_training_after_quiet_tensorflow_prints_no_tensorflow_line():
    result = train()
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "trained"
    assert log_lines(result.stderr) == []


@pytest.mark.slow
def test_the_debug_switch_shows_them_again():
    result = train(CNNSEARCH_DEBUG="1")
    assert result.returncode == 0, result.stderr
    assert any("retracing" in line for line in log_lines(result.stderr)), result.stderr


def first_search(tmp_path, storage: str) -> subprocess.CompletedProcess:
    """A one-trial search of digits on `storage`, run as a user runs it."""
    sets = [arg for s in SMALL_MODEL for arg in ("--set", s)]
    return subprocess.run(
        [
            *(sys.executable, "cli.py", "optimize", "digits", "--trials", "1", "--epochs", "1"),
            *("--train-size", "200", "--storage", storage),
            *("--artifacts", str(tmp_path / "artifacts"), "--gpus", "none", *sets),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=user_environment(),
        timeout=300,
    )


@pytest.mark.slow
def test_a_first_search_prints_no_tensorflow_line_nor_the_journals_experimental_warning(tmp_path):
    # One search for both: TensorFlow's lines do not depend on the storage, and Optuna calls the
    # journal's heartbeat retries experimental, which cnnsearch chose knowingly.
    result = first_search(tmp_path, f"journal://{tmp_path / 'study.log'}")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 of 1 trials finished" in result.stdout
    assert log_lines(result.stderr) == []
    assert "ExperimentalWarning" not in result.stderr
