"""FocalLoss's closed-form gradient from logits against float64 references.

Categorical focal loss from logits has a hand-written gradient
(`classification._focal_from_logits`, through `_backend.custom_vjp` with
values saved by the forward pass). Here the value and the gradients in the
logits and (dense float targets) `y_true` equal central differences of a
NumPy reference to 1e-6, for gamma 0, 0.5, 1, 2 and 3.5, per-class alpha,
label smoothing, sample weights and sparse labels with `ignore_index`,
eagerly, in a graph and under XLA; JAX and PyTorch run the same cases in a
fresh process (backend_focal_gradient.py). Then the edges: `q = 0` for
gamma < 1, mixed precision, NaN logits, and the autodiff gradient of the
formula itself.
"""

import functools

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import ops
from keras.backend import standardize_dtype

from keras_components import FocalLoss
from keras_components.losses import _base
from keras_components.losses import _classification as classification
from tests.helpers import to_numpy, traced, value_and_grad_tensors
from tests.losses.focal_reference import assert_close, cases, reference

CASES = cases()


@functools.cache
def expected(name):
    return reference(dict(CASES)[name])


def value_and_gradients(case, run):
    loss = FocalLoss(from_logits=True, dtype="float64", **case["kwargs"])
    y_pred = tf.constant(case["y_pred"], tf.float64)
    y_true = tf.constant(case["y_true"])
    if case["differentiable_targets"]:
        y_true = tf.cast(y_true, tf.float64)
    weight = case["sample_weight"]

    def step(y_true, y_pred):
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(y_pred)
            if case["differentiable_targets"]:
                tape.watch(y_true)
            value = loss(y_true, y_pred, sample_weight=weight)
        grad_true = None
        if case["differentiable_targets"]:
            grad_true = tape.gradient(value, y_true)
        return value, tape.gradient(value, y_pred), grad_true

    if run != "eager":
        step = tf.function(step, jit_compile=run == "xla")
    return step(y_true, y_pred)


@pytest.mark.tensorflow_only  # JAX, PyTorch: backend_focal_gradient.py
@pytest.mark.parametrize("run", ["eager", "graph", "xla"])
@pytest.mark.parametrize("name", [name for name, _ in CASES])
def test_value_and_gradients_equal_finite_differences(name, run):
    case = dict(CASES)[name]
    value, grad_pred, grad_true = value_and_gradients(case, run)
    ref_value, ref_pred, ref_true = expected(name)
    assert_close(f"{name} value", float(value), ref_value)
    assert_close(f"{name} d/dy_pred", grad_pred.numpy(), ref_pred)
    if ref_true is not None:
        assert_close(f"{name} d/dy_true", grad_true.numpy(), ref_true)


def autodiff_formula(gamma, alpha):
    """The per-sample loss written plainly (TensorFlow differentiates it),
    with `_base.power` for `(1 - p) ** gamma`."""

    def fn(y, z):
        log_p = tf.nn.log_softmax(z, axis=-1)
        a = y if alpha is None else y * tf.constant(alpha, z.dtype)
        w = _base.power(1.0 - tf.exp(log_p), gamma) if gamma else 1.0
        return -tf.reduce_sum(a * w * log_p, axis=-1)

    return fn


def gradients(fn, y, z, upstream):
    with tf.GradientTape() as tape:
        tape.watch([y, z])
        total = tf.reduce_sum(fn(y, z) * upstream)
    return tape.gradient(total, [y, z])


