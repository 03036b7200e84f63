"""LovaszLoss: the Lovász hinge and Lovász-softmax against a float64 NumPy reference.

The reference is written from the paper (Berman, Rannen Triki and Blaschko,
CVPR 2018, Algorithm 1 and eqs. 9-12): per group of positions (an image, or
the whole batch), ignored positions removed, each class's errors sorted in
decreasing order and weighted by the increments of the Jaccard loss of the
growing set of mispredicted positions, `|M| / |F u M|`, computed from the
sets themselves (not from the cumulative sums the implementation uses).
"""

from __future__ import annotations

import keras
import numpy as np
import pytest

from keras_components import LovaszLoss
from keras_components.losses import lovasz_loss
from tests.helpers import (
    assert_config_roundtrip,
    assert_keras_roundtrip,
    skip_without_float64,
    to_numpy,
    value_and_grad,
)
from tests.losses.common import (
    HALF_POLICIES,
    TRACED_MODES,
    assert_half_precision_input,
    assert_jit_equals_eager,
    assert_reductions,
    assert_trains,
    traced,
)

IGNORE = 255
TOL = {"rtol": 1e-5, "atol": 1e-6}


# --------------------------------------------------------------------------
# Float64 reference, from the paper
# --------------------------------------------------------------------------
def jaccard_set_loss(foreground: np.ndarray, errors: np.ndarray) -> float:
    """The Jaccard loss `|M| / |F u M|` of the mispredicted set M (eq. 3)."""
    union = np.sum(foreground | errors)
    return float(np.sum(errors) / union) if union else 0.0


def lovasz_extension_reference(errors: np.ndarray, foreground: np.ndarray) -> float:
    """`sum_i e_(i) (Delta(S_i) - Delta(S_(i-1)))` over errors sorted decreasing."""
    order = np.argsort(-errors, kind="stable")
    total, previous = 0.0, 0.0
    mispredicted = np.zeros(len(errors), bool)
    for i in order:
        mispredicted[i] = True
        current = jaccard_set_loss(foreground, mispredicted)
        total += errors[i] * (current - previous)
        previous = current
    return total


def soft_extension_reference(errors: np.ndarray, targets: np.ndarray) -> float:
    """The same extension with soft targets `g` in place of the 0/1 indicator.

    `Delta_i = 1 - (G - sum_(j<=i) g_j) / (G + sum_(j<=i) (1 - g_j))`, which is
    `|M| / |F u M|` for 0/1 targets (the documented generalisation).
    """
    order = np.argsort(-errors, kind="stable")
    g, e = targets[order], errors[order]
    total = g.sum()
    jaccard = 1 - (total - np.cumsum(g)) / (total + np.cumsum(1 - g))
    return float(np.sum(e * np.diff(jaccard, prepend=0.0)))


def groups(y_true, y_pred, per_image):
    """Flattened `(labels, predictions)` per group: each image, or the batch."""
    n, c = y_pred.shape[0], y_pred.shape[-1]
    labels = np.asarray(y_true, np.float64).reshape(n, -1)
    preds = np.asarray(y_pred, np.float64).reshape(n, -1, c)
    if per_image:
        return list(zip(labels, preds, strict=True))
    return [(labels.reshape(-1), preds.reshape(-1, c))]


def hinge_reference(y_true, logits, *, per_image, ignore_index=None):
    values = []
    for labels, z in groups(y_true, logits, per_image):
        keep = labels != ignore_index if ignore_index is not None else labels == labels
        labels, z = labels[keep], z[keep, 0]
        if labels.size == 0:
            values.append(0.0)
            continue
        errors = np.maximum(1.0 - z * (2.0 * labels - 1.0), 0.0)
        values.append(lovasz_extension_reference(errors, labels == 1))
    return np.array(values) if per_image else values[0]


