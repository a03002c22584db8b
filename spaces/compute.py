"""What a model costs to train, counted from its spec before it is built: multiply-adds per image.

Training time per image is about three forward passes, so the count orders models by cost
without building, compiling or timing them (`spaces.starts.by_cost` orders the starting points
with it). It counts the convolutions, the skips' 1x1 projections and the dense layers, which
hold nearly all the work of these nets; activations, pools and batch norm are left out.
"""

from __future__ import annotations

from spaces.spec import MIN_POOLED_SIDE, ModelSpec


def multiply_adds(model: ModelSpec, input_shape: tuple[int, ...], n_classes: int = 10) -> int:
    """Multiply-adds of one forward pass of `model` on one image of `input_shape`."""
    height, width, channels = input_shape[0], input_shape[1], input_shape[-1]
    total, block_channels = 0, channels
    for i, conv in enumerate(model.conv_layers):
        if model.padding == "valid":
            height, width = height - conv.kernel_size + 1, width - conv.kernel_size + 1
        total += height * width * conv.kernel_size**2 * channels * conv.filters
        channels = conv.filters
        block_ends = conv.pool_after or i == len(model.conv_layers) - 1
        if model.residual and block_ends:
            if block_channels != channels:
                total += height * width * block_channels * channels
            block_channels = channels
        if conv.pool_after and min(height, width) // 2 >= MIN_POOLED_SIDE:
            height, width = height // 2, width // 2
    features = (
        channels if model.conv_layers and model.head == "global" else height * width * channels
    )
    for units in (*model.dense_units, n_classes):
        total += features * units
        features = units
    return total
