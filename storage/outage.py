"""A storage that went away for a while (a restart, a failover): which errors say so, and how a
worker rides it out instead of failing its run."""

from __future__ import annotations

import time
from collections.abc import Callable

import grpc
import optuna
import redis.exceptions
import sqlalchemy.exc
from optuna.exceptions import UpdateFinishedTrialError

from errors import RunError
from storage import describe_error

STORAGE_PATIENCE = 300.0
RETRY_SECONDS = 2.0
STORAGE_ERRORS = (
    optuna.exceptions.StorageInternalError,
    sqlalchemy.exc.OperationalError,
    grpc.RpcError,  # the gRPC storage proxy
    redis.exceptions.ConnectionError,  # the Redis journal
)


def is_storage_failure(error: BaseException | None) -> bool:
    """Whether `error` comes from the storage. Optuna can hide it behind another error raised
    while it handles it (an UnboundLocalError in its trial clean-up), so look down the chain."""
    while error is not None:
        if isinstance(error, STORAGE_ERRORS):
            return True
        error = error.__cause__ or error.__context__
    return False


def failed_as_stale(error: Exception) -> bool:
    """Whether another worker failed this worker's trial as stale (during an outage) before it
    could report or finish it: Optuna's UpdateFinishedTrialError, or its tell's "Cannot tell a
    FAIL trial." ValueError."""
    if isinstance(error, UpdateFinishedTrialError):
        return True
    return isinstance(error, ValueError) and str(error).startswith("Cannot tell a ")


class StorageOutage:
    """Rides out a database that went away: waits and tries again for up to `patience` seconds,
    saying so once through `say`. A trial that was running is left to the heartbeat, which fails
    it and has it retried."""

    def __init__(self, say: Callable[[str], None], patience: float = STORAGE_PATIENCE) -> None:
        self.say, self.patience, self.since = say, patience, None

    def wait(self, error: Exception) -> None:
        now = time.monotonic()
        if self.since is None:
            self.since = now
            self.say(f"storage unreachable ({describe_error(error)}); retrying")
        if now - self.since > self.patience:
            raise RunError(
                f"storage unreachable for {self.patience:.0f} s: {describe_error(error)}"
            ) from None
        time.sleep(RETRY_SECONDS)

    def over(self) -> None:
        self.since = None
