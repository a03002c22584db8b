"""The 15-minute race (benchmarks/vs_autokeras.py) and its best-start arm: the start's command
line, the choice of start from earlier cnnsearch runs, the order runs start in, the verdict and
plot on made-up results, and one real run of the arm on `digits`."""

import argparse
import io
import json
import subprocess
import sys
from pathlib import Path

import optuna
import pytest

from benchmarks import arms, common, vs_autokeras
from search.config import SearchConfig
from spaces import convnet
from spaces.starts import start_params

ROOT = Path(__file__).resolve().parents[2]


def arm_args(**changes) -> argparse.Namespace:
    values = dict(arm=arms.BEST_START, seed=1, budget=900.0, trials=0, epochs=None)
    values |= dict(train_size=15000, val_fraction=0.3334, dataset="fashion_mnist", start=None)
    return argparse.Namespace(**values | changes)


@pytest.mark.parametrize("dataset, n_train", [("fashion_mnist", 9999), ("digits", 1000)])
@pytest.mark.parametrize("start", convnet.STARTS, ids=lambda s: s.name)
def test_a_starts_sets_pin_every_value_it_trains_with(start, dataset, n_train):
    sets = arms.start_sets(start.name, dataset, n_train)
    config = SearchConfig(dataset, sets=tuple(sets), sampler_only=True)  # --set takes them all
    asked = []
    for seed in (0, 1):  # two samplers, nothing left to either of them
        sampler = optuna.samplers.RandomSampler(seed=seed)
        trial = optuna.create_study(sampler=sampler).ask()
        convnet.suggest_spec(trial, config.bounds)
        asked.append(trial.params)
    assert asked[0] == asked[1]
    wanted = start_params(start, convnet.DIMENSIONS, SearchConfig(dataset).bounds, n_train)
    assert asked[0] | wanted == asked[0]  # the start's every value, read back exactly


def test_the_arms_command_line_trains_one_trial_of_the_start():
    sets = arms.start_sets("resnet-small", "fashion_mnist", 9999)
    options = arms.cnnsearch_options(arm_args(trials=50), sets)
    assert options.startswith("--train-size 15000 --val-fraction 0.3334 --timeout 900 --trials 1 ")
    assert "--seed 1 --sampler-only --set n_conv=6 " in options
    for value in ("batch_norm=true", "learning_rate=0.002", "augment_flip=true", "head=global"):
        assert f"--set {value}" in options
    assert "dense_units" not in options  # no dense layers: the conditional dimension is absent
    assert "--set" not in arms.cnnsearch_options(arm_args(arm="cnnsearch"))
    with pytest.raises(ValueError, match="no start 'nope'"):
        arms.start_sets("nope", "digits", 1000)


def cnnsearch_run(seed: int, scored: list[tuple[float | None, str | None]]) -> dict:
    """A cnnsearch result as its arm reports it: a trial every 60 seconds."""
    curve = [[60.0 * (i + 1), value] for i, (value, _) in enumerate(scored)]
    return {"seed": seed, "curve": curve, "proposals": [p for _, p in scored]}


def test_the_best_start_is_the_most_accurate_start_trial_of_the_runs():
    runs = [
        cnnsearch_run(0, [(0.88, "start: keras-example"), (0.90, "start: vgg-bn")]),
        cnnsearch_run(1, [(0.89, "start: keras-example"), (None, "start: resnet-small")]),
        cnnsearch_run(2, [(0.91, "start: fashion-lab"), (0.95, "greedy: trial 0 with new depth")]),
    ]
    assert (
        arms.best_start(runs) == "fashion-lab"
    )  # a greedy step is no start; a pruned one scores not
    assert arms.best_start(runs[:2]) == "vgg-bn"
    assert arms.best_start([cnnsearch_run(0, [(None, "start: vgg-bn")]), {"error": "x"}]) is None