def softmax_reference(
    y_true, y_pred, *, per_image, classes="present", ignore_index=None, logits=False
):
    y_pred = np.asarray(y_pred, np.float64)
    if logits:
        y_pred = np.exp(y_pred - y_pred.max(-1, keepdims=True))
        y_pred /= y_pred.sum(-1, keepdims=True)
    values = []
    for labels, probs in groups(y_true, y_pred, per_image):
        keep = labels != ignore_index if ignore_index is not None else labels == labels
        labels, probs = labels[keep], probs[keep]
        losses = []
        for c in range(probs.shape[-1]):
            foreground = labels == c
            if classes == "present" and not foreground.any():
                continue
            errors = np.abs(foreground - probs[:, c])
            losses.append(lovasz_extension_reference(errors, foreground))
        values.append(np.mean(losses) if losses else 0.0)
    return np.array(values) if per_image else values[0]


# --------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------
@pytest.fixture
def data():
    rng = np.random.default_rng(11)
    n, h, w, c = 4, 6, 5, 3
    logits = rng.standard_normal((n, h, w, c)).astype(np.float32) * 2
    probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    labels = rng.integers(0, c, (n, h, w))
    labels[0] = np.where(labels[0] == 2, 0, labels[0])  # image 0 lacks class 2
    ignored = labels.copy()
    ignored[rng.random((n, h, w)) < 0.25] = IGNORE
    ignored[3] = IGNORE  # image 3 fully ignored
    masks = (rng.random((n, h, w)) < 0.4).astype(np.int64)
    masked = masks.copy()
    masked[rng.random((n, h, w)) < 0.25] = IGNORE
    binary_logits = rng.standard_normal((n, h, w, 1)).astype(np.float32) * 2
    return {
        "logits": logits,
        "probs": probs.astype(np.float32),
        "labels": labels,
        "one_hot": np.eye(c, dtype=np.float32)[labels],
        "ignored": ignored,
        "masks": masks,
        "masked": masked,
        "binary_logits": binary_logits,
    }


# --------------------------------------------------------------------------
# Values
# --------------------------------------------------------------------------
@pytest.mark.parametrize("per_image", [True, False])
@pytest.mark.parametrize("ignore", [False, True])
def test_hinge_equals_reference(data, per_image, ignore):
    y_true = data["masked"] if ignore else data["masks"]
    index = IGNORE if ignore else None
    expected = hinge_reference(
        y_true, data["binary_logits"], per_image=per_image, ignore_index=index
    )
    got = lovasz_loss(
        y_true,
        data["binary_logits"],
        from_logits=True,
        per_image=per_image,
        ignore_index=index,
    )
    np.testing.assert_allclose(to_numpy(got), expected, **TOL)
    # The channel axis on y_true, and explicit binary mode, change nothing.
    loss = LovaszLoss(
        mode="binary", from_logits=True, per_image=per_image, ignore_index=index
    )
    np.testing.assert_allclose(
        to_numpy(loss(y_true[..., None], data["binary_logits"])),
        np.mean(expected),
        **TOL,
    )


@pytest.mark.parametrize("per_image", [True, False])
@pytest.mark.parametrize("classes", ["present", "all"])
@pytest.mark.parametrize("ignore", [False, True])
def test_softmax_equals_reference(data, per_image, classes, ignore):
    y_true = data["ignored"] if ignore else data["labels"]
    index = IGNORE if ignore else None
    kwargs = {"per_image": per_image, "classes": classes, "ignore_index": index}
    expected = softmax_reference(y_true, data["probs"], **kwargs)
    got = lovasz_loss(y_true, data["probs"], **kwargs)
    np.testing.assert_allclose(to_numpy(got), expected, **TOL)
    from_logits = lovasz_loss(y_true, data["logits"], from_logits=True, **kwargs)
    np.testing.assert_allclose(
        to_numpy(from_logits),
        softmax_reference(y_true, data["logits"], logits=True, **kwargs),
        **TOL,
    )


