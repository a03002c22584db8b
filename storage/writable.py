"""Whether a file or folder can be written, checked up front with a message naming it."""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

from errors import RunError, UsageError


def check_writable(path: Path, what: str) -> None:
    """A RunError naming `path` when this process cannot write the file `path` or create files
    next to it (SQLite's rollback journal and the journal file's lock live there).

    `os.access` is not enough: it says yes to root on a read-only file system's files.
    """
    folder = path.parent
    try:
        with tempfile.TemporaryFile(dir=folder, prefix=".cnnsearch-write-check-"):
            pass
        if path.exists() and not os.access(path, os.W_OK):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))
    except OSError as e:
        raise RunError(
            f"cannot write {what} {path} ({e.strerror or e}); use a copy on a writable file "
            "system, or only commands that read (studies, best, compare)"
        ) from None


def ensure_writable_folder(folder: Path, what: str) -> None:
    """Create `folder` if needed and check that files can be written in it; a RunError naming
    it otherwise."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder, prefix=".cnnsearch-write-check-"):
            pass
    except OSError as e:
        raise RunError(
            f"{what} {folder}: cannot write there ({e.strerror or e}); give a folder this user "
            "can create and write"
        ) from None


def check_store_file(path: Path, name: str, read_only: bool, label: str | None = None) -> None:
    """The clear message for a storage file (`name`: database, journal) that a command cannot
    use: a read-only command never creates one, and a writing one needs its folder writable."""
    if read_only and not path.is_file():
        raise UsageError(
            f"no {name} at {path}; check the path in --storage (or $CNNSEARCH_STORAGE), or "
            "start a study there first with `cnnsearch optimize`"
        )
    if not path.parent.is_dir():
        raise UsageError(
            f"no folder {path.parent} for the {name} {path}; create it or fix --storage"
        )
    if not read_only:
        check_writable(path, label or f"the {name}")


def can_write_in(folder: Path) -> bool:
    """Whether this process can create files in `folder` (os.access says yes to root on a
    read-only file system)."""
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".cnnsearch-write-check-"):
            return True
    except OSError:
        return False
