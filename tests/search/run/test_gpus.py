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

from errors import RunError, UsageError
from search.run import gpus
from testing.processes import children
from tests.conftest import SMALL_MODEL

ROOT = Path(__file__).resolve().parents[3]
VISIBLE = gpus.VISIBLE_ENV


@pytest.fixture(autouse=True)
def no_visible_devices(monkeypatch):
    """`CUDA_VISIBLE_DEVICES` unset, and restored after the test (`--gpus none` sets it)."""
    monkeypatch.setenv(VISIBLE, "")
    monkeypatch.delenv(VISIBLE)


@pytest.fixture
def two_gpus(tmp_path, monkeypatch):
    """A fake `nvidia-smi` on PATH that lists two GPUs, whatever CUDA_VISIBLE_DEVICES says."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "nvidia-smi"
    fake.write_text(
        "#!/bin/sh\n"
        "echo 'GPU 0: NVIDIA H100 (UUID: GPU-a)'\n"
        "echo 'GPU 1: NVIDIA H100 (UUID: GPU-b)'\n"
    )
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return bin_dir


def test_one_environment_per_slot_each_seeing_one_gpu():
    envs = gpus.worker_environments(["0", "1"], 2, {"PATH": "/bin"})
    assert [e["CUDA_VISIBLE_DEVICES"] for e in envs] == ["0", "0", "1", "1"]
    assert all(e["TF_FORCE_GPU_ALLOW_GROWTH"] == "true" for e in envs)
    assert all(e["XLA_PYTHON_CLIENT_PREALLOCATE"] == "false" and e["PATH"] == "/bin" for e in envs)


def test_no_gpu_means_no_worker_processes(monkeypatch):
    monkeypatch.setattr(gpus.shutil, "which", lambda name: None)
    assert gpus.parse_gpus("all") == [] and gpus.parse_gpus("none") == []
    assert gpus.worker_environments(gpus.parse_gpus("all"), 1, {}) == []


def test_gpu_list_is_parsed_and_validated():
    assert gpus.parse_gpus("0, 3") == ["0", "3"]
    with pytest.raises(UsageError, match="--gpus 'first'"):
        gpus.parse_gpus("first")
    with pytest.raises(UsageError, match="--trials-per-gpu must be at least 1"):
        gpus.worker_environments(["0"], 0, {})


def test_nvidia_smi_lists_the_gpus_when_cuda_visible_devices_is_unset(two_gpus):
    assert gpus.parse_gpus("all") == ["0", "1"]


def test_cuda_visible_devices_names_the_gpus_when_set(two_gpus, monkeypatch):
    monkeypatch.setenv(VISIBLE, "1")  # a slot's worker: one GPU, so no workers of its own
    assert gpus.parse_gpus("all") == ["1"]
    assert len(gpus.worker_environments(gpus.parse_gpus("all"), 1, {})) == 1
    monkeypatch.setenv(VISIBLE, "GPU-b, GPU-a")
    assert gpus.parse_gpus("all") == ["GPU-b", "GPU-a"]
    for hidden in ("", "-1", "-1,0"):
        monkeypatch.setenv(VISIBLE, hidden)
        assert gpus.parse_gpus("all") == []


def test_indices_count_among_the_visible_gpus(monkeypatch):
    monkeypatch.setenv(VISIBLE, "4,5")
    assert gpus.parse_gpus("1") == ["5"] and gpus.parse_gpus("0,1") == ["4", "5"]
    with pytest.raises(UsageError, match="shows 2 GPU"):
        gpus.parse_gpus("2")


def test_none_hides_every_gpu_from_this_process_and_its_children(two_gpus):
    assert gpus.parse_gpus("none") == []
    assert os.environ[VISIBLE] == ""
    assert gpus.parse_gpus("all") == []  # what a restarted worker or a child finds


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_for(condition, timeout: float = 180, what: str = "condition") -> None:
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


@pytest.mark.slow
def test_a_workers_non_zero_exit_is_a_run_error_naming_its_slot(tmp_path):
    envs = gpus.worker_environments(["0", "1"], 1, dict(os.environ))
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    with pytest.raises(RunError) as failed:  # each worker: "no study named 'nope'", exit 2
        gpus.run_gpu_workers("nope", url, str(tmp_path / "artifacts"), envs, quiet=True)
    message = str(failed.value)
    assert "slot 0 (CUDA_VISIBLE_DEVICES=0) exited with code 2" in message
    assert "slot 1 (CUDA_VISIBLE_DEVICES=1) exited with code 2" in message


@pytest.mark.slow
def test_workers_get_the_storage_url_in_their_environment_never_in_argv(tmp_path):
    """The workers wait on a database port that never answers, password in its URL; meanwhile
    `ps` and /proc/PID/cmdline show no password to other users."""
    import socket

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"postgresql+psycopg://cns:s3cret-pw@127.0.0.1:{silent.getsockname()[1]}/db"
        envs = gpus.worker_environments(["0", "1"], 1, dict(os.environ))
        errors = []

        def run() -> None:
            try:
                gpus.run_gpu_workers("secret-study", url, str(tmp_path / "a"), envs, quiet=True)
            except RunError as e:
                errors.append(e)

        parent = threading.Thread(target=run)
        parent.start()
        wait_for(lambda: len(children(os.getpid())) >= 2, what="two workers")
        workers = [
            pid
            for pid in children(os.getpid())
            if b"secret-study" in Path(f"/proc/{pid}/cmdline").read_bytes()
        ]
        assert len(workers) == 2
        # -ww: unlimited width; without a terminal ps cuts lines at 80 columns, which cut the
        # study's name off in a checkout with a longer path.
        ps = ["ps", "-ww", "-eo", "args"]
        listing = subprocess.run(ps, capture_output=True, text=True).stdout
        for pid in workers:
            assert b"s3cret" not in Path(f"/proc/{pid}/cmdline").read_bytes()
            assert b"CNNSEARCH_STORAGE=" + url.encode() in Path(f"/proc/{pid}/environ").read_bytes()
        assert "secret-study" in listing and "s3cret" not in listing
        parent.join(timeout=300)
    assert "exited with code 1" in str(errors[0])  # cannot open storage: the silent port


@pytest.mark.slow
def test_sigterm_to_the_parent_stops_every_worker_and_leaves_no_trial_running(tmp_path, two_gpus):
    """Two fake GPUs: the parent starts one worker per GPU, each running its trials itself (no
    workers of its own); SIGTERM to the parent alone reaches both, and all three end.

    The budget is far more trials than run before the signal: with only a few (each takes
    seconds), one worker could finish them all before a slower-starting one begins on a loaded
    machine, and two trials would never run together."""
    url = f"sqlite:///{tmp_path / 'study.db'}"
    sets = [arg for s in SMALL_MODEL for arg in ("--set", s)]
    command = [
        sys.executable, "cli.py", "optimize", "digits", "--trials", "1000", "--epochs", "60",
        "--train-size", "300", "--pruner", "none", *sets, "--gpus", "all", "-q",
        "--artifacts", str(tmp_path / "artifacts"),
    ]  # fmt: skip
    env = {**os.environ, "CNNSEARCH_STORAGE": url, "TF_CPP_MIN_LOG_LEVEL": "3"}
    parent = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:

        def running() -> int:
            if parent.poll() is not None:
                err = parent.communicate()[1][-2000:]
                raise AssertionError(f"the run ended first, code {parent.returncode}: {err}")
            try:
                study = optuna.load_study(study_name="digits-convnet", storage=url)
            except (KeyError, optuna.exceptions.StorageInternalError):
                return 0
            return sum(t.state == TrialState.RUNNING for t in study.get_trials(deepcopy=False))

        wait_for(lambda: running() >= 2, timeout=600, what="two trials running")
        workers = children(parent.pid)
        assert len(workers) == 2
        assert not [pid for pid in workers if children(pid)], "a worker started workers"
        parent.send_signal(signal.SIGTERM)
        _, err = parent.communicate(timeout=300)
    finally:
        if parent.poll() is None:
            parent.kill()
    assert parent.returncode == 130, err[-2000:]
    assert "Traceback" not in err
    wait_for(lambda: not any(alive(pid) for pid in workers), timeout=60, what="workers to end")
    study = optuna.load_study(study_name="digits-convnet", storage=url)
    assert not [t for t in study.trials if t.state == TrialState.RUNNING]
