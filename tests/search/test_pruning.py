import optuna
import pytest

from search.study import make_pruner


def study_with_good_curves(pruner: str) -> optuna.Study:
    """Six trials that reached 0.9 from their first epoch on, each judged after every epoch."""
    study = optuna.create_study(direction="maximize", pruner=make_pruner(pruner, epochs=9))
    for _ in range(6):
        trial = study.ask()
        for epochs_trained in range(1, 10):
            trial.report(0.9, epochs_trained)
            assert not trial.should_prune()
        study.tell(trial, 0.9)
    return study


@pytest.mark.parametrize(("pruner", "first_judged"), [("asha", 1), ("median", 2)])
def test_a_poor_trial_is_stopped_from_the_pruners_first_judged_epoch(pruner, first_judged):
    trial = study_with_good_curves(pruner).ask()
    for epochs_trained in range(1, first_judged):
        trial.report(0.1, epochs_trained)
        assert not trial.should_prune()
    trial.report(0.1, first_judged)
    assert trial.should_prune()
