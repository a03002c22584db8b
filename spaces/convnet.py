"""The labs' conv stack: depth, width, kernel, pooling, activation, dense head, dropout; and
what small CNNs use now: residual blocks, an average-pooled head, augmentation."""

from __future__ import annotations

import optuna

from spaces import training
from spaces.dimensions import NO_BOUNDS, Bounds, Dimension, log_int, suggest
from spaces.spec import Augmentation, ConvLayer, ModelSpec, Spec
from spaces.starts import Start

NAME = "convnet"
DESCRIPTION = "stack of conv layers with a pool every few layers, then a dense head (the labs)"
MAX_FILTERS = 256

MODEL_DIMENSIONS = (
    Dimension("n_conv", 6, low=1, high=10, integer=True, help="conv layers", searched="2..8"),
    log_int("filters", 32, 8, 256, help="filters per layer", searched="16..128"),
    Dimension(
        "width_growth",
        "constant",
        choices=("constant", "double"),
        help="double: filters double after each conv-pool block (at most 256)",
    ),
    Dimension("kernel_size", 3, choices=(2, 3, 4, 5), help="square kernel side", searched="3..5"),
    Dimension("pool", "max", choices=("max", "avg"), help="2x2 pooling kind"),
    Dimension("pool_every", 2, choices=(1, 2, 3), help="conv layers per pool", searched="1..2"),
    Dimension(
        "head",
        "global",
        choices=("global", "flatten"),
        help="global max pooling or flatten before the dense layers",
    ),
    Dimension(
        "activation",
        "relu",
        choices=("relu", "tanh", "sigmoid", "softplus", "linear", "elu", "gelu"),
        searched="relu,elu,gelu",
    ),
    Dimension(
        "n_dense", 0, low=0, high=4, integer=True, help="hidden dense layers", searched="0..2"
    ),
    log_int(
        "dense_units",
        128,
        32,
        1024,
        help="units per dense layer (only when n_dense > 0)",
        searched="64..512",
        only_when="n_dense > 0",
    ),
    Dimension("dropout", 0.0, low=0.0, high=0.5, help="after each pool and dense layer"),
    Dimension("batch_norm", False, choices=(False, True), help="after each conv layer"),
    # Added after the labs' dimensions, whose choices stored studies hold them to.
    Dimension(
        "residual",
        False,
        choices=(False, True),
        help="a skip around each conv block, 1x1-projected where the width changes",
    ),
    Dimension(
        "global_pool",
        "max",
        choices=("max", "avg"),
        help="pooling of the global head (only when head = global)",
        only_when="head == 'global'",
    ),
)
# Random changes to the training images, inside the model; a data set whose labels a flip
# would change (digits, letters) never searches flips (search.config).
AUGMENTATION_DIMENSIONS = (
    Dimension(
        "augment_translate",
        0.0,
        low=0.0,
        high=0.3,
        help="largest random shift, as a fraction of the image side",
        searched="0..0.15",
    ),
    Dimension("augment_flip", False, choices=(False, True), help="random horizontal flips"),
    Dimension(
        "augment_erase",
        0.0,
        low=0.0,
        high=1.0,
        help="probability of erasing a random patch (cutout)",
        searched="0..0.5",
    ),
)
DIMENSIONS = MODEL_DIMENSIONS + AUGMENTATION_DIMENSIONS + training.DIMENSIONS
_dim = {d.name: d for d in DIMENSIONS}

