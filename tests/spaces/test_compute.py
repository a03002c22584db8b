"""Multiply-adds counted from a spec, against the sums written out by hand."""

from spaces.compute import multiply_adds
from spaces.spec import ConvLayer, ModelSpec

KERAS_EXAMPLE = ModelSpec(
    conv_layers=(ConvLayer(32, 3, pool_after=True), ConvLayer(64, 3, pool_after=True)),
    head="flatten",
    dense_units=(128,),
)


def test_the_keras_example_cnn_on_28x28_images():
    conv1 = 28 * 28 * 3 * 3 * 1 * 32  # then pooled to 14x14
    conv2 = 14 * 14 * 3 * 3 * 32 * 64  # then pooled to 7x7
    dense = 7 * 7 * 64 * 128 + 128 * 10
    assert multiply_adds(KERAS_EXAMPLE, (28, 28, 1)) == conv1 + conv2 + dense


def test_valid_padding_a_global_head_and_residual_projections():
    spec = ModelSpec(
        conv_layers=(ConvLayer(8, 3, pool_after=True),), head="global", padding="valid"
    )
    assert multiply_adds(spec, (10, 10, 3)) == 8 * 8 * 9 * 3 * 8 + 8 * 10
    residual = ModelSpec(conv_layers=(ConvLayer(8, 3),), head="global", residual=True)
    skip = 10 * 10 * 3 * 8  # a 1x1 convolution from the block's 3 channels to its 8
    assert multiply_adds(residual, (10, 10, 3)) == 10 * 10 * 9 * 3 * 8 + skip + 8 * 10


def test_a_pool_that_would_leave_less_than_2x2_is_skipped_as_the_builder_skips_it():
    spec = ModelSpec(
        conv_layers=(ConvLayer(4, 3, pool_after=True), ConvLayer(4, 3, pool_after=True)),
        head="flatten",
    )
    # 3x3 stays 3x3: pooling would leave 1x1
    assert multiply_adds(spec, (3, 3, 1)) == 9 * 9 * 1 * 4 + 9 * 9 * 4 * 4 + 9 * 4 * 10