@pytest.mark.tensorflow_only  # TensorFlow's autodiff of the formula
@pytest.mark.parametrize("gamma", [0.0, 0.25, 0.5, 1.0, 2.0, 3.5])
def test_gradient_equals_autodiff_of_the_formula_at_q_zero(gamma):
    """Rows where `p == 1` exactly (`q = 0`, where `q ** (gamma - 1)` is
    infinite for gamma < 1) and ordinary rows: the closed form equals
    TensorFlow's autodiff of the formula (which takes `_base.power`'s zero
    gradient at 0) and is finite."""
    rng = np.random.default_rng(5)
    z = 2.0 * rng.standard_normal((8, 5))
    z[:3, 0] = [1e4, 100.0, 60.0]  # p_0 == 1 in float64 for these rows
    y = rng.dirichlet(np.ones(5), 8)
    y[:3] = np.eye(5)[[0, 0, 1]]
    alpha = tuple(rng.uniform(0.5, 2.0, 5))
    y, z = tf.constant(y), tf.constant(z)
    upstream = tf.constant(rng.uniform(0.5, 2.0, 8))
    ours_fn = lambda y, z: classification._focal_from_logits(gamma, alpha)(y, z)[0]  # noqa: E731
    ours = gradients(ours_fn, y, z, upstream)
    auto = gradients(autodiff_formula(gamma, alpha), y, z, upstream)
    np.testing.assert_allclose(
        ours_fn(y, z).numpy(), autodiff_formula(gamma, alpha)(y, z).numpy(), rtol=1e-12
    )
    for a, b in zip(ours, auto, strict=True):
        assert np.isfinite(a.numpy()).all()
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_half_precision_logits_use_the_float32_gradient(dtype):
    """float16 / bfloat16 logits are computed in float32: value and gradient
    equal those of the float32 logits (rounded to the input dtype)."""
    rng = np.random.default_rng(6)
    z32 = ops.convert_to_tensor(3.0 * rng.standard_normal((16, 5)), "float32")
    z_half = ops.cast(z32, dtype)
    z32 = ops.cast(z_half, "float32")  # the same values in float32
    y = ops.convert_to_tensor(np.eye(5)[rng.integers(0, 5, 16)], "float32")
    loss = FocalLoss(2.0, (0.5, 1.0, 1.5, 2.0, 0.25), from_logits=True)

    def run(z):
        return value_and_grad_tensors(lambda z: loss(y, z), z)

    value_half, grad_half = run(z_half)
    value32, grad32 = run(z32)
    assert standardize_dtype(value_half.dtype) == "float32"
    assert standardize_dtype(grad_half.dtype) == dtype
    np.testing.assert_allclose(float(value_half), float(value32), rtol=1e-6)
    expected_grad = to_numpy(ops.cast(ops.cast(grad32, dtype), "float32"))
    np.testing.assert_array_equal(
        to_numpy(ops.cast(grad_half, "float32")), expected_grad
    )


@pytest.mark.parametrize("run", ["eager", "graph", "xla"])
def test_nan_logits_give_nan_value_and_gradient_rows(run):
    """A NaN logit (traced; eagerly it raises) makes its sample's loss NaN,
    and the reduced loss and its gradient NaN: never a finite number."""
    rng = np.random.default_rng(7)
    z = 2.0 * rng.standard_normal((6, 4))
    z[2, 1] = np.nan
    z = ops.convert_to_tensor(z, "float32")
    y = ops.convert_to_tensor(rng.integers(0, 4, 6))
    loss = FocalLoss(from_logits=True, reduction="none")

    def step(z):
        values, grad = value_and_grad_tensors(lambda z: loss(y, z), z)
        return values, ops.sum(values), grad

    if run == "eager":
        with pytest.raises(ValueError, match="NaN"):
            loss(y, z)  # the eager forward pass, on every backend
        # With its gradient: jax.vjp traces the loss (no eager call to raise
        # in), so on JAX the value-and-gradient step is the traced case below.
        if keras.backend.backend() != "jax":
            with pytest.raises(ValueError, match="NaN"):
                step(z)
            return
    values, total, grad = (
        step(z) if run == "eager" else traced(step, jit_compile=run == "xla")(z)
    )
    values, grad = to_numpy(values), to_numpy(grad)
    assert np.isnan(values[2])
    assert np.isfinite(np.delete(values, 2)).all()
    assert np.isnan(float(total))
    assert np.isnan(grad[2]).any()
    assert np.isfinite(np.delete(grad, 2, axis=0)).all()


@pytest.mark.tensorflow_only  # tf.GradientTape, float64
def test_probabilities_keep_autodiff():
    """From probabilities the loss is differentiated by autodiff (the closed
    form is the logits path only): same gradient as the formula."""
    rng = np.random.default_rng(8)
    p = tf.constant(rng.dirichlet(np.ones(4), 5))
    y = tf.constant(np.eye(4)[rng.integers(0, 4, 5)])
    with tf.GradientTape() as tape:
        tape.watch(p)
        value = tf.reduce_sum(classification.focal_loss(y, p, gamma=2.0))
    grad = tape.gradient(value, p).numpy()
    q = ops.convert_to_numpy(p)
    expected_grad = -np.asarray(y) * (
        -2 * (1 - q) * np.log(q) + (1 - q) ** 2 / q
    )  # d/dp of -y (1-p)^2 log p, before renormalisation
    total = q.sum(-1, keepdims=True)  # rows sum to 1: renormalising adds
    expected_grad = expected_grad - (expected_grad * q).sum(-1, keepdims=True) / total
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_focal_gradients_on_other_backends(backend):
    """The same cases on JAX and PyTorch, each in a fresh process."""
    from tests.test_backends import run_on_backend

    out = run_on_backend(backend, "tests.losses.backend_focal_gradient", timeout=600)
    assert f"focal gradients OK: {backend}" in out
