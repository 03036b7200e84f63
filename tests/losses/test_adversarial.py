"""WassersteinLoss and the WGAN-GP gradient penalty."""

import keras
import numpy as np
import pytest

from keras_components import WassersteinLoss, _backend
from keras_components.losses import gradient_penalty, wasserstein_loss
from tests.helpers import (
    EXPORT_FORMATS,
    assert_config_roundtrip,
    assert_exports,
    assert_keras_roundtrip,
    to_numpy,
    variable_gradients,
)
from tests.losses.common import (
    HALF_POLICIES,
    assert_half_precision_input,
    assert_jit_equals_eager,
    assert_reductions,
    assert_trains,
    assert_value_and_gradient_finite,
)

N = 16


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    return {
        "scores": rng.standard_normal((N, 3)).astype(np.float32),
        "labels": rng.choice([-1.0, 1.0], size=(N, 1)).astype(np.float32),
        "real": rng.standard_normal((N, 4, 4, 2)).astype(np.float32),
        "fake": (rng.standard_normal((N, 4, 4, 2)) + 1.0).astype(np.float32),
    }


# --------------------------------------------------------------------------
# WassersteinLoss
# --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("y_true_shape", "y_pred_shape"),
    [
        ((N, 1), (N, 1)),
        ((N,), (N, 1)),
        ((N, 1), (N, 3)),
        ((N, 3), (N, 3)),
        ((N,), (N,)),
    ],
)
def test_per_sample_mean_of_products(y_true_shape, y_pred_shape):
    rng = np.random.default_rng(1)
    y_true = rng.choice([-1.0, 1.0], size=y_true_shape)
    y_pred = rng.standard_normal(y_pred_shape).astype(np.float32)
    t = y_true.reshape(N, -1)
    p = y_pred.reshape(N, -1).astype(np.float64)
    got = to_numpy(wasserstein_loss(y_true, y_pred))
    assert got.shape == (N,)
    np.testing.assert_allclose(got, (t * p).mean(-1), rtol=1e-6)


def test_critic_and_generator_conventions():
    d_real = np.array([[2.0], [1.0], [3.0]], np.float32)
    d_fake = np.array([[-1.0], [0.5], [-2.0]], np.float32)
    scores = np.concatenate([d_real, d_fake])
    critic_labels = np.concatenate([-np.ones((3, 1)), np.ones((3, 1))])
    critic = float(WassersteinLoss()(critic_labels, scores))
    # Mean over the 2n samples: half the gap mean(D(fake)) - mean(D(real)).
    np.testing.assert_allclose(critic, 0.5 * (d_fake.mean() - d_real.mean()))
    generator = float(WassersteinLoss()(-np.ones((3, 1)), d_fake))
    np.testing.assert_allclose(generator, -d_fake.mean())


def test_incompatible_shapes_raise():
    with pytest.raises(
        ValueError, match=r"y_true.shape=\(16, 2\).*y_pred.shape=\(16, 3\)"
    ):
        WassersteinLoss()(np.ones((N, 2)), np.ones((N, 3)))
    with pytest.raises(ValueError, match=r"y_true.shape=\(8, 1\)"):
        WassersteinLoss()(np.ones((8, 1)), np.ones((N, 1)))


def test_every_reduction_with_sample_weight(data):
    expected = (data["labels"] * data["scores"].astype(np.float64)).mean(-1)
    assert_reductions(
        lambda **kw: WassersteinLoss(**kw), data["labels"], data["scores"], expected
    )


def test_jit_and_gradients(data):
    assert_value_and_gradient_finite(WassersteinLoss(), data["labels"], data["scores"])
    assert_jit_equals_eager(WassersteinLoss(), data["labels"], data["scores"])


def critic_model(name="critic"):
    inputs = keras.Input((4, 4, 2))
    hidden = keras.layers.Dense(8, activation="relu")(keras.layers.Flatten()(inputs))
    return keras.Model(inputs, keras.layers.Dense(1)(hidden), name=name)


