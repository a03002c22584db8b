import json

import optuna
import pytest
from optuna.trial import TrialState, create_trial
from rich.console import Console
from typer.testing import CliRunner

from cli import app
from errors import UsageError
from search.analysis.compare import compare_studies
from search.analysis.views import compare_table
from search.vocabulary import CONFIG_ATTR, DUPLICATE_ATTR


def make_study(url, name, space, results):
    study = optuna.create_study(study_name=name, storage=url, direction="maximize")
    study.set_user_attr(CONFIG_ATTR, {"dataset": "digits", "space": space})
    for value, n_params, spe in results:
        state = TrialState.COMPLETE if value is not None else TrialState.PRUNED
        study.add_trial(
            create_trial(
                state=state,
                value=value,
                user_attrs={"n_params": n_params, "seconds_per_epoch": spe},
            )
        )


def test_compare_puts_each_studys_most_accurate_trial_side_by_side(sqlite_url):
    make_study(sqlite_url, "cnn", "convnet", [(0.91, 5000, 1.5), (0.97, 12000, 2.5), (None, 1, 1)])
    make_study(sqlite_url, "dense", "mlp", [(0.88, 80000, 0.4)])
    rows = compare_studies(["cnn", "dense"], sqlite_url)
    assert [r["study"] for r in rows] == ["cnn", "dense"]
    assert rows[0]["best_accuracy"] == 0.97 and rows[0]["n_params"] == 12000
    assert rows[0]["seconds_per_epoch"] == 2.5
    assert (rows[0]["complete"], rows[0]["pruned"]) == (2, 1)
    assert rows[1]["space"] == "mlp" and rows[1]["best_accuracy"] == 0.88

    result = CliRunner().invoke(app, ["compare", "cnn", "dense", "--storage", sqlite_url])
    assert result.exit_code == 0, result.output
    assert "0.9700" in result.output and "0.8800" in result.output
    result = CliRunner().invoke(app, ["compare", "cnn", "dense", "--json", "--storage", sqlite_url])
    assert json.loads(result.output)[1]["n_params"] == 80000


def test_compare_counts_the_trials_skipped_untrained_apart_from_failed_ones(sqlite_url):
    for name in ("a", "b"):
        make_study(sqlite_url, name, "convnet", [(0.9, 10, 1.0)])
    study = optuna.load_study(study_name="a", storage=sqlite_url)
    study.add_trial(create_trial(state=TrialState.FAIL, user_attrs={DUPLICATE_ATTR: 0}))
    study.add_trial(create_trial(state=TrialState.FAIL))
    rows = compare_studies(["a", "b"], sqlite_url)
    assert (rows[0]["failed"], rows[0]["skipped"]) == (1, 1)
    console = Console(width=200, record=True)
    console.print(compare_table(rows))
    assert "1 complete, 0 pruned, 1 failed, 1 skipped untrained" in console.export_text()


def test_compare_needs_two_known_studies(sqlite_url):
    make_study(sqlite_url, "cnn", "convnet", [(0.9, 10, 1.0)])
    with pytest.raises(UsageError, match="at least two"):
        compare_studies(["cnn"], sqlite_url)
    result = CliRunner().invoke(app, ["compare", "cnn", "nope", "--storage", sqlite_url])
    assert result.exit_code == 2 and "nope" in result.output
