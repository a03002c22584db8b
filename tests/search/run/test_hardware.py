import keras
import optuna
import pytest
from optuna.trial import TrialState

from errors import UsageError
from search import data
from search.config import SearchConfig
from search.objective import Objective
from search.run import hardware
from search.vocabulary import PRECISION_ATTR
from spaces import convnet, reference_spec
from spaces.build import build_model
from tests.conftest import SMALL_MODEL


@pytest.fixture
def float32_after():
    yield
    keras.config.set_dtype_policy("float32")


@pytest.fixture
def on_cpu(monkeypatch):
    monkeypatch.setattr(hardware, "device_name", lambda: "cpu")


@pytest.fixture
def on_gpu(monkeypatch):
    monkeypatch.setattr(hardware, "device_name", lambda: "gpu:0 NVIDIA H100")


def test_xla_is_on_for_gpus_only_unless_the_setting_says_otherwise(monkeypatch, on_cpu):
    assert hardware.use_xla() is False
    monkeypatch.setenv("CNNSEARCH_XLA", "on")
    assert hardware.use_xla() is True
    monkeypatch.setenv("CNNSEARCH_XLA", "maybe")
    with pytest.raises(UsageError, match="CNNSEARCH_XLA='maybe': choose one of auto, on, off"):
        hardware.use_xla()


def test_xla_is_on_on_a_gpu_and_always_under_jax(monkeypatch, on_gpu):
    assert hardware.use_xla() is True
    monkeypatch.setenv("CNNSEARCH_XLA", "off")
    assert hardware.use_xla() is False
    monkeypatch.setattr(keras.config, "backend", lambda: "jax")
    assert hardware.use_xla() is True  # uncompiled, Keras on JAX would run op by op


def test_mixed_precision_computes_in_float16_on_a_gpu(monkeypatch, on_gpu, float32_after):
    monkeypatch.setenv("CNNSEARCH_PRECISION", "mixed")
    assert hardware.apply_precision() == "mixed_float16"


def test_mixed_precision_computes_in_bfloat16_on_a_cpu_with_a_float32_softmax(
    monkeypatch, on_cpu, float32_after
):
    monkeypatch.setenv("CNNSEARCH_PRECISION", "mixed")
    assert hardware.apply_precision() == "mixed_bfloat16"
    model = build_model(reference_spec(convnet).model, (8, 8, 1), 10)
    assert model.layers[2].compute_dtype == "bfloat16"  # the first convolution
    assert model.outputs[0].dtype == "float32"


@pytest.mark.slow
def test_a_mixed_precision_trial_trains_and_records_its_policy(monkeypatch, on_cpu, float32_after):
    monkeypatch.setenv("CNNSEARCH_PRECISION", "mixed")
    config = SearchConfig("digits", epochs=2, train_size=300, sets=SMALL_MODEL, seed=0)
    study = optuna.create_study(direction="maximize")
    study.optimize(Objective(config, data.load("digits")), n_trials=1)
    trial = study.trials[0]
    assert trial.state == TrialState.COMPLETE and 0.0 < trial.value <= 1.0
    assert trial.user_attrs[PRECISION_ATTR] == "mixed_bfloat16"
