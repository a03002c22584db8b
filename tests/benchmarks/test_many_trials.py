"""The many-trial benchmark (benchmarks/many_trials.py): its scoring on made-up curves, and every
arm's code path on a few one-epoch trials of `digits`."""

import json
import os
import signal
import subprocess
import sys
import time
from itertools import pairwise
from pathlib import Path

import optuna
import pytest

from benchmarks import arms, common, many_trials
from tests.conftest import require_or_skip

ROOT = Path(__file__).resolve().parents[2]


def run(seed: int, values: list[float | None], proposals: list | None = None) -> dict:
    """A run's result as an arm reports it: one trial every 10 seconds."""
    curve = [[10.0 * (i + 1), v] for i, v in enumerate(values)]
    return {"seed": seed, "curve": curve, "proposals": proposals or [None] * len(values)}


def test_best_after_a_number_of_trials_and_within_seconds():
    curve = run(0, [0.5, None, 0.7, 0.6])["curve"]
    assert many_trials.best_after(curve, 2) == 0.5  # a pruned trial adds no value
    assert many_trials.best_after(curve, 4) == 0.7
    assert many_trials.best_within(curve, 25) == 0.5
    assert many_trials.best_within(curve, 5) == 0.0
    assert many_trials.best_so_far(curve) == [0.5, 0.5, 0.7, 0.7]
    assert many_trials.checkpoints(100) == [10, 25, 50, 100]


def test_the_starts_are_read_off_the_cnnsearch_run():
    result = run(1, [0.6, 0.8, 0.9], ["start: a", "start: b", "greedy: trial 1 with new depth"])
    starts = many_trials.starts_alone(result)
    assert starts["val"] == 0.8 and len(starts["curve"]) == 2 and starts["seed"] == 1


def test_the_trials_are_told_apart_by_where_they_came_from():
    proposals = ["start: a", "start: b", "greedy: trial 1 with new depth", None, None, None]
    result = run(2, [0.6, 0.8, 0.85, 0.7, None, 0.81], proposals)
    assert (
        many_trials.by_source(result) == "seed 2: start 2, greedy 1 (1 above), sampler 3 (1 above)"
    )


def results_with(ours: list[float], random_: list[float], starts: list[float]) -> dict:
    """Four-trial runs, one seed per value: cnnsearch and its 4 workers alike, random search,
    cnnsearch's starts, and the other tools' arms at 0.8."""
    results = {
        "cnnsearch": [run(s, values) for s, values in enumerate(ours_curves(ours))],
        "random": [run(s, [0.5, 0.5, 0.5, r]) for s, r in enumerate(random_)],
    }
    for arm in many_trials.ARMS[2:]:
        results[arm] = [run(s, [0.5, 0.6, 0.7, 0.8]) for s in range(len(ours))]
    results[many_trials.PARALLEL] = [run(s, v) for s, v in enumerate(ours_curves(ours))]
    results["starts"] = [{"seed": s, "curve": [], "val": v} for s, v in enumerate(starts)]
    return results


def ours_curves(bests: list[float]) -> list[list[float]]:
    return [[b - 0.01, b - 0.01, b - 0.01, b] for b in bests]


def test_the_goals_are_met_when_cnnsearch_leads_early_and_gains_over_its_starts():
    results = results_with([0.90, 0.91, 0.905], [0.85, 0.86, 0.85], [0.88, 0.885, 0.88])
    met, note = many_trials.verdict(results, 4)
    assert met, note


def test_each_goal_missed_is_named():
    results = results_with([0.90, 0.91], [0.905, 0.91], [0.90, 0.905])
    met, note = many_trials.verdict(results, 4)
    assert not met
    assert "after 1 trials below random's 4" in note
    assert "within a quarter of random's seconds" in note
    assert "not above random" in note
    assert "points over the best start" in note


def test_four_workers_must_come_within_one_std_of_one_worker():
    results = results_with([0.90, 0.91, 0.905], [0.85, 0.86, 0.85], [0.88, 0.885, 0.88])
    results["4-workers"] = [run(s, [0.5, 0.6, 0.7, 0.901]) for s in range(3)]  # 1 worker: 0.905
    met, note = many_trials.verdict(results, 4)
    assert met, note  # 0.004 below, inside the std of 0.005
    results["4-workers"] = [run(s, [0.5, 0.6, 0.7, 0.89]) for s in range(3)]
    met, note = many_trials.verdict(results, 4)
    assert not met and note == "4-workers more than one std below 1 worker"


