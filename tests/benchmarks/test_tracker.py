"""The record of a benchmark arm that runs another tool (benchmarks/tracker.py): kept between
sittings, and a sitting that ends mid-trial leaves that trial out."""

import time

import numpy as np
import pytest

from benchmarks.tracker import OutOfTime, Tracker

Y_TEST = np.array([0, 1, 1, 0])


class Model:
    """Predicts class 1 for every test image: half of Y_TEST right."""

    def predict(self, x, verbose=0, batch_size=None):
        return np.tile([0.2, 0.8], (len(x), 1))


def tracker(tmp_path, **options) -> Tracker:
    return Tracker(0, np.zeros((4, 2)), Y_TEST, state=tmp_path / "tracker.json", **options)


def trial(tracker: Tracker, *accuracies: float) -> None:
    tracker.trial_began()
    for accuracy in accuracies:
        tracker.check_time()
        tracker.epoch_ended(Model(), accuracy)


def test_a_kept_record_goes_on_in_the_next_sitting(tmp_path):
    first = tracker(tmp_path, max_trials=3)
    trial(first, 0.5, 0.7)
    trial(first, 0.6)
    worked = first.elapsed()
    first.save()
    time.sleep(0.3)  # between the sittings

    resumed = tracker(tmp_path, max_trials=3)
    assert resumed.trials == 2 and resumed.best_val == 0.7 and resumed.test == 0.5
    assert [value for _, value in resumed.curve] == [0.7, 0.6]
    assert worked <= resumed.elapsed() < worked + 0.2  # the time between sittings left out
    trial(resumed, 0.8)
    with pytest.raises(OutOfTime):  # the third trial was the last
        resumed.trial_began()
    assert resumed.result()["trials"] == 3 and resumed.best_val == 0.8


def test_a_sitting_that_ends_mid_trial_leaves_that_trial_out(tmp_path):
    sitting = tracker(tmp_path, sitting=3600)
    trial(sitting, 0.5)
    sitting.trial_began()
    sitting.epoch_ended(Model(), 0.9)
    sitting.sitting_ends = 0  # the sitting's hour is up, between two batches
    with pytest.raises(OutOfTime):
        sitting.check_time()
    sitting.save()
    assert sitting.result()["trials"] == 1 and sitting.best_val == 0.5
    assert len(sitting.epoch_curve) == 1

    resumed = tracker(tmp_path)
    assert resumed.trials == 1 and resumed.best_val == 0.5


def test_a_sitting_of_no_minutes_trains_nothing(tmp_path):
    first = tracker(tmp_path)
    trial(first, 0.5)
    first.save()
    report = tracker(tmp_path, sitting=0)
    with pytest.raises(OutOfTime):
        report.trial_began()
    assert report.trials == 1 and report.curve == first.curve
