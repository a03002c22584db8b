"""The numbers that govern waiting on a storage: heartbeats, grace periods, timeouts."""

from __future__ import annotations

import os

from errors import UsageError

HEARTBEAT_ENV = "CNNSEARCH_HEARTBEAT_SECONDS"
HEARTBEAT_SECONDS = 30  # $CNNSEARCH_HEARTBEAT_SECONDS overrides it (tests use 1)
GRACE_HEARTBEATS = 3  # a trial is stale after this many missed heartbeats
MAX_RETRY = 3  # a stale trial is retried this many times at most
# A server that accepts a connection and then says nothing is refused after this long.
CONNECT_SECONDS = 10
# A query whose answer has not begun after this long is a lost connection. Longer than MySQL's
# default lock wait (50 s), which answers a query stuck behind other workers with an error.
QUERY_SECONDS = 300


def heartbeat_seconds() -> int:
    """Seconds between a running trial's heartbeats, from `$CNNSEARCH_HEARTBEAT_SECONDS`.

    Raises:
        UsageError: the variable is set to anything but a whole number of at least 1.
    """
    text = os.environ.get(HEARTBEAT_ENV)
    if text is None:
        return HEARTBEAT_SECONDS
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise UsageError(
            f"{HEARTBEAT_ENV}={text!r}: give the seconds between a running trial's heartbeats "
            f"as a whole number of at least 1, like {HEARTBEAT_SECONDS} (a trial whose worker "
            f"misses {GRACE_HEARTBEATS} beats is failed and retried)"
        )
    return value


def grace_seconds() -> int:
    """How long a running trial may go without a heartbeat before it is failed and retried."""
    return heartbeat_seconds() * GRACE_HEARTBEATS
