"""FocalLoss (from logits) values and gradients on one backend.

Usage: KERAS_BACKEND=jax python -m tests.losses.backend_focal_gradient

Run per backend by tests/losses/test_focal_gradient.py: every case of
tests/losses/focal_reference.py, value and gradients in the logits and
(dense float targets) `y_true` against float64 central differences, to
1e-6. JAX under `jax.jit(jax.value_and_grad(...))`, PyTorch with
`torch.autograd.grad`.
"""

from __future__ import annotations

import keras
import numpy as np

from keras_components import FocalLoss
from tests.losses.focal_reference import assert_close, cases, reference


def _value_and_gradients(case):
    backend = keras.backend.backend()
    loss = FocalLoss(from_logits=True, dtype="float64", **case["kwargs"])
    weight = case["sample_weight"]
    dense = case["differentiable_targets"]
    y_true = case["y_true"].astype(np.float64) if dense else case["y_true"]
    if backend == "jax":
        import jax

        def objective(y_pred, y_true):
            return loss(y_true, y_pred, sample_weight=weight)

        argnums = (0, 1) if dense else 0
        fn = jax.jit(jax.value_and_grad(objective, argnums=argnums))
        value, grads = fn(case["y_pred"], y_true)
        grads = grads if dense else (grads, None)
        return float(value), *(None if g is None else np.asarray(g) for g in grads)
    import torch

    y_pred = torch.tensor(case["y_pred"], dtype=torch.float64, requires_grad=True)
    y_true = torch.tensor(y_true, requires_grad=dense)
    value = loss(y_true, y_pred, sample_weight=weight)
    inputs = (y_pred, y_true) if dense else (y_pred,)
    grads = torch.autograd.grad(value, inputs)
    grad_true = grads[1].numpy() if dense else None
    return float(value), grads[0].numpy(), grad_true


def main() -> None:
    backend = keras.backend.backend()
    for name, case in cases():
        value, grad_pred, grad_true = _value_and_gradients(case)
        ref_value, ref_pred, ref_true = reference(case)
        assert_close(f"{name} value", value, ref_value)
        assert_close(f"{name} d/dy_pred", grad_pred, ref_pred)
        if ref_true is not None:
            assert_close(f"{name} d/dy_true", grad_true, ref_true)
    print(f"focal gradients OK: {backend}")


if __name__ == "__main__":
    main()
