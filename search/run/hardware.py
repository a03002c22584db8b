"""Which accelerator Keras trains on, and the GPU-side choices: XLA and mixed precision.

Both choices are runtime settings, not part of a study's identity: workers on different machines
of one study may differ. `CNNSEARCH_XLA` is `auto` (on GPUs only), `on` or `off`, and applies to
TensorFlow: Keras on JAX always compiles with XLA. `CNNSEARCH_PRECISION` is `float32` or `mixed`
(float16 compute on GPUs, bfloat16 on CPUs, with float32 weights and a float32 softmax).
"""

from __future__ import annotations

import functools
import os

from errors import UsageError

XLA = ("CNNSEARCH_XLA", ("auto", "on", "off"))
PRECISION = ("CNNSEARCH_PRECISION", ("float32", "mixed"))


@functools.cache
def device_name() -> str:
    """'gpu:<name>' when Keras' backend sees a GPU, else 'cpu'."""
    backend = _keras().config.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        return f"gpu:{gpus[0].name}" if gpus else "cpu"
    if backend == "jax":
        import jax

        device = jax.devices()[0]
        return f"gpu:{device.device_kind}" if device.platform == "gpu" else "cpu"
    if backend == "torch":
        import torch

        return f"gpu:{torch.cuda.get_device_name(0)}" if torch.cuda.is_available() else "cpu"
    return "cpu"


def on_gpu() -> bool:
    return device_name().startswith("gpu")


def use_xla() -> bool:
    """Whether models compile with XLA. Under TensorFlow it pays off on GPUs; on this 2-core CPU
    it made a small CNN about 3x slower per epoch. JAX always compiles: without `jit_compile`,
    Keras runs every JAX training step op by op."""
    choice = _setting(*XLA)
    if _keras().config.backend() == "jax":
        return True
    return choice == "on" or (choice == "auto" and on_gpu())


def apply_precision() -> str:
    """Set Keras' global dtype policy from `$CNNSEARCH_PRECISION` and return its name. Call it
    after every `keras.backend.clear_session()`, which resets the policy to float32."""
    choice = _setting(*PRECISION)
    policy = "float32" if choice == "float32" else "mixed_float16" if on_gpu() else "mixed_bfloat16"
    _keras().config.set_dtype_policy(policy)
    return policy


def check_settings() -> None:
    """Refuse a bad `$CNNSEARCH_XLA` or `$CNNSEARCH_PRECISION` before the first trial."""
    _setting(*XLA)
    _setting(*PRECISION)


def _setting(env: str, choices: tuple[str, ...]) -> str:
    """`$env`, or its first choice, the default, when unset."""
    value = os.environ.get(env, choices[0])
    if value not in choices:
        raise UsageError(f"{env}={value!r}: choose one of {', '.join(choices)}")
    return value


def _keras():
    # Imported when a model is about to train: the trial loop imports this module, and processes
    # that train nothing themselves (a multi-slot parent, the tests' fake workers) start in a
    # second instead of several.
    import keras

    return keras
