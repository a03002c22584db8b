"""Optuna features cnnsearch relies on knowingly, though Optuna marks them experimental."""

from __future__ import annotations

import re
import warnings

import optuna

RELIED_ON = (
    "JournalRedisBackend",  # redis:// storages
    "GrpcStorageProxy",  # grpc:// storages
    "run_grpc_proxy_server",  # the storage-proxy command
    "RetryHeartbeatStaleTrialCallback",  # retries a trial whose worker died, on every storage
)
# Optuna's warning begins with the feature's name, a function's with its module before it:
# "optuna.storages._grpc.server.run_grpc_proxy_server is experimental (supported from v4.2.0)…"
ANNOUNCEMENT = rf"([\w.]+\.)?({'|'.join(map(re.escape, RELIED_ON))}) is experimental"


def accept_experimental_features() -> None:
    """Keep Optuna's `ExperimentalWarning` about the features in `RELIED_ON` off the terminal
    for the rest of this process (its file path and source line mean nothing to the user); any
    other experimental feature is still announced."""
    warnings.filterwarnings(
        "ignore", message=ANNOUNCEMENT, category=optuna.exceptions.ExperimentalWarning
    )
