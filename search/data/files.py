"""Where dataset files live before any download: Keras' cache and the system dataset folders."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar

from errors import RunError

SYSTEM_DATASET_DIR = Path("/usr/share/datasets")
T = TypeVar("T")


def keras_datasets_dir() -> Path:
    """`$KERAS_HOME/datasets` (Keras' download cache), read at call time so tests can move it."""
    return Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")).expanduser() / "datasets"


def first_existing(candidates: Iterable[Path]) -> Path | None:
    return next((p for p in candidates if p.exists()), None)


def download(name: str, fetch: Callable[[], T], where: str) -> T:
    """Run Keras' downloader; a network failure becomes a message saying where to put the file."""
    try:
        return fetch()
    except Exception as e:  # urllib, ssl and keras each raise their own kind
        raise RunError(
            f"could not download {name} ({type(e).__name__}: {e}); without internet access, "
            f"put the upstream files at {where}"
        ) from None
