"""The studies list read from a store: counts by state and best values, from one read."""

import optuna
from optuna.trial import TrialState

from search.analysis.summary import list_studies
from search.vocabulary import CONFIG_ATTR, DUPLICATE_ATTR, OVER_BUDGET_ATTR


def test_the_studies_list_counts_states_and_picks_the_best_by_each_studys_direction(tmp_path):
    url = f"sqlite:///{tmp_path / 'studies.db'}"
    maximized = optuna.create_study(study_name="up", storage=url, direction="maximize")
    maximized.set_user_attr(CONFIG_ATTR, {"dataset": "digits", "space": "convnet"})
    for value in (0.5, 0.9, 0.7):
        maximized.add_trial(optuna.trial.create_trial(value=value))
    maximized.add_trial(optuna.trial.create_trial(state=TrialState.PRUNED, value=0.95))
    minimized = optuna.create_study(study_name="down", storage=url, direction="minimize")
    for value in (3.0, 1.0):
        minimized.add_trial(optuna.trial.create_trial(value=value))
    pareto = optuna.create_study(study_name="front", storage=url, directions=["maximize"] * 2)
    pareto.add_trial(optuna.trial.create_trial(values=[0.9, 0.1]))
    optuna.create_study(study_name="empty", storage=url)

    rows = {row["study"]: row for row in list_studies(url)}

    assert rows["up"] == {
        "study": "up", "dataset": "digits", "space": "convnet",
        "states": {"COMPLETE": 3, "PRUNED": 1}, "skipped": 0, "best": [0.9],
    }  # fmt: skip
    assert rows["down"]["best"] == [1.0] and rows["down"]["dataset"] == "?"
    assert rows["front"]["best"] is None and rows["front"]["states"] == {"COMPLETE": 1}
    assert rows["empty"]["best"] is None and rows["empty"]["states"] == {}


def test_the_studies_list_counts_the_trials_skipped_untrained_among_the_failed_ones(tmp_path):
    url = f"sqlite:///{tmp_path / 'studies.db'}"
    study = optuna.create_study(study_name="s", storage=url, direction="maximize")
    study.add_trial(optuna.trial.create_trial(value=0.9))
    repeat = optuna.trial.create_trial(state=TrialState.FAIL, user_attrs={DUPLICATE_ATTR: 0})
    study.add_trial(repeat)
    late = optuna.trial.create_trial(state=TrialState.FAIL, user_attrs={OVER_BUDGET_ATTR: True})
    study.add_trial(late)
    study.add_trial(optuna.trial.create_trial(state=TrialState.FAIL))  # a real failure

    (row,) = list_studies(url)

    assert row["states"] == {"COMPLETE": 1, "FAIL": 3} and row["skipped"] == 2
