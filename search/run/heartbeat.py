"""A running trial's heartbeat on every storage, and the rule that fails, then retries, the
trials whose worker stopped beating.

Optuna beats only on RDB storages (SQLite, PostgreSQL, MySQL): there `study.optimize` runs its
heartbeat thread and `optuna.storages.fail_stale_trials` fails the trials whose beat stopped.
Journal files, Redis and the gRPC proxy have no heartbeat, so `beating` writes the time of each
beat into the trial's system attr `cnnsearch:heartbeat`. On every storage Optuna passes over a
RUNNING trial that never beat (its worker died between creating it and its first beat); here
such a trial is stale once the grace period has passed since it started.

Beats are compared with this machine's clock, so the workers' clocks must agree to well within
the grace period (NTP does). A trial's start is stored in local time on RDB storages, so workers
there share a time zone too.
"""

from __future__ import annotations

import contextlib
import copy
import threading
import time
import warnings
from collections.abc import Callable, Iterator

import optuna
import sqlalchemy
from optuna.exceptions import UpdateFinishedTrialError
from optuna.storages import RetryHeartbeatStaleTrialCallback
from optuna.trial import FrozenTrial, TrialState

from search.vocabulary import BEAT_ATTR
from storage import MAX_RETRY, grace_seconds, heartbeat_seconds

_beating: set[tuple[int, int]] = set()  # (storage, trial id) pairs beating in this process
_beating_lock = threading.Lock()

__all__ = ["beating", "fail_stale_trials"]


@contextlib.contextmanager
def beating(trial: optuna.Trial) -> Iterator[None]:
    """Beat for `trial` while the block runs, from a daemon thread, every
    `$CNNSEARCH_HEARTBEAT_SECONDS`; the first beat is written before the block starts.

    Nothing happens on RDB storages, where `study.optimize` runs Optuna's own heartbeat, nor
    when `trial` already beats in this process (blocks may nest).

    Example:
        >>> def objective(trial):  # doctest: +SKIP
        ...     with beating(trial):
        ...         return train(trial)
    """
    storage = trial.study._storage
    every = heartbeat_seconds()
    key = (id(storage), trial._trial_id)
    if _rdb_backend(storage) is not None or not _claim(key):
        yield
        return
    heart = _Heart(storage, trial._trial_id, every)
    try:
        heart.beat()
        heart.start()
        yield
    finally:
        heart.stop()
        with _beating_lock:
            _beating.discard(key)


def fail_stale_trials(study: optuna.Study) -> None:
    """Fail the RUNNING trials whose worker stopped beating for the grace period (3 beats), or
    never beat and started longer ago than that, and queue a copy of each (its params and
    attrs, with the `failed_trial` and `retry_history` system attrs) to be run again, at most 3
    times, as `RetryHeartbeatStaleTrialCallback` does.

    Call it where a worker would otherwise wait for trials that may never finish. On RDB
    storages, Optuna's own rule fails the trials whose beat stopped; this adds the ones that
    never beat. Safe to call from several workers at once: one of them fails a trial, and only
    that one queues its retry.
    """
    storage = study._storage
    rdb = _rdb_backend(storage)
    if rdb is None:
        stale = _stale_by_beat_attr(study, grace_seconds())
        retry = RetryHeartbeatStaleTrialCallback(max_retry=MAX_RETRY)
    elif rdb.heartbeat_interval is None:
        return  # no one beats on this storage: nothing tells a dead worker from a busy one
    else:
        with warnings.catch_warnings():  # "experimental" since Optuna 2.9; we rely on it
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            optuna.storages.fail_stale_trials(study)
        stale = _never_beat(study, rdb)
        retry = rdb.heartbeat_stale_trial_callback
    for trial in stale:
        _fail_and_retry(study, trial, retry)


def _claim(key: tuple[int, int]) -> bool:
    """Whether this call is the first to beat for `key` in this process."""
    with _beating_lock:
        first = key not in _beating
        _beating.add(key)
        return first


class _Heart:
    """The daemon thread that writes a trial's beats until stopped."""

    def __init__(self, storage: optuna.storages.BaseStorage, trial_id: int, every: int) -> None:
        self.storage, self.trial_id, self.every = storage, trial_id, every
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name="cnnsearch-heartbeat", daemon=True)

    def beat(self) -> bool:
        """Write one beat; False once the trial is finished (there is nothing left to beat for)."""
        try:
            self.storage.set_trial_system_attr(self.trial_id, BEAT_ATTR, time.time())
        except UpdateFinishedTrialError:
            return False
        except Exception:  # noqa: BLE001 - a storage outage: the next beat tries again
            pass
        return True

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopped.set()
        if self.thread.is_alive():
            self.thread.join()

    def _run(self) -> None:
        while not self.stopped.wait(self.every) and self.beat():
            pass


def _rdb_backend(storage: optuna.storages.BaseStorage) -> optuna.storages.RDBStorage | None:
    """The RDBStorage behind `storage` (Optuna wraps it in a cache), or None."""
    if isinstance(storage, optuna.storages._CachedStorage):
        storage = storage._backend
    return storage if isinstance(storage, optuna.storages.RDBStorage) else None


def _stale_by_beat_attr(study: optuna.Study, grace: float) -> list[FrozenTrial]:
    now = time.time()
    stale = []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        beat = trial.system_attrs.get(BEAT_ATTR)
        alive_at = max(trial.datetime_start.timestamp(), beat if _is_number(beat) else 0.0)
        if now - alive_at > grace:
            stale.append(trial)
    return stale


def _never_beat(study: optuna.Study, rdb: optuna.storages.RDBStorage) -> list[FrozenTrial]:
    """The RUNNING trials with no row in Optuna's heartbeat table that started longer ago than
    its grace period (Optuna's own rule skips them)."""
    from optuna.storages._rdb.models import TrialHeartbeatModel

    running = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    if not running:
        return []
    ids = [t._trial_id for t in running]
    query = sqlalchemy.select(TrialHeartbeatModel.trial_id).where(
        TrialHeartbeatModel.trial_id.in_(ids)
    )
    with rdb.engine.connect() as connection:
        beat = {row[0] for row in connection.execute(query)}
    grace = rdb.grace_period or 2 * rdb.heartbeat_interval
    now = time.time()
    return [
        t for t in running if t._trial_id not in beat and now - t.datetime_start.timestamp() > grace
    ]


def _fail_and_retry(
    study: optuna.Study,
    trial: FrozenTrial,
    retry: Callable[[optuna.Study, FrozenTrial], None] | None,
) -> None:
    storage = study._storage
    try:
        failed = storage.set_trial_state_values(trial._trial_id, state=TrialState.FAIL)
    except UpdateFinishedTrialError:
        return  # another worker failed it first, or it has just finished
    if not failed or retry is None:
        return
    failed_trial = copy.deepcopy(storage.get_trial(trial._trial_id))
    # The retry starts its own beats: the dead worker's last one would make it stale at once.
    failed_trial.system_attrs = {
        k: v for k, v in failed_trial.system_attrs.items() if k != BEAT_ATTR
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        retry(study, failed_trial)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
