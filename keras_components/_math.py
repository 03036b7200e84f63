"""Small numeric helpers shared by losses and metrics (one copy of each)."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

HALF_DTYPES = ("float16", "bfloat16")


def compute_dtype(x: Any) -> str:
    """The dtype to compute in for `x`: its own if a float of 32 bits or more.

    Half precision and non-float inputs compute in float32 (or in `floatx()`
    when that is wider), so losses and metrics stay exact under mixed
    precision.
    """
    dtype = keras.backend.standardize_dtype(x.dtype)
    if keras.backend.is_float_dtype(dtype) and dtype not in HALF_DTYPES:
        return dtype
    floatx = keras.backend.floatx()
    return "float32" if floatx in HALF_DTYPES else floatx


def divide(numerator: Any, denominator: Any, fill: float) -> Any:
    """`numerator / denominator`, and `fill` where the denominator is 0.

    The division never sees a zero denominator, so neither the value nor its
    gradient is NaN there. Accepts variables (converted to tensors first:
    `ones_like` of a JAX-backed `keras.Variable` fails).
    """
    numerator = ops.convert_to_tensor(numerator)
    denominator = ops.convert_to_tensor(denominator)
    defined = denominator != 0
    safe = ops.where(defined, denominator, ops.ones_like(denominator))
    quotient = numerator / safe
    return ops.where(defined, quotient, ops.full_like(quotient, fill))