def test_fully_ignored_image_and_absent_classes(data):
    got = to_numpy(
        lovasz_loss(data["ignored"], data["probs"], per_image=True, ignore_index=IGNORE)
    )
    assert got[3] == 0.0  # every position ignored
    assert np.all(got[:3] > 0)
    # Image 0 has no class 2: "present" leaves it out of the mean, "all" not.
    present = softmax_reference(data["labels"][:1], data["probs"][:1], per_image=True)
    every = softmax_reference(
        data["labels"][:1], data["probs"][:1], per_image=True, classes="all"
    )
    assert not np.isclose(present, every)


def test_dense_one_hot_targets_equal_sparse_labels(data):
    for per_image in (True, False):
        np.testing.assert_allclose(
            to_numpy(lovasz_loss(data["one_hot"], data["probs"], per_image=per_image)),
            to_numpy(lovasz_loss(data["labels"], data["probs"], per_image=per_image)),
            **TOL,
        )
        sparse = data["labels"][..., None]
        np.testing.assert_allclose(
            to_numpy(lovasz_loss(sparse, data["probs"], per_image=per_image)),
            to_numpy(lovasz_loss(data["labels"], data["probs"], per_image=per_image)),
            **TOL,
        )


def test_soft_targets_follow_the_documented_generalisation(data):
    smoothed = data["one_hot"] * 0.9 + 0.1 / 3
    got = to_numpy(lovasz_loss(smoothed, data["probs"], per_image=True))
    flat_t = smoothed.reshape(4, -1, 3).astype(np.float64)
    flat_p = data["probs"].reshape(4, -1, 3).astype(np.float64)
    expected = [
        np.mean(
            [
                soft_extension_reference(np.abs(t[:, c] - p[:, c]), t[:, c])
                for c in range(3)
            ]
        )
        for t, p in zip(flat_t, flat_p, strict=True)
    ]
    np.testing.assert_allclose(got, expected, **TOL)
    # With hard targets the generalisation is the paper's set formula.
    hard = np.mean(
        [
            soft_extension_reference(
                np.abs(flat_t[0, :, c].round() - flat_p[0, :, c]),
                (data["labels"][0].reshape(-1) == c).astype(np.float64),
            )
            for c in range(3)
            if (data["labels"][0] == c).any()
        ]
    )
    np.testing.assert_allclose(
        hard,
        softmax_reference(data["labels"][:1], data["probs"][:1], per_image=True)[0],
    )


def test_float64_inputs_and_dtype(data):
    skip_without_float64()
    got = lovasz_loss(data["labels"], data["probs"].astype(np.float64), per_image=True)
    assert keras.backend.standardize_dtype(got.dtype) == "float64"
    expected = softmax_reference(data["labels"], data["probs"], per_image=True)
    np.testing.assert_allclose(to_numpy(got), expected, rtol=1e-6)
    loss = LovaszLoss(per_image=True, dtype="float64")
    np.testing.assert_allclose(
        to_numpy(loss(data["labels"], data["probs"])), np.mean(expected), rtol=1e-6
    )


def test_perfect_prediction_is_zero(data):
    for per_image in (True, False):
        got = lovasz_loss(data["labels"], data["one_hot"], per_image=per_image)
        assert np.all(to_numpy(got) == 0.0)
        # Logits on the right side with margin >= 1: every hinge error is 0.
        logits = np.where(data["masks"] == 1, 3.0, -1.0)[..., None]
        got = lovasz_loss(data["masks"], logits, from_logits=True, per_image=per_image)
        assert np.all(to_numpy(got) == 0.0)


def test_per_image_reductions_and_sample_weight(data):
    expected = softmax_reference(data["labels"], data["probs"], per_image=True)
    assert_reductions(
        lambda **kw: LovaszLoss(per_image=True, **kw),
        data["labels"],
        data["probs"],
        expected,
    )


def test_per_batch_is_one_value(data):
    loss = LovaszLoss(reduction=None)
    got = to_numpy(loss(data["labels"], data["probs"]))
    assert got.shape == ()
    np.testing.assert_allclose(
        got, softmax_reference(data["labels"], data["probs"], per_image=False), **TOL
    )
    with pytest.raises(ValueError, match=r"argument `sample_weight`.*per_image=True"):
        LovaszLoss()(data["labels"], data["probs"], sample_weight=np.ones(4))