def test_a_run_cut_short_by_its_sitting_meets_no_goal():
    results = results_with([0.90, 0.91, 0.905], [0.85, 0.86, 0.85], [0.88, 0.885, 0.88])
    results["cnnsearch"][1]["curve"] = results["cnnsearch"][1]["curve"][:3]
    met, note = many_trials.verdict(results, 4)
    assert not met and note == "cnnsearch ran 3 of 4 trials"


def test_fewer_seeds_or_arms_than_the_goals_need_meet_no_goal():
    results = results_with([0.90, 0.91, 0.905], [0.85, 0.86, 0.85], [0.88, 0.885, 0.88])
    results["random"] = results["random"][:1]
    del results["kt-bayes"], results["autokeras"]
    met, note = many_trials.verdict(results, 4)
    assert not met and note == "random ran 1 of 3 seeds; not run: kt-bayes, autokeras"


def test_a_sitting_stops_the_command_and_goes_on(tmp_path):
    stopped = tmp_path / "stopped"
    waits = "import pathlib, signal, sys, time\n"
    waits += f"stop = lambda *_: (pathlib.Path({str(stopped)!r}).touch(), sys.exit(0))\n"
    waits += "signal.signal(signal.SIGTERM, stop)\n"
    waits += "time.sleep(60)\n"
    started = time.monotonic()
    arms.run_sitting([[sys.executable, "-c", waits]], seconds=2)
    assert stopped.exists() and time.monotonic() - started < 30
    with pytest.raises(subprocess.CalledProcessError):  # a command that fails is still an error
        arms.run_sitting([[sys.executable, "-c", "raise SystemExit(3)"]], seconds=30)


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def marks(folder: Path, on_term: str = "pass") -> str:
    """A command that leaves its pid in `folder` and, on SIGTERM, `on_term` then exits."""
    code = "import os, pathlib, signal, sys, time\n"
    code += f"def stop(*_):\n    {on_term}\n    sys.exit(0)\n"
    code += "signal.signal(signal.SIGTERM, stop)\n"
    code += f"(pathlib.Path({str(folder)!r}) / str(os.getpid())).touch()\ntime.sleep(60)\n"
    return code


def test_joining_commands_start_once_the_study_can_be_joined_and_stop_with_the_sitting(tmp_path):
    created, joined = tmp_path / "created", tmp_path / "joined"
    joined.mkdir()
    creates = f"import pathlib, time; time.sleep(1); pathlib.Path({str(created)!r}).touch()\n"
    creates += "time.sleep(60)"
    # a joining command started too early fails the sitting
    joins = f"import pathlib; assert pathlib.Path({str(created)!r}).exists()\n" + marks(joined)
    started = time.monotonic()
    commands = [python(creates), python(joins), python(joins)]
    arms.run_sitting(commands, seconds=6, joinable=created.exists)
    assert len(list(joined.iterdir())) == 2 and time.monotonic() - started < 30


def test_the_sitting_stops_its_processes_together(tmp_path):
    # each takes 3 s to stop: one after another would take 9
    commands = [python(marks(tmp_path, on_term="time.sleep(3)"))] * 3
    started = time.monotonic()
    arms.run_sitting(commands, seconds=4)
    assert len(list(tmp_path.iterdir())) == 3 and time.monotonic() - started < 8.5


def test_a_command_that_fails_stops_the_others_and_fails_the_sitting(tmp_path):
    commands = [python(marks(tmp_path)), python("import time; time.sleep(1); raise SystemExit(4)")]
    started = time.monotonic()
    with pytest.raises(subprocess.CalledProcessError) as failed:
        arms.run_sitting(commands, seconds=None)  # no deadline: the failure ends it
    assert failed.value.returncode == 4 and time.monotonic() - started < 30


