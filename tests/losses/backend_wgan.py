"""`gradient_penalty(training=...)` and a WGAN-GP training step on one backend.

Usage: KERAS_BACKEND=jax python -m tests.losses.backend_wgan

Run per backend (JAX, PyTorch, TensorFlow) by tests/losses/test_adversarial.py.
Closed forms in float64 NumPy: a critic `D(x) = s <x, w>` whose layer `s` is 2
in training and 1 otherwise has input gradient `s w`, so the penalty is
`weight * (s ||w|| - 1) ** 2`; Dropout is visible with `training=True` only.
The training step is tests/losses/test_adversarial.py's tiny WGAN-GP (1-D
Gaussians, linear critic), whose critic weight settles at `1 + gap / 20`.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest

from keras_components.losses import gradient_penalty


class TrainingScale(keras.layers.Layer):
    """2 x in training, x otherwise: the training flag made visible."""

    def call(self, x, training=None):
        return x * (2.0 if training else 1.0)


def linear_critic(w: np.ndarray, *, dropout: float = 0.0) -> keras.Model:
    inputs = keras.Input((w.shape[0],))
    h = TrainingScale()(inputs)
    if dropout:
        h = keras.layers.Dropout(dropout, seed=3)(h)
    dense = keras.layers.Dense(1, use_bias=False)
    out = dense(h)
    dense.kernel.assign(w)
    return keras.Model(inputs, out)


def closed_forms(backend: str) -> None:
    rng = np.random.default_rng(11)
    real = rng.standard_normal((32, 6)).astype(np.float32)
    fake = rng.standard_normal((32, 6)).astype(np.float32)
    w = rng.standard_normal((6, 1)).astype(np.float32)
    w *= 1.5 / np.linalg.norm(w)
    norm = np.linalg.norm(w.astype(np.float64))
    critic = linear_critic(w)
    for training, scale in ((None, 1.0), (False, 1.0), (True, 2.0)):
        got = float(gradient_penalty(critic, real, fake, weight=3.0, training=training))
        want = 3.0 * (scale * norm - 1.0) ** 2
        np.testing.assert_allclose(got, want, rtol=1e-5, err_msg=f"{training=}")
    # Dropout(0.5) with training=True: each sample's gradient is 2 * 2 * w
    # with about half its entries zeroed, never the inference gradient.
    dropped = linear_critic(w, dropout=0.5)
    off = float(gradient_penalty(dropped, real, fake, training=False))
    np.testing.assert_allclose(off, 10.0 * (norm - 1.0) ** 2, rtol=1e-5)
    on = float(gradient_penalty(dropped, real, fake, training=True, seed=1))
    assert np.isfinite(on), on
    assert abs(on - 10.0 * (2 * norm - 1.0) ** 2) > 1e-3, on
    with pytest.raises(ValueError, match="argument `training`"):
        gradient_penalty(lambda x: x, real, fake, training=True)


def train_tiny_wgan(backend: str, steps: int = 300) -> float:
    """Returns the critic weight after `steps` Adam steps of WGAN-GP."""
    rng = np.random.default_rng(5)
    real = (rng.standard_normal((256, 1)) + 2.0).astype(np.float32)
    fake = (rng.standard_normal((256, 1)) - 2.0).astype(np.float32)
    both = np.concatenate([real, fake])
    sign = np.concatenate([-np.ones((256, 1)), np.ones((256, 1))]).astype(np.float32)
    inputs = keras.Input((1,))
    dense = keras.layers.Dense(1, kernel_initializer=keras.initializers.Constant(5.0))
    critic = keras.Model(inputs, dense(keras.layers.Dropout(0.0)(inputs)))
    optimizer = keras.optimizers.Adam(0.05)
    optimizer.build(critic.trainable_variables)

    def loss_of(call, step):
        # Wasserstein critic loss mean(sign * D) over real (-1) and fake (+1).
        scores = call(both, training=True)
        gp = gradient_penalty(call, real, fake, weight=10.0, seed=step, training=True)
        return 2.0 * keras.ops.mean(keras.ops.convert_to_tensor(sign) * scores) + gp

    if backend == "jax":
        import jax

        trainable = [v.value for v in critic.trainable_variables]
        fixed = [v.value for v in critic.non_trainable_variables]
        opt_vars = [v.value for v in optimizer.variables]

        def loss_fn(trainable, step):
            def call(x, training=None):
                return critic.stateless_call(trainable, fixed, x, training=training)[0]

            return loss_of(call, step)

        grad_fn = jax.grad(loss_fn)
        for step in range(steps):
            grads = grad_fn(trainable, step)
            trainable, opt_vars = optimizer.stateless_apply(opt_vars, grads, trainable)
        return float(np.asarray(trainable[0]).ravel()[0])
    for step in range(steps):
        if backend == "torch":
            import torch

            loss = loss_of(critic, step)
            grads = torch.autograd.grad(
                loss, [v.value for v in critic.trainable_variables]
            )
        else:
            import tensorflow as tf

            with tf.GradientTape() as tape:
                loss = loss_of(critic, step)
            grads = tape.gradient(loss, critic.trainable_variables)
        optimizer.apply(grads, critic.trainable_variables)
    return float(keras.ops.convert_to_numpy(dense.kernel).ravel()[0])


def main() -> None:
    backend = keras.backend.backend()
    closed_forms(backend)
    w = train_tiny_wgan(backend)
    rng = np.random.default_rng(5)
    real = rng.standard_normal((256, 1)) + 2.0
    fake = rng.standard_normal((256, 1)) - 2.0
    want = (
        1.0
        + float(real.astype(np.float32).mean() - fake.astype(np.float32).mean()) / 20.0
    )
    np.testing.assert_allclose(w, want, rtol=0.05)
    print(f"wgan-gp OK: {backend} (critic weight {w:.4f}, theory {want:.4f})")


if __name__ == "__main__":
    main()
