"""Activation rows: forward+backward against Keras's SiLU, Mish and GELU."""

from __future__ import annotations

import keras
import numpy as np

from keras_components import activations
from keras_components.bench._steps import forward_backward
from keras_components.bench.harness import Case

# The Mish target of the foundation issue: at most 1.3x SiLU's time,
# with and without XLA.
MISH_VS_SILU_TARGET = 1.3
# And never slower than Keras's own `mish`, in any mode (eager included).
MISH_VS_KERAS_MISH_TARGET = 1.0


def _eager_forward_backward(fn, x, upstream):
    """`forward_backward` without compiling: each op dispatched eagerly."""
    import tensorflow as tf

    def step():
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = fn(x)
        return y, tape.gradient(y, x, output_gradients=upstream)

    return step


def cases(*, quick: bool = False) -> list[Case]:
    shape = (64, 32) if quick else (4096, 1024)
    rng = np.random.default_rng(0)
    x = keras.ops.convert_to_tensor(3.0 * rng.standard_normal(shape), "float32")
    upstream = keras.ops.convert_to_tensor(rng.standard_normal(shape), "float32")
    size = f"{shape[0]}x{shape[1]}"

    def step(fn, jit):
        return forward_backward(fn, x, upstream, jit=jit)

    rows = []
    for jit in (False, True):
        mode = "XLA" if jit else "graph"
        silu = step(keras.activations.silu, jit)
        mish = step(activations.mish, jit)
        gelu = step(activations.gelu, jit)
        gelu_tanh = step(lambda t: activations.gelu(t, approximate=True), jit)
        rows += [
            Case(
                f"mish fwd+bwd {size} {mode}",
                mish,
                silu,
                "keras silu",
                MISH_VS_SILU_TARGET,
            ),
            Case(
                f"mish fwd+bwd {size} {mode}",
                mish,
                step(keras.activations.mish, jit),
                "keras mish",
                MISH_VS_KERAS_MISH_TARGET,
            ),
            Case(f"gelu fwd+bwd {size} {mode}", gelu, silu, "keras silu"),
            Case(
                f"gelu fwd+bwd {size} {mode}",
                gelu,
                step(lambda t: keras.activations.gelu(t, approximate=False), jit),
                "keras gelu",
            ),
            Case(
                f"gelu(tanh) fwd+bwd {size} {mode}",
                gelu_tanh,
                step(lambda t: keras.activations.gelu(t, approximate=True), jit),
                "keras gelu(tanh)",
            ),
        ]
    # Eagerly (each op dispatched on its own, no graph optimizer): Mish only.
    mish = _eager_forward_backward(activations.mish, x, upstream)
    for baseline, name, target in (
        (keras.activations.silu, "keras silu", None),
        (keras.activations.mish, "keras mish", MISH_VS_KERAS_MISH_TARGET),
    ):
        rows.append(
            Case(
                f"mish fwd+bwd {size} eager",
                mish,
                _eager_forward_backward(baseline, x, upstream),
                name,
                target,
            )
        )
    return [
        Case(c.name, c.ours, c.baseline, c.baseline_name, c.target, "activations")
        for c in rows
    ]
