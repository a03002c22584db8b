"""A trial's saved model as a `.keras` file a user can `keras.models.load_model`.

A completed trial that beat every earlier one saved its model to the artifact store (user attr
`model_artifact_id`, see `search.artifacts`); exporting writes that model as it predicts
(`spaces.augmentation.for_inference`): without its training-only augmentation layers and its
loss, optimizer and schedule, which are cnnsearch's own classes where the trial used its
augmentation shift, label smoothing or cosine schedule. The file then loads with Keras alone,
where cnnsearch is not installed.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import optuna
from optuna.trial import FrozenTrial

from errors import UsageError
from search.analysis.evaluations import choose_trial
from search.config import check_tta
from search.study import load_study, stored_config
from search.vocabulary import MODEL_ARTIFACT_ATTR
from storage import open_storage
from storage.writable import can_write_in


def saved_model_path(trial: FrozenTrial, artifacts: str) -> Path | None:
    """Where `trial`'s saved model lies in the artifact folder `artifacts`, or None when it saved
    none or the file is not in that folder (another machine's artifact folder)."""
    artifact_id = trial.user_attrs.get(MODEL_ARTIFACT_ATTR)
    if artifact_id is None:
        return None
    path = Path(artifacts) / artifact_id
    return path if path.is_file() else None


def export_model(
    study_name: str,
    storage_url: str,
    artifacts: str,
    trial_number: int | None,
    out_path: str,
    tta: bool = False,
) -> Path:
    """Write the saved model of trial `trial_number` (None: the best trial) of `study_name` to
    `out_path` (a `.keras` file, replaced if it exists) and return that path. With `tta`, the
    model written averages each image's prediction with its mirror's (`spaces.augmentation`).

    Raises:
        UsageError: `out_path` does not end in .keras or cannot be written, the trial is missing
            or did not complete, or it saved no model in `artifacts`.
    """
    out = check_export_path(out_path)
    study = load_study(open_storage(storage_url, read_only=True), study_name)
    trial = choose_trial(study, trial_number, verb="export")
    source = saved_model_path(trial, artifacts)
    if source is None:
        raise UsageError(_no_model_message(study, trial, artifacts))
    if tta:
        check_tta(stored_config(study).dataset)
    write(inference_model(source, tta), out)
    return out


def inference_model(source: Path, tta: bool = False):
    """The model saved at `source` as it predicts; with `tta`, averaging each image's prediction
    with its mirror's."""
    import keras  # here, not at import: the module's other commands need no Keras

    import spaces.build  # noqa: F401  registers cnnsearch's layers, loss and schedule to load
    from spaces.augmentation import for_inference, with_tta

    with tempfile.TemporaryDirectory() as tmp:
        named = Path(tmp) / "model.keras"  # Keras tells a file's format by its name alone
        shutil.copyfile(source, named)
        model = for_inference(keras.saving.load_model(named))
    return with_tta(model) if tta else model


def check_export_path(out_path: str) -> Path:
    """`out_path` as a Path, or a UsageError when it is not a writable `.keras` file name."""
    path = Path(out_path)
    if path.suffix.lower() != ".keras":
        raise UsageError(
            f"--out {out_path!r}: end it in .keras (the file keras.models.load_model reads), "
            "for example --out best.keras"
        )
    folder = path.parent.resolve()
    if not folder.is_dir() or not can_write_in(folder):
        raise UsageError(
            f"--out {out_path!r}: cannot write there ({folder} is missing or read-only); "
            "choose a writable path, for example --out ./best.keras"
        )
    return path


def write(model, out: Path) -> None:
    """Save through a temporary file beside `out`, so a failed save leaves no half file."""
    handle, partial = tempfile.mkstemp(dir=out.parent.resolve(), suffix=".part.keras")
    os.close(handle)
    try:
        model.save(partial)
        os.replace(partial, out)
    except OSError as e:
        raise UsageError(f"--out {str(out)!r}: cannot write there ({e.strerror})") from None
    finally:
        Path(partial).unlink(missing_ok=True)


def _no_model_message(study: optuna.Study, trial: FrozenTrial, artifacts: str) -> str:
    if MODEL_ARTIFACT_ATTR in trial.user_attrs:
        return (
            f"trial {trial.number} saved its model, but not in the artifact folder {artifacts!r}; "
            "pass the folder its workers saved to with --artifacts DIR (or CNNSEARCH_ARTIFACTS)"
        )
    with_model = [
        t.number
        for t in study.get_trials(deepcopy=False)
        if saved_model_path(t, artifacts) is not None
    ]
    choices = (
        f"trials with a saved model here: {', '.join(map(str, with_model))}"
        if with_model
        else "no trial of this study saved one in this artifact folder"
    )
    return (
        f"trial {trial.number} of {study.study_name!r} saved no model: a trial saves its model "
        f"only when it beats every earlier trial ({choices}). Export one of those, or leave out "
        "--trial for the best"
    )
