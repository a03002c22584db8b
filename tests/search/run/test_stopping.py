"""Ctrl-C and SIGTERM stop a worker where nothing is half-written: between two batches or two
trials, never inside a storage write, and no trial is left RUNNING."""

import os
import signal

import keras
import numpy as np
import optuna
import pytest
from optuna.storages._rdb import models
from optuna.trial import TrialState
from sqlalchemy import event
from sqlalchemy.orm import Session

from search import training
from search.config import SearchConfig
from search.data import Split
from search.run import workers
from search.run.progress import Progress
from search.run.stopping import raise_if_stop_requested, stop_requests
from search.study import open_study
from storage import open_storage
from tests.search.run.test_restart import restarter


def sigterm_to_this_process() -> None:
    os.kill(os.getpid(), signal.SIGTERM)  # its handler runs before os.kill returns


def test_a_signal_asks_to_stop_and_a_second_one_stops_at_once():
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    with stop_requests():
        sigterm_to_this_process()  # no KeyboardInterrupt here, wherever "here" is
        with pytest.raises(KeyboardInterrupt):
            raise_if_stop_requested()
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before
    raise_if_stop_requested()  # the request ended with the block


def test_a_signal_as_a_trial_is_created_fails_that_trial_at_its_first_batch(sqlite_url):
    """The signal comes right after the commit that creates the trial RUNNING, inside Optuna's
    `ask`: raised there, KeyboardInterrupt would leave the trial RUNNING."""
    config = SearchConfig("digits", trials=3, pruner="none")
    study = open_study(config, open_storage(sqlite_url))
    rng = np.random.default_rng(0)
    split = Split(
        rng.random((32, 4)), rng.integers(0, 2, 32), rng.random((8, 4)), rng.integers(0, 2, 8)
    )
    epochs_run = []

    def objective(trial: optuna.Trial) -> float:
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
        history = keras.callbacks.History()
        try:
            training.fit(model, split, batch_size=8, epochs=50, callbacks=[], history=history)
        finally:
            epochs_run.append(len(history.history.get("loss", [])))
        return 1.0

    steps = []

    def trial_created(mapper, connection, target) -> None:
        steps.append("created")

    def committed(session) -> None:
        if steps == ["created"]:
            steps.append("signalled")
            sigterm_to_this_process()

    event.listen(models.TrialModel, "after_insert", trial_created)
    event.listen(Session, "after_commit", committed)
    try:
        with pytest.raises(KeyboardInterrupt):
            workers.run_until_budget(study, objective, config, Progress(quiet=True))
    finally:
        event.remove(models.TrialModel, "after_insert", trial_created)
        event.remove(Session, "after_commit", committed)

    assert steps == ["created", "signalled"]
    assert [t.state for t in study.get_trials()] == [TrialState.FAIL]
    assert epochs_run == [0]  # stopped before its first batch


def test_a_signal_as_a_trial_ends_lets_it_finish_and_starts_no_other(sqlite_url):
    config = SearchConfig("digits", trials=3, pruner="none")
    study = open_study(config, open_storage(sqlite_url))

    def objective(trial: optuna.Trial) -> float:
        sigterm_to_this_process()
        return trial.suggest_float("x", 0, 1)

    with pytest.raises(KeyboardInterrupt):
        workers.run_until_budget(study, objective, config, Progress(quiet=True))
    assert [t.state for t in study.get_trials()] == [TrialState.COMPLETE]


def test_a_worker_asked_to_stop_does_not_restart_as_a_fresh_process():
    restart, said = restarter([700, 900])
    restart()  # the baseline
    with stop_requests():
        sigterm_to_this_process()
        with pytest.raises(KeyboardInterrupt):
            restart()  # +200 MB: would exec (raising Exec), and the new process would not know
    assert "grew" in said[0]


def test_a_signal_the_process_ignores_stays_ignored():
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # a background job's SIGINT
    try:
        with stop_requests():
            assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
            os.kill(os.getpid(), signal.SIGINT)
            raise_if_stop_requested()  # nothing was asked
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)
