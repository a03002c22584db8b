"""AlexNet-style conv-pool blocks: kernels shrink, widths grow with depth; dense head, dropout."""

from __future__ import annotations

import optuna

from spaces import training
from spaces.dimensions import NO_BOUNDS, Bounds, Dimension, log_int, suggest
from spaces.spec import ConvLayer, ModelSpec, Spec
from spaces.starts import Start

NAME = "alexnet"
DESCRIPTION = "conv-pool blocks, kernels shrinking and widths doubling per block, dense head"
MAX_FILTERS = 256
MIN_KERNEL = 3

MODEL_DIMENSIONS = (
    Dimension("n_blocks", 3, low=1, high=5, integer=True, help="conv-pool blocks"),
    Dimension("convs_per_block", 1, low=1, high=3, integer=True, help="conv layers per block"),
    log_int("filters", 32, 16, 128, help="first block's filters"),
    Dimension(
        "first_kernel", 5, choices=(3, 5, 7), help="first block's kernel; 2 less per block, min 3"
    ),
    Dimension("pool", "max", choices=("max", "avg"), help="2x2 pooling kind"),
    Dimension("activation", "relu", choices=("relu", "elu", "gelu", "tanh")),
    Dimension("n_dense", 2, low=1, high=3, integer=True, help="hidden dense layers"),
    log_int("dense_units", 256, 64, 1024, help="units per layer"),
    Dimension("dropout", 0.5, low=0.0, high=0.5, help="after each pool and dense layer"),
    Dimension("batch_norm", False, choices=(False, True), help="after each conv layer"),
)
DIMENSIONS = MODEL_DIMENSIONS + training.DIMENSIONS
_dim = {d.name: d for d in DIMENSIONS}

STARTS = (Start("reference"),)
GROUPS = (
    ("n_blocks", "convs_per_block"),
    ("filters", "first_kernel"),
    ("pool", "activation"),
    ("n_dense", "dense_units"),
    ("dropout", "batch_norm"),
    *training.GROUPS,
)


def suggest_spec(trial: optuna.trial.BaseTrial, bounds: Bounds = NO_BOUNDS) -> Spec:
    names = (
        "n_blocks",
        "convs_per_block",
        "filters",
        "first_kernel",
        "pool",
        "activation",
        "n_dense",
        "dense_units",
        "dropout",
        "batch_norm",
    )
    p = {name: suggest(trial, _dim[name], bounds) for name in names}
    model = ModelSpec(
        conv_layers=blocks(p["n_blocks"], p["convs_per_block"], p["filters"], p["first_kernel"]),
        activation=p["activation"],
        pool=p["pool"],
        head="flatten",
        dense_units=(p["dense_units"],) * p["n_dense"],
        dropout=p["dropout"],
        batch_norm=p["batch_norm"],
    )
    return Spec(model, training.suggest_training(trial, bounds))


def blocks(
    n_blocks: int, convs_per_block: int, filters: int, first_kernel: int
) -> tuple[ConvLayer, ...]:
    """Each block: convs then a pool; the next block is twice as wide with a 2-smaller kernel."""
    layers = []
    kernel = first_kernel
    for _ in range(n_blocks):
        for i in range(convs_per_block):
            layers.append(ConvLayer(filters, kernel, pool_after=i == convs_per_block - 1))
        filters, kernel = min(filters * 2, MAX_FILTERS), max(kernel - 2, MIN_KERNEL)
    return tuple(layers)
