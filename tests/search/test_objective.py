import gc
import math

import keras
import optuna
import pytest
from optuna.trial import TrialState

from search import data, training
from search.config import SearchConfig
from search.objective import Objective, TrialFailed
from search.proposals import Duplicate
from search.study import REPEAT
from search.vocabulary import (
    ARTIFACT_ERROR_ATTR,
    CURVE_ATTR,
    DEVICE_ATTR,
    EPOCHS_RUN_ATTR,
    FAIL_REASON_ATTR,
    HOST_ATTR,
    N_PARAMS_ATTR,
    SECONDS_PER_EPOCH_ATTR,
    TRAIN_SECONDS_ATTR,
    VAL_LOSS_ATTR,
)
from spaces.build import SpecError
from tests.conftest import SMALL_MODEL


class PruneFromStep(optuna.pruners.BasePruner):
    """Deterministic: prunes every trial once it has reported `step`."""

    def __init__(self, step: int) -> None:
        self.step = step

    def prune(self, study, trial) -> bool:
        return trial.last_step is not None and trial.last_step >= self.step


@pytest.fixture(scope="module")
def digits():
    return data.load("digits")


def make(digits, pruner=None, **overrides):
    config = SearchConfig("digits", epochs=3, train_size=200, sets=SMALL_MODEL, seed=0, **overrides)
    study = optuna.create_study(
        directions=config.directions, pruner=pruner, sampler=optuna.samplers.RandomSampler(seed=0)
    )
    return Objective(config, digits), study


def test_the_collection_before_each_trial_skips_what_existed_before_the_first(digits):
    before = len(gc.get_objects())
    make(digits)
    # TensorFlow's modules and the data now sit in the permanent generation, out of the
    # collector's (and so of `gc.get_objects`') sight
    assert gc.get_freeze_count() >= before // 2
    assert len(gc.get_objects()) < gc.get_freeze_count() // 10


def test_a_sweeps_repeat_index_is_among_the_params_its_repeat_check_compares(digits, monkeypatch):
    # Else two repeats of one value, checked at the same moment by two workers, look alike and
    # the later one is skipped: its grid point would never train.
    objective, study = make(digits)
    objective.repeats = 2
    compared = []

    def check_duplicate(trial: optuna.Trial) -> None:
        compared.append(dict(trial.params))
        raise Duplicate("stop before training")

    monkeypatch.setattr("search.objective.check_duplicate", check_duplicate)
    with pytest.raises(Duplicate):
        objective(study.ask())
    assert REPEAT in compared[0]


def test_complete_trial_records_value_curve_and_attrs(digits):
    objective, study = make(digits, pruner=optuna.pruners.NopPruner())
    study.optimize(objective, n_trials=1)
    trial = study.trials[0]
    assert trial.state == TrialState.COMPLETE
    # one report per epoch, at step = epochs trained
    assert sorted(trial.intermediate_values) == list(
        range(1, trial.user_attrs[EPOCHS_RUN_ATTR] + 1)
    )
    assert trial.value == pytest.approx(max(trial.intermediate_values.values()))
    for attr in (
        N_PARAMS_ATTR,
        EPOCHS_RUN_ATTR,
        TRAIN_SECONDS_ATTR,
        SECONDS_PER_EPOCH_ATTR,
        DEVICE_ATTR,
        HOST_ATTR,
        VAL_LOSS_ATTR,
    ):
        assert attr in trial.user_attrs
    assert trial.user_attrs[DEVICE_ATTR] == "cpu" and trial.user_attrs[N_PARAMS_ATTR] > 0


def test_pruner_decision_stops_training_at_that_epoch(digits):
    objective, study = make(digits, pruner=PruneFromStep(1))
    study.optimize(objective, n_trials=2)
    for trial in study.trials:  # a rung at min_resource=1 comes after the first epoch
        assert trial.state == TrialState.PRUNED
        assert trial.intermediate_values.keys() == {1}
        assert trial.user_attrs[EPOCHS_RUN_ATTR] == 1


def test_a_trial_that_trained_every_epoch_completes_whatever_the_pruner_says(digits, monkeypatch):
    monkeypatch.setattr(training, "EARLY_STOP_PATIENCE", 10**6)
    objective, study = make(digits, pruner=PruneFromStep(3))  # 3 epochs: a rung on the last
    study.optimize(objective, n_trials=1)
    trial = study.trials[0]
    assert trial.state == TrialState.COMPLETE
    assert sorted(trial.intermediate_values) == [1, 2, 3]


def test_multi_objective_trial_returns_accuracy_and_time(digits):
    objective, study = make(digits, objectives=("accuracy", "time"))
    study.optimize(objective, n_trials=1)
    trial = study.trials[0]
    assert trial.values[1] == pytest.approx(trial.user_attrs[TRAIN_SECONDS_ATTR])
    assert len(trial.user_attrs[CURVE_ATTR]) == trial.user_attrs[EPOCHS_RUN_ATTR]


def test_nan_loss_fails_the_trial_with_the_reason_and_the_study_goes_on(digits, monkeypatch):
    def nan_loss(model, train, *args, **kwargs):
        model.compile(
            optimizer="adam", metrics=["accuracy"], loss=lambda y, p: keras.ops.mean(p) * math.nan
        )

    monkeypatch.setattr(training, "compile_model", nan_loss)
    objective, study = make(digits)
    study.optimize(objective, n_trials=2, catch=(TrialFailed,))
    assert [t.state for t in study.trials] == [TrialState.FAIL] * 2
    assert "loss became NaN at epoch 1" in study.trials[0].user_attrs[FAIL_REASON_ATTR]


def test_unbuildable_spec_fails_the_trial(digits, monkeypatch):
    def unbuildable(*args):
        raise SpecError("too deep for 8x8")

    monkeypatch.setattr(training, "build_model", unbuildable)
    objective, study = make(digits)
    study.optimize(objective, n_trials=1, catch=(TrialFailed,))
    assert study.trials[0].user_attrs[FAIL_REASON_ATTR] == "spec cannot be built: too deep for 8x8"


def test_a_model_the_artifact_store_cannot_take_costs_the_file_not_the_trial(digits, tmp_path):
    import errno

    class FullDisk(optuna.artifacts.FileSystemArtifactStore):
        def write(self, artifact_id, content_body):
            raise OSError(errno.ENOSPC, "No space left on device")

    config = SearchConfig("digits", epochs=1, train_size=200, sets=SMALL_MODEL, seed=0)
    objective = Objective(config, digits, artifact_store=FullDisk(str(tmp_path)))
    study = optuna.create_study(direction="maximize")
    study.optimize(objective, n_trials=1)
    trial = study.trials[0]
    assert trial.state == TrialState.COMPLETE
    assert (
        trial.user_attrs[ARTIFACT_ERROR_ATTR] == "the model was not saved: No space left on device"
    )
