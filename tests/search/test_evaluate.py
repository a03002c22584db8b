"""Evaluating a trial: the test set loads as the study's trials loaded theirs, and the result
is stored where `report` and optuna-dashboard read it."""

import optuna
import pytest
from optuna_dashboard import get_note

from search import training
from search.analysis.evaluations import evaluations_markdown, stored_evaluations
from search.config import SearchConfig
from search.evaluate import _weights_seed, evaluate_trial
from search.run.continuation import CONTINUE_PATIENCE
from search.run.progress import Progress
from search.run.workers import optimize
from search.study import REPEAT
from search.training import EARLY_STOP_PATIENCE
from search.vocabulary import CONTINUES_ATTR, EPOCHS_RUN_ATTR, SEED_ATTR
from testing.synthetic import evaluation as sample_evaluation
from testing.upstream_files import write_image_folder
from tests.conftest import SMALL_MODEL


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNSEARCH_CACHE", str(tmp_path / "cache"))


@pytest.mark.slow
def test_a_folder_study_is_evaluated_at_its_own_image_size_and_noted_for_the_dashboard(
    tmp_path, cache
):
    root = write_image_folder(tmp_path / "images", {"cat": 30, "dog": 30}, size=(16, 16))
    url, artifacts = f"sqlite:///{tmp_path / 'study.db'}", str(tmp_path / "artifacts")
    config = SearchConfig(
        f"folder:{root}",
        study_name="pets",
        trials=1,
        epochs=1,
        sets=SMALL_MODEL,
        image_size=8,  # the folder's own size is 16: a model trained at 8 cannot read those
    )
    optimize(config, url, artifacts, Progress(quiet=True), slots=[])

    evaluation = evaluate_trial("pets", url, artifacts)

    assert evaluation.model_source == "saved model"
    assert evaluation.test_images == 12 and evaluation.class_names == ["cat", "dog"]
    study = optuna.load_study(study_name="pets", storage=url)
    assert stored_evaluations(study) == [evaluation.to_dict()]
    note = get_note(study)
    assert note == evaluations_markdown([evaluation.to_dict()])
    assert f"## Trial {evaluation.trial} (saved model)" in note
    assert f"Test accuracy **{evaluation.accuracy:.4f}** on 12 images." in note
    assert "| true \\ predicted | cat | dog |" in note


def test_the_note_holds_every_evaluation_as_markdown_tables():
    evaluation = sample_evaluation(3, source="retrained")
    note = evaluations_markdown([evaluation, {**evaluation, "trial": 5}])
    assert note.count("## Trial") == 2
    assert "| a | 1.0000 | 0.5000 | 0.6667 | 2 |" in note
    assert "| a | 1 | 1 |\n| b | 0 | 2 |" in note


@pytest.mark.slow
def test_a_continuation_without_its_model_is_retrained_for_all_its_epochs(tmp_path, monkeypatch):
    """A continuation's steps count on from its original's epochs: retrained from scratch, it
    trains that many epochs with the continuation's patience, not the study's --epochs."""
    url, artifacts = f"sqlite:///{tmp_path / 'study.db'}", str(tmp_path / "artifacts")
    config = SearchConfig(
        "digits", study_name="on", trials=1, epochs=1, train_size=200, sets=SMALL_MODEL
    )
    optimize(config, url, artifacts, Progress(quiet=True), slots=[])
    study = optuna.load_study(study_name="on", storage=url)
    original = study.trials[0]
    study.add_trial(
        optuna.trial.create_trial(
            params=original.params,
            distributions=original.distributions,
            value=0.5,
            intermediate_values={2: 0.4, 3: 0.5},  # trained on from epoch 1 to 3
            user_attrs={CONTINUES_ATTR: 0, EPOCHS_RUN_ATTR: 2},
        )
    )
    fits = []

    def recorded_fit(model, split, batch_size, epochs, callbacks, *args, **kwargs):
        fits.append((epochs, [c.patience for c in callbacks if hasattr(c, "patience")]))
        return real_fit(model, split, batch_size, epochs, callbacks, *args, **kwargs)

    real_fit = training.fit
    monkeypatch.setattr(training, "fit", recorded_fit)
    evaluation = evaluate_trial("on", url, artifacts, trial_number=1)
    evaluate_trial("on", url, str(tmp_path / "elsewhere"), trial_number=0)  # no model there

    assert evaluation.model_source == "retrained"
    assert fits == [(3, [CONTINUE_PATIENCE]), (1, [EARLY_STOP_PATIENCE])]


def test_a_model_is_retrained_with_the_seed_its_trial_trained_with():
    """The recorded seed; for a trial that recorded none, the objective's rule (the study's seed
    and the trial's number, or its repeat's index in a sweep), never the bare trial number."""
    config = SearchConfig("digits", seed=3)
    study = optuna.create_study()
    for _ in range(3):
        study.add_trial(optuna.trial.create_trial(value=0.5))
    repeat = optuna.distributions.IntDistribution(0, 2)
    study.add_trial(
        optuna.trial.create_trial(params={REPEAT: 1}, distributions={REPEAT: repeat}, value=0.5)
    )
    study.add_trial(optuna.trial.create_trial(value=0.5, user_attrs={SEED_ATTR: 77}))
    searched, repeated, recorded = study.trials[2:]
    assert _weights_seed(searched, config) == training.weights_seed(3, 2) != 2
    assert _weights_seed(repeated, config) == training.weights_seed(3, 1)
    assert _weights_seed(recorded, config) == 77
