import optuna
import pytest

from spaces import SPACES, conditions


def test_convnet_declares_its_conditional_dimensions_and_the_other_spaces_nothing():
    assert conditions("convnet") == {
        "dense_units": "n_dense > 0",
        "global_pool": "head == 'global'",
    }
    assert conditions("mlp") == conditions("alexnet") == conditions("lenet5") == {}
    assert conditions(None) == conditions("no-such-space") == {}


@pytest.mark.parametrize("name", list(SPACES))
def test_a_trial_has_a_conditional_dimension_exactly_when_its_condition_holds(name):
    space = SPACES[name]
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    declared = conditions(name)
    for _ in range(40):
        trial = study.ask()
        space.suggest_spec(trial)
        study.tell(trial, 0.5)
        params = trial.params
        missing = {d.name for d in space.DIMENSIONS} - set(params)
        assert missing <= set(declared), f"{missing - set(declared)} lack an only_when"
        for dimension, condition in declared.items():
            assert (dimension in params) == bool(eval(condition, {}, dict(params)))
