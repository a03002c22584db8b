"""Test-time augmentation in `evaluate` and `export`: only where flips keep the labels, and
recorded with the result."""

import pathlib
import subprocess
import sys

import keras
import numpy as np
import pytest

from errors import UsageError
from search.analysis.evaluations import stored_evaluations
from search.analysis.export import export_model
from search.config import SearchConfig
from search.evaluate import evaluate_trial
from search.run.progress import Progress
from search.run.workers import optimize
from search.study import load_study
from storage import open_storage
from testing.upstream_files import write_image_folder
from tests.conftest import SMALL_MODEL


def search(dataset: str, tmp_path, **options) -> tuple[str, str]:
    url, artifacts = f"sqlite:///{tmp_path / 'study.db'}", str(tmp_path / "artifacts")
    config = SearchConfig(dataset, study_name="s", trials=1, epochs=1, sets=SMALL_MODEL, **options)
    optimize(config, url, artifacts, Progress(quiet=True), slots=[])
    return url, artifacts


@pytest.mark.slow
def test_tta_is_recorded_with_the_evaluation_and_exported_as_a_mirror_averaging_model(
    tmp_path, monkeypatch
):
    monkeypatch.setenv("CNNSEARCH_CACHE", str(tmp_path / "cache"))
    root = write_image_folder(tmp_path / "images", {"cat": 30, "dog": 30}, size=(8, 8))
    url, artifacts = search(f"folder:{root}", tmp_path)

    plain = evaluate_trial("s", url, artifacts)
    with_tta = evaluate_trial("s", url, artifacts, tta=True)
    out = export_model("s", url, artifacts, None, str(tmp_path / "tta.keras"), tta=True)

    assert (plain.tta, with_tta.tta) == (False, True)
    study = load_study(open_storage(url), "s")
    assert stored_evaluations(study)[-1]["tta"] is True  # the newest of the trial's evaluations
    exported = keras.saving.load_model(out)
    saved = export_model("s", url, artifacts, None, str(tmp_path / "m.keras"))
    saved = keras.saving.load_model(saved)
    x = np.random.default_rng(0).integers(0, 256, (4, 8, 8, 1), dtype=np.uint8)
    mirrored = (saved.predict(x, verbose=0) + saved.predict(x[:, :, ::-1], verbose=0)) / 2
    np.testing.assert_allclose(exported.predict(x, verbose=0), mirrored, rtol=1e-5, atol=1e-7)


def test_tta_on_digits_is_refused_before_anything_is_loaded(tmp_path):
    url, artifacts = search("digits", tmp_path, train_size=200)
    with pytest.raises(UsageError, match="mirrored image of digits can change its label"):
        evaluate_trial("s", url, artifacts, tta=True)
    with pytest.raises(UsageError, match="drop --tta"):
        export_model("s", url, artifacts, None, str(tmp_path / "m.keras"), tta=True)


def python(code: str, cwd: pathlib.Path) -> str:
    """`code` run by a fresh Python process in `cwd`; its standard output."""
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@pytest.mark.slow
@pytest.mark.parametrize("tta", [False, True])
def test_an_exported_model_predicts_as_trained_and_loads_with_keras_alone(tmp_path, tta):
    from spaces.build import build_model, compile_model
    from spaces.spec import Augmentation, ConvLayer, ModelSpec, TrainSpec

    augmentation = Augmentation(translate=0.2, flip=True, erase=0.5)  # each a random layer
    spec = ModelSpec(conv_layers=(ConvLayer(4, 3, True),), augmentation=augmentation)
    model = build_model(spec, (8, 8, 1), 10)
    train = TrainSpec(label_smoothing=0.1, schedule="cosine", weight_decay=0.01)
    compile_model(model, train, steps_per_epoch=2, epochs=2)  # cnnsearch's loss and schedule
    saved, out = tmp_path / "saved.keras", tmp_path / "out.keras"
    model.save(saved)
    root = pathlib.Path(__file__).resolve().parents[2]
    code = "from pathlib import Path; from search.analysis.export import inference_model, write"
    python(f"{code}; write(inference_model(Path({str(saved)!r}), {tta}), Path({str(out)!r}))", root)

    x = np.random.default_rng(0).integers(0, 256, (4, 8, 8, 1), dtype=np.uint8)
    np.save(tmp_path / "x.npy", x)
    predict = (  # in an empty folder: Keras alone, none of cnnsearch's classes registered
        "import keras, numpy as np; m = keras.saving.load_model('out.keras'); "
        "np.save('y.npy', m.predict(np.load('x.npy'), verbose=0))"
    )
    python(predict, tmp_path)
    expected = model.predict(x, verbose=0)
    if tta:
        expected = (expected + model.predict(x[:, :, ::-1], verbose=0)) / 2
    np.testing.assert_allclose(np.load(tmp_path / "y.npy"), expected, rtol=1e-5, atol=1e-6)
