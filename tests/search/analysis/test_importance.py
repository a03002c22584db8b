import re

import numpy as np
import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.trial import TrialState

from errors import UsageError
from search.analysis.effects import NOT_USED
from search.analysis.importance import MIN_TRIALS, explain
from search.config import SearchConfig
from search.vocabulary import CONFIG_ATTR
from spaces import get_space
from testing.synthetic import build_study


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


def test_the_note_on_a_conditional_dimension_follows_the_study_space():
    study = build_study(n=40)
    assert any(
        note.startswith("dense_units exists only when n_dense > 0; ped-anova rates it")
        for note in explain(study).notes
    )
    mlp = SearchConfig("digits", study_name="synthetic", space="mlp")
    study.set_user_attr(CONFIG_ATTR, mlp.to_attrs())  # its dense_units is always there
    assert not any("exists only when" in note for note in explain(study).notes)


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


DISTRIBUTIONS = {
    "n_conv": IntDistribution(1, 10),
    "learning_rate": FloatDistribution(1e-4, 1e-1, log=True),
    "optimizer": CategoricalDistribution(("adam", "sgd", "rmsprop")),
}


def trial(params, accuracy, state=TrialState.COMPLETE, epochs=5, **attrs):
    """A finished trial whose curve rises to `accuracy` at epoch `epochs`."""
    curve = {e: accuracy - 0.01 * (epochs - e) for e in range(1, epochs + 1)}
    return optuna.trial.create_trial(
        params=params,
        distributions={k: DISTRIBUTIONS[k] for k in params},
        value=accuracy if state == TrialState.COMPLETE else None,
        state=state,
        intermediate_values=curve,
        user_attrs={"epochs_run": epochs, "train_seconds": 2.0 * epochs, **attrs},
    )


def study_of(trials, dataset="digits"):
    study = optuna.create_study(direction="maximize", study_name="made")
    study.set_user_attr(CONFIG_ATTR, SearchConfig(dataset, study_name="made").to_attrs())
    study.add_trials(trials)
    return study


def varied(i, rng):
    return {
        "n_conv": int(rng.integers(1, 11)),
        "learning_rate": float(10 ** rng.uniform(-4, -1)),
        "optimizer": "adam",
    }


def test_repeated_configurations_count_once_with_their_accuracies_averaged():
    rng = np.random.default_rng(1)
    trials = [trial(p := varied(i, rng), 0.5 + 0.04 * p["n_conv"]) for i in range(20)]
    repeated = dict(trials[0].params)
    trials += [trial(repeated, accuracy) for accuracy in (0.2, 0.3, 0.4)]
    explanation = explain(study_of(trials))

    assert explanation.trials_used == 23 and explanation.observations == 20
    assert explanation.merged == [[0, 20, 21, 22]]
    assert any("3 trials repeated another's configuration" in n for n in explanation.notes)
    n_conv = next(e for e in explanation.effects if e.dimension == "n_conv")
    assert sum(g.trials for g in n_conv.groups) == 20
    group = next(g for g in n_conv.groups if g.value == repeated["n_conv"])
    same = [t.value for t in trials[:20] if t.params["n_conv"] == repeated["n_conv"]]
    mean_of_repeats = (trials[0].value + 0.2 + 0.3 + 0.4) / 4
    expected = (sum(same) - trials[0].value + mean_of_repeats) / len(same)
    assert group.mean_accuracy == pytest.approx(expected)


def test_a_continued_model_replaces_the_trial_it_continues():
    rng = np.random.default_rng(2)
    trials = [trial(p := varied(i, rng), 0.5 + 0.04 * p["n_conv"]) for i in range(12)]
    best = max(trials, key=lambda t: t.value)
    trials.append(trial(dict(best.params), 0.99, epochs=12, continues=trials.index(best)))
    explanation = explain(study_of(trials))

    assert explanation.trials_used == 13 and explanation.observations == 12
    assert explanation.merged == [[trials.index(best), 12]]
    n_conv = next(e for e in explanation.effects if e.dimension == "n_conv")
    group = next(g for g in n_conv.groups if g.value == best.params["n_conv"])
    assert group.best_accuracy == pytest.approx(0.99)


