"""optuna-dashboard on cnnsearch's storage and artifact store."""

from __future__ import annotations

import socket
from collections.abc import Callable

from errors import UsageError
from storage import open_artifact_store, open_storage


def check_port_free(host: str, port: int) -> None:
    """A UsageError naming the port when something already listens there."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as e:
            raise UsageError(
                f"port {port} on {host} is not free ({e.strerror}); pick another with --port"
            ) from None


def serve(
    storage_url: str,
    artifacts: str,
    host: str,
    port: int,
    announce: Callable[[], None] | None = None,
) -> None:
    """Serve until interrupted. Saved models and learning-curve plots show under each trial.

    The port, the storage and the artifact folder are checked first; `announce` (where a
    command prints its banner) is called only once they passed, just before serving.

    Raises:
        UsageError: the port is taken, or the storage URL is bad.
        RunError: the storage or the artifact folder cannot be opened.
    """
    import optuna_dashboard

    check_port_free(host, port)
    storage = open_storage(storage_url)
    artifact_store = open_artifact_store(artifacts)
    if announce is not None:
        announce()
    optuna_dashboard.run_server(storage, host=host, port=port, artifact_store=artifact_store)
