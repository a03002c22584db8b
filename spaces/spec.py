"""What a trial trains, as plain frozen data: the model spec and the training spec."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ConvLayer:
    filters: int
    kernel_size: int
    pool_after: bool = False


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


@dataclass(frozen=True)
class TrainSpec:
    optimizer: str = "adam"
    learning_rate: float = 1e-3
    batch_size: int = 256


@dataclass(frozen=True)
class Spec:
    """Everything one trial needs besides data: built by a space, never by the builder."""

    model: ModelSpec
    train: TrainSpec