_TWO_BLOCKS = {"n_conv": 2, "pool_every": 1, "head": "flatten", "n_dense": 1, "dense_units": 128}
_KERAS_TRAINING = {"batch_size": 128}  # the Keras examples' batches
STARTS = (
    # AutoKeras' first trial and the Keras examples' MNIST CNN: conv32-pool-conv64-pool,
    # flatten, dense 128, dropout.
    Start(
        "keras-example",
        {**_TWO_BLOCKS, **_KERAS_TRAINING, "width_growth": "double", "dropout": 0.25},
    ),
    # Two VGG blocks (conv-conv-pool, doubling) with batch norm: the small CNNs at the top of
    # Fashion-MNIST's benchmark table.
    Start(
        "vgg-bn",
        {**_TWO_BLOCKS, **_KERAS_TRAINING, "n_conv": 4, "pool_every": 2}
        | {"width_growth": "double", "batch_norm": True, "dropout": 0.25},
    ),
    # The fashion lab's main model: Conv32-Pool-Conv32-Pool-Dense128.
    Start("fashion-lab", {**_TWO_BLOCKS, "batch_size": 256}),
    # The AlexNet-style lab model: three conv-pool blocks of growing width, two dense layers.
    Start(
        "alexnet-lab",
        {"n_conv": 3, "pool_every": 1, "width_growth": "double", "kernel_size": 5}
        | {"head": "flatten", "n_dense": 2, "dense_units": 256, "dropout": 0.5, **_KERAS_TRAINING},
    ),
    # The airbench / small-ResNet recipe: three residual conv-conv blocks (32-64-128) with batch
    # norm and an average-pooled head, flip-and-translate augmentation (no flips where they
    # change labels), label smoothing and a warmup-cosine schedule over the trial's epochs.
    # The costliest start: one epoch of 10,000 Fashion-MNIST images took 208 s against vgg-bn's
    # 150, alexnet-lab's 149, the reference's 91, keras-example's 44 and fashion-lab's 22 (timed
    # one after another on 2 shared, loaded cores), so it comes after the other starts. (Training
    # every start cheapest first put vgg-bn fourth, and in a 15-minute race the cost guard then
    # stopped it in its first epoch: benchmarks/RESULTS.md, item 17.)
    Start(
        "resnet-small",
        {"n_conv": 6, "pool_every": 2, "width_growth": "double", "batch_norm": True}
        | {"residual": True, "head": "global", "global_pool": "avg", "n_dense": 0}
        | {"augment_translate": 0.1, "augment_flip": True, "label_smoothing": 0.1}
        | {"lr_schedule": "cosine", "learning_rate": 2e-3, "weight_decay": 0.05, **_KERAS_TRAINING},
    ),
    Start("reference"),  # the seed lab's model, which `sweep` varies one dimension at a time
)
# The greedy step re-samples one of these groups of the best trial (as AutoKeras' greedy
# oracle does), keeping the rest.
GROUPS = (
    ("n_conv", "pool_every"),
    ("filters", "width_growth"),
    ("kernel_size", "pool"),
    ("head", "n_dense", "dense_units"),
    ("activation",),
    ("dropout", "batch_norm"),
    ("residual", "global_pool"),
    tuple(d.name for d in AUGMENTATION_DIMENSIONS),
    *training.GROUPS,
)


def suggest_spec(trial: optuna.trial.BaseTrial, bounds: Bounds = NO_BOUNDS) -> Spec:
    """Sample a conv net from `trial`; conditional: `dense_units` only when `n_dense` > 0,
    `global_pool` only with the global head."""
    n_conv, filters, growth, kernel, pool, pool_every, head, activation, n_dense = (
        suggest(trial, _dim[name], bounds)
        for name in (
            "n_conv",
            "filters",
            "width_growth",
            "kernel_size",
            "pool",
            "pool_every",
            "head",
            "activation",
            "n_dense",
        )
    )
    dense_units = suggest(trial, _dim["dense_units"], bounds) if n_dense else 0
    dropout = suggest(trial, _dim["dropout"], bounds)
    batch_norm = suggest(trial, _dim["batch_norm"], bounds)
    residual = suggest(trial, _dim["residual"], bounds)
    global_pool = suggest(trial, _dim["global_pool"], bounds) if head == "global" else "max"
    translate, flip, erase = (suggest(trial, d, bounds) for d in AUGMENTATION_DIMENSIONS)
    model = ModelSpec(
        conv_layers=conv_stack(n_conv, filters, kernel, pool_every, growth == "double"),
        activation=activation,
        pool=pool,
        head=head,
        dense_units=(dense_units,) * n_dense,
        dropout=dropout,
        batch_norm=batch_norm,
        residual=residual,
        global_pool=global_pool,
        augmentation=Augmentation(translate, flip, erase),
    )
    return Spec(model, training.suggest_training(trial, bounds))


def conv_stack(
    n_conv: int, filters: int, kernel_size: int, pool_every: int, double: bool
) -> tuple[ConvLayer, ...]:
    layers = []
    for i in range(n_conv):
        pool_after = (i + 1) % pool_every == 0
        layers.append(ConvLayer(filters, kernel_size, pool_after))
        if pool_after and double:
            filters = min(filters * 2, MAX_FILTERS)
    return tuple(layers)
