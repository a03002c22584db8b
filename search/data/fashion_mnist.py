"""Fashion-MNIST from its four IDX gz files: Keras' cache, Debian's dataset folder, or download."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from errors import RunError
from search.data.dataset import Dataset
from search.data.files import SYSTEM_DATASET_DIR, download, keras_datasets_dir

NAME = "fashion_mnist"
DESCRIPTION = (
    "Fashion-MNIST clothing, 28x28 grayscale, 60k+10k (Keras; Debian dataset-fashion-mnist)"
)
FLIPS_KEEP_LABELS = True  # a mirrored shirt is a shirt
FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)
CLASS_NAMES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)


def folders() -> list[Path]:
    return [keras_datasets_dir() / "fashion-mnist", SYSTEM_DATASET_DIR / "fashion-mnist"]


def locate() -> str | None:
    found = next((d for d in folders() if all((d / f).exists() for f in FILES)), None)
    return str(found) if found else None


def load() -> Dataset:
    folder = locate()
    if folder is None:
        import keras

        download(NAME, keras.datasets.fashion_mnist.load_data, str(folders()[0]))
        folder = str(folders()[0])
    x_train, y_train, x_test, y_test = (read_idx(Path(folder) / f) for f in FILES)
    return Dataset(
        NAME,
        x_train[..., None],
        y_train.astype(np.int64),
        x_test[..., None],
        y_test.astype(np.int64),
        CLASS_NAMES,
    )


def read_idx(path: Path) -> np.ndarray:
    """An IDX file (gzipped or not) as a uint8 array of the shape its header gives."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            data = f.read()
        zero, dtype_code, n_dims = data[0:2], data[2], data[3]
        if zero != b"\0\0" or dtype_code != 0x08:
            raise ValueError("not an unsigned-byte IDX file")
        shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(n_dims))
        return np.frombuffer(data, np.uint8, offset=4 + 4 * n_dims).reshape(shape)
    except (OSError, ValueError, EOFError, IndexError) as e:
        raise RunError(
            f"cannot read {path}: {e}; delete it so that it is downloaded again"
        ) from None
