import os
import signal
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
# A worker's memory restart execs a fresh process, which in a test would replace pytest itself;
# the tests of restarts set the limit for the processes they start.
os.environ.setdefault("CNNSEARCH_RESTART_MB", "0")

import optuna  # noqa: E402
import pytest  # noqa: E402

optuna.logging.set_verbosity(optuna.logging.WARNING)
# A shell without job control starts its background commands with SIGINT ignored, and the
# processes the tests start inherit that: the Ctrl-C tests need it delivered as a terminal would.
signal.signal(signal.SIGINT, signal.default_int_handler)


def require_or_skip(reason: str, env: str = "CNNSEARCH_REQUIRE_SERVICES") -> None:
    """Skip on a user's machine without the resource; fail in CI, where it must be there."""
    if os.environ.get(env) == "1":
        pytest.fail(f"{reason} (required because {env}=1)")
    pytest.skip(reason)


@pytest.fixture
def keras_home(tmp_path, monkeypatch):
    """An empty Keras cache; `datasets/` inside it is where loaders look first."""
    home = tmp_path / "keras"
    (home / "datasets").mkdir(parents=True)
    monkeypatch.setenv("KERAS_HOME", str(home))
    return home


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path / 'study.db'}"


# A model small enough to train in well under a second on 200 digits images.
SMALL_MODEL = (
    "n_conv=1..2",
    "filters=8..16",
    "n_dense=0..1",
    "dense_units=32..64",
    "batch_size=64",
    "learning_rate=1e-3..1e-2",
    "optimizer=adam",
)


CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")


@pytest.fixture(scope="module")
def browser():
    """Headless Debian Chromium through Selenium, with the flags this closed network needs."""
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        require_or_skip(
            "Chromium not installed (apt-get install chromium chromium-driver)",
            env="CNNSEARCH_REQUIRE_BROWSER",
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    yield driver
    driver.quit()
