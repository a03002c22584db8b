"""The folder where trials keep their saved models, shared across machines like the storage."""

from __future__ import annotations

from pathlib import Path

import optuna

from storage.writable import ensure_writable_folder

DEFAULT_ARTIFACTS = "cnnsearch-artifacts"


def open_artifact_store(
    path: str | Path, read_only: bool = False
) -> optuna.artifacts.FileSystemArtifactStore:
    """Optuna's file-system artifact store in `path`.

    Unless `read_only`, the folder is created and checked writable now, before a trial trains
    a model that could not be saved.

    Raises:
        RunError: the folder cannot be created or written; the message names it.
    """
    if not read_only:
        ensure_writable_folder(Path(path), "--artifacts")
    return optuna.artifacts.FileSystemArtifactStore(str(path))
