"""Backend steps shared by the suites: compiled forward and forward+backward.

`jit` names the mode of a step on the current backend:

- `None`: eager, each op dispatched on its own (TensorFlow: a `GradientTape`
  outside any `tf.function`; JAX: `jax.vjp` outside `jax.jit`; PyTorch:
  plain autograd).
- `False`: a TensorFlow graph (`tf.function` without XLA). TensorFlow only:
  JAX has no graph mode without XLA, and Keras runs PyTorch eagerly.
- `True`: what Keras's `jit_compile=True` runs: XLA on TensorFlow
  (`tf.function(jit_compile=True)`), `jax.jit` on JAX (also what
  `jit_compile="auto"` picks there), `torch.compile` on PyTorch (Keras's
  torch trainer wraps its step in `torch.compile` when `jit_compile=True`;
  `"auto"` is eager there).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras

# How each backend's modes are named in the table.
_MODE_NAMES = {
    "tensorflow": {None: "eager", False: "graph", True: "XLA"},
    "jax": {None: "eager", True: "jit"},
    "torch": {None: "eager", True: "torch.compile"},
}


def _require_tensorflow() -> None:
    if keras.backend.backend() != "tensorflow":
        raise NotImplementedError(
            "The benchmark suite measures on the TensorFlow backend (where the "
            "published ratios come from). Set KERAS_BACKEND=tensorflow. "
            f"Current backend: {keras.backend.backend()!r}."
        )


def mode_name(jit: bool | None) -> str:
    """The table's name of mode `jit` on the current backend (see module doc)."""
    backend = keras.backend.backend()
    names = _MODE_NAMES.get(backend, {None: "eager"})
    if jit not in names:
        raise ValueError(
            f"Invalid value for argument `jit`. Expected one of "
            f"{sorted(names, key=str)} on the {backend} backend. Received: jit={jit!r}"
        )
    return names[jit]


def compiled(fn: Callable[..., Any], *, jit: bool | None) -> Callable[..., Any]:
    """`fn` in mode `jit` (module doc): as is, a `tf.function`, `jax.jit`, ..."""
    mode_name(jit)  # validates `jit` for the backend
    if jit is None:
        return fn
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        return tf.function(fn, jit_compile=jit, reduce_retracing=True)
    if backend == "jax":
        import jax

        return jax.jit(fn)
    import torch

    return torch.compile(fn)


def _vjp(fn: Callable[[Any], Any], x: Any, upstream: Any) -> tuple[Any, Any]:
    """`(fn(x), d fn(x)/dx . upstream)` with the backend's own autodiff.

    `upstream=None`: `fn(x)` is a scalar, and the gradient is its own.
    """
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            tape.watch(x)
            y = fn(x)
        return y, tape.gradient(y, x, output_gradients=upstream)
    if backend == "jax":
        import jax

        y, pullback = jax.vjp(fn, x)
        return y, pullback(keras.ops.ones_like(y) if upstream is None else upstream)[0]
    if backend == "torch":
        import torch

        with torch.enable_grad():
            x = x.detach().requires_grad_(True)
            y = fn(x)
            (grad,) = torch.autograd.grad(y, x, upstream)
        return y.detach(), grad
    raise NotImplementedError(
        f"The benchmark steps need TensorFlow, JAX or PyTorch. Current backend: "
        f"{backend!r}."
    )


def forward_backward(
    fn: Callable[[Any], Any], x: Any, upstream: Any, *, jit: bool | None
) -> Callable[[], Any]:
    """A zero-argument step computing `y = fn(x)` and the VJP `dy/dx . upstream`.

    Both `y` and the input gradient are returned, as an activation inside a
    network produces both (the next layer keeps `y`).
    """
    step = compiled(lambda x, upstream: _vjp(fn, x, upstream), jit=jit)
    return lambda: step(x, upstream)


def loss_forward_backward(
    loss_fn: Callable[[Any, Any], Any], y_true: Any, y_pred: Any, *, jit: bool | None
) -> Callable[[], Any]:
    """A zero-argument step computing a scalar loss and its gradient in y_pred."""

    def step(y_true, y_pred):
        return _vjp(lambda p: loss_fn(y_true, p), y_pred, None)

    step = compiled(step, jit=jit)
    return lambda: step(y_true, y_pred)


def metric_step(
    metric: keras.metrics.Metric,
    reset: Callable[[keras.metrics.Metric], None],
    *,
    jit: bool | None,
) -> Callable[[Any, Any], Any]:
    """`(y_true, y_pred) -> result`: reset `metric`, update it once, read it.

    `reset(metric)` resets the state in place. Under `jax.jit` the step is
    the stateless form Keras's JAX trainer compiles (`stateless_reset_state`,
    `stateless_update_state`, `stateless_result`): a jitted function cannot
    assign variables.
    """
    if keras.backend.backend() == "jax" and jit:
        import jax

        def stateless(y_true, y_pred):
            state = metric.stateless_reset_state()
            state = metric.stateless_update_state(state, y_true, y_pred)
            return metric.stateless_result(state)

        return jax.jit(stateless)

    def step(y_true, y_pred):
        reset(metric)
        metric.update_state(y_true, y_pred)
        return metric.result()

    return compiled(step, jit=jit)
