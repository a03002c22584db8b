import pytest

from errors import UsageError
from search.config import SearchConfig


def test_defaults_and_derived_names():
    config = SearchConfig("cifar")
    assert config.dataset == "cifar10" and config.study == "cifar10-convnet"
    assert config.pruner_name == "asha" and config.directions == ["maximize"]
    multi = SearchConfig("digits", objectives=("accuracy", "time"))
    assert multi.pruner_name == "none" and multi.directions == ["maximize", "minimize"]


def test_round_trip_through_study_attrs():
    config = SearchConfig("digits", epochs=3, sets=("n_conv=2",), seed=4, train_size=500)
    assert SearchConfig.from_attrs(config.to_attrs()) == SearchConfig(
        "digits", study_name="digits-convnet", epochs=3, sets=("n_conv=2",), seed=4, train_size=500
    )


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"trials": 0}, "--trials must be at least 1"),
        ({"epochs": 0}, "--epochs must be at least 1"),
        ({"val_fraction": 1.0}, "--val-fraction must lie between 0 and 1"),
        ({"sampler": "grid"}, "unknown sampler 'grid'"),
        ({"pruner": "wilcoxon"}, "unknown pruner 'wilcoxon'"),
        ({"objectives": ("accuracy", "memory")}, "unknown objective memory"),
        ({"objectives": ("time",)}, "must start with accuracy"),
        ({"objectives": ("accuracy", "time"), "pruner": "median"}, "cannot prune multi-objective"),
        ({"space": "resnet"}, "unknown space 'resnet'"),
        ({"sets": ("n_conv=99",)}, "outside n_conv's range"),
    ],
)
def test_bad_config_is_a_usage_error(kwargs, fragment):
    with pytest.raises(UsageError) as info:
        SearchConfig("digits", **kwargs)
    assert fragment in str(info.value)


def test_differences_name_each_changed_field():
    stored = SearchConfig("digits", epochs=5)
    assert SearchConfig("digits", epochs=5, trials=99).differences(stored) == []
    diff = SearchConfig("digits", epochs=3, sets=("pool=avg",)).differences(stored)
    assert diff == [
        "epochs is 5 in the study but 3 here",
        "sets is (none) in the study but pool=avg here",
    ]


def test_a_config_stored_before_searched_ranges_existed_keeps_the_full_ranges():
    stored = SearchConfig("digits").to_attrs()
    del stored["full_ranges"]  # as every study made before it
    assert SearchConfig.from_attrs(stored).full_ranges is True
    assert SearchConfig.from_attrs(SearchConfig("digits").to_attrs()).full_ranges is False
