"""Backend-specific execution, kept to this one place.

`jit(fn)` compiles a pure `keras.ops` function for the current backend: XLA
through `tf.function(jit_compile=True)` on TensorFlow, `jax.jit` on JAX, and
`fn` itself on PyTorch. Metrics run their per-batch kernels through it, so an
update is one fused computation whether the caller is eager, a plain
`tf.function` (a compiled function called from a graph stays compiled), or
already under XLA (where it is simply inlined). The kernels take and return
tensors only; their static configuration is bound before compiling.

`accumulator(fn)` and `state_arguments(variables)` remove the remaining eager
dispatches of a metric update and result on TensorFlow, where each eager op
and each compiled call costs a fixed Python overhead (about 0.1 ms and 0.5 ms
on a small CPU) that dominates a metric on one batch.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import keras
from keras import ops

# Keras has no public query for "inside a `keras.StatelessScope`" (where a
# variable's value and assignments live in the scope, e.g. in
# `stateless_update_state`); this is the one private import outside the
# losses' masking helpers.
from keras.src.backend.common.stateless_scope import in_stateless_scope


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


def _tf_handles(variables: Mapping[str, keras.Variable]) -> dict[str, Any] | None:
    """The `tf.Variable`s behind Keras variables when a compiled function may
    take them as arguments: TensorFlow, eager, plain (not per-replica)
    variables outside a distribution strategy; distributed variables go
    through Keras's own assign, also when used outside their strategy's scope."""
    if keras.backend.backend() != "tensorflow":
        return None
    import tensorflow as tf

    if (
        not tf.executing_eagerly()
        or tf.distribute.has_strategy()
        or in_stateless_scope()  # assignments must go to the scope, not the variables
    ):
        return None
    handles = {name: v.value for name, v in variables.items()}
    if all(
        isinstance(h, tf.Variable)
        and not isinstance(h, tf.distribute.DistributedValues)
        for h in handles.values()
    ):
        return handles
    return None


def accumulator(
    fn: Callable[..., Mapping[str, Any]],
) -> Callable[..., Mapping[str, Any]]:
    """A compiled update adding `fn(*args)` into state variables.

    `fn(*args)` returns increments by state name (one must be `"invalid"`, the
    count of inputs that could not be counted). The result
    `update(variables, *args)` adds each increment into `variables[name]` and
    returns the increments.

    Eagerly on TensorFlow the kernel and the additions run as one compiled
    call taking the variables as arguments, and a batch with invalid input
    leaves the state untouched (the caller raises on it). Everywhere else (in
    a graph, under a distribution strategy, on JAX and PyTorch) the compiled
    kernel runs and Keras assigns the sums, invalid counts included, which is
    how a traced update reports bad input (`result()` turns NaN).
    """
    kernel = jit(fn)
    fused = None
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        def add_in_place(handles, *args):
            increments = fn(*args)
            keep = ops.all(increments["invalid"] == 0)
            for name, handle in handles.items():
                value = ops.cast(increments[name], handle.dtype)
                handle.assign_add(ops.where(keep, value, ops.zeros_like(value)))
            return increments

        fused = tf.function(add_in_place, jit_compile=True, autograph=False)

    def update(variables: Mapping[str, keras.Variable], *args: Any):
        handles = None if fused is None else _tf_handles(variables)
        if handles is not None:
            return fused(handles, *args)
        increments = kernel(*args)
        for name, variable in variables.items():
            variable.assign(variable + ops.cast(increments[name], variable.dtype))
        return increments

    return update


def state_arguments(variables: Mapping[str, keras.Variable]) -> dict[str, Any]:
    """The variables' values, ready to pass to a function from `jit_on_state`.

    Eagerly on TensorFlow these are the variables themselves (the compiled
    function reads them: no copy op per variable); elsewhere plain tensors
    (`ops.copy` reads a TensorFlow variable in a graph, which would otherwise
    pass through unread).
    """
    handles = _tf_handles(variables)
    if handles is not None:
        return handles
    return {name: _read(v.value) for name, v in variables.items()}


def _read(value: Any) -> Any:
    return ops.copy(value)


def jit_on_state(
    fn: Callable[[dict[str, Any]], Any], *, xla: bool = True
) -> Callable[[dict[str, Any]], Any]:
    """`jit(fn)` for `fn(state)` over `state_arguments(...)`: any variables
    among them are read inside the compiled function, so `fn` sees tensors."""
    return jit(lambda state: fn({k: _read(v) for k, v in state.items()}), xla=xla)
