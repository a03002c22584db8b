import pytest

from spaces import SPACES, convnet
from spaces.dimensions import NO_BOUNDS, search_bounds
from spaces.starts import start_params


@pytest.mark.parametrize("space", SPACES.values(), ids=list(SPACES))
def test_every_start_builds_inside_the_default_search(space):
    from optuna.trial import FixedTrial

    bounds = search_bounds([], space.DIMENSIONS, space.NAME)
    for start in space.STARTS:
        params = start_params(start, space.DIMENSIONS, bounds, n_train=50_000)
        conditional = {"dense_units", "global_pool"}  # absent without dense layers, global head
        searched = {d.name for d in space.DIMENSIONS if d.name not in conditional}
        assert searched <= set(params), start.name  # nothing left to the sampler
        space.suggest_spec(FixedTrial(params), bounds)


def test_a_start_keeps_its_batch_size_on_large_data_and_shrinks_it_on_small():
    fashion_lab = next(s for s in convnet.STARTS if s.name == "fashion-lab")  # batches of 256
    assert start_params(fashion_lab, convnet.DIMENSIONS, NO_BOUNDS, 50_000)["batch_size"] == 256
    # 1,300 images in batches of 256 are 5 steps an epoch; 64 makes the most of them
    assert start_params(fashion_lab, convnet.DIMENSIONS, NO_BOUNDS, 1300)["batch_size"] == 64
    # 3,000 images: 256 gives 11 steps, 128 gives 23, 64 gives 46
    assert start_params(fashion_lab, convnet.DIMENSIONS, NO_BOUNDS, 3000)["batch_size"] == 64
    assert start_params(fashion_lab, convnet.DIMENSIONS, NO_BOUNDS, 4000)["batch_size"] == 128
    assert start_params(fashion_lab, convnet.DIMENSIONS, NO_BOUNDS, 9000)["batch_size"] == 256


def test_a_start_without_dense_layers_has_no_dense_units():
    reference = convnet.STARTS[-1]
    params = start_params(reference, convnet.DIMENSIONS, NO_BOUNDS, 50_000)
    assert params["n_dense"] == 0 and "dense_units" not in params
