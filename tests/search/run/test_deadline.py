from datetime import UTC, datetime, timedelta

import optuna
import pytest
from optuna.trial import TrialState

from errors import UsageError
from search import data
from search.callbacks import DeadlineCallback
from search.config import SearchConfig
from search.objective import Objective
from search.run import deadline as dl
from search.run.deadline import DeadlineReached
from search.vocabulary import EPOCHS_RUN_ATTR, FIRST_EPOCH_ATTR, STOPPED_BY_ATTR
from tests.conftest import SMALL_MODEL

T0 = 1_800_000_000.0  # a fixed "now" for the fake clock


def at(seconds: float) -> datetime:
    return datetime.fromtimestamp(T0 + seconds, UTC)


class FakeClock:
    def __init__(self, *times: float) -> None:
        self.times = [T0 + t for t in times]

    def __call__(self) -> float:
        return self.times.pop(0)


@pytest.fixture
def frozen_now(monkeypatch):
    monkeypatch.setattr(dl, "now", lambda: T0)


def test_deadline_is_read_as_utc_and_a_bad_one_names_the_format():
    assert dl.parse_deadline("2026-12-01T18:00Z") == datetime(2026, 12, 1, 18, tzinfo=UTC)
    assert dl.parse_deadline("2026-12-01T19:00+01:00") == datetime(2026, 12, 1, 18, tzinfo=UTC)
    with pytest.raises(UsageError, match="no time zone; give .*2026-12-01T18:00Z"):
        dl.parse_deadline("2026-12-01T18:00")
    with pytest.raises(UsageError, match="'tomorrow' is not a time; give .*2026-12-01T18:00Z"):
        dl.parse_deadline("tomorrow")


def test_timeout_counts_from_the_start_and_excludes_deadline():
    assert dl.resolve(60, None, T0) == at(60)
    assert dl.resolve(None, None, T0) is None
    with pytest.raises(UsageError, match="--timeout or --deadline, not both"):
        dl.resolve(60, "2026-12-01T18:00Z", T0)
    with pytest.raises(UsageError, match="--timeout must be a number of seconds above 0"):
        dl.resolve(0, None, T0)
    for bad in (float("nan"), float("inf"), 1e12):  # no traceback from datetime either
        with pytest.raises(UsageError, match="at most 31622400 \\(a year\\)"):
            dl.resolve(bad, None, T0)


def test_callback_stops_at_the_batch_whose_successor_would_end_late():
    # created at 0, train begins at 1, batches end every second; the deadline is at 10
    callback = DeadlineCallback(at(10), clock=FakeClock(0, 1, 2, 3, 4, 5, 6, 7, 8, 9))
    callback.on_train_begin()
    for batch in range(7):  # batches ending at 2..8: the next still ends by 9
        callback.on_train_batch_end(batch)
    with pytest.raises(DeadlineReached):  # at 9, one more 1-second batch would end at 10
        callback.on_train_batch_end(7)


def test_callback_expects_the_next_batch_to_last_as_long_as_the_last():
    callback = DeadlineCallback(at(10), clock=FakeClock(0, 1, 2, 6))
    callback.on_train_begin()
    callback.on_test_batch_end(0)  # at 2
    with pytest.raises(DeadlineReached):  # at 6 after a 4-second batch: the next would end at 10
        callback.on_test_batch_end(1)


def test_a_slow_first_batch_does_not_stop_the_trial_early():
    # the first batch traces the graph (5 s); the typical batch takes 1 s
    callback = DeadlineCallback(at(10), clock=FakeClock(0, 0, 5, 6, 7, 8, 9))
    callback.on_train_begin()
    for batch in range(4):  # ends at 5, 6, 7, 8
        callback.on_train_batch_end(batch)
    with pytest.raises(DeadlineReached):
        callback.on_train_batch_end(4)  # at 9


def test_callback_stops_before_the_first_batch_when_the_deadline_passed():
    with pytest.raises(DeadlineReached):
        DeadlineCallback(at(10), clock=FakeClock(11, 11)).on_train_begin()
    assert issubclass(DeadlineReached, optuna.TrialPruned)


def test_a_run_keeps_a_deadline_ahead_and_clears_one_that_passed(frozen_now):
    study = optuna.create_study()
    assert dl.apply_deadline(study, at(60))[0] == at(60)
    assert dl.read_deadline(study) == at(60)
    kept, said = dl.apply_deadline(study, None)  # a second worker joins
    assert kept == at(60) and "set by an earlier run" in said
    dl.set_deadline(study, at(-5))
    cleared, said = dl.apply_deadline(study, None)  # a later rerun resumes without a limit
    assert cleared is None and dl.read_deadline(study) is None and "has passed" in said


def add_trial(study, seconds=None, stopped_in_first_epoch_after=None):
    attrs = {} if seconds is None else {FIRST_EPOCH_ATTR: seconds}
    if stopped_in_first_epoch_after is not None:
        attrs[STOPPED_BY_ATTR] = "deadline"
    trial = optuna.create_trial(state=TrialState.PRUNED, user_attrs=attrs)
    if stopped_in_first_epoch_after is not None:
        trial.datetime_start = trial.datetime_complete - timedelta(
            seconds=stopped_in_first_epoch_after
        )
    study.add_trial(trial)


def test_no_trial_starts_when_its_first_epoch_would_not_fit(frozen_now):
    study = optuna.create_study()
    assert dl.should_start(study, None)
    assert not dl.should_start(study, at(-1))
    assert dl.should_start(study, at(1))  # no history: start
    for seconds in (4, 5, 30):
        add_trial(study, seconds)
    assert dl.expected_first_epoch(study) == 5  # the median resists one slow model
    assert not dl.should_start(study, at(4))
    assert dl.should_start(study, at(6))


def test_a_trial_stopped_inside_its_first_epoch_counts_as_a_lower_bound(frozen_now):
    study = optuna.create_study()
    add_trial(study, stopped_in_first_epoch_after=8)
    assert dl.expected_first_epoch(study) == pytest.approx(8)
    assert not dl.should_start(study, at(7))


@pytest.fixture(scope="module")
def digits():
    return data.load("digits")


@pytest.mark.parametrize("objectives", [("accuracy",), ("accuracy", "time")])
def test_a_trial_past_the_deadline_is_pruned_with_the_reason(digits, objectives):
    config = SearchConfig(
        "digits", epochs=3, train_size=200, sets=SMALL_MODEL, objectives=objectives
    )
    study = optuna.create_study(directions=config.directions)
    dl.set_deadline(study, datetime.now(UTC) - timedelta(seconds=1))
    study.optimize(Objective(config, digits), n_trials=1)
    trial = study.trials[0]
    assert trial.state == TrialState.PRUNED and trial.values is None
    assert trial.user_attrs[STOPPED_BY_ATTR] == "deadline"
    assert trial.user_attrs[EPOCHS_RUN_ATTR] == 0 and trial.intermediate_values == {}
