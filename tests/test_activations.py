"""Activation functions against float64 NumPy/SciPy references."""

import keras
import numpy as np
import pytest
from scipy.special import erfc, expit

from keras_components import activations
from tests.helpers import (
    compiled,
    skip_without_float64,
    to_numpy,
    value_and_grad,
    value_and_grad_tensors,
)

F32_TINY = float(np.finfo(np.float32).tiny)
EXTREMES = np.array(
    [
        -3e38,
        -1e4,
        -1e3,
        -100.0,
        -88.7,
        -20.0,
        -0.0,
        0.0,
        20.0,
        88.7,
        100.0,
        1e3,
        1e4,
        3e38,
    ],
    dtype=np.float32,
)


# float64 references, written from the definitions (not from our formulas).
def mish_ref(x):
    x = np.asarray(x, np.float64)
    t = np.tanh(np.logaddexp(0.0, x))
    return x * t, t + x * expit(x) * (1.0 - t * t)


def gelu_ref(x):
    x = np.asarray(x, np.float64)
    cdf = 0.5 * erfc(-x / np.sqrt(2.0))
    pdf = np.exp(-0.5 * x * x) / np.sqrt(2.0 * np.pi)
    return x * cdf, cdf + x * pdf


def gelu_tanh_ref(x):
    x = np.asarray(x, np.float64)
    c = np.sqrt(2.0 / np.pi)
    z = c * (x + 0.044715 * x**3)
    # 0.5 * (1 + tanh(z)) == expit(2 z); expit keeps the negative tail exact
    # where 1 + tanh(z) cancels even in float64.
    gate = expit(2.0 * z)
    dz = c * (1.0 + 3.0 * 0.044715 * x * x)
    return x * gate, gate + x * 2.0 * gate * (1.0 - gate) * dz


def swish_ref(x, beta):
    x = np.asarray(x, np.float64)
    s = expit(beta * x)
    return x * s, s + beta * x * s * (1.0 - s), x * x * s * (1.0 - s)


def assert_relative(got, ref, rtol, *, floor=1e-30):
    """Relative error where the reference is a normal float32, absolute below."""
    got = np.asarray(got, np.float64)
    big = np.abs(ref) > floor
    np.testing.assert_allclose(got[big], ref[big], rtol=rtol, atol=0)
    np.testing.assert_allclose(got[~big], ref[~big], rtol=0, atol=floor)


def grid(low, high, n=400_001):
    return np.linspace(low, high, n, dtype=np.float32)


