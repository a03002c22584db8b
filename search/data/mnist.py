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
CLASS_NAMES = tuple(str(c) for c in range(10))


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
        CLASS_NAMES,
    )


def read_npz(path: str) -> tuple[np.ndarray, ...]:
    """The four arrays of Keras' `mnist.npz`, or a RunError saying to delete a broken file.

    NumPy's own words are not passed on: for a file that is no archive it advises loading it
    "unsafely using `allow_pickle=`", the opposite of the fix.
    """
    try:
        with np.load(path, allow_pickle=False) as f:
            return f["x_train"], f["y_train"], f["x_test"], f["y_test"]
    except OSError as e:  # not BadZipFile, which is no OSError
        problem = e.strerror or str(e)
    except (ValueError, KeyError, EOFError, zipfile.BadZipFile):
        problem = "it is not Keras' MNIST archive (damaged, or cut short while downloading)"
    raise RunError(
        f"cannot read MNIST from {path}: {problem}; delete it so that it is downloaded again"
    )
