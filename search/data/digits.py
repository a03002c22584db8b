"""scikit-learn's bundled 8x8 digits: works offline, the default for demos and tests."""

from __future__ import annotations

import numpy as np

from search.data.dataset import Dataset

NAME = "digits"
DESCRIPTION = "scikit-learn's 8x8 handwritten digits (1,797 images, 10 classes), bundled"
FLIPS_KEEP_LABELS = False  # a mirrored 2, 3 or 7 is no digit
TEST_FRACTION = 0.2
CLASS_NAMES = tuple(str(c) for c in range(10))


def locate() -> str:
    return "bundled with scikit-learn"


def load() -> Dataset:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    bunch = load_digits()
    # Pixels are 0..16; stretch to 0..255 so every source shares one in-model scaling.
    images = np.round(bunch.images * (255 / 16)).astype(np.uint8)[..., np.newaxis]
    x_train, x_test, y_train, y_test = train_test_split(
        images,
        bunch.target.astype(np.int64),
        test_size=TEST_FRACTION,
        stratify=bunch.target,
        random_state=0,
    )
    return Dataset(NAME, x_train, y_train, x_test, y_test, CLASS_NAMES)
