"""CIFAR-10 from the python-version batches: extracted in Keras' cache, the tarball, or download."""

from __future__ import annotations

import pickle
import tarfile
from pathlib import Path

import numpy as np

from errors import RunError
from search.data.dataset import Dataset
from search.data.files import download, first_existing, keras_datasets_dir

NAME = "cifar10"
DESCRIPTION = "CIFAR-10 objects, 32x32 RGB, 50k+10k (Keras)"
FLIPS_KEEP_LABELS = True  # a mirrored car is a car
TARBALL = "cifar-10-python.tar.gz"
BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6)) + ("test_batch",)
CLASS_NAMES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)


def candidates() -> list[Path]:
    cache = keras_datasets_dir()
    return [
        cache / "cifar-10-batches-py-target" / "cifar-10-batches-py",
        cache / "cifar-10-batches-py",
        cache / TARBALL,
    ]


def locate() -> str | None:
    path = first_existing(candidates())
    return str(path) if path else None


def load() -> Dataset:
    path = locate()
    if path is None:
        import keras

        download(NAME, keras.datasets.cifar10.load_data, str(keras_datasets_dir() / TARBALL))
        path = locate()
    batches = _read_batches(Path(path))
    x_train = np.concatenate([batches[b][0] for b in BATCHES[:-1]])
    y_train = np.concatenate([batches[b][1] for b in BATCHES[:-1]])
    x_test, y_test = batches["test_batch"]
    return Dataset(NAME, x_train, y_train, x_test, y_test, CLASS_NAMES)


def _read_batches(path: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    try:
        if path.is_dir():
            return {b: _decode((path / b).read_bytes()) for b in BATCHES}
        with tarfile.open(path, "r:gz") as tar:
            members = {Path(m.name).name: m for m in tar.getmembers() if m.isfile()}
            return {b: _decode(tar.extractfile(members[b]).read()) for b in BATCHES}
    except (OSError, KeyError, EOFError, tarfile.TarError, pickle.UnpicklingError) as e:
        raise RunError(
            f"cannot read CIFAR-10 from {path} ({type(e).__name__}: {e}); delete it so that it is "
            "downloaded again"
        ) from None


def _decode(raw: bytes) -> tuple[np.ndarray, np.ndarray]:
    batch = pickle.loads(raw, encoding="bytes")
    images = np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), np.asarray(batch[b"labels"], dtype=np.int64)