class TestMish:
    def test_value_within_1e6_relative_of_float64(self):
        x = grid(-88.0, 88.0)
        y, _ = value_and_grad(activations.mish, x)
        assert_relative(y, mish_ref(x)[0], rtol=1e-6)

    def test_relative_accuracy_holds_down_to_the_subnormal_exponential(self):
        # The documented range: relative to float64 wherever exp(x) is a
        # normal float32; below, 0 (the subnormal exp(x) flushed), within
        # the documented 1.1e-36 of the true value and gradient.
        x = grid(-87.33, -60.0, 20_001)
        y, g = value_and_grad(activations.mish, x)
        ref_y, ref_g = mish_ref(x)
        np.testing.assert_allclose(y, ref_y, rtol=3e-7, atol=0)
        np.testing.assert_allclose(g, ref_g, rtol=1e-6, atol=0)
        x = grid(-95.0, -87.34, 2001)
        y, g = value_and_grad(activations.mish, x)
        ref_y, ref_g = mish_ref(x)
        assert np.max(np.abs(ref_y)) < 1.1e-36
        assert np.max(np.abs(ref_g)) < 1.1e-36
        np.testing.assert_allclose(y, ref_y, rtol=0, atol=1.1e-36)
        np.testing.assert_allclose(g, ref_g, rtol=0, atol=1.1e-36)

    def test_gradient_matches_float64(self):
        x = grid(-88.0, 88.0)
        _, g = value_and_grad(activations.mish, x)
        ref = mish_ref(x)[1]
        # The 1 - tanh^2 factor carries float32 rounding of t (as in any float32
        # tanh gradient): error bounded by ~4e-6 of max(1, |g|).
        assert np.max(np.abs(g - ref) / np.maximum(1.0, np.abs(ref))) < 1e-5

    def test_extremes_are_finite_and_exact(self):
        y, g = value_and_grad(activations.mish, EXTREMES)
        assert np.all(np.isfinite(y))
        assert np.all(np.isfinite(g))
        big = EXTREMES >= 20.0
        np.testing.assert_array_equal(y[big], EXTREMES[big])  # mish(x) = x
        np.testing.assert_array_equal(g[big], 1.0)
        very_negative = EXTREMES <= -1e3
        np.testing.assert_array_equal(y[very_negative], 0.0)
        np.testing.assert_array_equal(g[very_negative], 0.0)

    def test_upstream_gradient_is_applied(self):
        rng = np.random.default_rng(0)
        x = rng.normal(size=(64, 8)).astype(np.float32)
        upstream = rng.normal(size=(64, 8)).astype(np.float32)
        _, g = value_and_grad(activations.mish, x, upstream)
        np.testing.assert_allclose(g, mish_ref(x)[1] * upstream, rtol=1e-5, atol=1e-6)

    def test_float64_input_is_computed_in_float64(self):
        skip_without_float64()
        x = np.linspace(-30, 30, 10_001)
        y, g = value_and_grad(activations.mish, x)
        assert y.dtype == np.float64
        ref_y, ref_g = mish_ref(x)
        assert_relative(y, ref_y, rtol=1e-12, floor=1e-300)
        np.testing.assert_allclose(g, ref_g, rtol=1e-10, atol=1e-12)

    @pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
    def test_half_precision_keeps_dtype_and_accuracy(self, dtype):
        x = np.linspace(-10, 10, 2001).astype(np.float32)
        y = activations.mish(keras.ops.cast(x, dtype))
        assert keras.backend.standardize_dtype(y.dtype) == dtype
        # Computed in float32 from the half input, then rounded once.
        tol = {"float16": 1e-3, "bfloat16": 8e-3}[dtype]
        ref = mish_ref(to_numpy(keras.ops.cast(keras.ops.cast(x, dtype), "float32")))[0]
        np.testing.assert_allclose(
            to_numpy(keras.ops.cast(y, "float32")), ref, rtol=tol, atol=1e-3
        )

    def test_integer_input_becomes_floatx(self):
        y = activations.mish(np.array([0, 1, -1]))
        assert keras.backend.standardize_dtype(y.dtype) == "float32"

    def test_jit_compile_matches_eager(self):
        x = grid(-50, 50, 10_001)
        eager = value_and_grad(activations.mish, x)
        fn = compiled(lambda t: value_and_grad_graph(activations.mish, t))
        jit_y, jit_g = (to_numpy(v) for v in fn(keras.ops.convert_to_tensor(x)))
        np.testing.assert_allclose(jit_y, eager[0], rtol=1e-6, atol=1e-30)
        np.testing.assert_allclose(jit_g, eager[1], rtol=1e-5, atol=1e-6)

    @pytest.mark.tensorflow_only
    def test_graph_mode_matches_float64(self):
        import tensorflow as tf

        # A plain tf.function (no XLA), where TensorFlow's graph optimizer may
        # rewrite elementwise patterns (oneDNN fuses x * tanh(softplus(x)) into
        # a kernel that is 0 below x = -17): same bounds as eagerly.
        fn = tf.function(lambda t: value_and_grad_graph(activations.mish, t))
        x = grid(-88.0, 88.0)
        y, g = (to_numpy(v) for v in fn(tf.constant(x)))
        ref_y, ref_g = mish_ref(x)
        assert_relative(y, ref_y, rtol=1e-6)
        assert np.max(np.abs(g - ref_g) / np.maximum(1.0, np.abs(ref_g))) < 1e-5
        y, g = (to_numpy(v) for v in fn(tf.constant(EXTREMES)))
        assert np.all(np.isfinite(y))
        assert np.all(np.isfinite(g))
        big = EXTREMES >= 20.0
        np.testing.assert_array_equal(y[big], EXTREMES[big])
        np.testing.assert_array_equal(g[big], 1.0)
        very_negative = EXTREMES <= -1e3
        np.testing.assert_array_equal(y[very_negative], 0.0)
        np.testing.assert_array_equal(g[very_negative], 0.0)

    def test_symbolic_input(self):
        out = activations.mish(keras.Input((3, 4)))
        assert tuple(out.shape) == (None, 3, 4)


value_and_grad_graph = value_and_grad_tensors


