"""Any class-per-subfolder image directory: decoded on every core, cached on disk as .npz.

The cache key hashes every file's relative path, size and mtime and the options, so a changed
folder is read again. Unreadable files are skipped and counted in one warning.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import warnings
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from errors import CnnsearchWarning, UsageError
from search.data.dataset import Dataset

NAME = "folder"
PREFIX = "folder:"
DESCRIPTION = "folder:PATH - one subfolder per class, any image Pillow reads"
OPTIONS = ("image_size", "color")
COLORS = ("grayscale", "rgb")
DEFAULT_SIZE = 32
TEST_FRACTION = 0.2
CACHE_VERSION = 1
# Below this many files, starting worker processes costs more than decoding in this one.
PARALLEL_FROM = 2000
GRAY_MODES = {"1", "L", "LA", "I", "I;16", "F"}


class SkippedFilesWarning(CnnsearchWarning):
    """Some files in an image folder could not be read and were left out."""


def locate() -> str:
    return "the folder you name: folder:PATH"


def resolve(path: str) -> str:
    """`folder:PATH` with PATH absolute, or a UsageError when it is not a folder."""
    folder = Path(path).expanduser().resolve()
    if not folder.is_dir():
        raise UsageError(
            f"folder:{path}: no such folder; give a folder with one subfolder of images per class"
        )
    return PREFIX + str(folder)


def load(
    path: str | Path,
    image_size: int | None = None,
    color: str | None = None,
    name: str | None = None,
) -> Dataset:
    """The images under `path` (one subfolder per class) with a fixed stratified test split."""
    folder = Path(path)
    name = name or PREFIX + str(folder)
    files, class_names = list_images(folder)
    cache = cache_dir() / f"{cache_key(folder, files, image_size, color)}.npz"
    if cache.exists():
        with np.load(cache, allow_pickle=False) as f:
            x, y, skipped = f["x"], f["y"], f["skipped"].tolist()
    else:
        x, y, skipped = decode_folder(folder, files, image_size, color)
        cache.parent.mkdir(parents=True, exist_ok=True)
        partial = cache.with_suffix(f".{os.getpid()}.tmp.npz")
        np.savez(partial, x=x, y=y, skipped=np.array(skipped, dtype=str))
        partial.replace(cache)
    if skipped:
        warnings.warn(
            f"{name}: skipped {len(skipped)} unreadable file(s) of {len(files)}, "
            f"e.g. {', '.join(skipped[:3])}",
            SkippedFilesWarning,
            stacklevel=2,
        )
    if len(y) == 0:
        raise UsageError(f"{name}: none of its {len(files)} files is an image Pillow can read")
    return _split(name, x, y, class_names)


def cache_dir() -> Path:
    """`$CNNSEARCH_CACHE` or ~/.cache/cnnsearch: decoded folders, reused while unchanged."""
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "cnnsearch"
    return Path(os.environ.get("CNNSEARCH_CACHE", default)).expanduser()


def list_images(folder: Path) -> tuple[list[tuple[str, int]], tuple[str, ...]]:
    """(relative path, class index) for every non-hidden file, and the class names."""
    if not folder.is_dir():
        raise UsageError(f"{folder}: no such folder; give one subfolder of images per class")
    classes = sorted(d.name for d in folder.iterdir() if d.is_dir() and not d.name.startswith("."))
    files = [
        (str(p.relative_to(folder)), label)
        for label, cls in enumerate(classes)
        for p in sorted((folder / cls).rglob("*"))
        if p.is_file() and not p.name.startswith(".")
    ]
    if not files:
        raise UsageError(
            f"{folder} holds no images; put them in one subfolder per class, "
            f"like {folder}/cat/1.png"
        )
    used = sorted({label for _, label in files})
    if len(used) < 2:
        raise UsageError(
            f"{folder} has images of only one class ({classes[used[0]]}); a classifier needs at "
            "least two subfolders of images"
        )
    return files, tuple(classes)


def cache_key(
    folder: Path, files: list[tuple[str, int]], image_size: int | None, color: str | None
) -> str:
    digest = hashlib.sha256(json.dumps([CACHE_VERSION, image_size, color, TEST_FRACTION]).encode())
    for rel, label in files:
        stat = (folder / rel).stat()
        digest.update(f"{rel}\0{label}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:32]


def decode_folder(
    folder: Path, files: list[tuple[str, int]], image_size: int | None, color: str | None
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Decode every file on every core; returns images, labels and the unreadable files."""
    paths = [str(folder / rel) for rel, _ in files]
    if image_size is None or color is None:
        headers = _map(_read_header, paths)
        readable = [h for h in headers if h is not None]
        if image_size is None:
            image_size = _default_size([size for size, _ in readable])
        if color is None:
            gray = readable and all(mode in GRAY_MODES for _, mode in readable)
            color = "grayscale" if gray else "rgb"
    channels = 1 if color == "grayscale" else 3
    images = _map(_decode, paths, image_size=image_size, color=color)
    kept = [i for i, image in enumerate(images) if image is not None]
    x = np.zeros((0, image_size, image_size, channels), np.uint8)
    if kept:
        x = np.stack([images[i] for i in kept]).reshape(-1, image_size, image_size, channels)
    y = np.array([files[i][1] for i in kept], dtype=np.int64)
    skipped = [files[i][0] for i, image in enumerate(images) if image is None]
    return x, y, skipped


def _default_size(sizes: list[tuple[int, int]]) -> int:
    # The most common size when it is square (28 for notMNIST); otherwise the labs' 32.
    if not sizes:
        return DEFAULT_SIZE
    (width, height), _ = Counter(sizes).most_common(1)[0]
    return width if width == height else DEFAULT_SIZE


def _map(fn, paths: list[str], **kwargs) -> list:
    if len(paths) < PARALLEL_FROM or (os.cpu_count() or 1) < 2:
        return [fn(p, **kwargs) for p in paths]
    workers = os.cpu_count()
    chunks = [paths[i : i + 500] for i in range(0, len(paths), 500)]
    # spawn, not fork: the caller may already run TensorFlow threads, which fork would copy stuck.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        results = pool.map(_apply_chunk, [(fn, chunk, kwargs) for chunk in chunks])
        return [r for chunk in results for r in chunk]


def _apply_chunk(job) -> list:
    fn, chunk, kwargs = job
    return [fn(p, **kwargs) for p in chunk]


def _read_header(path: str) -> tuple[tuple[int, int], str] | None:
    from PIL import Image

    try:
        with Image.open(path) as image:
            return image.size, image.mode
    except Exception:  # Pillow raises many kinds for a broken or non-image file
        return None


def _decode(path: str, image_size: int, color: str) -> np.ndarray | None:
    from PIL import Image

    try:
        with Image.open(path) as image:
            image = image.convert("L" if color == "grayscale" else "RGB")
            if image.size != (image_size, image_size):
                image = image.resize((image_size, image_size), Image.Resampling.BILINEAR)
            return np.asarray(image, dtype=np.uint8)
    except Exception:  # a truncated PNG fails only here, after its header read fine
        return None


def _split(name: str, x: np.ndarray, y: np.ndarray, class_names: tuple[str, ...]) -> Dataset:
    from sklearn.model_selection import train_test_split

    counts = np.bincount(y)
    counts = counts[counts > 0]
    if len(counts) < 2:
        raise UsageError(f"{name}: readable images of only one class; a classifier needs two")
    stratify = y if counts.min() >= 2 and len(y) * TEST_FRACTION >= len(counts) else None
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=TEST_FRACTION, stratify=stratify, random_state=0
    )
    return Dataset(name, x_train, y_train, x_test, y_test, class_names)
