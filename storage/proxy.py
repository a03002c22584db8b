"""Optuna's gRPC storage proxy, for more workers than a database takes."""

from __future__ import annotations

import re

import optuna

from errors import RunError, UsageError
from storage.settings import CONNECT_SECONDS


def open_grpc(url: str, read_only: bool = False) -> optuna.storages.GrpcStorageProxy:
    """`grpc://HOST:PORT`, once a proxy answers there (gRPC itself would wait, or fail at the
    first call with a traceback). `read_only` changes nothing: the proxy's own storage decides."""
    match = re.fullmatch(r"grpc://([^:/]+):(\d+)/?", url)
    if not match:
        raise UsageError(f"grpc storage URL must be grpc://HOST:PORT, got {url!r}")
    proxy = optuna.storages.GrpcStorageProxy(host=match[1], port=int(match[2]))
    try:
        proxy.wait_server_ready(timeout=CONNECT_SECONDS)
    except ConnectionError:
        proxy.close()
        raise RunError(
            f"cannot open storage {url}: no storage proxy answered there within "
            f"{CONNECT_SECONDS} s; start one with `python cli.py storage-proxy --port "
            f"{match[2]}` on {match[1]}"
        ) from None
    return proxy
