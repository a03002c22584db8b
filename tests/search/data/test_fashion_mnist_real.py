"""One run on the real Fashion-MNIST (Debian's dataset-fashion-mnist): what tiny data hides."""

import optuna
import pytest

from search.config import SearchConfig
from search.data import fashion_mnist
from search.objective import Objective
from spaces.models import FASHION_MAIN_SETS
from tests.conftest import require_or_skip


@pytest.mark.slow
def test_a_small_cnn_learns_real_fashion_mnist():
    if fashion_mnist.locate() is None:
        require_or_skip(
            "Fashion-MNIST files not found (apt-get install dataset-fashion-mnist)",
            env="CNNSEARCH_REQUIRE_DATA",
        )
    # Every dimension fixed: the fashion lab's main model, so the threshold does not hang on luck.
    sets = (*FASHION_MAIN_SETS, "learning_rate=0.002", "batch_size=64")
    config = SearchConfig("fashion_mnist", epochs=2, train_size=2000, sets=sets, seed=0)
    study = optuna.create_study(direction="maximize")
    study.optimize(Objective(config, fashion_mnist.load()), n_trials=1)
    assert study.best_value >= 0.70
