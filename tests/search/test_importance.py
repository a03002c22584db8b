import optuna
import pytest

from errors import UsageError
from search.importance import MIN_TRIALS, NOT_USED, explain
from tests.synthetic import build_study


@pytest.mark.parametrize("evaluator", ["ped-anova", "fanova", "mdi"])
def test_the_dimensions_that_drive_accuracy_rank_first_and_are_named(evaluator):
    explanation = explain(build_study(n=80), evaluator)

    assert list(explanation.importances)[:2] == ["n_conv", "learning_rate"]
    assert sum(explanation.importances.values()) == pytest.approx(1.0)
    assert explanation.importances["pool"] < 0.05
    first = explanation.conclusions[0]
    share = "explains" if evaluator == "fanova" else "carries"
    assert first.startswith(f"n_conv {share}") and "rises from" in first
    assert any(line.startswith(f"learning_rate {share}") for line in explanation.conclusions)
    assert "pool" in explanation.conclusions[-1] and "matter little" in explanation.conclusions[-1]
    assert not any(line.startswith(f"pool {share}") for line in explanation.conclusions)


def test_ped_anova_rates_the_conditional_dimension_and_fanova_says_it_leaves_it_out():
    study = build_study(n=60)
    assert "dense_units" in explain(study, "ped-anova").importances
    fanova = explain(study, "fanova")
    assert "dense_units" not in fanova.importances and fanova.left_out == ["dense_units"]
    assert "leaves out dense_units" in fanova.notes[0]


def test_effects_group_by_value_and_count_trials_without_the_conditional_dimension():
    study = build_study(n=60)
    explanation = explain(study, "ped-anova")
    effects = {e.dimension: e for e in explanation.effects}
    trials = study.get_trials(states=(optuna.trial.TrialState.COMPLETE,))

    n_conv_3 = [t.value for t in trials if t.params["n_conv"] == 3]
    group = next(g for g in effects["n_conv"].groups if g.label == "n_conv=3")
    assert group.trials == len(n_conv_3)
    assert group.mean_accuracy == pytest.approx(sum(n_conv_3) / len(n_conv_3))
    assert group.best_accuracy == pytest.approx(max(n_conv_3))
    assert group.mean_seconds == pytest.approx(4.0)  # synthetic: 1 + n_conv seconds

    unused = effects["dense_units"].groups[-1]
    assert unused.label == f"dense_units {NOT_USED}"
    assert unused.trials == sum(t.params["n_dense"] == 0 for t in trials)
    # learning_rate is continuous: quantile bins that together hold every trial
    assert 2 <= len(effects["learning_rate"].groups) <= 4
    assert sum(g.trials for g in effects["learning_rate"].groups) == 60


def test_pruned_trials_count_only_when_asked():
    study = build_study(n=MIN_TRIALS - 1, pruned=3)
    with pytest.raises(UsageError, match=f"at least {MIN_TRIALS} trials.*--with-pruned"):
        explain(study)
    explanation = explain(study, with_pruned=True)
    assert explanation.trials_used == MIN_TRIALS + 2 and explanation.pruned_included


def test_multi_objective_studies_are_explained_for_accuracy():
    explanation = explain(build_study(n=80, objectives=("accuracy", "time")), "fanova")
    assert list(explanation.importances)[0] == "n_conv"
