"""CLI tests for the commands that explain a study: importance, sweep, best (Pareto), evaluate,
report."""

import json

import optuna
import pytest
from typer.testing import CliRunner

from cli import app
from search.study import REPEAT
from search.vocabulary import SEED_ATTR
from testing.synthetic import build_study
from tests.conftest import SMALL_MODEL

runner = CliRunner()
SMALL = [arg for s in SMALL_MODEL for arg in ("--set", s)]


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args], terminal_width=200)


@pytest.fixture
def storage(sqlite_url, tmp_path, monkeypatch):
    monkeypatch.setenv("CNNSEARCH_STORAGE", sqlite_url)
    monkeypatch.setenv("CNNSEARCH_ARTIFACTS", str(tmp_path / "artifacts"))
    return sqlite_url


def test_importance_prints_ranking_effects_and_conclusions(storage):
    build_study(storage, n=60, pruned=4)
    result = invoke("importance", "synthetic", "--evaluator", "fanova")
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "from 60 trials (completed only; 4 pruned left out" in text
    assert "leaves out dense_units" in text
    assert "n_conv=10" in text and "s/trial" in text and "mean acc ± std" in text
    assert "- n_conv explains" in text and "of the variance" in text

    data = json.loads(invoke("importance", "synthetic", "--json", "--with-pruned").output)
    assert data["trials_used"] == 64 and list(data["importances"])[0] == "n_conv"


def test_best_prints_the_pareto_front_as_a_table(storage):
    study = build_study(storage, n=30, objectives=("accuracy", "time"))
    result = invoke("best", "synthetic")
    assert result.exit_code == 0, result.output
    assert f"Pareto front: {len(study.best_trials)} trials" in result.output
    for trial in study.best_trials:
        assert f"trial {trial.number} " in result.output


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["importance", "nope"], "no study named 'nope'"),
        (["importance", "synthetic", "--evaluator", "shap"], "Invalid value for '--evaluator'"),
        (["report", "nope", "--out", "r.html"], "no study named 'nope'"),
        (["report", "synthetic", "--out", "/no/such/dir/r.html"], "cannot write there"),
        (["report", "synthetic", "--out", "/proc/x.html"], "cannot write there"),
        (["report", "synthetic", "--out", "r.pdf"], "end it in .html or .md"),
        (["evaluate", "nope"], "no study named 'nope'"),
        (["evaluate", "synthetic", "--trial", 999], "trial 999 of 'synthetic' is missing"),
        (["sweep", "digits", "--vary", "depth=1..3"], "has no dimension 'depth'"),
        (["sweep", "digits", "--vary", "n_conv=1..3", "--set", "n_conv=2"], "conflict"),
        (["sweep", "digits", "--vary", "n_conv=1,2", "--repeats", 0], "--repeats must be"),
        (
            ["optimize", "digits", "--objectives", "accuracy,time", "--pruner", "hyperband"],
            "Optuna cannot prune multi-objective studies",
        ),
    ],
)
def test_bad_input_exits_2_with_one_clear_line(storage, args, fragment):
    build_study(storage, n=12)
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    assert fragment in " ".join(result.output.split())
    assert "Traceback" not in result.output


def test_too_few_trials_for_importance_names_the_minimum(storage):
    build_study(storage, n=3)
    result = invoke("importance", "synthetic")
    assert result.exit_code == 2
    assert "importance needs at least 10 trials" in " ".join(result.output.split())


@pytest.mark.slow
def test_sweep_runs_the_grid_with_seeded_repeats_and_prints_the_lab_table(storage):
    result = invoke(
        "sweep",
        "digits",
        "--vary",
        "n_conv=1..2",
        "--repeats",
        2,
        "--epochs",
        1,
        "--train-size",
        200,
        "--set",
        "filters=8",
        "--set",
        "batch_size=64",
        "-q",
    )
    assert result.exit_code == 0, result.output
    assert "digits-sweep-n_conv" in result.output and "mean ± std" in result.output
    study = optuna.load_study(study_name="digits-sweep-n_conv", storage=storage)
    trials = study.get_trials(states=(optuna.trial.TrialState.COMPLETE,))
    grid = sorted((t.params["n_conv"], t.params[REPEAT]) for t in trials)
    assert grid == [(1, 0), (1, 1), (2, 0), (2, 1)]
    assert {t.params["filters"] for t in trials} == {8}
    assert all(t.user_attrs[SEED_ATTR] == t.params[REPEAT] for t in trials)


@pytest.mark.slow
def test_evaluate_prints_per_class_metrics_and_the_report_shows_them(storage, tmp_path):
    result = invoke(
        "optimize",
        "digits",
        "--trials",
        2,
        "--epochs",
        2,
        "--train-size",
        300,
        "--seed",
        1,
        "-q",
        *SMALL,
    )
    assert result.exit_code == 0, result.output

    result = invoke("evaluate", "digits-convnet")
    assert result.exit_code == 0, result.output
    assert "(saved model): test accuracy" in result.output
    assert "precision" in result.output and "recall" in result.output
    assert "confusion matrix" in result.output
    for digit in range(10):
        assert f"\n           {digit} " in result.output  # one report line per class

    data = json.loads(invoke("evaluate", "digits-convnet", "--trial", 0, "--json").output)
    assert sum(map(sum, data["confusion"])) == data["test_images"] == 360
    assert set(data["per_class"]) == {str(d) for d in range(10)}

    out = tmp_path / "r.md"
    assert invoke("report", "digits-convnet", "--out", out).exit_code == 0
    assert "Trial 0 (" in out.read_text() and "| 9 |" in out.read_text()
