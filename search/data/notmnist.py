"""notMNIST letters A-J (28x28 PNG folders, some corrupt), read with the folder loader.

Looked for in `--data-dir` and Keras' cache, extracted folder or tarball; downloaded otherwise.
"""

from __future__ import annotations

import os
import shutil
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from errors import RunError, UsageError
from search.data import folder
from search.data.dataset import Dataset
from search.data.files import download, first_existing, keras_datasets_dir

URL = "http://yaroslavvb.com/upload/notMNIST/"


@dataclass(frozen=True)
class NotMnist:
    """One of the two notMNIST archives, as a data source."""

    NAME: str
    archive: str
    DESCRIPTION: str
    OPTIONS: tuple[str, ...] = ("image_size", "color", "data_dir")
    CLASS_NAMES: tuple[str, ...] = tuple("ABCDEFGHIJ")  # one folder of images per letter
    FLIPS_KEEP_LABELS: bool = False  # mirrored letters are other glyphs or none

    @property
    def tarball(self) -> str:
        return f"{self.archive}.tar.gz"

    @property
    def DOWNLOAD(self) -> str:  # noqa: N802 - the attribute name every source shares
        return f"downloaded from {URL}{self.tarball} on first use"

    def candidates(self, data_dir: str | None = None) -> list[Path]:
        places = ([Path(data_dir).expanduser()] if data_dir else []) + [keras_datasets_dir()]
        return [p / name for p in places for name in (self.archive, self.tarball)]

    def locate(self, data_dir: str | None = None) -> str | None:
        found = first_existing(self.candidates(data_dir))
        return str(found) if found else None

    def load(
        self, data_dir: str | None = None, image_size: int | None = None, color: str | None = None
    ) -> Dataset:
        if data_dir and not Path(data_dir).expanduser().is_dir():
            raise UsageError(f"--data-dir {data_dir}: no such folder")
        found = self.locate(data_dir)
        if found is None:
            import keras

            found = download(
                self.NAME,
                lambda: keras.utils.get_file(
                    fname=self.tarball, origin=URL + self.tarball, cache_subdir="datasets"
                ),
                str(keras_datasets_dir() / self.tarball),
            )
        path = Path(found)
        images = path if path.is_dir() else self.extract(path)
        return folder.load(images, image_size=image_size, color=color, name=self.NAME)

    def extract(self, tarball: Path) -> Path:
        """Unpack once into Keras' cache (atomically, so a stopped run leaves nothing half-done)."""
        target = keras_datasets_dir() / self.archive
        if target.is_dir():
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=f".{self.archive}.", dir=target.parent))
        try:
            with tarfile.open(tarball) as tar:
                tar.extractall(scratch, filter="data")
            inner = scratch / self.archive
            os.replace(inner if inner.is_dir() else scratch, target)
        except (OSError, tarfile.TarError, EOFError) as e:
            raise RunError(
                f"cannot extract {tarball} ({type(e).__name__}: {e}); delete it so that it is "
                "downloaded again"
            ) from None
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        return target


SMALL = NotMnist(
    "notmnist", "notMNIST_small", "notMNIST letters A-J, 28x28 grayscale, ~18.7k PNGs (small set)"
)
LARGE = NotMnist(
    "notmnist_large", "notMNIST_large", "notMNIST letters A-J, 28x28 grayscale, ~530k PNGs"
)
