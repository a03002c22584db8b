"""A deadline on digits, kept by one process (10 seconds) and by three started at different times
(20 seconds: the third starts 4 seconds after the first and must train an epoch before it).

Early stopping is switched off so every trial is mid-training when the deadline comes. These tests
check that the deadline ends the study and prunes the interrupted trials; how close to the deadline
it ends (the 2% goal) is timing, measured by benchmarks/deadline.py, not asserted here.
"""

import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from search import training
from search.config import SearchConfig
from search.run import cost
from search.run import deadline as dl
from search.run.workers import optimize
from search.vocabulary import EPOCHS_RUN_ATTR, STOPPED_BY_ATTR
from storage import open_storage
from tests.conftest import SMALL_MODEL

SECONDS = 20
ONE_PROCESS_SECONDS = 10  # one process trains its first epoch within a second or two
# Without the deadline these studies would train for many minutes; ending within this margin
# shows the deadline was kept, whatever the load on the machine.
MARGIN = 15
ROOT = Path(__file__).resolve().parents[3]
# Imports first, says "ready" and waits for a line on stdin, so "started" means the command
# begins then (on this shared CPU, importing TensorFlow alone takes a varying 5-15 s); the clock of
# --timeout starts at that line, as it would at a real process start.
LAUNCHER = (
    "import sys, time, cli, search.training as o, search.run.cost as c; "
    "o.EARLY_STOP_PATIENCE = 10**6; c.SHARE = 10**6; "
    "print('ready', flush=True); sys.stdin.readline(); cli.LOADED = time.time(); "
    "sys.argv[0] = 'cli.py'; cli.main()"
)


def assert_interrupted_trials_recorded(study: optuna.Study, expected: int) -> None:
    """Every trial the deadline cut kept its curve: the one that led the study when it was cut
    completed at its best epoch (the best model found), the others were pruned at their last."""
    trials = study.get_trials()
    assert not [t for t in trials if t.state in (TrialState.RUNNING, TrialState.FAIL)]
    stopped = [t for t in trials if t.user_attrs.get(STOPPED_BY_ATTR) == "deadline"]
    assert len(stopped) == expected
    for trial in stopped:
        epochs = trial.user_attrs[EPOCHS_RUN_ATTR]
        assert epochs >= 1 and sorted(trial.intermediate_values) == list(range(1, epochs + 1))
        if trial.state == TrialState.COMPLETE:
            assert trial.value == max(trial.intermediate_values.values())
        else:
            assert trial.state == TrialState.PRUNED
            assert trial.value == trial.intermediate_values[epochs]  # pruned at its last epoch
    assert stopped[0].state == TrialState.COMPLETE  # the first cut led: nothing had completed


@pytest.mark.slow
@pytest.mark.alone  # a deadline in seconds: many tests in parallel would starve it
def test_one_process_stops_at_the_deadline(sqlite_url, tmp_path, monkeypatch):
    monkeypatch.setattr(training, "EARLY_STOP_PATIENCE", 10**6)
    monkeypatch.setattr(cost, "SHARE", 10**6)  # no cost stop for these endless trials
    config = SearchConfig("digits", trials=50, epochs=1000, pruner="none", sets=SMALL_MODEL)
    deadline = datetime.now(UTC) + timedelta(seconds=ONE_PROCESS_SECONDS)
    summary = optimize(config, sqlite_url, str(tmp_path / "artifacts"), deadline=deadline)
    ended = time.time()
    assert summary.stopped_by == "deadline"
    assert deadline.timestamp() <= ended <= deadline.timestamp() + MARGIN
    assert_interrupted_trials_recorded(
        optuna.load_study(study_name=config.study, storage=sqlite_url), 1
    )


@pytest.mark.slow
@pytest.mark.alone  # a deadline in seconds: many tests in parallel would starve it
def test_three_processes_started_at_different_times_stop_together(sqlite_url, tmp_path):
    args = [
        *("optimize", "digits", "--study", "shared", "--trials", 50, "--epochs", 1000),
        *("--pruner", "none", "--storage", sqlite_url, "--artifacts", tmp_path / "art", "-q"),
        *(arg for s in SMALL_MODEL for arg in ("--set", s)),
    ]
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", LAUNCHER, *map(str, args), *extra],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            # one thread each: three TensorFlow processes share this machine's few cores
            env={**os.environ, "TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1"},
        )
        for extra in (["--timeout", str(SECONDS)], [], [])
    ]
    try:
        for worker in workers:
            _wait_ready(worker)
        for number, worker in enumerate(workers):
            worker.stdin.write("go\n")
            worker.stdin.close()
            if number == 0:
                study = _wait_for_deadline(sqlite_url, "shared")
            time.sleep(2)
        ended = _wait_all(workers, timeout=SECONDS + 30)
    finally:
        for worker in workers:
            worker.kill()
    outputs = [worker.stdout.read() for worker in workers]
    assert [w.returncode for w in workers] == [0, 0, 0], outputs
    assert all("(deadline reached)" in out for out in outputs), outputs
    deadline = dl.read_deadline(study).timestamp()
    # the study ends when its last trial does; leaving the process (printing the best trial,
    # closing the storage) takes a little more on a busy machine
    last = max(t.datetime_complete.timestamp() for t in study.get_trials() if t.datetime_complete)
    assert last <= deadline + MARGIN, last - deadline
    assert all(t - deadline <= MARGIN for t in ended), [t - deadline for t in ended]
    assert_interrupted_trials_recorded(study, 3)


def _wait_ready(worker: subprocess.Popen) -> None:
    """Skip what the worker prints before "ready" (TensorFlow's native logging may come first)."""
    for line in iter(worker.stdout.readline, ""):
        if line.strip() == "ready":
            return
    raise AssertionError(f"the worker exited before it was ready (code {worker.wait()})")


def _wait_for_deadline(url: str, name: str) -> optuna.Study:
    storage = open_storage(url)
    for _ in range(400):
        try:
            study = optuna.load_study(study_name=name, storage=storage)
            if dl.read_deadline(study) is not None:
                return study
        except KeyError:
            pass
        time.sleep(0.05)
    raise AssertionError("the first worker never stored the deadline")


def _wait_all(workers: list[subprocess.Popen], timeout: float) -> list[float]:
    ended: dict[int, float] = {}
    give_up = time.time() + timeout
    while len(ended) < len(workers) and time.time() < give_up:
        for i, worker in enumerate(workers):
            if i not in ended and worker.poll() is not None:
                ended[i] = time.time()
        time.sleep(0.02)
    assert len(ended) == len(workers), "a worker ran past the deadline by far"
    return [ended[i] for i in range(len(workers))]
