"""A trial's model on the untouched test set: accuracy, per-class report, confusion matrix.

The model is the one the trial saved to the artifact store, or, when it saved none, the model
retrained from the trial's params and seed the way the objective trained it (TensorFlow on CPU
is not bit-for-bit deterministic, so a retrained model may differ slightly).

The test set is loaded with the study's data options (image size, color, data folder), exactly
as its trials loaded it. The result is stored with the study (`search.analysis.evaluations`): as
a user attr, where `report` finds it, and as the study's optuna-dashboard note.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

import keras
import numpy as np
import optuna
from optuna.trial import FrozenTrial
from sklearn.metrics import classification_report, confusion_matrix

from search import training
from search.analysis.evaluations import choose_trial, store_evaluation
from search.artifacts import load_model
from search.config import SearchConfig, check_tta
from search.data import Dataset, load
from search.run.continuation import CONTINUE_PATIENCE
from search.run.progress import Progress
from search.study import REPEAT, existing_study, stored_config
from search.vocabulary import CONTINUES_ATTR, SEED_ATTR
from spaces import completed_params, get_space
from spaces.augmentation import with_tta
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
    tta: bool = False  # predictions averaged with the mirrored images' (test-time augmentation)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def evaluate_trial(
    study_name: str,
    storage_url: str,
    artifacts: str,
    trial_number: int | None = None,
    progress: Progress | None = None,
    tta: bool = False,
) -> Evaluation:
    """Evaluate the chosen trial (default: the best, or the most accurate of the Pareto front)
    on the test set, with test-time augmentation when `tta`, store the result with the study
    and return it."""
    progress = progress or Progress(quiet=True)
    study = existing_study(open_storage(storage_url), study_name)
    trial = choose_trial(study, trial_number)
    config = stored_config(study)
    if tta:
        check_tta(config.dataset)
    dataset = load(config.dataset, **config.data_options)
    model = load_model(trial, open_artifact_store(artifacts, read_only=True))
    source = "saved model"
    if model is None:
        progress.say(f"trial {trial.number} saved no model here; retraining it from its params …")
        model, source = retrain(trial, config, dataset), "retrained"
    evaluation = score(with_tta(model) if tta else model, dataset, study_name, trial.number, source)
    evaluation = replace(evaluation, tta=tta)
    store_evaluation(study, evaluation.to_dict())
    return evaluation


def retrain(trial: FrozenTrial, config: SearchConfig, dataset: Dataset) -> keras.Model:
    """The trial's model trained again from its params and seed, as the objective trained it
    (`search.training`).
    A continuation (`search.run.continuation`) is trained, with its patient early stop, for as
    many epochs as its model had in all: its steps count on from its original's epochs."""
    epochs, patience = config.epochs, None
    if CONTINUES_ATTR in trial.user_attrs and trial.last_step:
        epochs, patience = trial.last_step, CONTINUE_PATIENCE
    space = get_space(config.space)
    params = completed_params(space, trial.params)  # a trial stored before a dimension existed
    spec = space.suggest_spec(optuna.trial.FixedTrial(params), config.bounds)
    training.start(_weights_seed(trial, config))
    split = config.split(dataset)
    model = training.build(
        spec, dataset.input_shape, dataset.n_classes, len(split.y_train), config.epochs
    )
    training.fit(model, split, spec.train.batch_size, epochs, [training.early_stopping(patience)])
    return model


def _weights_seed(trial: FrozenTrial, config: SearchConfig) -> int:
    """The seed the trial recorded; for a trial that recorded none, the one it had."""
    if SEED_ATTR in trial.user_attrs:
        return int(trial.user_attrs[SEED_ATTR])
    return training.weights_seed(config.seed, trial.params.get(REPEAT, trial.number))


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
