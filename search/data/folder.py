"""Any class-per-subfolder image directory: decoded on every core, cached on disk as .npz.

The cache key hashes every file's relative path, size and mtime and the options, so a changed
folder is read again. Unreadable files are skipped and counted in one warning; a class folder
without files is no class, and a warning names it. Ctrl-C or SIGTERM while the worker processes
decode stops them all and raises KeyboardInterrupt in the caller alone.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import multiprocessing
import multiprocessing.pool
import os
import signal
import tempfile
import threading
import warnings
import zipfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from errors import CnnsearchWarning, RunError, UsageError
from search.data.dataset import Dataset

NAME = "folder"
PREFIX = "folder:"
DESCRIPTION = "folder:PATH - one subfolder per class, any image Pillow reads"
OPTIONS = ("image_size", "color")
# Unknown images: no flips unless the user says they keep the labels (--set augment_flip=…).
FLIPS_KEEP_LABELS = None
DEFAULT_SIZE = 32
TEST_FRACTION = 0.2
CACHE_VERSION = 1
# Below this many files, starting worker processes costs more than decoding in this one.
PARALLEL_FROM = 2000
GRAY_MODES = {"1", "L", "LA", "I", "I;16", "F"}
CACHE_ENV = "CNNSEARCH_CACHE"


class SkippedFilesWarning(CnnsearchWarning):
    """Some files in an image folder could not be read and were left out."""


class EmptyClassWarning(CnnsearchWarning):
    """Some class folders hold no files and were left out of the classes."""


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
    decoded = read_cache(cache)
    if decoded is None:
        check_cache_writable(cache.parent)  # before the decoding, which may take minutes
        decoded = decode_folder(folder, files, image_size, color)
        write_cache(cache, *decoded)
    x, y, skipped = decoded
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
    return Path(os.environ.get(CACHE_ENV, default)).expanduser()


def read_cache(cache: Path) -> tuple[np.ndarray, np.ndarray, list[str]] | None:
    """A decoded folder from the cache; None when it is not there or cannot be read (it is
    then decoded and written again)."""
    try:
        with np.load(cache, allow_pickle=False) as f:
            return f["x"], f["y"], f["skipped"].tolist()
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None


def check_cache_writable(folder: Path) -> None:
    """A RunError naming the cache folder when it cannot be created or written."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder, prefix=".cnnsearch-write-check-"):
            pass
    except OSError as e:
        raise RunError(_cache_error(folder, e)) from None


def write_cache(cache: Path, x: np.ndarray, y: np.ndarray, skipped: list[str]) -> None:
    """Write atomically, so that a stopped run or another process never reads half a file."""
    partial = cache.with_suffix(f".{os.getpid()}.tmp.npz")
    try:
        np.savez(partial, x=x, y=y, skipped=np.array(skipped, dtype=str))
        partial.replace(cache)
    except OSError as e:
        partial.unlink(missing_ok=True)
        raise RunError(_cache_error(cache.parent, e)) from None


def _cache_error(folder: Path, error: OSError) -> str:
    return (
        f"cannot write the decoded-image cache {folder} ({error.strerror or error}); set "
        f"{CACHE_ENV} to a folder this user can write"
    )


def list_images(folder: Path) -> tuple[list[tuple[str, int]], tuple[str, ...]]:
    """(relative path, class index) for every non-hidden file, and the class names."""
    if not folder.is_dir():
        raise UsageError(f"{folder}: no such folder; give one subfolder of images per class")
    folders = sorted(d.name for d in folder.iterdir() if d.is_dir() and not d.name.startswith("."))
    per_class = {cls: _class_files(folder / cls) for cls in folders}
    empty = [cls for cls, paths in per_class.items() if not paths]
    if empty and len(empty) < len(folders):
        warnings.warn(
            f"{folder}: left out {len(empty)} class folder(s) that hold no files: "
            f"{', '.join(empty)}",
            EmptyClassWarning,
            stacklevel=3,
        )
    classes = [cls for cls in folders if per_class[cls]]
    files = [
        (str(p.relative_to(folder)), label)
        for label, cls in enumerate(classes)
        for p in per_class[cls]
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


def _class_files(folder: Path) -> list[Path]:
    return [p for p in sorted(folder.rglob("*")) if p.is_file() and not p.name.startswith(".")]


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
    chunks = [paths[i : i + 500] for i in range(0, len(paths), 500)]
    # Leaving the block terminates the workers and waits for them, after an interrupt too.
    with _sigterm_as_interrupt(), _pool(os.cpu_count()) as pool:
        results = pool.map(_apply_chunk, [(fn, chunk, kwargs) for chunk in chunks])
    return [r for chunk in results for r in chunk]


def _pool(workers: int) -> multiprocessing.pool.Pool:
    """Worker processes that ignore SIGINT: a Ctrl-C at the terminal reaches the whole process
    group, and this process alone should act on it (by terminating them), without a traceback
    from each. Spawned, not forked: the caller may already run TensorFlow threads, which a fork
    would copy stuck. They inherit the ignored SIGINT from the moment they start."""
    context = multiprocessing.get_context("spawn")
    if threading.current_thread() is not threading.main_thread():
        return context.Pool(workers)
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        return context.Pool(workers)
    finally:
        signal.signal(signal.SIGINT, previous)


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM (a scheduler stopping the run) takes the same path as Ctrl-C while the workers
    decode, so they are terminated rather than left behind."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


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
