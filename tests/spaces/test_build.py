import numpy as np
import pytest

from spaces.build import SpecError, build_model, compile_model
from spaces.convnet import conv_stack
from spaces.spec import ConvLayer, ModelSpec, TrainSpec


@pytest.mark.parametrize("shape", [(8, 8, 1), (28, 28, 1), (32, 32, 3)])
def test_every_depth_builds_and_never_pools_below_2x2(shape):
    for depth in range(1, 11):
        spec = ModelSpec(conv_stack(depth, 8, 3, pool_every=1, double=False), head="flatten")
        model = build_model(spec, shape, n_classes=10)
        flat = model.get_layer(index=-2).output.shape[-1]
        assert flat >= 2 * 2 * 8, f"depth {depth} on {shape} pooled below 2x2"
        out = model(np.zeros((2, *shape), np.uint8))
        assert tuple(out.shape) == (2, 10)


def test_images_stay_uint8_and_are_scaled_inside_the_model():
    model = build_model(ModelSpec(conv_stack(1, 4, 3, 1, False)), (8, 8, 1), 3)
    assert model.inputs[0].dtype == "uint8"
    assert any(layer.__class__.__name__ == "Rescaling" for layer in model.layers)


def test_options_appear_in_the_model():
    spec = ModelSpec(
        conv_stack(2, 8, 5, 2, False),
        activation="tanh",
        pool="avg",
        head="global",
        dense_units=(32, 16),
        dropout=0.25,
        batch_norm=True,
    )
    names = [layer.__class__.__name__ for layer in build_model(spec, (28, 28, 1), 10).layers]
    assert names.count("BatchNormalization") == 2
    assert "AveragePooling2D" in names and "GlobalMaxPooling2D" in names
    assert names.count("Dense") == 3 and names.count("Dropout") == 3


def test_a_spec_that_cannot_fit_the_input_raises_spec_error():
    spec = ModelSpec((ConvLayer(4, 5), ConvLayer(4, 5)), padding="valid", head="flatten")
    with pytest.raises(SpecError, match="does not fit"):
        build_model(spec, (8, 8, 1), 10)


def test_compiled_model_trains_one_step_on_uint8_data():
    model = build_model(ModelSpec(conv_stack(2, 4, 3, 1, False)), (8, 8, 1), 3)
    compile_model(model, TrainSpec("sgd", 0.01, 16))
    x = np.random.default_rng(0).integers(0, 256, (16, 8, 8, 1), dtype=np.uint8)
    history = model.fit(x, np.arange(16) % 3, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
