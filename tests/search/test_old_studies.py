"""A study stored before residual blocks, augmentation and the modern training dimensions
existed resumes: its trials lack those dimensions, which they trained with off."""

import optuna
import pytest

from search.config import SearchConfig
from search.evaluate import evaluate_trial
from search.proposals import PROPOSAL_ATTR
from search.run.continuation import enqueue_continuation
from search.run.progress import Progress
from search.run.workers import optimize
from search.study import open_study
from spaces import convnet
from spaces.dimensions import suggest
from storage import open_storage
from tests.conftest import SMALL_MODEL

ADDED = {
    "residual",
    "global_pool",
    "augment_translate",
    "augment_flip",
    "augment_erase",
    "weight_decay",
    "label_smoothing",
    "lr_schedule",
}
BEFORE = [d for d in convnet.DIMENSIONS if d.name not in ADDED]


def old_study(url: str, config: SearchConfig) -> None:
    """A study as the code before them left it: its config, two trials of its dimensions."""
    study = open_study(config, open_storage(url))
    for number, start in enumerate(("keras-example", "vgg-bn")):
        trial = study.ask()
        for dim in BEFORE:
            suggest(trial, dim, config.bounds)
        trial.set_user_attr(PROPOSAL_ATTR, f"start: {start}")
        trial.set_user_attr("seed", number)
        study.tell(trial, 0.5 + number / 10)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:Heartbeat of storage")  # the old trials are told by hand
def test_an_old_study_resumes_with_the_new_dimensions_and_its_trials_evaluate(tmp_path):
    url, artifacts = f"sqlite:///{tmp_path / 'study.db'}", str(tmp_path / "artifacts")
    config = SearchConfig(
        "digits", study_name="old", trials=3, epochs=1, train_size=200, sets=SMALL_MODEL
    )
    old_study(url, config)

    optimize(config, url, artifacts, Progress(quiet=True), slots=[])

    trials = optuna.load_study(study_name="old", storage=url).trials
    assert [t.state.name for t in trials] == ["COMPLETE"] * 3
    assert ADDED - {"global_pool"} <= set(trials[2].params)
    assert not trials[2].params["augment_flip"]  # digits
    old = evaluate_trial("old", url, artifacts, trial_number=1)  # saved no model: retrained
    assert old.model_source == "retrained"


@pytest.mark.filterwarnings("ignore:Heartbeat of storage")  # the old trials are told by hand
def test_an_old_trial_is_continued_with_the_new_dimensions_at_their_reference_values(tmp_path):
    url = f"sqlite:///{tmp_path / 'study.db'}"
    config = SearchConfig("digits", study_name="old", epochs=1, sets=SMALL_MODEL)
    old_study(url, config)
    study = optuna.load_study(study_name="old", storage=url)

    enqueue_continuation(study, study.best_trial, convnet)

    (queued,) = study.get_trials(states=(optuna.trial.TrialState.WAITING,))
    params = queued.system_attrs["fixed_params"]
    assert {name: params[name] for name in ADDED - {"global_pool"}} == {
        d.name: d.reference for d in convnet.DIMENSIONS if d.name in ADDED - {"global_pool"}
    }
    global_head = study.best_trial.params["head"] == "global"
    assert params.get("global_pool") == ("max" if global_head else None)
    assert {d.name for d in BEFORE} - {"dense_units"} <= set(params)
    assert all(params[k] == v for k, v in study.best_trial.params.items() if k in params)
