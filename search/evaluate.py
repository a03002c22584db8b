"""A trial's model on the untouched test set: accuracy, per-class report, confusion matrix.

The model is the one the trial saved to the artifact store, or, when it saved none, the model
retrained from the trial's params and seed the way the objective trained it (TensorFlow on CPU
is not bit-for-bit deterministic, so a retrained model may differ slightly).

The test set is loaded with the study's data options (image size, color, data folder), exactly
as its trials loaded it. The result is stored with the study (`search.evaluations`): as a user
attr, where `report` finds it, and as the study's optuna-dashboard note.
"""

from __future__ import annotations

import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np
import optuna
from optuna.artifacts.exceptions import ArtifactNotFound
from optuna.trial import FrozenTrial
from sklearn.metrics import classification_report, confusion_matrix

from search import hardware
from search.artifacts import MODEL_ARTIFACT_ATTR
from search.config import SearchConfig
from search.data import Dataset, load, split_validation
from search.evaluations import choose_trial, store_evaluation
from search.objective import EARLY_STOP_PATIENCE, LR_PATIENCE
from search.progress import Progress
from search.pruning import MONITOR
from search.study import load_study, stored_config
from spaces import get_space
from spaces.build import build_model, compile_model
from storage import open_artifact_store, open_storage


@dataclass(frozen=True)
class Evaluation:
    study: str
    trial: int
    model_source: str  # "saved model" or "retrained"
    test_images: int
    accuracy: float
    class_names: list[str]
    per_class: dict[str, dict[str, float]]  # class -> precision, recall, f1-score, support
    report_text: str
    confusion: list[list[int]]  # rows: true class, columns: predicted class

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def evaluate_trial(
    study_name: str,
    storage_url: str,
    artifacts: str,
    trial_number: int | None = None,
    progress: Progress | None = None,
) -> Evaluation:
    """Evaluate the chosen trial (default: the best, or the most accurate of the Pareto front)
    on the test set, store the result with the study and return it."""
    progress = progress or Progress(quiet=True)
    study = load_study(open_storage(storage_url), study_name)
    trial = choose_trial(study, trial_number)
    config = stored_config(study)
    dataset = load(config.dataset, **config.data_options)
    model = saved_model(trial, artifacts)
    source = "saved model"
    if model is None:
        progress.say(f"trial {trial.number} saved no model here; retraining it from its params …")
        model, source = retrain(trial, config, dataset), "retrained"
    evaluation = score(model, dataset, study_name, trial.number, source)
    store_evaluation(study, evaluation.to_dict())
    return evaluation


def saved_model(trial: FrozenTrial, artifacts: str) -> keras.Model | None:
    """The model the trial saved to the artifact store, or None when it saved none here."""
    artifact_id = trial.user_attrs.get(MODEL_ARTIFACT_ATTR)
    if artifact_id is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"trial-{trial.number}.keras"
        try:
            optuna.artifacts.download_artifact(
                artifact_store=open_artifact_store(artifacts),
                file_path=str(path),
                artifact_id=artifact_id,
            )
        except ArtifactNotFound:  # another machine's artifact folder, or a deleted one
            return None
        return keras.models.load_model(path)


def retrain(trial: FrozenTrial, config: SearchConfig, dataset: Dataset) -> keras.Model:
    """The trial's model trained again from its params and seed, as the objective trained it."""
    keras.backend.clear_session()
    hardware.apply_precision()
    spec = get_space(config.space).suggest_spec(
        optuna.trial.FixedTrial(trial.params), config.bounds
    )
    split = split_validation(dataset, config.val_fraction, config.seed or 0, config.train_size)
    keras.utils.set_random_seed(int(trial.user_attrs.get("seed", trial.number)))
    model = build_model(spec.model, dataset.input_shape, dataset.n_classes)
    compile_model(model, spec.train, jit_compile=hardware.use_xla())
    model.fit(
        split.x_train,
        split.y_train,
        validation_data=(split.x_val, split.y_val),
        epochs=config.epochs,
        batch_size=spec.train.batch_size,
        verbose=0,
        callbacks=[
            keras.callbacks.EarlyStopping(
                monitor=MONITOR, patience=EARLY_STOP_PATIENCE, restore_best_weights=True
            ),
            keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=LR_PATIENCE),
        ],
    )
    return model


def score(model: keras.Model, dataset: Dataset, study: str, trial: int, source: str) -> Evaluation:
    """Accuracy, per-class precision/recall/F1 and confusion matrix on the test set."""
    predicted = np.argmax(model.predict(dataset.x_test, verbose=0), axis=-1)
    labels = list(range(dataset.n_classes))
    names = [str(n) for n in dataset.class_names]
    kwargs = dict(labels=labels, target_names=names, zero_division=0, digits=4)
    report = classification_report(dataset.y_test, predicted, output_dict=True, **kwargs)
    return Evaluation(
        study=study,
        trial=trial,
        model_source=source,
        test_images=len(dataset.y_test),
        accuracy=float(np.mean(predicted == dataset.y_test)),
        class_names=names,
        per_class={name: {k: float(v) for k, v in report[name].items()} for name in names},
        report_text=classification_report(dataset.y_test, predicted, **kwargs),
        confusion=confusion_matrix(dataset.y_test, predicted, labels=labels).tolist(),
    )
