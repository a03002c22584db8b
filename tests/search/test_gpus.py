import pytest

from errors import UsageError
from search import gpus


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


def test_nvidia_smi_listing_is_read(monkeypatch):
    class Done:
        stdout = "GPU 0: NVIDIA H100 (UUID: x)\nGPU 1: NVIDIA H100 (UUID: y)\n"

    monkeypatch.setattr(gpus.shutil, "which", lambda name: "/usr/bin/nvidia-smi")
    monkeypatch.setattr(gpus.subprocess, "run", lambda *a, **k: Done())
    assert gpus.parse_gpus("all") == ["0", "1"]