class TestGelu:
    def test_exact_value_and_gradient(self):
        x = grid(-10.0, 20.0)
        y, g = value_and_grad(activations.gelu, x)
        ref_y, ref_g = gelu_ref(x)
        # float32 input rounding alone moves gelu by ~x^2 * 6e-8 relative in the
        # negative tail; the bound follows that conditioning.
        rtol = 2e-6 * np.maximum(1.0, x.astype(np.float64) ** 2 / 10)
        assert np.all(np.abs(y - ref_y) <= rtol * np.abs(ref_y) + 1e-30)
        np.testing.assert_allclose(g, ref_g, rtol=0, atol=2e-6)

    def test_tanh_value_and_gradient(self):
        x = grid(-10.0, 20.0)
        y, g = value_and_grad(lambda t: activations.gelu(t, approximate=True), x)
        ref_y, ref_g = gelu_tanh_ref(x)
        rtol = 2e-6 * np.maximum(1.0, np.abs(x.astype(np.float64)) ** 3 / 50)
        assert np.all(np.abs(y - ref_y) <= rtol * np.abs(ref_y) + 1e-30)
        np.testing.assert_allclose(g, ref_g, rtol=0, atol=2e-6)

    @pytest.mark.parametrize("approximate", [False, True])
    def test_agrees_with_keras_in_the_bulk(self, approximate):
        x = grid(-4.0, 8.0, 20_001)
        ours = to_numpy(activations.gelu(x, approximate=approximate))
        theirs = to_numpy(keras.activations.gelu(x, approximate=approximate))
        # Keras cancels in 1 + tanh for negative x (abs error ~5e-7 at x=-4).
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)

    @pytest.mark.parametrize("approximate", [False, True])
    def test_extremes_are_finite(self, approximate):
        y, g = value_and_grad(
            lambda t: activations.gelu(t, approximate=approximate),
            EXTREMES[np.abs(EXTREMES) <= 1e4],
        )
        assert np.all(np.isfinite(y))
        assert np.all(np.isfinite(g))

    def test_negative_tail_is_not_cancelled(self):
        # 1 + erf(x / sqrt 2) is exactly 0 in float32 here; erfc is not.
        y = to_numpy(activations.gelu(np.float32(-6.0)))
        assert y != 0.0
        np.testing.assert_allclose(y, gelu_ref(-6.0)[0], rtol=1e-5)

    def test_invalid_approximate(self):
        with pytest.raises(TypeError, match="argument `approximate`"):
            activations.gelu(np.ones(2), approximate="yes")


class TestSwish:
    @pytest.mark.parametrize("beta", [1.0, 0.5, 2.0, -1.5])
    def test_value_and_gradient(self, beta):
        x = grid(-60.0, 60.0, 100_001)
        y, g = value_and_grad(lambda t: activations.swish(t, beta=beta), x)
        ref_y, ref_g, _ = swish_ref(x, beta)
        # Rounding beta * x to float32 moves sigmoid's tail by |beta x| * 2**-24
        # (relative); beyond that, within 1e-6.
        rtol = 1e-6 + 1.2e-7 * np.abs(beta * x.astype(np.float64))
        big = np.abs(ref_y) > 1e-30
        assert np.all(np.abs(y - ref_y)[big] <= rtol[big] * np.abs(ref_y[big]))
        assert np.all(np.abs(y - ref_y)[~big] <= 1e-30)
        np.testing.assert_allclose(g, ref_g, rtol=0, atol=2e-6 * max(1.0, abs(beta)))

    def test_beta_as_tensor_gets_a_gradient(self):
        x = np.linspace(-5, 5, 101, dtype=np.float32)
        _, dbeta = value_and_grad(
            lambda beta: activations.swish(x, beta=beta), np.float32(1.7)
        )
        ref = swish_ref(x, 1.7)[2].sum()
        np.testing.assert_allclose(dbeta, ref, rtol=1e-5)

    def test_beta_one_is_silu(self):
        x = grid(-20, 20, 1001)
        np.testing.assert_array_equal(
            to_numpy(activations.swish(x)), to_numpy(keras.activations.silu(x))
        )

    def test_extremes_are_finite(self):
        y, g = value_and_grad(lambda t: activations.swish(t, beta=2.0), EXTREMES)
        assert np.all(np.isfinite(y))
        assert np.all(np.isfinite(g))

    @pytest.mark.parametrize(
        ("beta", "error"),
        [
            ("a", TypeError),
            (None, TypeError),
            (True, TypeError),
            (float("nan"), ValueError),
            (float("inf"), ValueError),
        ],
    )
    def test_invalid_beta(self, beta, error):
        with pytest.raises(error, match=r"argument `beta`.*Received: beta="):
            activations.swish(np.ones(2), beta=beta)


class TestRegistration:
    @pytest.mark.parametrize(
        "fn", [activations.swish, activations.mish, activations.gelu]
    )
    def test_serializes_under_package_name(self, fn):
        config = keras.activations.serialize(fn)
        assert config["config"] == f"keras_components>{fn.__name__}"
        assert keras.activations.deserialize(config) is fn

    @pytest.mark.parametrize(
        "fn", [activations.swish, activations.mish, activations.gelu]
    )
    def test_dense_layer_roundtrip_keeps_our_function(self, fn, tmp_path):
        inputs = keras.Input((4,))
        model = keras.Model(inputs, keras.layers.Dense(3, activation=fn)(inputs))
        path = tmp_path / "m.keras"
        model.save(path)
        loaded = keras.saving.load_model(path)  # no custom_objects
        assert loaded.layers[1].activation is fn
        x = np.random.default_rng(0).normal(size=(8, 4)).astype(np.float32)
        np.testing.assert_array_equal(
            loaded.predict(x, verbose=0), model.predict(x, verbose=0)
        )
