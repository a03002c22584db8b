"""One run on the real Fashion-MNIST (Debian's dataset-fashion-mnist): what tiny data hides."""

import optuna
import pytest

from search.config import SearchConfig
from search.data import fashion_mnist
from search.objective import Objective
from tests.conftest import require_or_skip


@pytest.mark.slow
def test_a_small_cnn_learns_real_fashion_mnist():
    if fashion_mnist.locate() is None:
        require_or_skip(
            "Fashion-MNIST files not found (apt-get install dataset-fashion-mnist)",
            env="CNNSEARCH_REQUIRE_DATA",
        )
    # Every dimension fixed: the fashion lab's main model, so the threshold does not hang on luck.
    sets = (
        "n_conv=2",
        "filters=32",
        "width_growth=constant",
        "kernel_size=3",
        "pool=max",
        "pool_every=1",
        "head=flatten",
        "activation=relu",
        "n_dense=1",
        "dense_units=128",
        "dropout=0",
        "batch_norm=false",
        "optimizer=adam",
        "learning_rate=0.002",
        "batch_size=64",
    )
    config = SearchConfig("fashion_mnist", epochs=2, train_size=2000, sets=sets, seed=0)
    study = optuna.create_study(direction="maximize")
    study.optimize(Objective(config, fashion_mnist.load()), n_trials=1)
    assert study.best_value >= 0.70
