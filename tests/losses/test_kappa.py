"""WeightedKappaLoss / weighted_kappa_loss against a float64 NumPy reference."""

import keras
import numpy as np
import pytest

from keras_components.losses import WeightedKappaLoss, weighted_kappa_loss


def reference(labels_or_rows, p, num_classes, weightage, epsilon, w=None):
    """Fleiss / de la Torre weighted kappa loss, float64, written from the formula."""
    p = np.asarray(p, np.float64)
    y = np.asarray(labels_or_rows, np.float64)
    if y.ndim == 1:
        y = np.eye(num_classes)[y.astype(int)]
    w = np.ones(len(p)) if w is None else np.asarray(w, np.float64)
    c = np.arange(num_classes, dtype=np.float64)
    t = y @ c
    power = 1 if weightage == "linear" else 2
    num = sum(
        w[n] * abs(t[n] - c[j]) ** power * p[n, j]
        for n in range(len(p))
        for j in range(num_classes)
    )
    a = (w[:, None] * y).sum(0)
    b = (w[:, None] * p).sum(0)
    den = (
        sum(
            a[i] * abs(c[i] - c[j]) ** power * b[j]
            for i in range(num_classes)
            for j in range(num_classes)
        )
        / w.sum()
    )
    ratio = num / den if den else 0.0
    return np.log(ratio + epsilon)


def data(seed, n=17, c=5):
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(n, c))
    p = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    return rng.integers(0, c, size=n), p.astype(np.float32)


@pytest.mark.parametrize("weightage", ["linear", "quadratic"])
@pytest.mark.parametrize("num_classes", [2, 3, 5])
@pytest.mark.parametrize("epsilon", [1e-6, 1e-3])
def test_matches_reference(weightage, num_classes, epsilon):
    labels, p = data(num_classes, c=num_classes)
    expected = reference(labels, p, num_classes, weightage, epsilon)
    kwargs = {"num_classes": num_classes, "weightage": weightage, "epsilon": epsilon}
    got_sparse = float(weighted_kappa_loss(labels, p, **kwargs))
    got_onehot = float(WeightedKappaLoss(**kwargs)(np.eye(num_classes)[labels], p))
    np.testing.assert_allclose(got_sparse, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got_onehot, expected, rtol=1e-5, atol=1e-6)


def test_soft_targets_use_the_expected_label():
    _, p = data(3, n=9, c=4)
    rng = np.random.default_rng(7)
    soft = rng.dirichlet(np.ones(4), size=9)
    expected = reference(soft, p, 4, "quadratic", 1e-6)
    got = float(weighted_kappa_loss(soft.astype(np.float32), p, num_classes=4))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_sample_weight_weighs_rows_inside_the_statistic():
    labels, p = data(11)
    w = np.random.default_rng(5).uniform(0, 2, size=len(p))
    expected = reference(labels, p, 5, "linear", 1e-6, w)
    loss = WeightedKappaLoss(5, weightage="linear", reduction="sum")
    np.testing.assert_allclose(
        float(loss(labels, p, sample_weight=w)), expected, rtol=1e-5
    )
    # An integer weight is the row repeated.
    rep = np.array([2] + [1] * (len(p) - 1))
    doubled = float(loss(np.r_[labels[:1], labels], np.r_[p[:1], p]))
    np.testing.assert_allclose(
        float(loss(labels, p, sample_weight=rep)), doubled, rtol=1e-5
    )


def test_perfect_and_chance():
    y = np.array([0, 1, 2, 3])
    perfect = float(weighted_kappa_loss(y, np.eye(4, dtype="float32"), num_classes=4))
    np.testing.assert_allclose(perfect, np.log(1e-6), rtol=1e-5)
    uniform = np.full((4, 4), 0.25, "float32")
    chance = float(weighted_kappa_loss(y, uniform, num_classes=4))
    np.testing.assert_allclose(chance, np.log(1 + 1e-6), atol=1e-6)


def test_gradient_is_finite_under_jit():
    labels, p = data(2)
    loss = WeightedKappaLoss(5)
    model = keras.Sequential(
        [keras.Input((5,)), keras.layers.Dense(5, activation="softmax")]
    )
    model.compile("sgd", loss=loss, jit_compile=True)
    history = model.fit(p, labels, epochs=1, batch_size=17, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_config_round_trip():
    loss = WeightedKappaLoss(4, weightage="linear", epsilon=1e-3, name="k")
    config = loss.get_config()
    assert {k: config[k] for k in ("num_classes", "weightage", "epsilon")} == {
        "num_classes": 4,
        "weightage": "linear",
        "epsilon": 1e-3,
    }
    again = WeightedKappaLoss.from_config(config)
    assert again.get_config() == config
    assert keras.saving.get_registered_name(WeightedKappaLoss) == (
        "keras_components>WeightedKappaLoss"
    )


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"num_classes": 1}, ValueError, r"`num_classes`.*Received: num_classes=1"),
        ({"num_classes": 2.0}, TypeError, r"`num_classes`"),
        ({"num_classes": 3, "weightage": None}, ValueError, r"`weightage`.*None"),
        ({"num_classes": 3, "weightage": "cubic"}, ValueError, r"weightage='cubic'"),
        ({"num_classes": 3, "epsilon": 0.0}, ValueError, r"`epsilon`"),
    ],
)
def test_invalid_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        WeightedKappaLoss(**kwargs)


def test_keyword_only():
    with pytest.raises(TypeError):
        WeightedKappaLoss(3, "linear")


def test_bad_inputs():
    labels, p = data(1)
    with pytest.raises(ValueError, match=r"num_classes=4"):
        weighted_kappa_loss(labels, p, num_classes=4)
    with pytest.raises(ValueError, match=r"7"):
        weighted_kappa_loss(np.r_[labels[:-1], 7], p, num_classes=5)
    with pytest.raises(ValueError, match=r"y_pred"):
        weighted_kappa_loss(labels, p * 2, num_classes=5)
