"""Checks every loss goes through (reductions, weights, jit, mixed precision, fit).

References are NumPy float64 values computed by each test module from the
DESIGN formulas; these helpers only compare our losses against them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import numpy as np

from tests.helpers import (
    assert_fit_lowers_loss,
    compiled,
    to_numpy,
    value_and_grad,
    value_and_grad_tensors,
)
from tests.helpers import traced as traced_fn

REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", None)
HALF_POLICIES = ("mixed_float16", "mixed_bfloat16")
# Relative error of one rounding to the half type, with margin for the losses'
# amplification of input perturbations on small, smooth test data.
HALF_RTOL = {"mixed_float16": 5e-3, "mixed_bfloat16": 5e-2}


def reduce_reference(
    values: np.ndarray,
    reduction: str | None,
    sample_weight: np.ndarray | None = None,
    keep: np.ndarray | None = None,
) -> np.ndarray:
    """Keras's reductions in float64, written from `keras.losses.Loss`'s docs.

    `sample_weight` of shape `(N,)` weighs every position of sample n; `keep`
    (bool, the values' shape) marks positions that count (ignore_index).
    """
    values = np.asarray(values, np.float64)
    w = np.ones_like(values)
    if sample_weight is not None:
        sw = np.asarray(sample_weight, np.float64)
        w = w * sw.reshape(sw.shape + (1,) * (values.ndim - sw.ndim))
    m = np.ones_like(values) if keep is None else np.asarray(keep, np.float64)
    weighted = values * w * m
    if reduction is None:
        return weighted
    if reduction == "sum":
        return weighted.sum()
    if reduction in ("sum_over_batch_size", "mean"):
        return weighted.sum() / m.sum()
    assert reduction == "mean_with_sample_weight"
    return weighted.sum() / (w * m).sum()


def assert_reductions(
    make_loss: Callable[..., keras.losses.Loss],
    y_true: Any,
    y_pred: Any,
    expected_values: np.ndarray,
    *,
    keep: np.ndarray | None = None,
    rtol: float = 1e-5,
    atol: float = 1e-6,
    seed: int = 0,
) -> None:
    """Every reduction, with and without a per-sample `(N,)` weight."""
    n = np.shape(y_pred)[0]
    weights = np.random.default_rng(seed).uniform(0.1, 2.0, size=n)
    for reduction in REDUCTIONS:
        loss = make_loss(reduction=reduction)
        for sample_weight in (None, weights):
            got = to_numpy(loss(y_true, y_pred, sample_weight=sample_weight))
            ref = reduce_reference(expected_values, reduction, sample_weight, keep)
            np.testing.assert_allclose(
                got,
                ref,
                rtol=rtol,
                atol=atol,
                err_msg=f"reduction={reduction}, weighted={sample_weight is not None}",
            )


def assert_value_and_gradient_finite(loss, y_true, y_pred) -> None:
    y_pred = to_numpy(keras.ops.cast(y_pred, "float32"))
    value, grad = value_and_grad(lambda p: loss(y_true, p), y_pred)
    assert np.isfinite(value).all()
    assert np.isfinite(grad).all()
    assert np.any(grad != 0)


def assert_jit_equals_eager(loss, y_true, y_pred, *, rtol: float = 1e-5) -> None:
    """Value and gradient compiled (XLA on TensorFlow and JAX) equal eager."""

    def value_and_grad(y_true, y_pred):
        return value_and_grad_tensors(lambda p: loss(y_true, p), y_pred)

    y_true = keras.ops.convert_to_tensor(y_true)
    y_pred = keras.ops.convert_to_tensor(y_pred, "float32")
    eager = value_and_grad(y_true, y_pred)
    jitted = compiled(value_and_grad)(y_true, y_pred)
    for a, b in zip(eager, jitted, strict=True):
        np.testing.assert_allclose(to_numpy(b), to_numpy(a), rtol=rtol, atol=1e-7)


def assert_half_precision_input(make_loss, y_true, y_pred, policy: str) -> None:
    """Half inputs (and half dtypes) are computed in float32: finite, accurate."""
    half = keras.mixed_precision.Policy(policy).compute_dtype
    y_half = keras.ops.cast(y_pred, half)
    rounded = to_numpy(keras.ops.cast(y_half, "float32"))
    for loss in (make_loss(), make_loss(dtype=policy)):
        value = loss(y_true, y_half)
        assert keras.backend.standardize_dtype(value.dtype) == "float32"
        assert np.isfinite(to_numpy(value)).all()
        # Exactly the float32 computation on the half-rounded input ...
        np.testing.assert_allclose(
            to_numpy(value), to_numpy(loss(y_true, rounded)), rtol=1e-6, atol=1e-7
        )
        # ... hence within input rounding of the float32 loss.
        np.testing.assert_allclose(
            to_numpy(value),
            to_numpy(loss(y_true, y_pred)),
            rtol=HALF_RTOL[policy],
            atol=1e-3,
        )


def assert_trains(
    model: keras.Model, loss, x, y, *, epochs: int = 4, learning_rate: float = 0.05
):
    """A small model compiled with `loss` (XLA) lowers it over a few epochs."""
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate), loss=loss, jit_compile=True
    )
    return assert_fit_lowers_loss(model, x, y, epochs=epochs, batch_size=16)


# --------------------------------------------------------------------------
# Invalid input: eager ValueError, traced NaN
# --------------------------------------------------------------------------
TRACED_MODES = ("graph", "xla")


def traced(fn: Callable[..., Any], mode: str) -> Callable[..., Any]:
    """`fn` traced (`tf.function`, XLA for `mode="xla"`; `jax.jit`); NumPy out.

    Skipped on PyTorch, which runs eagerly.
    """
    traced_call = traced_fn(fn, jit_compile=mode == "xla")

    def run(*args):
        return to_numpy(traced_call(*(keras.ops.convert_to_tensor(a) for a in args)))

    return run


def evaluate_on_predictions(loss, y_true, y_pred, *, jit_compile: bool) -> float:
    """`model.evaluate` of `loss` on `y_pred` as the model's output, one batch."""
    inputs = keras.Input(np.shape(y_pred)[1:])
    model = keras.Model(inputs, keras.layers.Identity()(inputs))
    model.compile(loss=loss, jit_compile=jit_compile)
    return float(model.evaluate(y_pred, y_true, batch_size=len(y_pred), verbose=0))