def critic_data(data):
    x = np.concatenate([data["real"], data["fake"]])
    y = np.concatenate([-np.ones((N, 1)), np.ones((N, 1))]).astype(np.float32)
    return x, y


@pytest.mark.parametrize("mixed_precision_policy", HALF_POLICIES, indirect=True)
def test_mixed_precision(data, mixed_precision_policy):
    assert_half_precision_input(
        lambda **kw: WassersteinLoss(**kw),
        data["labels"],
        data["scores"],
        mixed_precision_policy,
    )
    x, y = critic_data(data)
    assert_trains(critic_model(), WassersteinLoss(), x, y, learning_rate=0.01)


def test_training_lowers_the_loss(data):
    x, y = critic_data(data)
    assert_trains(critic_model(), WassersteinLoss(), x, y, learning_rate=0.01)


def test_serialization(data, tmp_path):
    assert_config_roundtrip(WassersteinLoss())
    assert_config_roundtrip(WassersteinLoss(reduction="sum", name="w", dtype="float64"))
    assert keras.saving.get_registered_name(wasserstein_loss) == (
        "keras_components>wasserstein_loss"
    )
    x, y = critic_data(data)
    model = fitted_critic(x, y)
    loaded = assert_keras_roundtrip(model, x, tmp_path)
    np.testing.assert_allclose(
        loaded.evaluate(x, y, verbose=0), model.evaluate(x, y, verbose=0), rtol=1e-6
    )


def fitted_critic(x, y):
    model = critic_model("wgan_critic")
    model.compile(optimizer="adam", loss=WassersteinLoss())
    model.fit(x, y, epochs=1, verbose=0)
    return model


@pytest.mark.parametrize("export_format", EXPORT_FORMATS)
def test_critic_exports(data, tmp_path, export_format):
    """SavedModel everywhere; `.pt2` (`format="torch"`) on PyTorch too."""
    x, y = critic_data(data)
    assert_exports(fitted_critic(x, y), x, tmp_path, export_format)


# --------------------------------------------------------------------------
# gradient_penalty
# --------------------------------------------------------------------------
def linear_critic(kernel):
    """D(x) = <x, kernel>: its input gradient is `kernel` for every sample."""
    inputs = keras.Input(kernel.shape)
    flat = keras.layers.Flatten()(inputs)
    dense = keras.layers.Dense(1, use_bias=True)
    model = keras.Model(inputs, dense(flat))
    dense.set_weights([kernel.reshape(-1, 1), np.array([0.7], np.float32)])
    return model


@pytest.mark.parametrize("scale", [0.2, 1.0, 3.0])
def test_linear_critic_closed_form(data, scale):
    kernel = np.random.default_rng(2).standard_normal((4, 4, 2)).astype(np.float32)
    kernel *= scale / np.linalg.norm(kernel)  # ||grad D|| = scale
    penalty = gradient_penalty(
        linear_critic(kernel), data["real"], data["fake"], weight=7.0
    )
    np.testing.assert_allclose(float(penalty), 7.0 * (scale - 1.0) ** 2, rtol=1e-5)


def test_quadratic_critic_norm_over_all_non_batch_axes(data):
    """D(x) = |x|^2 / 2 has gradient x; with fake == real, x_hat = real."""
    real = data["real"].astype(np.float64)
    penalty = gradient_penalty(
        lambda x: 0.5 * keras.ops.sum(x * x, axis=(1, 2, 3)),
        data["real"],
        data["real"],
    )
    norms = np.sqrt((real**2).sum(axis=(1, 2, 3)))
    np.testing.assert_allclose(
        float(penalty), 10.0 * np.mean((norms - 1) ** 2), rtol=1e-5
    )


