"""No wasted proposals: restarted and parallel workers with one --seed never train a
configuration twice (real processes). A worker restarted after every other trial proposing new
configurations is checked by the memory-restart test in tests/search/run/test_restart.py, in the
same run that checks the restarts."""

import os
import subprocess
import sys
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from tests.conftest import SMALL_MODEL

ROOT = Path(__file__).resolve().parents[2]
SETS = [arg for s in SMALL_MODEL for arg in ("--set", s)]


def optimize_command(url: str, tmp_path: Path, trials: int) -> list[str]:
    return [
        sys.executable, "cli.py", "optimize", "digits", "--trials", str(trials),
        "--epochs", "1", "--train-size", "200", "--seed", "0", *SETS, "--storage", url,
        "--artifacts", str(tmp_path / "artifacts"), "-q",
    ]  # fmt: skip


def trained_configurations(url: str) -> list[str]:
    study = optuna.load_study(study_name="digits-convnet", storage=url)
    finished = study.get_trials(states=(TrialState.COMPLETE, TrialState.PRUNED))
    return [str(sorted(t.params.items())) for t in finished]


@pytest.mark.slow
def test_four_workers_given_one_seed_propose_distinct_configurations(tmp_path):
    # 12 trials: the space's 6 starting points, then greedy steps and sampler proposals, where
    # workers seeded alike would draw alike (plain Optuna repeats from the second draw on)
    url = f"sqlite:///{tmp_path / 'study.db'}"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "TF_NUM_INTRAOP_THREADS": "1"}
    workers = [
        subprocess.Popen(
            optimize_command(url, tmp_path, trials=12),
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(4)
    ]
    outputs = [w.communicate(timeout=600)[0] for w in workers]
    assert [w.returncode for w in workers] == [0] * 4, outputs
    configurations = trained_configurations(url)
    assert len(configurations) == 12
    assert len(set(configurations)) == 12
