"""Which accelerator Keras trains on, for the trial record and the XLA choice."""

from __future__ import annotations

import functools

import keras


@functools.cache
def device_name() -> str:
    """'gpu:<name>' when Keras' backend sees a GPU, else 'cpu'."""
    backend = keras.config.backend()
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


def use_xla() -> bool:
    """XLA pays off on GPUs; on this 2-core CPU it made a small CNN about 3x slower per epoch."""
    return device_name().startswith("gpu")
