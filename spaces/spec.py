"""What a trial trains, as plain frozen data: the model spec and the training spec."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ConvLayer:
    filters: int
    kernel_size: int
    pool_after: bool = False


@dataclass(frozen=True)
class Augmentation:
    """Random changes to the training images, made inside the model (never at inference)."""

    translate: float = 0.0  # largest shift, as a fraction of the image side
    flip: bool = False  # horizontal
    erase: float = 0.0  # probability of erasing one random patch (cutout)

    @property
    def active(self) -> bool:
        return bool(self.translate or self.flip or self.erase)


@dataclass(frozen=True)
class ModelSpec:
    """An image classifier: conv layers (with pools), a head, dense layers, an output layer."""

    conv_layers: tuple[ConvLayer, ...]
    activation: str = "relu"
    pool: str = "max"
    head: str = "global"
    dense_units: tuple[int, ...] = ()
    dropout: float = 0.0
    batch_norm: bool = False
    padding: str = "same"
    residual: bool = False  # a skip connection around each conv block (conv layers to a pool)
    global_pool: str = "max"  # the pooling of the "global" head: max or avg
    augmentation: Augmentation = Augmentation()


@dataclass(frozen=True)
class TrainSpec:
    optimizer: str = "adam"
    learning_rate: float = 1e-3
    batch_size: int = 256
    weight_decay: float = 0.0  # decoupled (AdamW-style), as a fraction of the learning rate
    label_smoothing: float = 0.0
    schedule: str = "plateau"  # plateau: halve the rate on a plateau; cosine: warmup and decay


@dataclass(frozen=True)
class Spec:
    """Everything one trial needs besides data: built by a space, never by the builder."""

    model: ModelSpec
    train: TrainSpec