def test_interpolates_each_sample_between_real_and_fake(data, monkeypatch):
    """The critic is differentiated at `real + eps_i * (fake - real)`.

    The point is read where the penalty hands it to the input gradient, which
    is eager on every backend (inside JAX's `vjp` the critic sees a tracer).
    """
    points, critic_shapes = [], []

    def recording_input_gradient(fn, x):
        points.append(to_numpy(x))
        return input_gradient(fn, x)

    def critic(x):
        critic_shapes.append(tuple(x.shape))
        return keras.ops.sum(x, axis=(1, 2, 3))

    input_gradient = _backend.input_gradient
    monkeypatch.setattr(_backend, "input_gradient", recording_input_gradient)
    gradient_penalty(critic, data["real"], data["fake"], seed=3)
    (x_hat,) = points
    assert critic_shapes == [x_hat.shape]  # the critic is called at that point
    eps = (x_hat - data["real"]) / (data["fake"] - data["real"])
    per_sample = eps.reshape(N, -1)
    one_each = np.broadcast_to(per_sample[:, :1], per_sample.shape)
    np.testing.assert_allclose(per_sample, one_each, atol=1e-4)
    assert ((per_sample >= 0) & (per_sample <= 1)).all()
    assert np.unique(per_sample[:, 0].round(4)).size > N // 2  # drawn per sample


def test_gradient_with_respect_to_critic_weights(data):
    kernel = np.full((4, 4, 2), 0.5, np.float32)  # ||w|| = 0.5 * sqrt(32)
    critic = linear_critic(kernel)
    _, (grad,) = variable_gradients(
        lambda: gradient_penalty(critic, data["real"], data["fake"], weight=10.0),
        critic.trainable_weights[:1],
    )
    grad = grad[:, 0]
    w = kernel.reshape(-1).astype(np.float64)
    norm = np.linalg.norm(w)
    np.testing.assert_allclose(grad, 2 * 10.0 * (norm - 1) * w / norm, rtol=1e-5)


def test_vanishing_critic_gradient_is_finite(data):
    """A dead ReLU critic: ||grad|| = 0, penalty = weight, no NaN anywhere."""
    inputs = keras.Input((4, 4, 2))
    dense = keras.layers.Dense(1, activation="relu")
    critic = keras.Model(inputs, dense(keras.layers.Flatten()(inputs)))
    dense.set_weights([np.full((32, 1), 0.01, np.float32), np.array([-100.0])])
    penalty, grads = variable_gradients(
        lambda: gradient_penalty(critic, data["real"], data["fake"], weight=3.0),
        critic.trainable_weights,
    )
    assert float(penalty) == 3.0
    assert all(np.isfinite(g).all() for g in grads if g is not None)
    constant = gradient_penalty(
        lambda x: keras.ops.ones((N, 1)), data["real"], data["fake"]
    )
    assert float(constant) == 10.0


@pytest.mark.tensorflow_only  # tf.function + GradientTape step
@pytest.mark.parametrize("training", [None, True])
def test_trains_a_tiny_critic(training):
    """WGAN-GP on 1-D Gaussians: the linear critic settles where the theory says.

    Critic D(x) = w x + b, real ~ N(2, 1), fake ~ N(-2, 1):
    loss = E[D(fake)] - E[D(real)] + lambda (|w| - 1)^2 = -4 w + lambda (|w| - 1)^2,
    minimised at w = 1 + 2 / lambda (1.2 for lambda = 10), from w = 5.
    """
    import tensorflow as tf

    rng = np.random.default_rng(5)
    real = (rng.standard_normal((256, 1)) + 2.0).astype(np.float32)
    fake = (rng.standard_normal((256, 1)) - 2.0).astype(np.float32)
    dense = keras.layers.Dense(1, kernel_initializer=keras.initializers.Constant(5.0))
    critic = keras.Sequential([keras.Input((1,)), dense])
    optimizer = keras.optimizers.Adam(0.05)
    seeds = keras.random.SeedGenerator(0)
    labels = tf.concat([-tf.ones((256, 1)), tf.ones((256, 1))], axis=0)
    loss_fn = WassersteinLoss()

    @tf.function(jit_compile=True)
    def step():
        with tf.GradientTape() as tape:
            scores = critic(tf.concat([real, fake], axis=0), training=training)
            gp = gradient_penalty(
                critic, real, fake, weight=10.0, seed=seeds, training=training
            )
            loss = 2.0 * loss_fn(labels, scores) + gp
        grads = tape.gradient(loss, critic.trainable_weights)
        optimizer.apply_gradients(zip(grads, critic.trainable_weights, strict=True))
        return loss, gp

    first = [float(v) for v in step()]
    for _ in range(300):
        last = [float(v) for v in step()]
    assert last[0] < first[0]
    assert last[1] < first[1]
    w = float(to_numpy(dense.kernel)[0, 0])
    true_gap = float(real.mean() - fake.mean())
    np.testing.assert_allclose(w, 1.0 + true_gap / 20.0, rtol=0.05)


