"""Wasserstein GAN: `wasserstein_loss`, `WassersteinLoss`, `gradient_penalty`."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import keras
from keras import ops

from keras_components import _backend
from keras_components._export import export
from keras_components._inputs import (
    real_tensor,
    shape_error,
    shapes_compatible,
    static_shape,
)
from keras_components._validation import (
    check_bool,
    check_float,
    invalid_type,
    invalid_value,
)
from keras_components.losses._base import Loss, as_compute_tensor

__all__ = ["WassersteinLoss", "gradient_penalty", "wasserstein_loss"]


@export
def wasserstein_loss(y_true: Any, y_pred: Any):
    """Wasserstein (critic) loss per sample: `mean(y_true * y_pred)` over the last axis.

    With critic scores `D(x)` as `y_pred` and labels `+-1`:

    - critic step: `y_true = -1` for real and `+1` for generated samples, so
      minimising `mean(D(fake)) - mean(D(real))` widens the critic's gap;
    - generator step: `y_true = -1` for generated samples, so the generator
      minimises `-mean(D(fake))`.

    Add `gradient_penalty` to the critic loss to enforce the 1-Lipschitz
    constraint (WGAN-GP).

    Args:
        y_true: Labels (usually +-1) of `y_pred`'s shape, or of
            `y_pred.shape[:-1]` / `y_pred.shape[:-1] + (1,)` (one label per
            sample, applied to every score on the last axis).
        y_pred: Critic scores, shape `(N, ..., K)`; a 1-D `y_pred` is one
            score per sample.

    Returns:
        Per-sample values, shape `y_pred.shape[:-1]` (`(N,)` for 1-D input),
        float32 for half-precision input.

    Example:

    >>> import numpy as np
    >>> from keras_components.losses import wasserstein_loss
    >>> scores = np.array([[2.0], [-1.0]])   # D(real), D(fake)
    >>> labels = np.array([[-1.0], [1.0]])   # critic convention
    >>> print(np.asarray(wasserstein_loss(labels, scores)))
    [-2. -1.]

    Reference:
        Arjovsky et al., 2017, "Wasserstein GAN",
        https://arxiv.org/abs/1701.07875
    """
    y_pred = as_compute_tensor(y_pred)
    if len(static_shape(y_pred)) == 1:
        y_pred = ops.expand_dims(y_pred, -1)
    y_true = ops.cast(real_tensor(y_true, name="y_true"), y_pred.dtype)
    t, p = static_shape(y_true), static_shape(y_pred)
    if len(t) == len(p) - 1 and shapes_compatible(t, p[:-1]):
        y_true = ops.expand_dims(y_true, -1)
    elif not (
        len(t) == len(p)
        and shapes_compatible(t[:-1], p[:-1])
        and (t[-1] == 1 or shapes_compatible(t[-1:], p[-1:]))
    ):
        raise shape_error(
            "y_true of shape y_pred.shape, y_pred.shape[:-1] or "
            "y_pred.shape[:-1] + (1,)",
            y_true=t,
            y_pred=p,
        )
    return ops.mean(y_true * y_pred, axis=-1)


@export
class WassersteinLoss(Loss):
    """Wasserstein (critic) loss: per-sample `mean(y_true * y_pred)`.

    Labels are +-1: train the critic with `y_true = -1` for real and `+1` for
    generated samples; train the generator with `y_true = -1` for generated
    samples. See `wasserstein_loss`; add `gradient_penalty` for WGAN-GP.

    Args:
        reduction: Keras reduction of the per-sample values.
        name: Loss name.
        dtype: Dtype or policy of the computation (None: floatx); half
            precision computes in float32. An integer, bool or complex
            dtype is a `ValueError`.

    Example:

    >>> import numpy as np
    >>> from keras_components import WassersteinLoss
    >>> critic_scores = np.array([[2.0], [0.5], [-1.0], [-3.0]])
    >>> labels = np.array([[-1.0], [-1.0], [1.0], [1.0]])  # 2 real, 2 fake
    >>> print(float(WassersteinLoss()(labels, critic_scores)))
    -1.625

    Reference:
        Arjovsky et al., 2017, https://arxiv.org/abs/1701.07875
    """

    def __init__(
        self,
        *,
        reduction: str | None = "sum_over_batch_size",
        name: str = "wasserstein_loss",
        dtype: Any = None,
    ) -> None:
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def call(self, y_true, y_pred):
        return wasserstein_loss(y_true, y_pred)


def _accepts_training(critic: Callable[..., Any]) -> bool:
    if isinstance(critic, keras.layers.Layer):
        return True
    try:
        params = inspect.signature(critic).parameters.values()
    except (TypeError, ValueError):  # no signature (a builtin): let it try
        return True
    return any(
        p.name == "training" or p.kind is inspect.Parameter.VAR_KEYWORD for p in params
    )


def gradient_penalty(
    critic: Callable[[Any], Any],
    real: Any,
    fake: Any,
    *,
    weight: float = 10.0,
    seed: int | keras.random.SeedGenerator | None = None,
    training: bool | None = None,
):
    """WGAN-GP gradient penalty.

    For each sample i, with `eps_i ~ U[0, 1]` and
    `x_hat_i = real_i + eps_i * (fake_i - real_i)`:

        penalty = weight * mean_i (||grad_x D(x_hat)_i||_2 - 1) ** 2

    the norm taken over all non-batch axes. The gradient is taken of the sum
    of the critic's outputs, so each sample's score must depend on that
    sample only (no batch normalisation in the critic, as the paper advises).
    The result is differentiable with respect to the critic's weights (call
    it inside the critic's `GradientTape`). The norm has a zero gradient,
    not NaN, where the critic's gradient vanishes. Computed in float32 for
    half-precision critics.

    Runs on TensorFlow, JAX and PyTorch (`_backend.input_gradient`).

    Args:
        critic: Callable mapping a batch like `real` to scores (e.g. a
            `keras.Model`).
        real: Real samples, shape `(N, ...)`.
        fake: Generated samples, same shape.
        weight: Penalty coefficient lambda, a float >= 0 (10 in the paper).
        seed: Seed of the interpolation coefficients: None (Keras's global
            generator), an int, or a `keras.random.SeedGenerator` (use one
            inside compiled training steps for fresh draws each step).
        training: Passed to the critic as `critic(x, training=training)`.
            `None` (default) calls `critic(x)`, as Keras calls a layer by
            default: the critic inherits the training flag of an enclosing
            Keras call (the penalty computed inside a layer or model called
            with `training=True`), and otherwise runs in inference mode
            (Dropout off). Inside a custom `train_step` where the critic
            loss calls `critic(x, training=True)`, pass `training=True` too,
            so that the penalty sees the same critic (Dropout on). A
            plain function critic must then accept a `training` argument.

    Returns:
        A scalar tensor.

    Example:

    >>> import numpy as np
    >>> import keras
    >>> from keras_components.losses import gradient_penalty
    >>> w = np.array([[3.0], [4.0]])              # linear critic, ||grad|| = 5
    >>> critic = lambda x: keras.ops.matmul(x, w)
    >>> real, fake = np.zeros((8, 2)), np.ones((8, 2))
    >>> print(float(gradient_penalty(critic, real, fake, weight=10.0, seed=0)))
    160.0

    Reference:
        Gulrajani et al., 2017, "Improved Training of Wasserstein GANs",
        https://arxiv.org/abs/1704.00028
    """
    weight = check_float("weight", weight, low=0.0)
    if not callable(critic):
        raise invalid_type("critic", "a callable (e.g. a keras.Model)", critic)
    if training is not None:
        training = check_bool("training", training)
        if not _accepts_training(critic):
            raise invalid_value(
                "training",
                "None for a critic without a `training` argument (pass a "
                "keras.Model / Layer, or a function taking `training=`)",
                training,
            )
        model: Any = critic  # called with `training=`, checked above
        critic = lambda x: model(x, training=training)  # noqa: E731
    real = real_tensor(real, name="real")
    if not keras.backend.is_float_dtype(real.dtype):
        real = ops.cast(real, keras.backend.floatx())
    fake = ops.cast(real_tensor(fake, name="fake"), real.dtype)
    r, f = static_shape(real), static_shape(fake)
    if len(r) < 1 or not shapes_compatible(r, f):
        raise shape_error("real and fake of the same shape (N, ...)", real=r, fake=f)
    eps_shape = (ops.shape(real)[0],) + (1,) * (len(r) - 1)
    eps = keras.random.uniform(eps_shape, dtype=real.dtype, seed=seed)
    interpolated = real + eps * (fake - real)
    # d sum(critic) / d input (zeros where the scores do not depend on it).
    grads = as_compute_tensor(_backend.input_gradient(critic, interpolated))
    squared = ops.sum(ops.reshape(ops.square(grads), (ops.shape(grads)[0], -1)), 1)
    # sqrt with a zero (not infinite) derivative at 0.
    positive = squared > 0
    norms = ops.where(
        positive, ops.sqrt(ops.where(positive, squared, 1.0)), ops.zeros_like(squared)
    )
    return weight * ops.mean(ops.square(norms - 1.0))
