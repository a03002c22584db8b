import pytest

from errors import UsageError
from spaces import convnet, parse_sets

DIMS = convnet.DIMENSIONS


def test_set_fixes_a_value_and_narrows_a_range():
    bounds = parse_sets(
        ["n_conv=3", "filters=16..64", "pool=avg", "kernel_size=3..4"], DIMS, "convnet"
    )
    assert bounds.overrides["n_conv"].low == bounds.overrides["n_conv"].high == 3
    assert (bounds.overrides["filters"].low, bounds.overrides["filters"].high) == (16, 64)
    assert bounds.overrides["pool"].choices == ("avg",)
    assert bounds.overrides["kernel_size"].choices == (3, 4)


def test_set_parses_booleans_and_floats():
    bounds = parse_sets(["batch_norm=true", "learning_rate=1e-3..1e-2"], DIMS, "convnet")
    assert bounds.overrides["batch_norm"].choices == (True,)
    assert bounds.overrides["learning_rate"].low == pytest.approx(1e-3)


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("depth=3", "has no dimension 'depth'"),
        ("n_conv=11", "outside n_conv's range 1..10"),
        ("n_conv=0..4", "outside n_conv's range"),
        ("n_conv=5..2", "range is empty"),
        ("n_conv=three", "takes a whole number"),
        ("pool=median", "not one of pool's choices"),
        ("pool=1..2", "needs numbers"),
        ("kernel_size=6..9", "no choice of kernel_size lies in that range"),
        ("n_conv", "expected dim=value, dim=lo..hi or dim=a,b,c"),
        ("batch_norm=maybe", "takes true or false"),
    ],
)
def test_bad_set_is_a_usage_error_naming_the_problem(text, fragment):
    with pytest.raises(UsageError, match=None) as info:
        parse_sets([text], DIMS, "convnet")
    assert fragment in str(info.value)


def test_a_search_samples_the_searched_part_unless_set_or_full_ranges_widen_it():
    from spaces.dimensions import search_bounds

    default = search_bounds([], DIMS, "convnet")
    assert default[convnet.DIMENSIONS[0]].describe() == "2..8"  # n_conv, of the labs' 1..10
    activation = next(d for d in DIMS if d.name == "activation")
    assert default[activation].choices == ("relu", "elu", "gelu")
    widened = search_bounds(["n_conv=1..10", "activation=relu,sigmoid"], DIMS, "convnet")
    assert widened[convnet.DIMENSIONS[0]].describe() == "1..10"
    assert widened[activation].choices == ("relu", "sigmoid")
    assert search_bounds([], DIMS, "convnet", full=True)[activation].choices == activation.choices
    # every reference value and every start lies inside the searched part
    for dim in DIMS:
        assert default[dim].contains(dim.reference), dim.name


def test_a_choice_list_names_only_choices():
    with pytest.raises(UsageError, match="not one of activation's choices"):
        parse_sets(["activation=relu,swish"], DIMS, "convnet")