@pytest.mark.parametrize("mixed_precision_policy", HALF_POLICIES, indirect=True)
def test_half_precision_critic(data, mixed_precision_policy):
    kernel = np.full((4, 4, 2), 0.25, np.float32)
    critic = linear_critic(kernel)  # half-precision compute under the policy
    penalty = gradient_penalty(critic, data["real"], data["fake"])
    assert keras.backend.standardize_dtype(penalty.dtype) == "float32"
    norm = np.linalg.norm(kernel)
    np.testing.assert_allclose(float(penalty), 10.0 * (norm - 1) ** 2, rtol=2e-2)


def test_bad_arguments(data, monkeypatch):
    critic = linear_critic(np.ones((4, 4, 2), np.float32))
    with pytest.raises(ValueError, match=r"argument `weight`. Expected .*>= 0"):
        gradient_penalty(critic, data["real"], data["fake"], weight=-1.0)
    with pytest.raises(TypeError, match="argument `critic`"):
        gradient_penalty("critic", data["real"], data["fake"])
    with pytest.raises(ValueError, match=r"real.shape=\(16, 4, 4, 2\).*fake.shape"):
        gradient_penalty(critic, data["real"], data["fake"][:8])
    monkeypatch.setattr(keras.backend, "backend", lambda: "openvino")
    with pytest.raises(NotImplementedError, match="'openvino'"):
        gradient_penalty(critic, data["real"], data["fake"])


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_gradient_penalty_on_other_backends(backend):
    """Closed forms and the gradient in the critic's weights, in a fresh
    process per backend (tests/losses/backend_gradient.py)."""
    from tests.test_backends import run_on_backend

    out = run_on_backend(backend, "tests.losses.backend_gradient", timeout=300)
    assert f"gradient penalty OK: {backend}" in out


def test_training_is_passed_to_the_critic():
    """Closed forms of `training=` (None / False / True) and Dropout, on TF
    in this process (tests/losses/backend_wgan.py, also run per backend)."""
    from tests.losses import backend_wgan

    backend_wgan.closed_forms("tensorflow")


def test_training_argument_is_validated(data):
    critic = linear_critic(np.ones((4, 4, 2), np.float32))
    with pytest.raises(TypeError, match="argument `training`"):
        gradient_penalty(critic, data["real"], data["fake"], training="yes")
    with pytest.raises(ValueError, match=r"argument `training`.*Received: training"):
        gradient_penalty(lambda x: x, data["real"], data["fake"], training=True)


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_training_and_a_wgan_gp_step_on_other_backends(backend):
    """`training=` closed forms and the tiny WGAN-GP training (critic weight at
    its theoretical optimum) in a fresh process per backend."""
    from tests.test_backends import run_on_backend

    out = run_on_backend(backend, "tests.losses.backend_wgan", timeout=600)
    assert f"wgan-gp OK: {backend}" in out
