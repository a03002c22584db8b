"""Several worker processes on one study, on every storage (`storage_url` in conftest.py):
SQLite, PostgreSQL, MySQL, a journal file, a Redis journal and the gRPC proxy."""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from search.config import SearchConfig
from search.study import finished_trials, open_study
from search.vocabulary import OVER_BUDGET_ATTR
from storage import open_storage
from tests.storage.conftest import server_database, start_stale_worker

ROOT = Path(__file__).resolve().parents[2]


def start(url: str, study: str, budget: int, seconds: float, **env: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "testing.fake_worker", url, study, str(budget), str(seconds)],
        cwd=ROOT,
        env={**os.environ, "CNNSEARCH_HEARTBEAT_SECONDS": "1", **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_all(processes, timeout=120) -> None:
    for p in processes:
        out, err = p.communicate(timeout=timeout)
        assert p.returncode == 0, err[-2000:]


def trials(url: str, study: str):
    return optuna.load_study(study_name=study, storage=open_storage(url)).get_trials()


def wait_for_running(
    url: str, study: str, timeout: float = 180, count: int = 1, reported: bool = False
) -> optuna.trial.FrozenTrial:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            running = [
                t
                for t in trials(url, study)
                if t.state == TrialState.RUNNING and (t.intermediate_values or not reported)
            ]
        except KeyError:
            running = []
        if len(running) >= count:
            return running[0]
        time.sleep(0.2)
    raise AssertionError("no trial started")


def ask_at_once(workers: list[optuna.Study]) -> list[int]:
    """The ids of the trials the workers ask for at the same instant, one thread each."""
    together, asked = threading.Barrier(len(workers)), []

    def ask(worker: optuna.Study) -> None:
        together.wait()
        asked.append(worker.ask()._trial_id)

    threads = [threading.Thread(target=ask, args=(worker,)) for worker in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return asked


@pytest.mark.services
@pytest.mark.filterwarnings("ignore:Heartbeat of storage:UserWarning")  # asked, never optimized
def test_a_queued_trial_is_claimed_by_one_worker_only(storage_url):
    optuna.create_study(study_name="queue", storage=open_storage(storage_url))
    workers = [
        optuna.load_study(study_name="queue", storage=open_storage(storage_url)) for _ in range(4)
    ]
    for _ in range(5):
        for _ in workers:
            workers[0].enqueue_trial({"x": 0.5})
        claimed = ask_at_once(workers)
        assert len(set(claimed)) == len(claimed) == len(workers), claimed


@pytest.mark.slow
@pytest.mark.services
def test_four_workers_on_a_fresh_database_meet_the_budget_exactly(storage_url):
    budget = 10
    wait_all([start(storage_url, "shared", budget, 0.3) for _ in range(4)])  # same instant, empty
    stored = trials(storage_url, "shared")
    counted = [t for t in stored if t.state == TrialState.COMPLETE]
    assert len(counted) == budget
    assert not [t for t in stored if t.state == TrialState.RUNNING]
    assert all(len(t.intermediate_values) == 3 for t in counted)
    assert {t.state for t in stored if t.state != TrialState.COMPLETE} <= {TrialState.FAIL}
    assert all(t.user_attrs.get(OVER_BUDGET_ATTR) for t in stored if t.state == TrialState.FAIL)


@pytest.mark.slow
@pytest.mark.services
def test_a_dead_workers_trial_is_retried_by_a_survivor_whether_or_not_it_had_beaten(storage_url):
    # Two studies on one storage, side by side: "killed" loses its worker mid-trial, after its
    # first report (its trial has beaten); "unbeaten" loses it before its trial ever beat.
    open_study(
        SearchConfig("digits", study_name="unbeaten", trials=3, pruner="none"),
        open_storage(storage_url),
    )
    victim = start(storage_url, "killed", 3, 30.0)
    silent, number = start_stale_worker(storage_url, "unbeaten", "silent")
    silent.send_signal(signal.SIGKILL)
    killed = wait_for_running(storage_url, "killed", reported=True)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    silent.communicate(timeout=60)
    wait_all([start(storage_url, "killed", 3, 0.3), start(storage_url, "unbeaten", 3, 0.3)])

    stored = trials(storage_url, "killed")
    assert stored[killed.number].state == TrialState.FAIL
    retried = [optuna.storages.RetryFailedTrialCallback.retried_trial_number(t) for t in stored]
    assert killed.number in retried
    study = optuna.load_study(study_name="killed", storage=open_storage(storage_url))
    assert finished_trials(study) == 3

    stored = trials(storage_url, "unbeaten")
    assert stored[number].state == TrialState.FAIL
    retried = [optuna.storages.RetryFailedTrialCallback.retried_trial_number(t) for t in stored]
    assert retried.count(number) == 1
    assert len([t for t in stored if t.state == TrialState.COMPLETE]) == 3
    assert not [t for t in stored if t.state == TrialState.RUNNING]


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_worker_leaves_no_trial_running(tmp_path, sig):
    url = f"sqlite:///{tmp_path / 'stop.db'}"
    worker = start(url, "stop", 5, 30.0)
    interrupted = wait_for_running(url, "stop")
    worker.send_signal(sig)
    worker.communicate(timeout=60)
    assert worker.returncode == 130
    assert trials(url, "stop")[interrupted.number].state == TrialState.FAIL
    assert not [t for t in trials(url, "stop") if t.state == TrialState.RUNNING]


@pytest.mark.slow
@pytest.mark.services
@pytest.mark.alone  # restarts the server under every other test's PostgreSQL database
def test_workers_ride_out_a_postgresql_restart():
    url, drop = server_database("postgresql")
    try:
        # Trials long enough that one worker cannot run the whole budget before the other has
        # started on a loaded machine: both are mid-trial when the server goes away.
        workers = [start(url, "restart", 6, 8.0) for _ in range(2)]
        wait_for_running(url, "restart", count=2)
        cluster = subprocess.run(["ls", "/etc/postgresql"], capture_output=True, text=True)
        subprocess.run(
            [
                "pg_ctlcluster",
                "--skip-systemctl-redirect",
                cluster.stdout.strip(),
                "main",
                "restart",
            ],
            check=True,
            timeout=60,
        )
        wait_all(workers)
        study = optuna.load_study(study_name="restart", storage=open_storage(url))
        assert finished_trials(study) == 6
        assert not [t for t in study.trials if t.state == TrialState.RUNNING]
    finally:
        drop()
