"""Commands that only read the storage start without Keras or TensorFlow (seconds saved on
every `importance`, `report` and `best --json`, and no TensorFlow start-up lines)."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("keras", "tensorflow", "jax")
# Optuna's RDBStorage layers, which cost the reading commands more than `import optuna` itself
# (storage/sqlite_file.py reads a SQLite store without them).
SQL_LAYERS = ("sqlalchemy", "alembic")


@pytest.mark.parametrize(
    "modules",
    [
        ("search.analysis.report", "search.analysis.importance"),
        ("search.analysis.export",),
        # The trial loop: a multi-slot parent and the tests' fake workers train nothing.
        ("search.run.workers", "testing.fake_worker"),
    ],
)
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


@pytest.mark.parametrize(
    "command",
    [
        ["studies"],
        ["best", "synthetic"],
        ["best", "synthetic", "--json"],
        ["compare", "synthetic", "other"],
        ["importance", "synthetic"],
    ],
)
def test_reading_commands_start_without_keras_and_print_no_tensorflow_line(tmp_path, command):
    from testing.synthetic import build_study

    url = f"sqlite:///{tmp_path / 'study.db'}"
    build_study(url)
    build_study(url, name="other", n=12)
    code = (
        "import atexit, sys; atexit.register(lambda: print('HEAVY', sorted({m.split('.')[0] "
        f"for m in sys.modules}} & {set(HEAVY)!r}), file=sys.stderr)); import cli; "
        f"sys.argv = ['cli.py', *{command!r}, '--storage', {url!r}]; cli.main()"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "HEAVY []" in result.stderr, result.stderr
    assert result.stderr.strip() == "HEAVY []"  # no TensorFlow or absl line either


@pytest.mark.parametrize("command", [["studies"], ["best", "synthetic"]])
def test_listing_commands_read_sqlite_without_sqlalchemy(tmp_path, command):
    from testing.synthetic import build_study

    url = f"sqlite:///{tmp_path / 'study.db'}"
    build_study(url)
    code = (
        "import sys, cli; "
        f"sys.argv = ['cli.py', *{command!r}, '--storage', {url!r}]\n"
        "try:\n    cli.main()\nexcept SystemExit:\n    pass\n"
        f"print('LOADED', sorted({{m.split('.')[0] for m in sys.modules}} & {set(SQL_LAYERS)!r}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "synthetic" in result.stdout or "0.8955" in result.stdout
    assert "LOADED []" in result.stdout, result.stdout + result.stderr


def test_help_starts_without_keras():
    code = (
        "import sys, cli; sys.argv = ['cli.py', 'optimize', '--help']\n"
        "try:\n    cli.main()\nexcept SystemExit:\n    pass\n"
        f"print('HEAVY', sorted({{m.split('.')[0] for m in sys.modules}} & {set(HEAVY)!r}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert "HEAVY []" in result.stdout, result.stdout + result.stderr
