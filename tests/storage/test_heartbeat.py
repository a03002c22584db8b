"""search.run.heartbeat on every storage, with real worker processes killed with -9: a dead worker's
trial is failed once its beats stop for the grace period (or, if it never beat, once the grace
period has passed since it started) and is queued to run again, once; a live worker's is not."""

import signal
import subprocess
import threading
import time

import optuna
import pytest
from optuna.storages import RetryHeartbeatStaleTrialCallback
from optuna.trial import TrialState

from search.run.heartbeat import beating, fail_stale_trials
from search.vocabulary import BEAT_ATTR
from storage import open_storage
from tests.storage.conftest import start_stale_worker

HEARTBEAT_ENV = "CNNSEARCH_HEARTBEAT_SECONDS"


def kill(worker: subprocess.Popen) -> None:
    worker.send_signal(signal.SIGKILL)
    worker.communicate(timeout=60)


def observer(url: str, study: str, heartbeat: int, monkeypatch) -> optuna.Study:
    """The study as a surviving worker sees it, with a grace period of 3 × `heartbeat` s."""
    monkeypatch.setenv(HEARTBEAT_ENV, str(heartbeat))
    return optuna.load_study(study_name=study, storage=open_storage(url))


def state(study: optuna.Study, number: int) -> TrialState:
    return study.get_trials(deepcopy=False)[number].state


def wait_until_failed(study: optuna.Study, number: int, timeout: float = 120) -> None:
    end = time.monotonic() + timeout
    while state(study, number) == TrialState.RUNNING and time.monotonic() < end:
        fail_stale_trials(study)
        time.sleep(0.5)
    assert state(study, number) == TrialState.FAIL


def retries_of(study: optuna.Study, number: int) -> list[optuna.trial.FrozenTrial]:
    return [
        t
        for t in study.get_trials()
        if RetryHeartbeatStaleTrialCallback.retried_trial_number(t) == number
    ]


@pytest.mark.slow
@pytest.mark.services
def test_a_killed_workers_trial_is_failed_and_queued_again_once_and_so_is_one_that_never_beat(
    storage_url, monkeypatch
):
    # Two studies on one storage, side by side: "beat" keeps its worker alive for a while,
    # "silent" loses its worker at once, before its trial ever beat.
    optuna.create_study(study_name="beat", storage=open_storage(storage_url))
    optuna.create_study(study_name="silent", storage=open_storage(storage_url))
    worker, number = start_stale_worker(storage_url, "beat", "beat")
    try:
        silent_worker, silent_number = start_stale_worker(storage_url, "silent", "silent")
        kill(silent_worker)
        patient = observer(storage_url, "silent", 60, monkeypatch)  # grace: 3 minutes
        fail_stale_trials(patient)
        assert state(patient, silent_number) == TrialState.RUNNING

        # Beating every second, the trial outlives two grace periods of a 2-second heartbeat.
        study = observer(storage_url, "beat", 2, monkeypatch)
        started = study.trials[number].datetime_start.timestamp()
        while time.time() - started < 2 * 6:
            fail_stale_trials(study)
            time.sleep(1)
        assert state(study, number) == TrialState.RUNNING
    finally:
        kill(worker)
    study = observer(storage_url, "beat", 1, monkeypatch)
    wait_until_failed(study, number)
    fail_stale_trials(study)  # a second survivor looking later queues nothing more
    (retry,) = retries_of(study, number)
    assert retry.state == TrialState.WAITING
    assert retry.params == study.trials[number].params
    assert RetryHeartbeatStaleTrialCallback.retry_history(retry) == [number]
    assert BEAT_ATTR not in retry.system_attrs

    study = observer(storage_url, "silent", 1, monkeypatch)
    wait_until_failed(study, silent_number)
    (retry,) = retries_of(study, silent_number)
    assert retry.state == TrialState.WAITING


def heart_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "cnnsearch-heartbeat"]


def test_beats_are_written_while_the_block_runs_by_one_thread(tmp_path, monkeypatch):
    monkeypatch.setenv(HEARTBEAT_ENV, "1")
    study = optuna.create_study(storage=open_storage(f"journal://{tmp_path / 'study.log'}"))
    trial = study.ask()

    def last_beat() -> float:
        return study._storage.get_trial(trial._trial_id).system_attrs[BEAT_ATTR]

    with beating(trial), beating(trial):
        first = last_beat()  # written before the block starts
        end = time.monotonic() + 60
        while last_beat() == first and time.monotonic() < end:
            time.sleep(0.1)
        assert last_beat() > first
        assert len(heart_threads()) == 1
    assert not heart_threads()
    study.tell(trial, 1.0)


@pytest.mark.filterwarnings(
    "ignore:Heartbeat of storage is supposed to be used with Study.optimize"
)
def test_rdb_storages_beat_through_optunas_own_heartbeat(tmp_path, monkeypatch):
    monkeypatch.setenv(HEARTBEAT_ENV, "1")
    study = optuna.create_study(storage=open_storage(f"sqlite:///{tmp_path / 'study.db'}"))
    trial = study.ask()
    with beating(trial):
        assert not heart_threads()
    assert BEAT_ATTR not in study.trials[0].system_attrs
