"""SQLite, PostgreSQL and MySQL through Optuna's RDBStorage: heartbeats, timeouts, file checks."""

from __future__ import annotations

import random
import sqlite3
import time
import warnings
from pathlib import Path
from urllib.parse import quote

import optuna
import sqlalchemy
import sqlalchemy.exc
from optuna.storages import RetryHeartbeatStaleTrialCallback
from sqlalchemy.engine import URL, make_url

from errors import UsageError
from storage.settings import (
    CONNECT_SECONDS,
    GRACE_HEARTBEATS,
    MAX_RETRY,
    QUERY_SECONDS,
    heartbeat_seconds,
)
from storage.sqlite_file import LOCK_SECONDS, checked_schema

SCHEMA_ATTEMPTS = 6


def open_rdb(url: str, read_only: bool = False) -> optuna.storages.RDBStorage:
    """An RDB storage with pre-ping pools, the drivers' connect and read timeouts, and (unless
    `read_only`) Optuna's heartbeat, whose stale trials `RetryHeartbeatStaleTrialCallback`
    retries.

    A SQLite file is checked first: it must be intact, and writable unless `read_only`; with
    `read_only` it must exist already and is opened read-only, so no file is ever created.
    """
    heartbeat = None if read_only else heartbeat_seconds()
    parsed = make_url(url)
    path = sqlite_path(parsed)
    if path is not None:
        url = _checked_sqlite(url, path, read_only)
    if parsed.get_backend_name() == "mysql":
        _check_mysql_answers(parsed)
    for attempt in range(SCHEMA_ATTEMPTS):
        try:
            storage = _rdb_once(url, _connect_args(parsed), heartbeat)
            if path is not None and not read_only:
                _begin_immediately(storage.engine)
            return storage
        except (sqlalchemy.exc.IntegrityError, sqlalchemy.exc.ProgrammingError):
            if attempt == SCHEMA_ATTEMPTS - 1:
                raise
        except sqlalchemy.exc.OperationalError as e:
            if "already exists" not in str(e) or attempt == SCHEMA_ATTEMPTS - 1:
                raise
        # Several processes opening an empty database at once race to create the schema
        # (PostgreSQL: UniqueViolation, SQLite: alembic_version); the losers retry once the
        # winner's schema is there.
        time.sleep(0.2 + random.random() * (attempt + 1))
    raise AssertionError("unreachable")


def sqlite_path(url: URL) -> Path | None:
    """The file of a SQLite URL; None for other databases, in-memory ones and `file:` URIs."""
    if url.get_backend_name() != "sqlite":
        return None
    database = url.database or ""
    if database in ("", ":memory:") or url.query.get("uri") == "true":
        return None
    return Path(database).expanduser()


def _checked_sqlite(url: str, path: Path, read_only: bool) -> str:
    """`url` (read-only when asked) once `path` passed the checks that give a clear message."""
    schema = checked_schema(path, read_only)
    if not read_only:
        return url
    if schema is None:
        raise UsageError(f"{path} holds no studies (it is not an Optuna database); check --storage")
    # SQLite's URI form is the one way to tell it never to create or write the file.
    read_only_url = make_url(url).set(database=f"file:{quote(str(path.resolve()))}")
    return read_only_url.update_query_dict({"mode": "ro", "uri": "true"}).render_as_string(
        hide_password=False
    )


def _begin_immediately(engine: sqlalchemy.Engine) -> None:
    """Make every transaction on a SQLite file take its write lock when it begins.

    pysqlite begins a transaction only at its first write, and SQLite ignores SELECT ... FOR
    UPDATE, so Optuna's claim of a queued trial (read that it waits, then mark it running) let
    two workers claim the same trial and train it twice. This is SQLAlchemy's recipe for
    pysqlite's transactions; the pool is emptied so that every connection gets it.
    """

    @sqlalchemy.event.listens_for(engine, "connect")
    def _no_implicit_begin(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        dbapi_connection.isolation_level = None

    @sqlalchemy.event.listens_for(engine, "begin")
    def _begin(connection: sqlalchemy.Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    engine.dispose()


def _check_mysql_answers(url: URL) -> None:
    """Connect once with a short read timeout. A MySQL session begins with the server's
    greeting, so a port that accepts and stays silent is found here within seconds, while the
    storage's own connections keep a read timeout long enough for slow queries."""
    args = {"connect_timeout": CONNECT_SECONDS, "read_timeout": CONNECT_SECONDS}
    engine = sqlalchemy.create_engine(
        url, poolclass=sqlalchemy.pool.NullPool, connect_args=_unless_set(url, args)
    )
    try:
        with engine.connect():
            pass
    finally:
        engine.dispose()


def _connect_args(url: URL) -> dict:
    """Each driver's own timeouts."""
    driver = url.get_driver_name()
    if url.get_backend_name() == "sqlite":
        args = {"timeout": LOCK_SECONDS}
    elif driver in ("psycopg", "psycopg2"):
        # libpq's keepalives find a server that vanished mid-query in about a minute.
        args = {
            "connect_timeout": CONNECT_SECONDS,
            "keepalives": 1,
            "keepalives_idle": 30,
            "keepalives_interval": 10,
            "keepalives_count": 3,
        }
    elif driver in ("pymysql", "mysqldb"):
        args = {"connect_timeout": CONNECT_SECONDS, "read_timeout": QUERY_SECONDS}
    else:
        args = {}
    return _unless_set(url, args)


def _unless_set(url: URL, args: dict) -> dict:
    """`args` without those the URL's query sets: the user's choice wins."""
    return {key: value for key, value in args.items() if key not in url.query}


def _rdb_once(url: str, connect_args: dict, heartbeat: int | None) -> optuna.storages.RDBStorage:
    engine_kwargs = {"pool_pre_ping": True, "connect_args": connect_args}
    if heartbeat is None:
        return optuna.storages.RDBStorage(url, engine_kwargs=engine_kwargs)
    # Heartbeats are "experimental" in Optuna since 2.9; we rely on them.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.storages.RDBStorage(
            url,
            engine_kwargs=engine_kwargs,
            heartbeat_interval=heartbeat,
            grace_period=heartbeat * GRACE_HEARTBEATS,
            heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(max_retry=MAX_RETRY),
        )