def test_runs_that_cannot_pick_a_start_are_refused_before_any_runs():
    assert arms.order_error([("cnnsearch", 0), (arms.BEST_START, 0)], None) is None
    assert arms.order_error([(arms.BEST_START, 0), ("cnnsearch", 0)], None) == arms.NO_START
    assert arms.order_error([(arms.BEST_START, 0)], "vgg-bn") is None
    assert "choose one of keras-example" in arms.order_error([(arms.BEST_START, 0)], "nope")
    assert arms.order_error([("keras-cnn", 0)], None) is None
    assert "--start NAME" in arms.NO_START and "--runs cnnsearch:0" in arms.NO_START


class FakeProcess:
    """An arm's process that ends with `result` at its `polls`-th poll."""

    def __init__(self, result: dict, polls: int = 1) -> None:
        self.stdout, self.returncode = io.StringIO("RESULT " + json.dumps(result)), 0
        self.polls = polls

    def poll(self) -> int | None:
        self.polls -= 1
        return None if self.polls > 0 else 0


def fake_runs(monkeypatch, scored: dict[int, list], slow: int = 1) -> list[tuple]:
    """Replace the arms' processes: cnnsearch seed S reports `scored[S]` (seed 0 after `slow`
    polls), any other arm nothing; returns the (arm, seed, start) started, in order."""
    started = []

    def start_arm(arm, seed, lane, args):
        started.append((arm, seed, args.start))
        if arm != "cnnsearch":
            return FakeProcess({})
        return FakeProcess(cnnsearch_run(seed, scored[seed]), slow if seed == 0 else 1)

    monkeypatch.setattr(arms, "start_arm", start_arm)
    monkeypatch.setattr(arms.time, "sleep", lambda seconds: None)
    return started


def test_best_start_waits_for_the_cnnsearch_runs_before_it(monkeypatch):
    started = fake_runs(monkeypatch, {0: [(0.9, "start: vgg-bn")]}, slow=3)
    runs = [("cnnsearch", 0), (arms.BEST_START, 0), ("keras-cnn", 0), (arms.BEST_START, 1)]
    results = arms.run_all(runs, argparse.Namespace(lanes=2, start=None))
    # keras-cnn:0 goes ahead while best-start:0 waits for cnnsearch:0 to end
    assert started == [
        ("cnnsearch", 0, None),
        ("keras-cnn", 0, None),
        (arms.BEST_START, 0, "vgg-bn"),
        (arms.BEST_START, 1, "vgg-bn"),
    ]
    assert len(results[arms.BEST_START]) == 2


def test_the_best_start_arm_keeps_the_start_its_first_run_picked(monkeypatch):
    scored = {0: [(0.9, "start: vgg-bn")], 1: [(0.92, "start: fashion-lab")]}
    started = fake_runs(monkeypatch, scored)
    runs = [("cnnsearch", 0), (arms.BEST_START, 0), ("cnnsearch", 1), (arms.BEST_START, 1)]
    arms.run_all(runs, argparse.Namespace(lanes=1, start=None))
    assert [start for arm, _, start in started if arm == arms.BEST_START] == ["vgg-bn"] * 2


def test_a_best_start_run_with_no_start_to_train_reports_an_error(monkeypatch):
    monkeypatch.setattr(arms, "start_arm", lambda arm, seed, lane, args: FakeProcess({}))
    monkeypatch.setattr(arms.time, "sleep", lambda seconds: None)
    results = arms.run_all([("cnnsearch", 0), (arms.BEST_START, 0)], argparse.Namespace(lanes=1))
    assert results[arms.BEST_START] == [{"seed": 0, "error": arms.NO_START}]


def test_the_default_order_runs_the_best_start_last():
    args = argparse.Namespace(runs=None, seeds="0,1", arms=f"cnnsearch,{arms.BEST_START},keras-cnn")
    assert vs_autokeras.chosen_runs(args) == [
        ("cnnsearch", 0),
        ("keras-cnn", 0),
        ("cnnsearch", 1),
        ("keras-cnn", 1),
        (arms.BEST_START, 0),
        (arms.BEST_START, 1),
    ]


def test_best_so_far_is_read_off_the_epochs_at_each_time():
    epochs = [[30.0, 0.5], [60.0, 0.7], [90.0, 0.6], [120.0, None]]
    best = vs_autokeras.best_so_far_at(epochs, [0.0, 30.0, 75.0, 200.0])
    assert best[1:] == [0.5, 0.7, 0.7] and best[0] != best[0]  # NaN before the first epoch


