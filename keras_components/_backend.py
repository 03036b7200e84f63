"""Backend-specific execution, kept to this one place.

`jit(fn)` compiles a pure `keras.ops` function for the current backend: XLA
through `tf.function(jit_compile=True)` on TensorFlow, `jax.jit` on JAX, and
`fn` itself on PyTorch. Metrics run their per-batch kernels through it, so an
update is one fused computation whether the caller is eager, a plain
`tf.function` (a compiled function called from a graph stays compiled), or
already under XLA (where it is simply inlined). The kernels take and return
tensors only; their static configuration is bound before compiling.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras


def jit(fn: Callable[..., Any], *, xla: bool = True) -> Callable[..., Any]:
    """`fn` compiled for the current backend.

    `xla=False` asks TensorFlow for a plain graph (no XLA compilation): enough
    to run many tiny ops (a metric's `result()`) without eager dispatch, at a
    fraction of XLA's compile time.
    """
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        return tf.function(fn, jit_compile=xla, autograph=False)
    if backend == "jax":
        import jax

        return jax.jit(fn)
    return fn
