"""Exporting a trial's saved model, on a tiny real study of digits."""

import shutil

import optuna
import pytest
from optuna.distributions import IntDistribution

from errors import UsageError
from search.analysis.export import export_model, saved_model_path
from search.config import SearchConfig
from search.run.progress import Progress
from search.run.workers import optimize
from tests.conftest import SMALL_MODEL

STUDY = "digits-convnet"


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A two-trial digits study whose best trial saved its model, plus one completed trial
    added by hand that saved none."""
    folder = tmp_path_factory.mktemp("export")
    url, artifacts = f"sqlite:///{folder / 'study.db'}", str(folder / "artifacts")
    config = SearchConfig("digits", trials=2, epochs=1, train_size=200, sets=SMALL_MODEL, seed=0)
    optimize(config, url, artifacts, Progress(quiet=True), slots=[])
    study = optuna.load_study(study_name=STUDY, storage=url)
    study.add_trial(
        optuna.trial.create_trial(
            params={"n_conv": 1}, distributions={"n_conv": IntDistribution(1, 2)}, value=0.01
        )
    )
    return url, artifacts, study


@pytest.mark.slow
def test_the_best_trial_s_model_is_written_where_asked_and_loads(trained, tmp_path):
    import keras
    import numpy as np

    url, artifacts, study = trained
    best = max(study.best_trials, key=lambda t: t.values[0])
    out = export_model(STUDY, url, artifacts, None, str(tmp_path / "best.keras"))

    assert out == tmp_path / "best.keras"
    x = np.random.default_rng(0).integers(0, 256, (4, 8, 8, 1), dtype=np.uint8)
    original = tmp_path / "original.keras"  # Keras reads a file whose name says .keras
    shutil.copyfile(saved_model_path(best, artifacts), original)
    saved = keras.models.load_model(original).predict(x, verbose=0)
    exported = keras.models.load_model(out)
    np.testing.assert_allclose(exported.predict(x, verbose=0), saved, rtol=1e-5, atol=1e-6)
    assert not exported.compiled  # a model to predict with: no loss, optimizer or schedule
    again = export_model(STUDY, url, artifacts, best.number, str(out))  # replaces the file
    assert again == out and not list(tmp_path.glob("*.part*"))


@pytest.mark.slow
def test_a_trial_without_a_saved_model_says_which_trials_have_one(trained, tmp_path):
    url, artifacts, study = trained
    unsaved = study.trials[-1]
    with_model = [t.number for t in study.trials if saved_model_path(t, artifacts)]
    assert saved_model_path(unsaved, artifacts) is None and with_model

    with pytest.raises(UsageError) as error:
        export_model(STUDY, url, artifacts, unsaved.number, str(tmp_path / "m.keras"))
    message = str(error.value)
    assert f"trial {unsaved.number} of '{STUDY}' saved no model" in message
    assert f"trials with a saved model here: {', '.join(map(str, with_model))}" in message
    assert not (tmp_path / "m.keras").exists()


@pytest.mark.slow
def test_a_model_in_another_artifact_folder_names_the_option(trained, tmp_path):
    url, _, _ = trained
    with pytest.raises(UsageError, match="not in the artifact folder .* --artifacts DIR"):
        export_model(STUDY, url, str(tmp_path / "elsewhere"), None, str(tmp_path / "m.keras"))


@pytest.mark.parametrize(
    "out, fragment",
    [
        ("model.h5", "end it in .keras"),
        ("/proc/model.keras", "cannot write there"),
        ("/no/such/dir/model.keras", "cannot write there"),
    ],
)
def test_a_bad_out_path_is_refused_before_the_storage_is_read(out, fragment):
    with pytest.raises(UsageError, match=fragment):
        export_model(STUDY, "sqlite:///:memory:", "unused", None, out)


def test_missing_or_unfinished_trials_are_usage_errors(sqlite_url, tmp_path):
    from testing.synthetic import build_study

    build_study(sqlite_url, n=2, pruned=1)
    with pytest.raises(UsageError, match="trial 2 of 'synthetic' is pruned; export a completed"):
        export_model("synthetic", sqlite_url, str(tmp_path), 2, str(tmp_path / "m.keras"))
    with pytest.raises(UsageError, match="trial 9 of 'synthetic' is missing"):
        export_model("synthetic", sqlite_url, str(tmp_path), 9, str(tmp_path / "m.keras"))
