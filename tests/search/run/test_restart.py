import os
import subprocess
import sys
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from errors import UsageError
from search.run.restart import (
    LIMIT_ENV,
    RESTARTED_ENV,
    Restarter,
    WorkerCommand,
    limit_mb,
    worker_command,
)
from search.vocabulary import RSS_ATTR
from tests.conftest import SMALL_MODEL

ROOT = Path(__file__).resolve().parents[3]


class Exec(Exception):
    """Stands in for os.execve, which would replace the test process."""


COMMAND = WorkerCommand(
    ["python", "cli.py", "worker", "s"], {"CNNSEARCH_STORAGE": "sqlite:///s.db"}
)


def restarter(readings, limit=100.0):
    said = []

    def execve(path, argv, env):
        raise Exec(argv, env)

    memory = iter(readings)
    restart = Restarter(COMMAND, said.append, limit, lambda: next(memory), execve)
    return restart, said


def test_restarts_once_growth_since_the_first_call_passes_the_limit():
    restart, said = restarter([700, 760, 800, 801])
    restart()  # the baseline: after the first trial
    restart()  # +60 MB
    restart()  # +100 MB: at the limit, not over it
    assert not said
    with pytest.raises(Exec) as exec_:
        restart()  # +101 MB
    assert exec_.value.args[0] == ["python", "cli.py", "worker", "s"]
    assert "grew" in said[0] and LIMIT_ENV in said[0]


def test_the_fresh_process_keeps_the_environment_its_gpu_slot_chose(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "1")
    restart, _ = restarter([100, 500])
    restart()
    with pytest.raises(Exec) as exec_:
        restart()
    env = exec_.value.args[1]
    assert env["CUDA_VISIBLE_DEVICES"] == "1" and env["CNNSEARCH_STORAGE"] == "sqlite:///s.db"
    assert env[RESTARTED_ENV] == "1"  # it waits for a database that is down at that moment


def test_a_restarted_worker_waits_for_its_database_a_new_one_fails_at_once(monkeypatch, sqlite_url):
    from errors import RunError, StorageUnreachable
    from search.run import workers
    from search.run.progress import Progress
    from storage import open_storage, outage

    attempts = []

    def flaky(url):
        attempts.append(url)
        if len(attempts) < 3:
            raise StorageUnreachable("cannot open storage: connection refused")
        return open_storage(url)

    monkeypatch.setattr(workers, "open_storage", flaky)
    monkeypatch.setattr(outage, "RETRY_SECONDS", 0.01)
    with pytest.raises(RunError):
        workers._open_storage(sqlite_url, Progress(quiet=True))  # a first start: no waiting
    attempts.clear()
    monkeypatch.setenv(RESTARTED_ENV, "1")
    assert workers._open_storage(sqlite_url, Progress(quiet=True)) is not None
    assert len(attempts) == 3


def test_a_limit_of_zero_never_restarts():
    restart, said = restarter([100, 5000, 9000], limit=0)
    for _ in range(3):
        restart()
    assert not said


def test_the_limit_comes_from_the_environment_and_bad_values_say_how_to_fix(monkeypatch):
    monkeypatch.setenv(LIMIT_ENV, "250")
    assert limit_mb() == 250
    for bad in ("lots", "-5", "nan"):
        monkeypatch.setenv(LIMIT_ENV, bad)
        with pytest.raises(UsageError, match="0 to never restart"):
            limit_mb()


def test_worker_command_joins_the_study_with_the_storage_url_out_of_its_argv():
    url = "postgresql+psycopg://u:secret@db/x"
    command = worker_command("s", url, "arts", quiet=True)
    assert command.argv[0] == sys.executable
    assert command.argv[2:] == ["worker", "s", "--artifacts", "arts", "-q"]
    assert command.environment({"PATH": "/bin"}) == {"PATH": "/bin", "CNNSEARCH_STORAGE": url}


@pytest.mark.slow
def test_a_worker_over_its_memory_limit_resumes_as_a_fresh_process_that_proposes_anew(tmp_path):
    """With a limit of 0.001 MB, each process takes its baseline after its first trial and
    restarts after its second (TensorFlow keeps memory after every fit): trials 0-1 in the first
    process, 2-3 in the second, 4 in the third. The study ends with its exact budget, and no
    fresh process replays the configurations its predecessors trained (the old sampler replayed
    its first draws after each restart). One run for both: each fresh process costs seconds."""
    url = f"sqlite:///{tmp_path / 'study.db'}"
    sets = [arg for s in SMALL_MODEL for arg in ("--set", s)]
    command = [
        sys.executable, "cli.py", "optimize", "digits", "--trials", "5", "--epochs", "1",
        "--train-size", "200", "--seed", "0", *sets, "--storage", url,
        "--artifacts", str(tmp_path / "artifacts"), "-q",
    ]  # fmt: skip
    env = {**os.environ, LIMIT_ENV: "0.001", "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("restarting this worker") == 2, done.stdout
    for finished in (2, 4):
        joining = f"joining digits-convnet: {finished} of 5 trials finished"
        assert done.stdout.count(joining) == 1, done.stdout
    study = optuna.load_study(study_name="digits-convnet", storage=url)
    states = [t.state for t in study.trials]
    assert states == [TrialState.COMPLETE] * 5  # as many starts as the budget
    assert all(t.user_attrs[RSS_ATTR] > 0 for t in study.trials)
    configurations = [str(sorted(t.params.items())) for t in study.trials]
    assert len(set(configurations)) == 5, configurations
