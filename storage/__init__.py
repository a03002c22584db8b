"""Turn a storage URL into an Optuna storage, and keep passwords out of printed lines.

Public names: `open_storage`, `open_artifact_store`, `mask_password`, `DEFAULT_URL`.
"""

from __future__ import annotations

import os
import random
import re
import time
import warnings
from pathlib import Path

import optuna
import sqlalchemy.exc
from optuna.storages import RetryHeartbeatStaleTrialCallback

from errors import RunError, UsageError

DEFAULT_URL = "sqlite:///cnnsearch.db"
DEFAULT_ARTIFACTS = "cnnsearch-artifacts"
HEARTBEAT_SECONDS = 30  # CNNSEARCH_HEARTBEAT_SECONDS overrides it (tests use 1)
GRACE_HEARTBEATS = 3  # a trial is stale after this many missed heartbeats
SCHEMA_ATTEMPTS = 6
MAX_RETRY = 3
RDB_SCHEMES = ("sqlite", "postgresql", "mysql")

__all__ = [
    "DEFAULT_ARTIFACTS",
    "DEFAULT_URL",
    "mask_password",
    "open_artifact_store",
    "open_storage",
]


def mask_password(text: str) -> str:
    """`text` with the password of every URL in it replaced by ***."""
    return re.sub(r"(://[^:/@\s]*:)[^@\s]*@", r"\1***@", text)


def open_storage(url: str) -> optuna.storages.BaseStorage:
    """An Optuna storage for `url`: sqlite, postgresql, mysql, journal file, redis or grpc."""
    scheme = url.split("://", 1)[0].split("+", 1)[0] if "://" in url else ""
    try:
        if scheme in RDB_SCHEMES:
            return _rdb(url)
        if scheme == "journal":
            return _journal_file(url)
        if scheme == "redis":
            from optuna.storages.journal import JournalRedisBackend

            return optuna.storages.JournalStorage(JournalRedisBackend(url))
        if scheme == "grpc":
            return _grpc(url)
    except (UsageError, RunError):
        raise
    except Exception as e:  # drivers raise their own kinds; all mean "cannot reach it"
        raise RunError(
            f"cannot open storage {mask_password(url)}: {mask_password(str(e)).splitlines()[0]}"
        ) from None
    raise UsageError(
        f"unsupported storage URL {mask_password(url)!r}; use sqlite:///FILE.db, "
        "postgresql+psycopg://USER:PASSWORD@HOST/DB, mysql+pymysql://USER:PASSWORD@HOST/DB, "
        "journal:///PATH, redis://HOST:PORT or grpc://HOST:PORT"
    )


def open_artifact_store(path: str | Path) -> optuna.artifacts.FileSystemArtifactStore:
    """The folder where trials keep their saved models (shared across machines like the DB)."""
    Path(path).mkdir(parents=True, exist_ok=True)
    return optuna.artifacts.FileSystemArtifactStore(str(path))


def _rdb(url: str) -> optuna.storages.RDBStorage:
    """An RDB storage with pre-ping pools and heartbeats. Several processes opening an empty
    database at once race to create the schema (PostgreSQL: UniqueViolation, SQLite:
    alembic_version); the losers retry once the winner's schema is there."""
    for attempt in range(SCHEMA_ATTEMPTS):
        try:
            return _rdb_once(url)
        except (sqlalchemy.exc.IntegrityError, sqlalchemy.exc.ProgrammingError):
            if attempt == SCHEMA_ATTEMPTS - 1:
                raise
            time.sleep(0.2 + random.random() * (attempt + 1))
        except sqlalchemy.exc.OperationalError as e:
            if "already exists" not in str(e) or attempt == SCHEMA_ATTEMPTS - 1:
                raise
            time.sleep(0.2 + random.random() * (attempt + 1))
    raise AssertionError("unreachable")


def _rdb_once(url: str) -> optuna.storages.RDBStorage:
    connect_args = {"timeout": 60} if url.startswith("sqlite") else {}
    heartbeat = int(os.environ.get("CNNSEARCH_HEARTBEAT_SECONDS", HEARTBEAT_SECONDS))
    # Heartbeats are "experimental" in Optuna since 2.9; we rely on them.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.storages.RDBStorage(
            url,
            engine_kwargs={"pool_pre_ping": True, "connect_args": connect_args},
            heartbeat_interval=heartbeat,
            grace_period=heartbeat * GRACE_HEARTBEATS,
            heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(max_retry=MAX_RETRY),
        )


def _journal_file(url: str) -> optuna.storages.JournalStorage:
    from optuna.storages.journal import JournalFileBackend

    path = url[len("journal://") :]
    if not path:
        raise UsageError("journal storage needs a path, for example journal:///shared/study.log")
    return optuna.storages.JournalStorage(JournalFileBackend(path))


def _grpc(url: str) -> optuna.storages.BaseStorage:
    match = re.fullmatch(r"grpc://([^:/]+):(\d+)/?", url)
    if not match:
        raise UsageError(f"grpc storage URL must be grpc://HOST:PORT, got {url!r}")
    return optuna.storages.GrpcStorageProxy(host=match[1], port=int(match[2]))