def test_sample_weight_errors_name_static_shapes(data):
    """Inside `fit` the message shows a static shape, not a symbolic tensor."""
    images = data["probs"].shape[0]
    pixels = np.ones(data["probs"].shape[:-1])
    with pytest.raises(ValueError, match=r"one weight per image.*\(N,\)"):
        LovaszLoss(per_image=True)(data["labels"], data["probs"], sample_weight=pixels)
    got = LovaszLoss(per_image=True)(
        data["labels"], data["probs"], sample_weight=np.ones((images, 1))
    )
    assert np.isfinite(to_numpy(got))
    inputs = keras.Input(data["probs"].shape[1:])
    model = keras.Model(inputs, keras.layers.Softmax()(inputs))
    model.compile(loss=LovaszLoss())
    static = rf"sample_weight of shape \((None|{images}),\)"
    with pytest.raises(ValueError, match=static):
        model.fit(
            data["probs"],
            data["labels"],
            sample_weight=np.ones(images),
            verbose=0,
        )


# --------------------------------------------------------------------------
# Gradients and compilation
# --------------------------------------------------------------------------
def test_gradient_is_finite_and_nonzero_at_extreme_logits(data):
    # Binary: logits of 1e4 on the wrong side; the hinge's slope stays 1.
    logits = np.where(data["masks"] == 1, -1e4, 1e4)[..., None].astype(np.float32)
    for per_image in (True, False):
        loss = LovaszLoss(from_logits=True, per_image=per_image)
        value, grad = value_and_grad(
            lambda z, loss=loss: loss(data["masks"], z), logits
        )
        assert np.isfinite(value).all()
        assert np.isfinite(grad).all()
        assert np.any(grad != 0)
    # Multiclass: saturated softmax logits give a finite gradient (softmax
    # vanishes there, as in the paper's formulation), non-zero while float32
    # still resolves the probabilities.
    for scale in (10.0, 1e4):
        z = (data["logits"] * scale).astype(np.float32)
        value, grad = value_and_grad(
            lambda q: lovasz_loss(data["labels"], q, from_logits=True, per_image=True),
            z,
        )
        assert np.isfinite(value).all()
        assert np.isfinite(grad).all()
        if scale == 10.0:
            assert np.any(grad != 0)


def test_gradient_matches_the_lovasz_weights(data):
    """d loss / d logit of the hinge is -sign * weight of the sorted position."""
    y, z = data["masks"][:1], data["binary_logits"][:1]
    _, grad = value_and_grad(
        lambda q: lovasz_loss(y, q, from_logits=True, per_image=True), z
    )
    eps = 1e-3
    z64 = z.astype(np.float64)
    numeric = np.zeros_like(z64)
    for index in np.ndindex(z64.shape):
        up, down = z64.copy(), z64.copy()
        up[index] += eps
        down[index] -= eps
        numeric[index] = (
            hinge_reference(y, up, per_image=True)[0]
            - hinge_reference(y, down, per_image=True)[0]
        ) / (2 * eps)
    np.testing.assert_allclose(grad, numeric, atol=2e-3)


@pytest.mark.parametrize("per_image", [True, False])
def test_jit_equals_eager(data, per_image):
    assert_jit_equals_eager(
        LovaszLoss(from_logits=True, per_image=per_image, ignore_index=IGNORE),
        data["ignored"],
        data["logits"],
    )
    assert_jit_equals_eager(
        LovaszLoss(from_logits=True, per_image=per_image, ignore_index=IGNORE),
        data["masked"],
        data["binary_logits"],
    )


@pytest.mark.parametrize("mixed_precision_policy", HALF_POLICIES, indirect=True)
def test_mixed_precision(data, mixed_precision_policy):
    assert_half_precision_input(
        lambda **kw: LovaszLoss(
            from_logits=True, per_image=True, ignore_index=IGNORE, **kw
        ),
        data["ignored"],
        data["logits"],
        mixed_precision_policy,
    )


