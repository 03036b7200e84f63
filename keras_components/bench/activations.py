"""Activation rows: forward+backward against Keras's SiLU, Mish and GELU."""

from __future__ import annotations

import keras
import numpy as np

from keras_components import activations
from keras_components.bench._steps import (
    _require_tensorflow,
    forward_backward,
    mode_name,
)
from keras_components.bench.harness import Case

# The Mish target of the foundation issue: at most 1.3x SiLU's time,
# with and without XLA.
MISH_VS_SILU_TARGET = 1.3
# And never slower than Keras's own `mish`, in any mode (eager included).
MISH_VS_KERAS_MISH_TARGET = 1.0


def _inputs(quick: bool):
    shape = (64, 32) if quick else (4096, 1024)
    rng = np.random.default_rng(0)
    x = keras.ops.convert_to_tensor(3.0 * rng.standard_normal(shape), "float32")
    upstream = keras.ops.convert_to_tensor(rng.standard_normal(shape), "float32")
    return x, upstream, f"{shape[0]}x{shape[1]}"


def mish_rows(x, upstream, size: str, *, jit, silu=None, silu_target=None):
    """Mish fwd+bwd against Keras's SiLU and against Keras's `mish`, mode `jit`.

    `silu`: an already built SiLU step to reuse (else one is built);
    `silu_target`: the SiLU row's target (None: informative).
    """
    mode = mode_name(jit)
    mish = forward_backward(activations.mish, x, upstream, jit=jit)
    if silu is None:
        silu = forward_backward(keras.activations.silu, x, upstream, jit=jit)
    return [
        Case(f"mish fwd+bwd {size} {mode}", mish, silu, "keras silu", silu_target),
        Case(
            f"mish fwd+bwd {size} {mode}",
            mish,
            forward_backward(keras.activations.mish, x, upstream, jit=jit),
            "keras mish",
            MISH_VS_KERAS_MISH_TARGET,
        ),
    ]


def cases(*, quick: bool = False) -> list[Case]:
    _require_tensorflow()
    x, upstream, size = _inputs(quick)

    def step(fn, jit):
        return forward_backward(fn, x, upstream, jit=jit)

    rows = []
    for jit in (False, True):
        mode = mode_name(jit)
        silu = step(keras.activations.silu, jit)
        gelu = step(activations.gelu, jit)
        gelu_tanh = step(lambda t: activations.gelu(t, approximate=True), jit)
        rows += mish_rows(
            x, upstream, size, jit=jit, silu=silu, silu_target=MISH_VS_SILU_TARGET
        )
        rows += [
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
    rows += mish_rows(x, upstream, size, jit=None)
    return [
        Case(c.name, c.ours, c.baseline, c.baseline_name, c.target, "activations")
        for c in rows
    ]
