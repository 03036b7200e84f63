"""Backend steps shared by the suites: compiled forward and forward+backward."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras


def _require_tensorflow() -> None:
    if keras.backend.backend() != "tensorflow":
        raise NotImplementedError(
            "The benchmark suite measures on the TensorFlow backend (where the "
            "published ratios come from). Set KERAS_BACKEND=tensorflow. "
            f"Current backend: {keras.backend.backend()!r}."
        )


def compiled(fn: Callable[..., Any], *, jit: bool) -> Callable[..., Any]:
    """`fn` as one graph (`tf.function`), XLA-compiled when `jit`."""
    _require_tensorflow()
    import tensorflow as tf

    return tf.function(fn, jit_compile=jit, reduce_retracing=True)


def forward_backward(
    fn: Callable[[Any], Any], x: Any, upstream: Any, *, jit: bool
) -> Callable[[], Any]:
    """A zero-argument step computing `y = fn(x)` and the VJP `dy/dx . upstream`.

    Both `y` and the input gradient are returned, as an activation inside a
    network produces both (the next layer keeps `y`).
    """
    _require_tensorflow()
    import tensorflow as tf

    def step(x, upstream):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = fn(x)
        return y, tape.gradient(y, x, output_gradients=upstream)

    step = compiled(step, jit=jit)
    return lambda: step(x, upstream)


def loss_forward_backward(
    loss_fn: Callable[[Any, Any], Any], y_true: Any, y_pred: Any, *, jit: bool
) -> Callable[[], Any]:
    """A zero-argument step computing a scalar loss and its gradient in y_pred."""
    _require_tensorflow()
    import tensorflow as tf

    def step(y_true, y_pred):
        with tf.GradientTape() as tape:
            tape.watch(y_pred)
            loss = loss_fn(y_true, y_pred)
        return loss, tape.gradient(loss, y_pred)

    step = compiled(step, jit=jit)
    return lambda: step(y_true, y_pred)