def test_ctrl_c_lets_each_process_record_its_trial(tmp_path):
    """Ctrl-C reaches the sitting and its processes together; it must not add a SIGTERM, which
    `optimize` takes as a second signal and stops at once, mid-write."""
    child = "import pathlib, signal, sys, time\n"
    child += f"folder = pathlib.Path({str(tmp_path)!r})\n"
    child += "def stop(number, _):\n"
    child += "    time.sleep(1)  # recording its trial\n"
    child += "    (folder / f'stopped by {number}').touch(); sys.exit(0)\n"
    child += "signal.signal(signal.SIGINT, stop); signal.signal(signal.SIGTERM, stop)\n"
    child += "(folder / 'started').touch(); time.sleep(60)\n"
    sitting = f"from benchmarks import arms\narms.run_sitting([{python(child)!r}], seconds=60)"
    process = subprocess.Popen(python(sitting), cwd=ROOT, start_new_session=True)
    for _ in range(300):
        if (tmp_path / "started").exists():
            break
        time.sleep(0.1)
    os.killpg(process.pid, signal.SIGINT)
    assert process.wait(timeout=60) != 0  # the sitting itself was interrupted
    assert sorted(p.name for p in tmp_path.iterdir()) == ["started", "stopped by 2"]


def test_a_kept_studys_test_accuracy_is_evaluated_again_only_once_its_best_changed(
    tmp_path, monkeypatch
):
    evaluations = []

    def evaluate(command: list[str]) -> str:
        evaluations.append(command)
        return json.dumps({"accuracy": 0.5 + len(evaluations) / 10})

    monkeypatch.setattr(arms, "_output", evaluate)
    remembered = tmp_path / arms.TESTED
    assert arms.tested(["evaluate"], 3, remembered) == 0.6
    assert arms.tested(["evaluate"], 3, remembered) == 0.6  # the same best: no evaluation
    assert arms.tested(["evaluate"], 9, remembered) == 0.7
    assert len(evaluations) == 2


def test_arms_whose_package_is_missing_are_skipped_with_a_line(monkeypatch, capsys):
    monkeypatch.setitem(arms.REQUIRES, "optuna", "no_such_package_here")
    assert many_trials.runnable(["cnnsearch", "optuna"]) == ["cnnsearch"]
    assert "skipped optuna: no_such_package_here is not installed" in capsys.readouterr().out


def test_lanes_are_pinned_to_a_core_each_only_where_there_is_one():
    cores = len(os.sched_getaffinity(0))
    assert arms.lane_core(0, 1) is None  # one lane: every core
    assert arms.lane_core(0, cores + 1) is None  # more lanes than cores: unpinned
    if cores >= 2:
        assert arms.lane_core(1, 2) == sorted(os.sched_getaffinity(0))[1]


@pytest.mark.slow
def test_the_benchmark_runs_its_arms_on_digits_and_writes_plot_and_row(
    tmp_path, monkeypatch, capsys
):
    results_md = tmp_path / "RESULTS.md"
    monkeypatch.setattr(common, "RESULTS", results_md)
    monkeypatch.setattr(many_trials, "RESULTS", results_md)
    out, kept = tmp_path / "many.png", tmp_path / "kept"
    argv = ["many_trials", "--dataset", "digits", "--train-size", "300", "--val-fraction", "0.3"]
    argv += ["--epochs", "1", "--seeds", "0", "--lanes", "3"]
    argv += ["--out", str(out), "--keep", str(kept)]
    monkeypatch.setattr(sys, "argv", [*argv, "--trials", "2", "--arms", "cnnsearch,random,optuna"])
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    many_trials.main()

    results = json.loads(out.with_suffix(".json").read_text())
    assert set(results) == {"cnnsearch", "random", "optuna", "starts"}
    for arm in ("cnnsearch", "random", "optuna"):
        (result,) = results[arm]
        assert len(result["curve"]) == 2, result
        assert len(result["epoch_curve"]) == 2  # one epoch a trial
        assert all(0 <= value <= 1 for _, value in result["curve"] if value is not None)
        assert 0 <= result["test"] <= 1
    assert all(p.startswith("start:") for p in results["cnnsearch"][0]["proposals"])
    assert results["random"][0]["proposals"] == [None, None]  # neither starts nor greedy steps
    assert "--sampler random --sampler-only" in results["random"][0]["options"]
    assert len(results["starts"][0]["curve"]) == 2
    assert out.stat().st_size > 0
    row = results_md.read_text().splitlines()[-1]
    assert "14 many trials" in row and "[plot](many.png)" in row
    assert sorted(p.name for p in kept.iterdir()) == ["cnnsearch-0", "optuna-0", "random-0"]

    # Run again for three trials: the kept study resumes, the first two trials are not retrained,
    # and the time between the two runs is left out of the seconds.
    first = results["cnnsearch"][0]["curve"]
    monkeypatch.setattr(sys, "argv", [*argv, "--trials", "3", "--arms", "cnnsearch"])
    many_trials.main()
    (resumed,) = json.loads(out.with_suffix(".json").read_text())["cnnsearch"]
    assert resumed["curve"][:2] == first and len(resumed["curve"]) == 3, resumed
    assert resumed["trials"] == 3
    database = f"sqlite:///{kept}/cnnsearch-0/bench.db"
    study = optuna.load_study(study_name="digits-convnet", storage=database)
    ((resumed_at, paused),) = study.user_attrs[arms.PAUSES_ATTR]
    assert paused > 0 and resumed_at > study.trials[1].datetime_complete.timestamp()
    assert "studies kept in" in results_md.read_text().splitlines()[-1]


