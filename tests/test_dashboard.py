"""optuna-dashboard on a finished study, checked in a real headless Chromium."""

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app
from tests.conftest import SMALL_MODEL

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_port_in_use_is_a_clear_error(sqlite_url):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(
            app, ["dashboard", "--storage", sqlite_url, "--port", str(port)]
        )
    assert result.exit_code == 2
    assert f"port {port} on 127.0.0.1 is not free" in result.output and "--port" in result.output
    assert "optuna-dashboard on" not in result.output  # no banner before the check


def wait_for(url: str, seconds: float = 60) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            urllib.request.urlopen(url, timeout=2)  # noqa: S310 - our own local server
            return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"{url} never answered")


def page_text(browser, url: str, expected: str, seconds: float = 30) -> str:
    browser.get(url)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        text = browser.find_element("tag name", "body").text
        if expected in text:
            return text
        time.sleep(0.3)
    raise AssertionError(f"{expected!r} not on {url}: {text[:500]}")


@pytest.mark.slow
def test_dashboard_shows_the_study_its_trials_and_the_saved_model(browser, sqlite_url, tmp_path):
    artifacts = tmp_path / "artifacts"
    sets = [a for s in SMALL_MODEL for a in ("--set", s)]
    made = CliRunner().invoke(
        app,
        [
            "optimize",
            "digits",
            "--trials",
            "2",
            "--epochs",
            "1",
            "--train-size",
            "200",
            "--storage",
            sqlite_url,
            "--artifacts",
            str(artifacts),
            "--gpus",
            "none",
            *sets,
        ],
    )
    assert made.exit_code == 0, made.output
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "cli.py",
            "dashboard",
            "--storage",
            sqlite_url,
            "--artifacts",
            str(artifacts),
            "--port",
            str(port),
        ],
        cwd=ROOT,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(f"{base}/api/studies")
        assert "digits-convnet" in page_text(browser, f"{base}/dashboard", "digits-convnet")
        trials = page_text(browser, f"{base}/dashboard/studies/1/trials", "2 Trials")
        assert "Intermediate Values" in trials
        assert ".keras" in trials and "-curves.png" in trials
    finally:
        server.terminate()
        server.wait(timeout=30)