def segmentation_data():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((48, 8, 8, 3)).astype(np.float32)
    y = np.argmax(x + 0.3 * rng.standard_normal(x.shape), axis=-1)
    return x, y


def segmenter(channels, name="segmenter"):
    inputs = keras.Input((8, 8, 3))
    hidden = keras.layers.Conv2D(8, 3, padding="same", activation="relu")(inputs)
    return keras.Model(inputs, keras.layers.Conv2D(channels, 1)(hidden), name=name)


@pytest.mark.parametrize("per_image", [True, False])
def test_training_lowers_the_loss(per_image):
    x, y = segmentation_data()
    assert_trains(segmenter(3), LovaszLoss(from_logits=True, per_image=per_image), x, y)
    mask = (y == 0).astype(np.int64)
    assert_trains(
        segmenter(1), LovaszLoss(from_logits=True, per_image=per_image), x, mask
    )


# --------------------------------------------------------------------------
# Serialization
# --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "loss",
    [
        LovaszLoss(),
        LovaszLoss(
            mode="binary",
            from_logits=True,
            per_image=True,
            classes="all",
            ignore_index=IGNORE,
            reduction="sum",
            name="lv",
            dtype="float64",
        ),
    ],
)
def test_config_roundtrip(loss):
    assert_config_roundtrip(loss)


def test_function_is_registered():
    assert (
        keras.saving.get_registered_name(lovasz_loss) == "keras_components>lovasz_loss"
    )


def test_model_roundtrips(tmp_path):
    x, y = segmentation_data()
    model = segmenter(3, "lovasz_model")
    loss = LovaszLoss(from_logits=True, per_image=True, ignore_index=IGNORE)
    model.compile(optimizer="adam", loss=loss)
    model.fit(x, y, epochs=1, verbose=0)
    loaded = assert_keras_roundtrip(model, x, tmp_path)
    assert loaded.loss.get_config() == loss.get_config()


