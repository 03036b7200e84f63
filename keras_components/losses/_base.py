"""What every loss here shares: compute dtype, the ignore mask, the base class.

Per-sample values and masks
    Each loss function returns per-sample values. When some positions are
    dropped (`ignore_index`), the function attaches a boolean mask of the kept
    positions to its result with Keras's own side channel
    (Keras's private `set_keras_mask`, via `_keras_compat`), exactly as Keras's
    `sparse_categorical_crossentropy(..., ignore_class=...)` does. Any
    `keras.losses.Loss` (ours, or Keras's `LossFunctionWrapper` when the bare
    function is passed to `compile`) reads that mask and reduces over kept
    positions only, so `"sum_over_batch_size"` divides by the number of kept
    positions.

Compute dtype
    Half-precision inputs (`float16`, `bfloat16`) and half-precision loss
    dtypes or policies are computed in float32; float32 and float64 are kept.
    A loss's `dtype` must be a floating-point dtype or policy (an integer,
    bool or complex one is a `ValueError` at construction), and complex
    inputs are a `TypeError` (a cast would drop the imaginary part).
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from keras_components._inputs import broadcast_weights, real_tensor

# Keras-internal helpers used by Keras's own losses: the mask side channel and
# the reduction (which also scales the loss for `tf.distribute`). Reusing them
# keeps our reductions identical to Keras's.
from keras_components._keras_compat import (
    get_keras_mask,
    reduce_weighted_values,
    set_keras_mask,
)
from keras_components._math import HALF_DTYPES, compute_dtype
from keras_components._validation import invalid_value


def as_compute_tensor(x: Any, *, name: str = "y_pred") -> Any:
    """`x` as a float tensor in its compute dtype (`_math.compute_dtype`).

    A complex `x` is a `TypeError` naming `name` (`real_tensor`).
    """
    x = real_tensor(x, name=name)
    dtype = compute_dtype(x)
    if keras.backend.standardize_dtype(x.dtype) != dtype:
        x = ops.cast(x, dtype)
    return x


def with_mask(values: Any, keep: Any | None) -> Any:
    """Attaches `keep` (bool, `values`' shape) as the Keras mask of `values`."""
    if keep is not None:
        set_keras_mask(values, keep)
    return values


def power(base: Any, exponent: float) -> Any:
    """`base ** exponent` for `base >= 0`, with a finite gradient at `base == 0`.

    For exponents below 1 the derivative at 0 is infinite; there the value is
    0 and the gradient is taken as 0 (its limit once multiplied by the
    vanishing log-likelihood it modulates), never NaN.
    """
    if exponent == 1.0:
        return base
    if exponent == 2.0:
        return ops.square(base)
    if exponent > 1.0:
        return ops.power(base, exponent)
    positive = base > 0
    safe = ops.where(positive, base, ops.ones_like(base))
    return ops.where(positive, ops.power(safe, exponent), ops.zeros_like(base))


def nan_where(invalid: Any, values: Any) -> Any:
    """NaN where `invalid` (traced callers cannot raise on invalid labels)."""
    return ops.where(invalid, ops.full_like(values, float("nan")), values)


class Loss(keras.losses.Loss):
    """Base of every loss in this package.

    Differences from `keras.losses.Loss`, all documented in each subclass:

    - A half-precision `dtype` (or mixed policy) computes in float32, so the
      loss is always computed in float32 or wider. An integer, bool or
      complex `dtype` is a `ValueError` at construction.
    - Complex `y_true` / `y_pred` are a `TypeError` (Keras casts them to
      float, silently dropping the imaginary part). Half-precision `y_pred`
      reaches `call` as it is (the functions compute it in float32), so
      checks that depend on its precision (`row_sum_tolerance`) see it.
    - `get_config()` includes `dtype` (Keras's base omits it).
    - `sample_weight` is broadcast to the per-sample values with
      `_inputs.broadcast_weights`: a `(N,)` weight weighs every position of
      sample n (Keras would align it with the *last* axis of per-position
      values), and a shape that does not fit raises a `ValueError` naming
      both shapes instead of broadcasting silently.

    The reduction itself (masks, `"sum_over_batch_size"`,
    `"mean_with_sample_weight"`, distribution scaling) is Keras's.
    """

    _dtype: str  # set by `keras.losses.Loss.__init__`, narrowed below

    def __init__(
        self,
        *,
        name: str | None,
        reduction: str | None,
        dtype: Any,
    ) -> None:
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        policy = self._dtype_policy
        if not all(
            keras.backend.is_float_dtype(d)
            for d in (policy.compute_dtype, policy.variable_dtype)
        ):
            raise invalid_value(
                "dtype",
                "a floating-point dtype or policy, e.g. 'float32', 'float64' or "
                "'mixed_float16' (losses are computed in float32 or wider)",
                dtype,
            )
        # The config keeps the policy's name (None: follow floatx on reload).
        self._dtype_argument = None if dtype is None else self._dtype_policy.name
        if self._dtype in HALF_DTYPES:
            self._dtype = "float32"

    def convert_inputs(self, y_true: Any, y_pred: Any) -> tuple[Any, Any]:
        """`(y_true, y_pred)` as `call` receives them.

        Both are cast to the loss's dtype, except half-precision `y_pred`
        whose compute dtype is the loss's (the functions upcast it exactly).
        Complex inputs are a `TypeError`.
        """
        y_pred = real_tensor(y_pred, name="y_pred")
        y_true = real_tensor(y_true, name="y_true")
        pred_dtype = keras.backend.standardize_dtype(y_pred.dtype)
        keep_half = pred_dtype in HALF_DTYPES and compute_dtype(y_pred) == self.dtype
        if pred_dtype != self.dtype and not keep_half:
            y_pred = ops.cast(y_pred, self.dtype)
        if keras.backend.standardize_dtype(y_true.dtype) != self.dtype:
            y_true = ops.cast(y_true, self.dtype)
        return y_true, y_pred

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> Any:
        in_mask = get_keras_mask(y_pred)
        with keras.name_scope(self.name):
            y_true, y_pred = self.convert_inputs(y_true, y_pred)
            values = self.call(y_true, y_pred)
            out_mask = get_keras_mask(values)
            if in_mask is not None and out_mask is not None:
                mask = ops.logical_and(in_mask, out_mask)
            else:
                mask = out_mask if in_mask is None else in_mask
            if sample_weight is not None:
                sample_weight = broadcast_weights(sample_weight, values, self.dtype)
                if mask is not None:
                    # Keras applies the mask in place (`sample_weight *= mask`):
                    # on PyTorch that fails on a broadcast view and would
                    # change a caller's own weight tensor. Hand it a copy.
                    sample_weight = ops.copy(sample_weight)
            return reduce_weighted_values(
                values,
                sample_weight=sample_weight,
                mask=mask,
                reduction=self.reduction,
                dtype=self.dtype,
            )

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["dtype"] = self._dtype_argument
        return config
