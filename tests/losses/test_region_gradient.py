"""The region losses' closed-form gradient against float64 finite differences.

The per-class sums `(I, T, P)` have a hand-written gradient
(`segmentation._sums_backward`); here the value and the gradients in
`y_pred` and (dense float targets) `y_true` of Dice, Jaccard and Tversky
equal central differences of a NumPy reference to 1e-6, for binary,
multiclass and multilabel inputs, probabilities and logits, class and sample
weights and `ignore_index`, eagerly, in a graph and under XLA. JAX and
PyTorch run the same cases in a fresh process (backend_region_gradient.py).
"""

import functools

import numpy as np
import pytest
import tensorflow as tf

from keras_components import DiceLoss, JaccardLoss, TverskyLoss
from keras_components.losses import _segmentation as segmentation
from tests.losses.region_reference import TVERSKY, assert_close, cases, reference

CASES = cases()
LOSSES = {"dice": DiceLoss, "jaccard": JaccardLoss, "tversky": TverskyLoss}


def make_loss(case):
    extra = TVERSKY if case["kind"] == "tversky" else {}
    return LOSSES[case["kind"]](
        **extra,
        mode=case["mode"],
        from_logits=case["from_logits"],
        class_weights=case["class_weights"],
        dtype="float64",
        **case["kwargs"],
    )


@functools.cache
def expected(name):
    return reference(dict(CASES)[name])


def value_and_gradients(case, run):
    loss = make_loss(case)
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


@pytest.mark.tensorflow_only  # JAX, PyTorch: backend_region_gradient.py
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


@pytest.mark.tensorflow_only  # tf.GradientTape, unknown shapes (tf.TensorSpec)
def test_sums_gradient_equals_autodiff_of_the_sums():
    """`_region_sums` against TensorFlow's autodiff of the same sums, with
    upstream gradients on all three outputs, also without static spatial
    shapes (the broadcast without grouping) and without spatial axes."""
    rng = np.random.default_rng(3)

    def grads(fn, y, p, ups):
        with tf.GradientTape() as tape:
            tape.watch([y, p])
            outputs = fn(y, p)
            total = sum(tf.reduce_sum(o * u) for o, u in zip(outputs, ups, strict=True))
        return tape.gradient(total, [y, p]), outputs

    for shape in [(2, 6, 8, 3), (2, 5, 3), (4, 3), (2, 7, 1)]:
        y = tf.constant(rng.uniform(size=shape))
        p = tf.constant(rng.uniform(size=shape))
        ups = [tf.constant(rng.standard_normal((shape[0], shape[-1])))] * 3
        unknown = tf.TensorSpec([None] * len(shape), tf.float64)
        ours_dynamic = tf.function(
            lambda y, p, ups=ups: grads(segmentation._region_sums, y, p, ups)[0],
            input_signature=[unknown, unknown],
        )
        ours, out_ours = grads(segmentation._region_sums, y, p, ups)
        auto, out_auto = grads(segmentation._sums_forward, y, p, ups)
        dynamic = ours_dynamic(y, p)
        for a, b, c in zip(ours, auto, dynamic, strict=True):
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12, atol=1e-12)
            np.testing.assert_allclose(c.numpy(), b.numpy(), rtol=1e-12, atol=1e-12)
        for a, b in zip(out_ours, out_auto, strict=True):
            np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_region_gradients_on_other_backends(backend):
    """The same cases on JAX and PyTorch, each in a fresh process."""
    from tests.test_backends import run_on_backend

    out = run_on_backend(backend, "tests.losses.backend_region_gradient", timeout=600)
    assert f"region gradients OK: {backend}" in out
