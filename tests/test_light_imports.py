"""Commands that only read the storage start without Keras or TensorFlow (seconds saved on
every `importance`, `report` and `best --json`, and no TensorFlow start-up lines)."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("keras", "tensorflow", "jax")


@pytest.mark.parametrize("modules", [("search.report", "search.importance"), ("search.export",)])
def test_reading_modules_import_no_deep_learning_framework(modules):
    code = (
        f"import sys, {', '.join(modules)}; "
        f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"{modules} imported {result.stdout.strip()}"