def test_time_between_sittings_is_left_out_of_the_seconds():
    pauses = [[100.0, 30.0], [200.0, 50.0]]  # resumed at 100 after 30 s, at 200 after 50 s
    assert arms.working_seconds(0.0, 90.0, pauses) == 90.0
    assert arms.working_seconds(0.0, 150.0, pauses) == 120.0
    assert arms.working_seconds(0.0, 250.0, pauses) == 170.0


@pytest.mark.slow
@pytest.mark.parametrize("arm", ["kt-bayes", "kt-hyperband", "autokeras"])
def test_the_other_tools_arms_stop_after_their_trials(arm):
    if package := arms.missing_package(arm):
        require_or_skip(f"{package} is not installed", env="CNNSEARCH_REQUIRE_BENCH")
    result = run_arm(arm, "--trials", "2")
    assert result["trials"] == 2 and len(result["curve"]) == 2


def run_arm(arm: str, *options: str) -> dict:
    """An arm's result on a few one-epoch trials of `digits`, run as the benchmarks run it."""
    return json.loads(arm_output(arm, *options).stdout.split("RESULT ")[-1])


def arm_output(arm: str, *options: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "benchmarks.arms", "--arm", arm, "--dataset", "digits"]
    command += ["--train-size", "300", "--val-fraction", "0.3", "--epochs", "1", *options]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    return done


@pytest.mark.slow
def test_the_four_workers_arm_runs_its_trial_budget_on_one_study(tmp_path):
    done = arm_output("4-workers", "--trials", "8", "--keep", str(tmp_path))
    result = json.loads(done.stdout.split("RESULT ")[-1])
    assert len(result["curve"]) == 8, result  # the budget is the study's, not each worker's
    assert done.stderr.count("joining digits-convnet") >= 3, done.stderr[-2000:]
    study = optuna.load_study(
        study_name="digits-convnet", storage=f"sqlite:///{tmp_path}/4-workers-0/bench.db"
    )
    trained = [t for t in study.trials if t.value is not None]
    configurations = {json.dumps(t.params, sort_keys=True) for t in trained}
    assert len(trained) == len(configurations) == 8  # no configuration trained twice
    spans = sorted((t.datetime_start, t.datetime_complete) for t in trained)
    assert any(start < end for (_, end), (start, _) in pairwise(spans)), spans  # in parallel


@pytest.mark.slow
@pytest.mark.parametrize("arm", ["optuna", "kt-bayes"])
def test_the_other_tools_arms_resume_a_kept_study(tmp_path, arm):
    if package := arms.missing_package(arm):
        require_or_skip(f"{package} is not installed", env="CNNSEARCH_REQUIRE_BENCH")
    keep = ["--keep", str(tmp_path)]
    first = run_arm(arm, "--trials", "2", *keep)
    resumed = run_arm(arm, "--trials", "3", *keep)
    assert resumed["curve"][:2] == first["curve"] and len(resumed["curve"]) == 3, resumed
    assert resumed["trials"] == 3
    report = run_arm(arm, "--trials", "4", "--sitting", "0", *keep)  # trains nothing
    assert report["curve"] == resumed["curve"] and report["trials"] == 3
