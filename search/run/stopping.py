"""Ctrl-C and SIGTERM stop a worker at a safe point, never in the middle of a storage write.

Python raises KeyboardInterrupt wherever the main thread is when the signal comes. Inside a
SQLAlchemy commit that leaves the connection mid-transaction, so the trial's FAIL cannot be
recorded (the write after it fails, and the worker took that for a storage outage and went on);
between Optuna's `ask` and the objective it leaves the trial RUNNING. While `stop_requests` is
active a signal only asks to stop, and the worker stops itself where nothing is half-written:
between two batches of training (`search.callbacks.StopOnRequest`, in every fit), so that Optuna
records the trial FAIL, and between two trials (`raise_if_stop_requested`). A second signal
stops at once.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_requested = threading.Event()


@contextlib.contextmanager
def stop_requests() -> Iterator[None]:
    """While active, SIGINT and SIGTERM ask this process to stop rather than interrupting it;
    one that the process ignores stays ignored. Only the main thread can take signals: elsewhere
    nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _requested.clear()
    previous = {
        signum: signal.signal(signum, _request_stop)
        for signum in STOP_SIGNALS
        # a background job of a non-interactive shell ignores SIGINT, and should go on doing so
        if signal.getsignal(signum) is not signal.SIG_IGN
    }
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        _requested.clear()


def raise_if_stop_requested() -> None:
    """Raise KeyboardInterrupt, the way Ctrl-C stops the CLI, when a stop was asked for."""
    if _requested.is_set():
        raise KeyboardInterrupt


def _request_stop(signum: int, frame: FrameType | None) -> None:
    if _requested.is_set():
        raise KeyboardInterrupt  # asked twice: whoever asks again does not want to wait
    _requested.set()
