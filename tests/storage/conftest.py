"""Every storage cnnsearch supports, as one fixture (like optuna/testing/storages.py): a test
that takes `storage_url` runs on SQLite, PostgreSQL, MySQL, a journal file, a Redis journal and
the gRPC proxy in front of a temporary SQLite file.

The servers are the local ones `.ci/run` starts (PostgreSQL on 5432 with trust, MariaDB on 3306
as root without a password, Redis on 6379); a test skips without one, and fails in CI.
"""

from __future__ import annotations

import os
import select
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import require_or_skip

ROOT = Path(__file__).resolve().parents[2]
STORAGES = ["sqlite", "postgresql", "mysql", "journal", "redis", "grpc"]
PG = "postgresql+psycopg://postgres@127.0.0.1:5432/{db}"
MYSQL = "mysql+pymysql://root@127.0.0.1:3306/{db}"
# Optuna's Redis journal keeps every study in one log per database, so the tests take a whole
# database of their own and empty it after each test: 15 counting down, one per xdist worker
# (`PYTEST_XDIST_WORKER` is gw0, gw1, ...; unset in a serial run).
REDIS_DB = 15 - int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))
REDIS = f"redis://127.0.0.1:6379/{REDIS_DB}"
PROXY_SERVER = """
import sys
from optuna.storages import run_grpc_proxy_server
from storage import open_storage
run_grpc_proxy_server(open_storage(sys.argv[1]), host="127.0.0.1", port=int(sys.argv[2]))
"""


@pytest.fixture(params=STORAGES)
def storage_url(request, tmp_path) -> Iterator[str]:
    """The URL of a new, empty storage of each kind in turn."""
    yield from make_storage(request.param, tmp_path)


def make_storage(kind: str, tmp_path: Path) -> Iterator[str]:
    """Yield a URL to a new, empty storage of `kind`; remove it afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'study.db'}"
    elif kind == "journal":
        yield f"journal://{tmp_path / 'study.log'}"
    elif kind == "redis":
        yield from _redis_database()
    elif kind == "grpc":
        yield from _grpc_proxy(f"sqlite:///{tmp_path / 'behind-proxy.db'}")
    else:
        url, drop = server_database(kind)
        yield url
        drop()


def server_database(kind: str):
    """Create a fresh, empty database on the local server; return its URL and a dropper."""
    name = f"cns_{uuid.uuid4().hex[:10]}"
    try:
        if kind == "postgresql":
            import psycopg

            def admin(sql: str) -> None:  # a new connection each time: a test restarts the server
                with psycopg.connect(
                    "host=127.0.0.1 user=postgres dbname=test connect_timeout=10", autocommit=True
                ) as connection:
                    connection.execute(sql)

            admin(f"CREATE DATABASE {name}")
            return PG.format(db=name), lambda: admin(f"DROP DATABASE {name} WITH (FORCE)")
        import pymysql

        admin = pymysql.connect(
            host="127.0.0.1", user="root", autocommit=True, connect_timeout=10, read_timeout=60
        )
        admin.cursor().execute(f"CREATE DATABASE {name}")
        return MYSQL.format(db=name), lambda: admin.cursor().execute(f"DROP DATABASE {name}")
    except Exception as e:  # no server, or no access to it
        require_or_skip(f"{kind} server on 127.0.0.1 not usable: {e}")


def _redis_database() -> Iterator[str]:
    try:
        import redis

        client = redis.Redis.from_url(REDIS, socket_connect_timeout=5, socket_timeout=30)
        keys = client.keys()
    except Exception as e:
        require_or_skip(f"Redis on 127.0.0.1:6379 not usable: {e}")
    if not all(key.startswith(b":log") for key in keys):
        require_or_skip(f"Redis database {REDIS_DB} holds other data than Optuna's journal")
    client.flushdb()
    try:
        yield REDIS
    finally:
        client.flushdb()


def _grpc_proxy(backend: str) -> Iterator[str]:
    """Optuna's gRPC proxy server in a subprocess, on a free loopback port, over `backend`."""
    import optuna

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-c", PROXY_SERVER, backend, str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        proxy = optuna.storages.GrpcStorageProxy(host="127.0.0.1", port=port)
        proxy.wait_server_ready(timeout=180)  # it imports first: slow on a loaded machine
        proxy.close()
        yield f"grpc://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.communicate(timeout=30)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_stale_worker(url: str, study: str, mode: str) -> tuple[subprocess.Popen, int]:
    """A `tests.storage.stale_worker` (beating every second in `beat` mode), and the number of
    the trial it started."""
    worker = subprocess.Popen(
        [sys.executable, "-m", "tests.storage.stale_worker", url, study, mode],
        cwd=ROOT,
        env={**os.environ, "CNNSEARCH_HEARTBEAT_SECONDS": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    ready, _, _ = select.select([worker.stdout], [], [], 120)
    line = worker.stdout.readline() if ready else ""
    if not line.strip():
        worker.kill()
        raise AssertionError(f"the worker started no trial: {worker.communicate()[1][-2000:]}")
    return worker, int(line)