def test_a_value_at_chance_fails_instead_of_being_advised_as_a_fixed_value():
    rng = np.random.default_rng(3)
    trials = [trial(p := varied(i, rng), 0.6 + 0.035 * p["n_conv"]) for i in range(40)]
    trials += [trial({**varied(i, rng), "optimizer": "sgd"}, 0.1 + 0.005 * i) for i in range(3)]
    trials += [trial({**varied(i, rng), "optimizer": "rmsprop"}, 0.8) for i in range(3)]
    explanation = explain(study_of(trials))

    assert explanation.chance_accuracy == pytest.approx(0.1)  # digits: 10 classes
    assert explanation.failing == ["optimizer=sgd"]
    assert any(
        line.startswith("optimizer=sgd fails: 3 of 3 trials stayed at chance accuracy")
        for line in explanation.conclusions
    ), explanation.conclusions
    fixing = [line for line in explanation.conclusions if "fix them" in line]
    assert not any("optimizer" in line for line in fixing)


def test_an_effect_from_the_one_trial_pruning_let_finish_is_flagged_with_pruned_trials():
    rng = np.random.default_rng(4)
    trials = [
        trial(varied(i, rng), 0.5 + rng.normal(0, 0.01), TrialState.PRUNED, epochs=1)
        for i in range(14)
    ]
    trials.append(trial({**varied(0, rng), "learning_rate": 3e-3}, 0.98, epochs=10))
    explanation = explain(study_of(trials), with_pruned=True)

    assert list(explanation.importances)[0] == "learning_rate"  # the confound itself
    assert "learning_rate" in explanation.pruning_confounded
    first = explanation.conclusions[0]
    assert first.startswith("learning_rate carries") and "Caution:" in first
    assert "trained 4.0 epochs on average against 1.0" in first
    assert "which trials pruning let finish" in first


def test_survivors_of_the_pruner_are_flagged_when_only_completed_trials_count():
    rng = np.random.default_rng(5)
    trials = [trial(varied(i, rng), 0.8 + rng.normal(0, 0.01)) for i in range(10)]
    sgd = [{**varied(i, rng), "optimizer": "sgd"} for i in range(10)]
    trials += [trial(p, 0.3, TrialState.PRUNED, epochs=1) for p in sgd[:8]]
    trials += [trial(p, 0.9) for p in sgd[8:]]
    explanation = explain(study_of(trials))

    optimizer = next(e for e in explanation.effects if e.dimension == "optimizer")
    assert "optimizer" in explanation.pruning_confounded
    assert optimizer.pruning_note.startswith(
        "only 2 of 10 trials with optimizer=sgd finished (the pruner stopped the rest)"
    )


def test_conclusions_name_their_evidence():
    explanation = explain(build_study(n=60), "ped-anova")
    first = explanation.conclusions[0]
    assert re.search(r"at n_conv=1 \(\d+ trials, ±0\.\d\d\)", first), first
    assert "over 60 trials" in explanation.conclusions[-1]


def test_the_new_dimensions_are_explained_beside_trials_stored_before_they_existed():
    config = SearchConfig("fashion_mnist", study_name="modern")
    study = optuna.create_study(direction="maximize")
    study.set_user_attr(CONFIG_ATTR, config.to_attrs())
    dims = {d.name: d for d in get_space("convnet").DIMENSIONS}
    rng = np.random.default_rng(0)
    for i in range(50):
        params = {"n_conv": i % 10 + 1}
        if i >= 10:  # the first ten trials come from before the new dimensions
            params |= {
                "lr_schedule": str(rng.choice(["plateau", "cosine"])),
                "augment_flip": bool(rng.integers(0, 2)),
                "augment_translate": float(rng.uniform(0, 0.15)),
            }
        cosine = params.get("lr_schedule") == "cosine"
        study.add_trial(
            optuna.trial.create_trial(
                params=params,
                distributions={k: distribution(dims[k]) for k in params},
                value=0.8 + 0.1 * cosine + rng.normal(0, 0.005),
                user_attrs={"train_seconds": 1.0, "n_params": 1000, "epochs_run": 2},
            )
        )

    explanation = explain(study, "ped-anova")
    assert {"lr_schedule", "augment_flip", "augment_translate"} <= set(explanation.importances)
    effects = {e.dimension: e for e in explanation.effects}
    schedule = {g.label: g for g in effects["lr_schedule"].groups}
    cosine, plateau = schedule["lr_schedule=cosine"], schedule["lr_schedule=plateau"]
    assert cosine.mean_accuracy - plateau.mean_accuracy == pytest.approx(0.1, abs=0.01)
    assert schedule[f"lr_schedule {NOT_USED}"].trials == 10
    assert {"augment_flip=false", "augment_flip=true"} <= {
        g.label for g in effects["augment_flip"].groups
    }


def distribution(dim):
    if dim.choices is not None:
        return CategoricalDistribution(dim.choices)
    if dim.integer:
        return IntDistribution(int(dim.low), int(dim.high), log=dim.log)
    return FloatDistribution(dim.low, dim.high, log=dim.log)