# --------------------------------------------------------------------------
# Bad arguments and inputs
# --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"mode": "multilabel"}, ValueError, r"argument `mode`.*mode='multilabel'"),
        ({"from_logits": "yes"}, TypeError, r"argument `from_logits`.*a bool"),
        ({"per_image": 1}, TypeError, r"argument `per_image`.*per_image=1"),
        ({"classes": [0, 1]}, ValueError, r"argument `classes`.*'present'"),
        ({"ignore_index": 1.5}, TypeError, r"argument `ignore_index`"),
        (
            {"mode": "binary"},
            ValueError,
            r"argument `from_logits`. Expected True in binary mode.*"
            r"Received: from_logits=False",
        ),
        ({"reduction": "max"}, ValueError, "reduction"),
        ({"dtype": "int32"}, ValueError, r"argument `dtype`"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        LovaszLoss(**kwargs)
    if "reduction" not in kwargs and "dtype" not in kwargs:
        with pytest.raises(error, match=match):
            lovasz_loss(np.zeros((1, 2, 2)), np.zeros((1, 2, 2, 2)), **kwargs)


def test_bad_inputs_named_at_call(data):
    # Auto mode resolving to binary needs logits.
    with pytest.raises(ValueError, match=r"`from_logits`. Expected True in binary"):
        LovaszLoss()(data["masks"], data["binary_logits"])
    with pytest.raises(ValueError, match=r"binary mode.*y_pred.shape=\(4, 6, 5, 3\)"):
        LovaszLoss(mode="binary", from_logits=True)(data["labels"], data["probs"])
    with pytest.raises(ValueError, match=r"multiclass.*y_pred.shape=\(4, 6, 5, 1\)"):
        LovaszLoss(mode="multiclass")(data["masks"], data["binary_logits"])
    with pytest.raises(ValueError, match=r"per_image=True.*y_pred.shape=\(4, 3\)"):
        LovaszLoss(per_image=True)(data["labels"][:, 0, 0], data["probs"][:, 0, 0])
    # Without a spatial axis the batch's rows are one group.
    rows = LovaszLoss()(data["labels"][:, 0, 0], data["probs"][:, 0, 0])
    assert np.isfinite(to_numpy(rows))
    with pytest.raises(ValueError, match=r"\[0, 3\).*ignore_index=255"):
        LovaszLoss()(data["ignored"], data["probs"])
    with pytest.raises(ValueError, match=r"\[0, 1\].*from_logits=True"):
        LovaszLoss()(data["labels"], data["logits"])
    with pytest.raises(ValueError, match=r"y_true.*\[0, 1\]"):
        LovaszLoss(from_logits=True)(data["masks"] * 2, data["binary_logits"])
    with pytest.raises(ValueError, match=r"y_true.shape=\(4, 6, 4\)"):
        LovaszLoss()(data["labels"][:, :, :4], data["probs"])
    with pytest.raises(ValueError, match=r"multi-hot|sum to 1"):
        LovaszLoss()(np.ones_like(data["one_hot"]), data["probs"])
    with pytest.raises(TypeError, match="y_pred"):
        LovaszLoss()(data["labels"], data["probs"].astype(np.complex64))


@pytest.mark.parametrize("run_mode", TRACED_MODES)
def test_invalid_input_gives_nan_while_traced(data, run_mode):
    labels = data["labels"].copy()
    labels[1, 0, 0] = 7
    per_image = traced(lambda y, p: lovasz_loss(y, p, per_image=True), run_mode)
    got = per_image(labels, data["probs"])
    assert np.isnan(got[1])
    assert np.isfinite(got[[0, 2, 3]]).all()
    batch = traced(lambda y, p: lovasz_loss(y, p), run_mode)
    assert np.isnan(batch(labels, data["probs"]))
    # Logits without from_logits=True, NaN logits, binary targets outside [0, 1].
    assert np.isnan(per_image(data["labels"], data["logits"] * 3)).all()
    nan_logits = data["binary_logits"].copy()
    nan_logits[2, 0, 0, 0] = np.nan
    hinge = traced(
        lambda y, p: lovasz_loss(y, p, from_logits=True, per_image=True), run_mode
    )
    got = hinge(data["masks"], nan_logits)
    assert np.isnan(got[2])
    assert np.isfinite(got[[0, 1, 3]]).all()
    masks = data["masks"].copy()
    masks[0, 1, 1] = 2
    got = hinge(masks, data["binary_logits"])
    assert np.isnan(got[0])
    assert np.isfinite(got[1:]).all()


@pytest.mark.tensorflow_only  # tf.TensorSpec: a static shape of unknown dimensions
@pytest.mark.parametrize("per_image", [True, False])
def test_targets_of_unknown_static_shape_score_as_eagerly(data, per_image):
    """Masks from a `tf.data` pipeline of any size (every dimension of
    `y_true` unknown) take their grouping from `y_pred`'s known class axis:
    the traced loss equals the eager one (it failed to trace before)."""
    import tensorflow as tf

    cases = [
        (LovaszLoss(per_image=per_image), data["labels"], data["probs"]),
        (LovaszLoss(per_image=per_image), data["one_hot"], data["probs"]),
        (
            LovaszLoss(from_logits=True, per_image=per_image),
            data["masks"][..., None],
            data["binary_logits"],
        ),
        (
            LovaszLoss(from_logits=True, per_image=per_image),
            data["masks"],
            data["binary_logits"],
        ),
    ]
    for loss, y_true, y_pred in cases:
        y_true = y_true.astype(np.float32)
        spec_true = tf.TensorSpec([None] * y_true.ndim, tf.float32)
        spec_pred = tf.TensorSpec([None] * (y_pred.ndim - 1) + [y_pred.shape[-1]])
        graph = tf.function(loss.__call__, input_signature=[spec_true, spec_pred])
        np.testing.assert_allclose(
            to_numpy(graph(y_true, y_pred)), to_numpy(loss(y_true, y_pred)), **TOL
        )
