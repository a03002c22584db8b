"""The labs' fixed reference models as spec constants, built by the same `build_model`."""

from __future__ import annotations

from spaces.spec import ConvLayer, ModelSpec

# LeNet-5 (LeCun et al. 1998): two 5x5 conv + average-pool stages (6 and 16 maps), dense 120-84,
# tanh. "same" padding on every input: on 28x28 MNIST it gives the 28x28 first feature map that
# the original got from its 32x32 padded input, and on 8x8 digits the second stage still fits
# (valid 5x5 convolutions would not: 8 -> 4 -> 2 -> pool -> 1 -> no room for the second conv).
LENET5 = ModelSpec(
    conv_layers=(ConvLayer(6, 5, pool_after=True), ConvLayer(16, 5, pool_after=True)),
    activation="tanh",
    pool="avg",
    head="flatten",
    dense_units=(120, 84),
    padding="same",
)

# The fashion lab's "main model": Conv32-Pool-Conv32-Pool-Dense128.
FASHION_MAIN = ModelSpec(
    conv_layers=(ConvLayer(32, 3, pool_after=True), ConvLayer(32, 3, pool_after=True)),
    activation="relu",
    pool="max",
    head="flatten",
    dense_units=(128,),
)

# FASHION_MAIN as convnet `--set` values, with the labs' training (Adam, 1e-3, batches of 256):
# a study or benchmark that fixes every dimension to train the labs' model.
FASHION_MAIN_SETS = (
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
    "learning_rate=0.001",
    "batch_size=256",
    "residual=false",
    "global_pool=max",
    "augment_translate=0",
    "augment_flip=false",
    "augment_erase=0",
    "weight_decay=0",
    "label_smoothing=0",
    "lr_schedule=plateau",
)
