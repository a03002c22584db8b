"""MNIST from Keras' `mnist.npz`: the cached file if present, else Keras' own download."""

from __future__ import annotations

import zipfile

import numpy as np

from errors import RunError
from search.data.dataset import Dataset
from search.data.files import download, first_existing, keras_datasets_dir

NAME = "mnist"
DESCRIPTION = "MNIST handwritten digits, 28x28 grayscale, 60k+10k (Keras)"
FLIPS_KEEP_LABELS = False  # a mirrored 2, 3 or 7 is no digit
FILE = "mnist.npz"


def locate() -> str | None:
    path = first_existing([keras_datasets_dir() / FILE])
    return str(path) if path else None


def load() -> Dataset:
    path = locate()
    if path:
        arrays = read_npz(path)
    else:
        import keras

        (x_tr, y_tr), (x_te, y_te) = download(
            NAME, keras.datasets.mnist.load_data, str(keras_datasets_dir() / FILE)
        )
        arrays = x_tr, y_tr, x_te, y_te
    x_train, y_train, x_test, y_test = arrays
    return Dataset(
        NAME,
        x_train[..., None].astype(np.uint8),
        y_train.astype(np.int64),
        x_test[..., None].astype(np.uint8),
        y_test.astype(np.int64),
        tuple(str(c) for c in range(10)),
    )


def read_npz(path: str) -> tuple[np.ndarray, ...]:
    """The four arrays of Keras' `mnist.npz`, or a RunError saying to delete a broken file."""
    try:
        with np.load(path, allow_pickle=False) as f:
            return f["x_train"], f["y_train"], f["x_test"], f["y_test"]
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as e:
        raise RunError(
            f"cannot read MNIST from {path} ({type(e).__name__}: {e}); delete it so that it is "
            "downloaded again"
        ) from None
