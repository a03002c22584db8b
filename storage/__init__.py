"""Turn a storage URL into an Optuna storage, and keep passwords out of printed lines.

Public names: `open_storage`, `open_artifact_store`, `mask_password`, `describe_error`,
`heartbeat_seconds`, `grace_seconds`, `DEFAULT_URL`, `DEFAULT_ARTIFACTS`, `STORAGE_ENV`,
`MAX_RETRY`.
"""

from __future__ import annotations

from collections.abc import Callable

import optuna

from errors import CnnsearchError, StorageUnreachable, UsageError
from storage.artifacts import DEFAULT_ARTIFACTS, open_artifact_store
from storage.experimental import accept_experimental_features
from storage.journal import open_journal_file, open_redis
from storage.masking import mask_password, refuse_unencoded_at
from storage.proxy import open_grpc
from storage.settings import CONNECT_SECONDS, MAX_RETRY, grace_seconds, heartbeat_seconds
from storage.sqlite_file import reader_for

DEFAULT_URL = "sqlite:///cnnsearch.db"
STORAGE_ENV = "CNNSEARCH_STORAGE"  # how child processes get the URL: never in their argv


def open_sql(url: str, read_only: bool) -> optuna.storages.BaseStorage:
    """SQLite, PostgreSQL or MySQL; a read-only SQLite file of this Optuna's schema is read
    without SQLAlchemy, which the read-only commands would spend most of their start-up on."""
    if read_only and (reader := reader_for(url)) is not None:
        return reader
    from storage.rdb import open_rdb

    return open_rdb(url, read_only)


FILE_SCHEMES = ("sqlite", "journal")  # a path follows `://`, where an '@' is a plain character
OPENERS: dict[str, Callable[[str, bool], optuna.storages.BaseStorage]] = {
    "sqlite": open_sql,
    "postgresql": open_sql,
    "mysql": open_sql,
    "journal": open_journal_file,
    "redis": open_redis,
    "grpc": open_grpc,
}

__all__ = [
    "DEFAULT_ARTIFACTS",
    "DEFAULT_URL",
    "MAX_RETRY",
    "STORAGE_ENV",
    "describe_error",
    "grace_seconds",
    "heartbeat_seconds",
    "mask_password",
    "open_artifact_store",
    "open_storage",
]


def open_storage(url: str, read_only: bool = False) -> optuna.storages.BaseStorage:
    """An Optuna storage for `url`: sqlite, postgresql, mysql, journal file, redis or grpc.

    Args:
        url: `sqlite:///FILE.db`, `postgresql+psycopg://…`, `mysql+pymysql://…`,
            `journal:///PATH`, `redis://HOST:PORT` or `grpc://HOST:PORT`.
        read_only: for commands that only read. A SQLite or journal file must exist already
            (a mistyped path is an error, not a new empty database) and SQLite opens it
            read-only; no heartbeat is set up.

    Optuna's warnings that the features cnnsearch relies on are experimental are silenced for
    the rest of the process (`storage.experimental`).

    Raises:
        UsageError: an unsupported or malformed URL (a server URL whose user name or password
            holds an unencoded `@` among them), a bad `$CNNSEARCH_HEARTBEAT_SECONDS`, no
            database at a read-only SQLite or journal path.
        RunError: the storage cannot be reached, answers nothing within seconds, or is a file
            that is damaged or cannot be written; one line, the password masked.

    Example:
        >>> open_storage("sqlite:///cnnsearch.db", read_only=True)  # doctest: +SKIP
    """
    scheme = url.split("://", 1)[0].split("+", 1)[0] if "://" in url else ""
    opener = OPENERS.get(scheme)
    if opener is None:
        raise UsageError(
            f"unsupported storage URL {mask_password(url)!r}; use sqlite:///FILE.db, "
            "postgresql+psycopg://USER:PASSWORD@HOST/DB, mysql+pymysql://USER:PASSWORD@HOST/DB, "
            "journal:///PATH, redis://HOST:PORT or grpc://HOST:PORT"
        )
    if scheme not in FILE_SCHEMES:
        refuse_unencoded_at(url)
    accept_experimental_features()
    try:
        return opener(url, read_only)
    except CnnsearchError:
        raise
    except Exception as e:  # drivers raise their own kinds; all mean "cannot reach it"
        detail = describe_error(e)
        if "timeout" in detail.lower() or "timed out" in detail.lower():
            detail += (
                f" (no answer within {CONNECT_SECONDS} s: is that the database's host and port?)"
            )
        raise StorageUnreachable(f"cannot open storage {mask_password(url)}: {detail}") from None


def describe_error(error: BaseException) -> str:
    """One line saying what went wrong with a storage, in the driver's words, without the
    wrapper classes SQLAlchemy and Optuna name, the password masked."""
    import sqlalchemy.exc

    while isinstance(error, optuna.exceptions.StorageInternalError) and error.__cause__:
        error = error.__cause__
    if isinstance(error, sqlalchemy.exc.DBAPIError) and error.orig is not None:
        error = error.orig
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    text = lines[0] if lines else type(error).__name__
    return mask_password(text)
