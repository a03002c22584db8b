"""Tiny dataset files in each upstream format, so the real loading code runs offline."""

from __future__ import annotations

import gzip
import io
import pickle
import tarfile
from pathlib import Path

import numpy as np


def images(n: int, shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(n, *shape), dtype=np.uint8)


def labels(n: int, n_classes: int = 10) -> np.ndarray:
    return (np.arange(n) % n_classes).astype(np.uint8)


def write_mnist_npz(path: Path, n_train: int = 40, n_test: int = 20) -> None:
    np.savez_compressed(
        path,
        x_train=images(n_train, (28, 28)),
        y_train=labels(n_train),
        x_test=images(n_test, (28, 28), 1),
        y_test=labels(n_test),
    )


def idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_fashion_idx(folder: Path, n_train: int = 40, n_test: int = 20) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {
        "train-images-idx3-ubyte.gz": images(n_train, (28, 28)),
        "train-labels-idx1-ubyte.gz": labels(n_train),
        "t10k-images-idx3-ubyte.gz": images(n_test, (28, 28), 1),
        "t10k-labels-idx1-ubyte.gz": labels(n_test),
    }
    for name, array in arrays.items():
        (folder / name).write_bytes(gzip.compress(idx_bytes(array)))


def write_cifar_tarball(path: Path, per_batch: int = 10) -> dict[str, np.ndarray]:
    """The CIFAR-10 python tarball: pickled batches with rows of 3072 channel-first bytes."""
    batches = {}
    with tarfile.open(path, "w:gz") as tar:
        for i, name in enumerate([f"data_batch_{k}" for k in range(1, 6)] + ["test_batch"]):
            data = images(per_batch, (3072,), seed=i)
            batches[name] = data
            raw = pickle.dumps({b"data": data, b"labels": list(labels(per_batch))})
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(raw)
            tar.addfile(info, io.BytesIO(raw))
    return batches


def write_image_folder(
    root: Path,
    per_class: dict[str, int],
    size: tuple[int, int] = (28, 28),
    mode: str = "L",
    broken: int = 0,
    ext: str = "png",
) -> Path:
    """One subfolder per class of `mode` images; `broken` corrupt ones in the first class."""
    from PIL import Image

    rng = np.random.default_rng(0)
    for cls, n in per_class.items():
        (root / cls).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            channels = {"L": (), "RGB": (3,), "RGBA": (4,)}[mode]
            pixels = rng.integers(0, 256, (size[1], size[0], *channels), dtype=np.uint8)
            Image.fromarray(pixels).save(root / cls / f"{i}.{ext}")
    for i in range(broken):
        first = root / next(iter(per_class))
        # Like notMNIST's bad files: a PNG signature, then nothing usable.
        (first / f"broken{i}.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 20)
    return root


def write_notmnist_tarball(path: Path, archive: str, per_class: int, broken: int) -> None:
    """notMNIST_small.tar.gz's layout: notMNIST_small/A..J/*.png, some corrupt."""
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / archive
        write_image_folder(folder, {c: per_class for c in "ABCDEFGHIJ"}, broken=broken)
        with tarfile.open(path, "w:gz") as tar:
            tar.add(folder, arcname=archive)
