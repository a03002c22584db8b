"""What a new best trial leaves in the artifact store: its model and its learning curves."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import optuna
from optuna.artifacts.exceptions import ArtifactNotFound
from optuna.trial import FrozenTrial

from search.vocabulary import ARTIFACT_ERROR_ATTR, CURVE_ARTIFACT_ATTR, MODEL_ARTIFACT_ATTR

if TYPE_CHECKING:
    import keras


def is_new_best(trial: optuna.Trial, accuracy: float) -> bool:
    """Whether `accuracy` beats every completed trial of the study so far."""
    previous = [
        t.values[0]
        for t in trial.study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    ]
    return not previous or accuracy > max(previous)


def save_best(
    trial: optuna.Trial,
    model: keras.Model,
    history: dict[str, list[float]],
    store: optuna.artifacts.FileSystemArtifactStore,
) -> None:
    """Upload the model (.keras) and a learning-curve PNG, so `evaluate` and the dashboard use
    them without retraining; their ids go in the trial's user attrs. A store that cannot take
    them (a full disk, a folder gone read-only) costs the files, not the trial: the reason goes
    in the user attr `artifact_error` and the trial completes."""
    try:
        with tempfile.TemporaryDirectory() as tmp:
            model_path = Path(tmp) / f"trial-{trial.number}.keras"
            model.save(model_path)
            curve_path = plot_curves(history, Path(tmp) / f"trial-{trial.number}-curves.png")
            for attr, path in (
                (MODEL_ARTIFACT_ATTR, model_path),
                (CURVE_ARTIFACT_ATTR, curve_path),
            ):
                artifact_id = optuna.artifacts.upload_artifact(
                    artifact_store=store, file_path=str(path), study_or_trial=trial
                )
                trial.set_user_attr(attr, artifact_id)
    except OSError as e:
        trial.set_user_attr(ARTIFACT_ERROR_ATTR, f"the model was not saved: {e.strerror or e}")


def load_model(
    trial: FrozenTrial, store: optuna.artifacts.FileSystemArtifactStore
) -> keras.Model | None:
    """The model `trial` saved to `store`, or None when it saved none there."""
    artifact_id = trial.user_attrs.get(MODEL_ARTIFACT_ATTR)
    if artifact_id is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"trial-{trial.number}.keras"
        try:
            optuna.artifacts.download_artifact(
                artifact_store=store, file_path=str(path), artifact_id=artifact_id
            )
        except ArtifactNotFound:  # another machine's artifact folder, or a deleted one
            return None
        import keras

        return keras.models.load_model(path)


def plot_curves(history: dict[str, list[float]], path: Path) -> Path:
    """Accuracy and loss per epoch, training and validation, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    figure, (accuracy, loss) = plt.subplots(1, 2, figsize=(9, 3.5))
    for axis, metric in ((accuracy, "accuracy"), (loss, "loss")):
        for key, style in ((metric, "--"), (f"val_{metric}", "-")):
            values = history.get(key, [])
            axis.plot(range(1, len(values) + 1), values, style, label=key)
        axis.set_xlabel("epoch")
        axis.set_title(metric)
        axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=80)
    plt.close(figure)
    return path
