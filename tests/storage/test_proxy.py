import socket
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest

from storage import open_storage

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_workers_reach_the_database_through_the_grpc_proxy(tmp_path):
    db, port = f"sqlite:///{tmp_path / 'behind.db'}", free_port()
    proxy = subprocess.Popen(
        [sys.executable, "cli.py", "storage-proxy", "--storage", db, "--port", str(port)], cwd=ROOT
    )
    try:
        end = time.monotonic() + 120  # the proxy imports first: slow on a loaded machine
        while time.monotonic() < end:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.2)
        study = optuna.create_study(
            study_name="via-proxy", storage=open_storage(f"grpc://127.0.0.1:{port}")
        )
        study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=3)
    finally:
        proxy.terminate()
        proxy.wait(timeout=30)
    behind = optuna.load_study(study_name="via-proxy", storage=open_storage(db))
    assert len(behind.trials) == 3
