import json
from pathlib import Path

import optuna
import pytest
from typer.testing import CliRunner

from cli import app
from search.config import SearchConfig
from search.study import open_study
from storage import open_storage
from tests.conftest import SMALL_MODEL

runner = CliRunner()
SMALL = [arg for s in SMALL_MODEL for arg in ("--set", s)]


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture
def storage(sqlite_url, tmp_path, monkeypatch):
    monkeypatch.setenv("CNNSEARCH_STORAGE", sqlite_url)
    monkeypatch.setenv("CNNSEARCH_ARTIFACTS", str(tmp_path / "artifacts"))
    return sqlite_url


@pytest.mark.slow
def test_optimize_then_resume_then_studies_and_best(storage, tmp_path):
    result = invoke(
        "optimize", "digits", "--trials", 3, "--epochs", 2, "--train-size", 300, "--seed", 1, *SMALL
    )
    assert result.exit_code == 0, result.output
    assert "trial 0 (1 of 3" in result.output and "epoch 2/2" in result.output
    assert "3 of 3 trials finished (budget met)" in result.output
    first = optuna.load_study(study_name="digits-convnet", storage=storage).trials[0]
    # The first starting point where --set allows it: learning_rate 1e-3, relu; filters sampled.
    assert first.params["learning_rate"] == 1e-3 and first.params["activation"] == "relu"
    assert 8 <= first.params["filters"] <= 16

    result = invoke(
        "optimize", "digits", "--trials", 4, "--epochs", 2, "--train-size", 300, "--seed", 1, *SMALL
    )
    assert result.exit_code == 0, result.output
    assert "3 of 4 trials finished" in result.output and "trial 3 (4 of 4" in result.output

    studies = json.loads(invoke("studies", "--json").output)
    assert studies[0]["study"] == "digits-convnet" and studies[0]["dataset"] == "digits"
    assert sum(studies[0]["states"].values()) == 4

    best = json.loads(invoke("best", "digits-convnet", "--json").output)
    assert 0 <= best[0]["values"]["accuracy"] <= 1 and "n_conv" in best[0]["params"]
    assert Path(best[0]["model"]).parent == tmp_path / "artifacts"  # the saved model's path

    exported = invoke("export", "digits-convnet", "--out", tmp_path / "best.keras")
    assert exported.exit_code == 0, exported.output
    import keras

    model = keras.models.load_model(tmp_path / "best.keras")  # the model as it predicts
    assert model.output_shape == (None, 10) and not model.compiled
    refused = invoke("export", "digits-convnet", "--out", tmp_path / "best.h5")
    assert refused.exit_code == 2 and ".keras" in refused.output


def test_mismatching_config_is_refused_with_the_difference(storage):
    assert (
        invoke("optimize", "digits", "--trials", 1, "--epochs", 1, "--timeout", 0.001).exit_code
        == 0
    )
    result = invoke("optimize", "digits", "--trials", 1, "--epochs", 3)
    assert result.exit_code == 2
    assert "epochs is 1 in the study but 3 here" in result.output


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["optimize", "imagenet"], "unknown dataset 'imagenet'"),
        (["optimize", "digits", "--set", "n_conv=12"], "outside n_conv's range"),
        (["optimize", "digits", "--trials", "0"], "--trials must be at least 1"),
        (["optimize", "digits", "--train-size", "100000"], "is larger than digits's"),
        (["optimize", "digits", "--sampler", "grid"], "Invalid value for '--sampler'"),
        (["best", "nope"], "no database at"),  # read-only: a mistyped path creates nothing
        (["optimize", "digits", "--storage", "oracle://x"], "unsupported storage URL"),
    ],
)
def test_bad_input_exits_2_with_one_clear_line(storage, args, fragment):
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    assert fragment in " ".join(result.output.split())
    assert "Traceback" not in result.output


@pytest.mark.slow
def test_worker_joins_with_only_the_study_name(storage):
    created = invoke(
        "optimize",
        "digits",
        "--trials",
        1,
        "--epochs",
        1,
        "--train-size",
        200,
        "--gpus",
        "none",
        *SMALL,
    )
    assert created.exit_code == 0, created.output
    raised = SearchConfig("digits", trials=2, epochs=1, train_size=200, sets=SMALL_MODEL)
    open_study(raised, open_storage(storage))  # what `optimize --trials 2` stores, untrained
    joined = invoke("worker", "digits-convnet", "--gpus", "none")
    assert joined.exit_code == 0, joined.output
    assert "joining digits-convnet: 1 of 2 trials finished" in joined.output
    assert "2 of 2 trials finished (budget met)" in joined.output


def test_worker_on_an_unknown_study_names_the_known_ones(storage):
    result = invoke("worker", "nope")
    assert result.exit_code == 2
    assert "no study named 'nope'" in result.output