def race(seed: int, val: float, test: float, **extra) -> dict:
    epochs = [[100.0 * i, val - 0.1 / i] for i in range(1, 10)]
    return {"seed": seed, "val": val, "test": test, "trials": 1, "epoch_curve": epochs, **extra}


def run_race(monkeypatch, tmp_path, results: dict, argv: list[str]) -> str:
    """vs_autokeras' main on `results` instead of runs; returns the row it wrote."""
    results_md = tmp_path / "RESULTS.md"
    monkeypatch.setattr(common, "RESULTS", results_md)
    monkeypatch.setattr(vs_autokeras, "RESULTS", results_md)
    monkeypatch.setattr(vs_autokeras, "run_all", lambda runs, args: results)
    out = tmp_path / "race.png"
    monkeypatch.setattr(sys, "argv", ["vs_autokeras", "--out", str(out), *argv])
    vs_autokeras.main()
    assert out.stat().st_size > 0
    assert json.loads(out.with_suffix(".json").read_text()) == results
    return results_md.read_text().splitlines()[-1]


def test_the_race_scores_the_best_start_alone_and_links_its_plot(monkeypatch, tmp_path):
    ours = [race(s, 0.93, 0.92) for s in range(3)]
    alone = [race(s, 0.925, 0.921, start="vgg-bn") for s in range(3)]
    results = {"cnnsearch": ours, arms.BEST_START: alone}
    argv = ["--runs", f"cnnsearch:0,cnnsearch:1,cnnsearch:2,{arms.BEST_START}:0"]
    row = run_race(monkeypatch, tmp_path, results, argv)
    assert f"{arms.BEST_START} (vgg-bn) val 0.9250 ± 0.0000" in row
    assert "≥ 0.915 test" in row and "[plot](race.png)" in row
    assert row.endswith(f"| not met: test not above {arms.BEST_START} |")


def test_the_race_is_met_above_every_arm_and_the_test_target(monkeypatch, tmp_path):
    results = {
        "cnnsearch": [race(s, 0.93, 0.92) for s in range(3)],
        arms.BEST_START: [race(s, 0.92, 0.91, start="vgg-bn") for s in range(3)],
    }
    argv = ["--arms", f"cnnsearch,{arms.BEST_START}", "--start", "vgg-bn"]
    row = run_race(monkeypatch, tmp_path, results, argv)
    assert row.endswith("| met |")
    results["cnnsearch"] = [race(s, 0.93, 0.914) for s in range(2)] + [{"seed": 2, "error": "x"}]
    row = run_race(monkeypatch, tmp_path, results, argv)
    assert "cnnsearch test below 0.915" in row
    assert "fewer than 3 seeds with a result for cnnsearch" in row


def test_the_race_refuses_a_best_start_it_cannot_pick(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["vs_autokeras", "--runs", f"{arms.BEST_START}:0"])
    with pytest.raises(SystemExit) as exit_:
        vs_autokeras.main()
    assert exit_.value.code == 2 and "pass --start NAME" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.alone  # a deadline in seconds: many tests in parallel would starve it
def test_the_best_start_arm_trains_one_trial_then_trains_it_on(tmp_path):
    command = [sys.executable, "-m", "benchmarks.arms", "--arm", arms.BEST_START, "--seed", "0"]
    command += ["--start", "fashion-lab", "--dataset", "digits", "--train-size", "300"]
    command += ["--val-fraction", "0.3", "--budget", "60", "--epochs", "1"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT "))
    result = json.loads(line[len("RESULT ") :])
    assert result["start"] == "fashion-lab"
    assert "--trials 1 " in result["options"] and "--set head=flatten" in result["options"]
    assert result["states"] == {"COMPLETE": 2} and result["continued"] == 1
    assert len(result["curve"]) == 1  # the start's trial; its continuation counts nowhere
    assert len(result["epoch_curve"]) >= 2  # its epoch, then at least one more trained on
    assert 0 <= result["test"] <= 1
