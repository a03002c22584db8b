"""search.analysis.dashboard.serve checks what can fail before it announces anything."""

import socket

import pytest

from errors import RunError, UsageError
from search.analysis.dashboard import serve


def test_a_busy_port_is_refused_before_the_announcement(sqlite_url, tmp_path):
    announced = []
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(UsageError, match=f"port {port} on 127.0.0.1 is not free"):
            serve(
                sqlite_url, str(tmp_path / "a"), "127.0.0.1", port, lambda: announced.append(True)
            )
    assert announced == []


def test_an_unusable_artifact_folder_is_refused_before_the_announcement(sqlite_url, tmp_path):
    (tmp_path / "file").write_text("in the way")
    announced = []
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    with pytest.raises(RunError, match="--artifacts"):
        serve(
            sqlite_url,
            str(tmp_path / "file" / "a"),
            "127.0.0.1",
            port,
            lambda: announced.append(True),
        )
    assert announced == []
