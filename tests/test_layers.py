"""Activation layers: numerics, weights, masking, mixed precision, the toolkit."""

import keras
import numpy as np
import pytest

from keras_components import GELU, Mish, Swish, activations
from tests.helpers import (
    EXPORT_FORMATS,
    assert_config_roundtrip,
    assert_exports,
    assert_fit_lowers_loss,
    assert_keras_roundtrip,
    to_numpy,
    variable_gradients,
)
from tests.test_activations import swish_ref

LAYERS = [
    Swish(),
    Swish(beta=0.5),
    Swish(beta=1.5, trainable_beta=True),
    Mish(),
    GELU(),
    GELU(approximate=True),
]


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 6)).astype(np.float32)
    y = (np.sin(x[:, :1]) + x[:, 1:2] ** 2).astype(np.float32)
    return x, y


def small_model(layer):
    inputs = keras.Input((6,))
    h = keras.layers.Dense(16)(inputs)
    h = layer(h)
    return keras.Model(inputs, keras.layers.Dense(1)(h), name=f"with_{layer.name}")


@pytest.mark.parametrize(
    ("layer", "fn"),
    [
        (Swish(beta=0.5), lambda x: activations.swish(x, beta=0.5)),
        (Mish(), activations.mish),
        (GELU(approximate=True), lambda x: activations.gelu(x, approximate=True)),
    ],
)
def test_layer_equals_function(layer, fn):
    x = np.random.default_rng(1).normal(size=(5, 7)).astype(np.float32)
    np.testing.assert_array_equal(to_numpy(layer(x)), to_numpy(fn(x)))


def test_trainable_beta_weight_and_gradient():
    layer = Swish(beta=1.5, trainable_beta=True)
    x = np.linspace(-4, 4, 33, dtype=np.float32)[None]
    layer.build(x.shape)
    _, (grad,) = variable_gradients(lambda: layer(x), layer.trainable_weights)
    assert [w.name for w in layer.trainable_weights] == ["beta"]
    np.testing.assert_allclose(layer.trainable_weights[0].numpy(), 1.5)
    np.testing.assert_allclose(grad, swish_ref(x, 1.5)[2].sum(), rtol=1e-5)


def test_fixed_beta_has_no_weights():
    layer = Swish(beta=2.0)
    layer(np.ones((2, 3), np.float32))
    assert layer.weights == []


@pytest.mark.parametrize("layer", LAYERS, ids=lambda layer: layer.name)
def test_config_roundtrip(layer):
    assert_config_roundtrip(layer)


def all_activations_model(x, y):
    inputs = keras.Input((6,))
    h = Mish()(keras.layers.Dense(16)(inputs))
    h = Swish(beta=1.2, trainable_beta=True)(keras.layers.Dense(16)(h))
    h = GELU()(keras.layers.Dense(16)(h))
    model = keras.Model(inputs, keras.layers.Dense(1)(h), name="all_activations")
    model.compile(optimizer="adam", loss="mse")
    assert_fit_lowers_loss(model, x, y, epochs=3)
    return model


def test_model_keras_roundtrip(data, tmp_path):
    x, y = data
    model = all_activations_model(x, y)
    learned_beta = to_numpy(model.layers[4].trainable_weights[0])
    assert learned_beta != pytest.approx(1.2)
    loaded = assert_keras_roundtrip(model, x, tmp_path)
    np.testing.assert_array_equal(
        to_numpy(loaded.layers[4].trainable_weights[0]), learned_beta
    )


@pytest.mark.parametrize("export_format", EXPORT_FORMATS)
def test_model_exports(data, tmp_path, export_format):
    """SavedModel everywhere; `.pt2` (`format="torch"`) on PyTorch too."""
    x, y = data
    assert_exports(all_activations_model(x, y), x, tmp_path, export_format)


@pytest.mark.parametrize("layer_cls", [Swish, Mish, GELU])
def test_fit_lowers_loss(layer_cls, data):
    x, y = data
    model = small_model(layer_cls())
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse", jit_compile=True)
    assert_fit_lowers_loss(model, x, y, epochs=4)


def test_masks_pass_through():
    x = np.array([[[1.0, 2.0], [0.0, 0.0], [3.0, -1.0]]], np.float32)
    masked = keras.layers.Masking(mask_value=0.0)(x)
    for layer in (Swish(), Mish(), GELU()):
        out = layer(masked)
        np.testing.assert_array_equal(
            to_numpy(keras.backend.get_keras_mask(out))
            if hasattr(keras.backend, "get_keras_mask")
            else to_numpy(out._keras_mask),
            [[True, False, True]],
        )


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision(policy, data):
    x, y = data
    keras.mixed_precision.set_global_policy(policy)
    try:
        model = small_model(Mish())
        out = model(x[:8])
        compute = policy.split("_")[1]
        assert keras.backend.standardize_dtype(model.layers[2](out).dtype) == compute
        model.compile(optimizer="adam", loss="mse")
        assert_fit_lowers_loss(model, x, y, epochs=3)
    finally:
        keras.mixed_precision.set_global_policy("float32")


@pytest.mark.parametrize(
    ("build", "error", "pattern"),
    [
        (
            lambda: Swish(beta="x"),
            TypeError,
            r"Invalid type for argument `beta`.*Received: beta='x'",
        ),
        (
            lambda: Swish(beta=float("nan")),
            ValueError,
            r"Invalid value for argument `beta`. Expected a finite float. "
            r"Received: beta=nan",
        ),
        (lambda: Swish(trainable_beta=1), TypeError, "argument `trainable_beta`"),
        (lambda: GELU(approximate=None), TypeError, "argument `approximate`"),
    ],
)
def test_invalid_arguments(build, error, pattern):
    with pytest.raises(error, match=pattern):
        build()
