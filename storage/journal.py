"""Optuna's journal storages: a log file on a shared file system, or a Redis server."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import optuna

from errors import UsageError
from storage.settings import CONNECT_SECONDS, QUERY_SECONDS
from storage.writable import check_store_file


def open_journal_file(url: str, read_only: bool = False) -> optuna.storages.JournalStorage:
    """`journal:///PATH`; with `read_only` the file must exist (Optuna would create it)."""
    from optuna.storages.journal import JournalFileBackend

    path = Path(url[len("journal://") :]).expanduser()
    if not str(path) or str(path) == ".":
        raise UsageError("journal storage needs a path, for example journal:///shared/study.log")
    check_store_file(path, "journal", read_only)
    return optuna.storages.JournalStorage(JournalFileBackend(str(path)))


def open_redis(url: str, read_only: bool = False) -> optuna.storages.JournalStorage:
    """`redis://HOST:PORT[/DB]`, checked with a PING that times out within seconds; its
    connections then time out too, so a silent server is an error, not a hang. (Reading needs
    nothing else: `read_only` changes nothing here.)"""
    import redis
    from optuna.storages.journal import JournalRedisBackend

    probe = redis.Redis.from_url(
        url, socket_connect_timeout=CONNECT_SECONDS, socket_timeout=CONNECT_SECONDS
    )
    try:
        probe.ping()
    finally:
        probe.close()
    timeouts = {"socket_connect_timeout": CONNECT_SECONDS, "socket_timeout": QUERY_SECONDS}
    return optuna.storages.JournalStorage(JournalRedisBackend(_with_query(url, timeouts)))


def _with_query(url: str, defaults: dict) -> str:
    """`url` with `defaults` added to its query, where it does not set them already."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    return urlunsplit(parts._replace(query=urlencode({**defaults, **query})))
