"""The in-memory dataset every source returns, and the validation split cut from it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from errors import UsageError


@dataclass(frozen=True)
class Dataset:
    """uint8 images (N, H, W, C) and integer labels; models scale pixels themselves."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]

    def __post_init__(self) -> None:
        for x in (self.x_train, self.x_test):
            if x.dtype != np.uint8 or x.ndim != 4:
                raise ValueError(
                    f"{self.name}: images must be uint8 (N, H, W, C), got {x.dtype} {x.shape}"
                )

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return tuple(self.x_train.shape[1:])

    @property
    def n_classes(self) -> int:
        return len(self.class_names)


@dataclass(frozen=True)
class Split:
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray


def split_validation(
    dataset: Dataset, val_fraction: float, seed: int = 0, train_size: int | None = None
) -> Split:
    """A stratified, seeded validation split of the training set, after an optional subsample.

    `train_size` counts the images used for training and validation together.
    """
    from sklearn.model_selection import train_test_split

    x, y = dataset.x_train, dataset.y_train
    if train_size is not None:
        if train_size > len(y):
            raise UsageError(
                f"--train-size {train_size} is larger than {dataset.name}'s {len(y)} training "
                f"images; use at most {len(y)} or leave it out"
            )
        if train_size < len(y):
            x, _, y, _ = train_test_split(
                x, y, train_size=train_size, stratify=_stratify(y, train_size), random_state=seed
            )
    try:
        x_tr, x_val, y_tr, y_val = train_test_split(
            x,
            y,
            test_size=val_fraction,
            stratify=_stratify(y, round(len(y) * val_fraction)),
            random_state=seed,
        )
    except ValueError as e:
        raise UsageError(
            f"cannot cut a validation split of {val_fraction} from {len(y)} images ({e}); "
            "use a larger --train-size or --val-fraction"
        ) from None
    return Split(x_tr, y_tr, x_val, y_val)


def _stratify(y: np.ndarray, n_picked: int) -> np.ndarray | None:
    # Stratifying needs every class in both parts; for tiny picks fall back to a plain shuffle.
    counts = np.bincount(y)
    counts = counts[counts > 0]
    enough = counts.min() >= 2 and n_picked >= len(counts) and len(y) - n_picked >= len(counts)
    return y if enough else None
