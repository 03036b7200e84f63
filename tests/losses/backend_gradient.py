"""`gradient_penalty` (through `_backend.input_gradient`) on one backend.

Usage: KERAS_BACKEND=jax python -m tests.losses.backend_gradient

Run per backend by tests/losses/test_adversarial.py. References are closed
forms in float64 NumPy: a linear critic `D(x) = <x, w>` has input gradient
`w` for every sample, so the penalty is `weight * (||w|| - 1) ** 2` and its
gradient in `w` is `2 weight (||w|| - 1) w / ||w||`; `D(x) = |x|^2 / 2` has
gradient `x`.
"""

from __future__ import annotations

import keras
import numpy as np

from keras_components.losses import gradient_penalty


def _penalty_and_weight_gradient(w: np.ndarray, real, fake, weight: float):
    backend = keras.backend.backend()

    def penalty(kernel):
        return gradient_penalty(
            lambda x: keras.ops.matmul(keras.ops.reshape(x, (x.shape[0], -1)), kernel),
            real,
            fake,
            weight=weight,
            seed=0,
        )

    if backend == "jax":
        import jax

        value, grad = jax.value_and_grad(penalty)(keras.ops.convert_to_tensor(w))
        return float(value), np.asarray(grad)
    import torch

    kernel = torch.tensor(w, requires_grad=True)
    value = penalty(kernel)
    (grad,) = torch.autograd.grad(value, kernel)
    return float(value), grad.detach().cpu().numpy()


def main() -> None:
    backend = keras.backend.backend()
    rng = np.random.default_rng(7)
    real = rng.standard_normal((16, 4, 2)).astype(np.float32)
    fake = rng.standard_normal((16, 4, 2)).astype(np.float32)
    w = rng.standard_normal((8, 1)).astype(np.float32)
    w *= 3.0 / np.linalg.norm(w)
    value, grad = _penalty_and_weight_gradient(w, real, fake, 7.0)
    w64 = w.astype(np.float64)
    norm = np.linalg.norm(w64)
    np.testing.assert_allclose(value, 7.0 * (norm - 1.0) ** 2, rtol=1e-5)
    np.testing.assert_allclose(grad, 2 * 7.0 * (norm - 1) * w64 / norm, rtol=1e-4)

    quadratic = gradient_penalty(
        lambda x: 0.5 * keras.ops.sum(x * x, axis=(1, 2)), real, real
    )
    norms = np.sqrt((real.astype(np.float64) ** 2).sum(axis=(1, 2)))
    np.testing.assert_allclose(
        float(quadratic), 10.0 * np.mean((norms - 1) ** 2), rtol=1e-5
    )
    constant = gradient_penalty(lambda x: keras.ops.ones((16, 1)), real, fake)
    assert float(constant) == 10.0, float(constant)
    print(f"gradient penalty OK: {backend}")


if __name__ == "__main__":
    main()
