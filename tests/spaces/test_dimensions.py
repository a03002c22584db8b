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
        ("n_conv", "expected dim=value or dim=lo..hi"),
        ("batch_norm=maybe", "takes true or false"),
    ],
)
def test_bad_set_is_a_usage_error_naming_the_problem(text, fragment):
    with pytest.raises(UsageError, match=None) as info:
        parse_sets([text], DIMS, "convnet")
    assert fragment in str(info.value)
