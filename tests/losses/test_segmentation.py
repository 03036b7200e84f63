"""Dice, Jaccard and Tversky losses against a float64 NumPy reference."""

import keras
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keras_components import DiceLoss, JaccardLoss, TverskyLoss
from keras_components.losses import dice_loss, jaccard_loss, tversky_loss
from tests.helpers import (
    EXPORT_FORMATS,
    assert_config_roundtrip,
    assert_exports,
    assert_keras_roundtrip,
    runs_eagerly_in_model,
    to_numpy,
    value_and_grad,
    value_and_grad_tensors,
)
from tests.losses.common import (
    HALF_POLICIES,
    TRACED_MODES,
    assert_half_precision_input,
    assert_jit_equals_eager,
    assert_reductions,
    assert_trains,
    assert_value_and_gradient_finite,
    evaluate_on_predictions,
    traced,
)

IGNORE = 255
TOL = {"rtol": 1e-5, "atol": 1e-6}


# --------------------------------------------------------------------------
# float64 reference, written from DESIGN.md
# --------------------------------------------------------------------------
def region_ref(
    y,
    p,
    kind,
    *,
    smooth=1e-5,
    alpha=0.5,
    beta=0.5,
    gamma=1.0,
    class_weights=None,
    include_background=True,
    keep=None,
):
    """Per-sample loss from one-hot / multi-hot `y` and probabilities `p`.

    `keep` (positions, or cells of `y`'s shape) removes entries from I, T, P.
    """
    y = np.asarray(y, np.float64)
    p = np.asarray(p, np.float64)
    if keep is not None:
        k = keep if keep.ndim == y.ndim else keep[..., None]
        y, p = y * k, p * k
    axes = tuple(range(1, y.ndim - 1))
    i, t, q = (y * p).sum(axes), y.sum(axes), p.sum(axes)
    if kind == "dice":
        num, den = 2 * i + smooth, t + q + smooth
    elif kind == "jaccard":
        num, den = i + smooth, t + q - i + smooth
    else:
        num, den = i + smooth, i + alpha * (q - i) + beta * (t - i) + smooth
    with np.errstate(invalid="ignore", divide="ignore"):
        score = np.where(den > 0, num / den, 1.0)  # empty vs empty scores 1
    per_class = (1.0 - score) ** (gamma if kind == "tversky" else 1.0)
    w = np.ones(y.shape[-1]) if class_weights is None else np.array(class_weights)
    if not include_background:
        w = w.copy()
        w[0] = 0.0
    return (per_class * w).sum(-1) / w.sum()


def softmax(z):
    z = np.asarray(z, np.float64)
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-np.asarray(z, np.float64)))


def one_hot(labels, c):
    return np.eye(c)[labels]


KINDS = {
    "dice": (DiceLoss, dice_loss, {}),
    "jaccard": (JaccardLoss, jaccard_loss, {}),
    "tversky": (TverskyLoss, tversky_loss, {"alpha": 0.3, "beta": 0.7, "gamma": 1.5}),
}


def make(kind, **kwargs):
    cls, _, extra = KINDS[kind]
    return cls(**extra, **kwargs)


def ref(kind, y, p, **kwargs):
    return region_ref(y, p, kind, **KINDS[kind][2], **kwargs)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    logits = (2.0 * rng.standard_normal((4, 8, 8, 3))).astype(np.float32)
    labels = rng.integers(0, 3, (4, 8, 8))
    ignored = np.where(rng.uniform(size=labels.shape) < 0.25, IGNORE, labels)
    multi_hot = rng.integers(0, 2, (4, 8, 8, 3)).astype(np.float32)
    multi_ignored = np.where(rng.uniform(size=multi_hot.shape) < 0.2, IGNORE, multi_hot)
    return {
        "logits": logits,
        "probs": softmax(logits).astype(np.float32),
        "labels": labels,
        "one_hot": one_hot(labels, 3).astype(np.float32),
        "ignored": ignored,
        "multi_hot": multi_hot,
        "multi_ignored": multi_ignored.astype(np.float32),
        "bin_logits": logits[..., :1],
        "bin_targets": multi_hot[..., 0],
        "vol_labels": rng.integers(0, 3, (2, 4, 4, 4)),
        "vol_logits": rng.standard_normal((2, 4, 4, 4, 3)).astype(np.float32),
        "flat_labels": rng.integers(0, 4, 8),
        "flat_probs": softmax(rng.standard_normal((8, 4))).astype(np.float32),
    }


# --------------------------------------------------------------------------
# Equal to the reference per sample and class
# --------------------------------------------------------------------------
@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize(
    "case",
    [
        "multiclass-sparse-logits",
        "multiclass-onehot-probs",
        "binary-logits",
        "multilabel-probs",
        "volume",
        "no-spatial-axes",
        "weighted-no-background",
    ],
)
def test_equals_reference(data, kind, case):
    kwargs, ref_kwargs = {}, {}
    if case == "multiclass-sparse-logits":
        y_true, y_pred = data["labels"], data["logits"]
        y_ref, p_ref = data["one_hot"], softmax(data["logits"])
        kwargs["from_logits"] = True
    elif case == "multiclass-onehot-probs":
        y_true, y_pred = data["one_hot"], data["probs"]
        y_ref, p_ref = y_true, y_pred
    elif case == "binary-logits":
        y_true, y_pred = data["bin_targets"], data["bin_logits"]
        y_ref, p_ref = y_true[..., None], sigmoid(y_pred)
        kwargs["from_logits"] = True
    elif case == "multilabel-probs":
        y_true, y_pred = data["multi_hot"], sigmoid(data["logits"]).astype(np.float32)
        y_ref, p_ref = y_true, y_pred
        kwargs["mode"] = "multilabel"
    elif case == "volume":
        y_true, y_pred = data["vol_labels"][..., None], data["vol_logits"]
        y_ref, p_ref = one_hot(data["vol_labels"], 3), softmax(y_pred)
        kwargs["from_logits"] = True
    elif case == "no-spatial-axes":
        y_true, y_pred = data["flat_labels"], data["flat_probs"]
        y_ref, p_ref = one_hot(y_true, 4), y_pred
    else:
        y_true, y_pred = data["labels"], data["probs"]
        y_ref, p_ref = data["one_hot"], y_pred
        kwargs = ref_kwargs = {
            "class_weights": [5.0, 2.0, 0.5],
            "include_background": False,
            "smooth": 1.0,
        }
    got = to_numpy(make(kind, reduction=None, **kwargs)(y_true, y_pred))
    expected = ref(kind, y_ref, p_ref, **ref_kwargs)
    assert got.shape == (y_pred.shape[0],)
    np.testing.assert_allclose(got, expected, **TOL)
    # The function and the class agree.
    fn = KINDS[kind][1]
    np.testing.assert_array_equal(
        to_numpy(fn(y_true, y_pred, **KINDS[kind][2], **kwargs)), got
    )


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("case", ["multiclass", "multilabel", "binary"])
def test_ignore_index_removes_positions(data, kind, case):
    if case == "multiclass":
        y_true, y_pred = data["ignored"], data["probs"]
        keep = y_true != IGNORE
        y_ref = one_hot(np.where(keep, y_true, 0), 3)
        mode = "auto"
    elif case == "multilabel":
        y_true, y_pred = data["multi_ignored"], data["probs"]
        keep = y_true != IGNORE
        y_ref, mode = np.where(keep, y_true, 0), "multilabel"
    else:
        y_true, y_pred = data["multi_ignored"][..., 0], data["probs"][..., :1]
        keep = y_true != IGNORE
        y_ref, mode = np.where(keep, y_true, 0)[..., None], "binary"
    loss = make(kind, mode=mode, ignore_index=IGNORE, reduction=None)
    np.testing.assert_allclose(
        to_numpy(loss(y_true, y_pred)),
        ref(kind, y_ref, y_pred, keep=keep),
        **TOL,
    )


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**31), binary=st.booleans())
def test_property_ignored_positions_equal_the_subset(seed, binary):
    rng = np.random.default_rng(seed)
    c = 1 if binary else 3
    logits = rng.standard_normal((3, 10, c)).astype(np.float32)
    labels = rng.integers(0, 2 if binary else c, (3, 10))
    dropped = rng.uniform(size=(3, 10)) < 0.4
    masked = np.where(dropped, -1, labels)
    loss = DiceLoss(from_logits=True, ignore_index=-1, reduction=None)
    got = to_numpy(loss(masked, logits))
    for n in range(3):
        kept = ~dropped[n]
        subset = DiceLoss(from_logits=True, reduction=None)(
            labels[n][kept][None], logits[n][kept][None]
        )
        np.testing.assert_allclose(got[n], to_numpy(subset)[0], rtol=1e-5, atol=1e-6)


# --------------------------------------------------------------------------
# Special cases: empty, perfect, disjoint, Tversky = Dice
# --------------------------------------------------------------------------
@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("smooth", [1e-5, 0.0])
def test_empty_mask_predicted_empty_is_perfect(kind, smooth):
    y_true = np.zeros((2, 8, 8))
    y_pred = np.zeros((2, 8, 8, 1), np.float32)
    value, grad = value_and_gradient(make(kind, smooth=smooth), y_true, y_pred)
    assert value == 0.0
    assert np.isfinite(grad).all()


@pytest.mark.parametrize("kind", list(KINDS))
def test_empty_masks_predicted_empty_score_perfectly_one_hot_input(kind):
    """Empty vs empty is a perfect score (0), per the float64 reference.

    (Keras 3.15's `Dice` / `Tversky` give 1.0 here; that comparison lives in
    the claims script, not in this package's tests.)
    """
    y = np.zeros((2, 8, 8, 1), np.float32)
    got = to_numpy(make(kind, reduction=None)(y, y))
    np.testing.assert_array_equal(got, ref(kind, y, y))
    np.testing.assert_array_equal(got, 0.0)


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("mode", ["multiclass", "multilabel", "binary"])
def test_perfect_prediction_is_zero(data, kind, mode):
    if mode == "binary":
        y_true = data["bin_targets"]
        y_pred = y_true[..., None]
    elif mode == "multilabel":
        y_true = y_pred = data["multi_hot"]
    else:
        y_true, y_pred = data["labels"], data["one_hot"]
    assert to_numpy(make(kind, mode=mode, reduction="sum")(y_true, y_pred)) == 0.0
    if kind == "tversky":  # gamma < 1: infinite slope at 0, still a finite gradient
        loss = TverskyLoss(gamma=0.5, mode=mode)
        _, grad = value_and_gradient(loss, y_true, y_pred)
        assert np.isfinite(grad).all()


@pytest.mark.parametrize("kind", list(KINDS))
def test_disjoint_masks_give_one(kind):
    y_true = np.zeros((2, 8, 8))
    y_true[:, :4] = 1
    y_pred = (1.0 - y_true)[..., None]
    got = to_numpy(make(kind, reduction=None)(y_true, y_pred))
    np.testing.assert_allclose(got, 1.0, atol=1e-6)


@settings(max_examples=20, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    mode=st.sampled_from(["binary", "multiclass", "multilabel"]),
    spatial=st.lists(st.integers(1, 5), min_size=0, max_size=3),
    smooth=st.sampled_from([0.0, 1e-5, 1.0]),
)
def test_property_tversky_half_half_is_dice_jaccard_is_d_over_2_minus_d(
    seed, mode, spatial, smooth
):
    rng = np.random.default_rng(seed)
    c = 1 if mode == "binary" else 3
    shape = (2, *spatial, c)
    y_pred = rng.uniform(size=shape).astype(np.float32)
    if mode == "multiclass":
        y_true = rng.integers(0, c, shape[:-1])
    else:
        y_true = rng.integers(0, 2, shape).astype(np.float32)
    kwargs = {"mode": mode, "smooth": smooth, "reduction": None}
    dice = to_numpy(DiceLoss(**kwargs)(y_true, y_pred))
    # DESIGN adds s to 2I in Dice but to I in Tversky: equal with smooth 2s.
    kwargs["smooth"] = smooth / 2
    tversky = to_numpy(TverskyLoss(0.5, 0.5, 1.0, **kwargs)(y_true, y_pred))
    np.testing.assert_allclose(tversky, dice, rtol=1e-5, atol=1e-6)
    kwargs["smooth"] = smooth
    if smooth == 0.0 and c == 1:  # J = D / (2 - D) per class
        score = 1.0 - dice
        jaccard = to_numpy(JaccardLoss(**kwargs)(y_true, y_pred))
        np.testing.assert_allclose(
            1.0 - jaccard, score / (2.0 - score), rtol=1e-5, atol=1e-6
        )


@pytest.mark.parametrize("mode", ["binary", "multiclass", "multilabel"])
def test_tversky_half_half_equals_dice_at_default_smoothing(data, mode):
    """Same `smooth`: equal up to s / (T + P), below 1e-6 on 8x8 masks."""
    if mode == "binary":
        y_true, y_pred = data["bin_targets"], data["probs"][..., :1]
    elif mode == "multilabel":
        y_true, y_pred = data["multi_hot"], data["probs"]
    else:
        y_true, y_pred = data["labels"], data["probs"]
    np.testing.assert_allclose(
        to_numpy(TverskyLoss(mode=mode, reduction=None)(y_true, y_pred)),
        to_numpy(DiceLoss(mode=mode, reduction=None)(y_true, y_pred)),
        rtol=0,
        atol=1e-6,
    )


def test_tversky_alpha_weighs_false_positives():
    y_true = np.zeros((1, 8, 1), np.float32)
    y_true[0, :4] = 1
    y_pred = np.ones((1, 8, 1), np.float32)  # 4 true positives, 4 false positives
    only_fp = float(TverskyLoss(alpha=1.0, beta=0.0)(y_true, y_pred))
    only_fn = float(TverskyLoss(alpha=0.0, beta=1.0)(y_true, y_pred))
    np.testing.assert_allclose(only_fp, 4 / 8, rtol=1e-5)  # 1 - 4 / (4 + 4)
    np.testing.assert_allclose(only_fn, 0.0, atol=1e-6)
    for alpha, beta, value in ((1.0, 0.0, only_fp), (0.0, 1.0, only_fn)):
        expected = region_ref(y_true, y_pred, "tversky", alpha=alpha, beta=beta)
        np.testing.assert_allclose(value, expected.mean(), rtol=1e-5, atol=1e-6)


# --------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("make_loss", "error", "match"),
    [
        (lambda: DiceLoss(smooth=-1.0), ValueError, r"`smooth`. Expected .*>= 0"),
        (lambda: DiceLoss(class_weights=[1.0, -1.0]), ValueError, "`class_weights`"),
        (lambda: DiceLoss(class_weights=[0.0, 0.0]), ValueError, "`class_weights`"),
        (lambda: DiceLoss(class_weights="ab"), TypeError, "`class_weights`"),
        (lambda: DiceLoss(mode="softmax"), ValueError, "`mode`"),
        (lambda: DiceLoss(from_logits="no"), TypeError, "`from_logits`"),
        (
            lambda: DiceLoss(mode="binary", include_background=False),
            ValueError,
            "`include_background`",
        ),
        (lambda: JaccardLoss(ignore_index="255"), TypeError, "`ignore_index`"),
        (lambda: TverskyLoss(alpha=-0.1), ValueError, "`alpha`"),
        (lambda: TverskyLoss(alpha=0.0, beta=0.0), ValueError, r"alpha \+ beta > 0"),
        (lambda: TverskyLoss(gamma=0.0), ValueError, r"`gamma`. Expected .*> 0"),
    ],
)
def test_bad_arguments(make_loss, error, match):
    with pytest.raises(error, match=match):
        make_loss()


def test_bad_inputs_named_at_call(data):
    labels, probs = data["labels"], data["probs"]
    with pytest.raises(ValueError, match=r"`class_weights`. Expected a sequence of 3"):
        DiceLoss(class_weights=[1.0, 2.0])(labels, probs)
    with pytest.raises(ValueError, match=r"\[0, 3\).*Received values: \[3\]"):
        DiceLoss()(np.where(labels == 0, 3, labels), probs)
    with pytest.raises(ValueError, match=r"y_true.shape=\(4, 8, 7\)"):
        DiceLoss()(labels[..., :7], probs)
    with pytest.raises(ValueError, match=r"binary mode.*y_pred.shape=\(4, 8, 8, 3\)"):
        DiceLoss(mode="binary")(labels, probs)
    with pytest.raises(ValueError, match=r"multiclass.*y_pred.shape=\(4, 8, 8, 1\)"):
        DiceLoss(mode="multiclass")(labels, probs[..., :1])
    with pytest.raises(ValueError, match="`include_background`"):
        DiceLoss(include_background=False)(labels, probs[..., :1])  # auto: binary
    with pytest.raises(ValueError, match=r"y_true.shape=\(4, 8, 8\)"):
        DiceLoss(mode="multilabel")(labels, probs)  # multilabel needs multi-hot
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        DiceLoss()(data["bin_targets"] * 2, probs[..., :1])
    with pytest.raises(ValueError, match="`class_weights`"):
        DiceLoss(class_weights=[1.0, 0.0, 0.0], include_background=False)(labels, probs)


def test_invalid_labels_give_nan_while_traced(data):
    labels = data["labels"].copy()
    labels[1, 0, 0] = 7
    got = traced(lambda y, p: dice_loss(y, p), "graph")(labels, data["probs"])
    assert np.isnan(got[1])
    assert np.isfinite(got[[0, 2, 3]]).all()


# --------------------------------------------------------------------------
# Invalid predictions and targets: eager ValueError, traced NaN (never the
# finite number the formula would give)
# --------------------------------------------------------------------------
MODES_DATA = {
    "multiclass": ("labels", "probs", "logits"),
    "multilabel": ("multi_hot", "multi_probs", "logits"),
    "binary": ("bin_targets", "bin_probs", "bin_logits"),
}


@pytest.fixture(scope="module")
def mode_data(data):
    extra = {
        "multi_probs": sigmoid(data["logits"]).astype(np.float32),
        "bin_probs": sigmoid(data["bin_logits"]).astype(np.float32),
    }
    return {**data, **extra}


def inputs_for(mode_data, mode, from_logits):
    targets, probs, logits = MODES_DATA[mode]
    y_pred = mode_data[logits if from_logits else probs].copy()
    return mode_data[targets], y_pred


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("mode", list(MODES_DATA))
@pytest.mark.parametrize("from_logits", [False, True])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_predictions_give_nan(mode_data, kind, mode, from_logits, bad):
    y_true, y_pred = inputs_for(mode_data, mode, from_logits)
    y_pred[1, 3, 4, 0] = bad
    loss = make(kind, mode=mode, from_logits=from_logits, reduction=None)
    with pytest.raises(ValueError, match="NaN or infinite"):
        loss(y_true, y_pred)
    for run_mode in TRACED_MODES:
        got = traced(loss, run_mode)(y_true, y_pred)
        assert np.isnan(got[1]), (run_mode, got)
        assert np.isfinite(got[[0, 2, 3]]).all()


@pytest.mark.parametrize("kind", list(KINDS))
def test_nan_prediction_at_an_ignored_position_gives_nan(data, kind):
    """Predictions are checked everywhere: a NaN output is a broken model."""
    y_true, y_pred = data["ignored"], data["logits"].copy()
    position = np.argwhere(y_true[2] == IGNORE)[0]
    y_pred[2, position[0], position[1], 1] = np.nan
    loss = make(kind, from_logits=True, ignore_index=IGNORE, reduction=None)
    for run_mode in TRACED_MODES:
        got = traced(loss, run_mode)(y_true, y_pred)
        assert np.isnan(got[2])
        assert np.isfinite(got[[0, 1, 3]]).all()


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("mode", list(MODES_DATA))
def test_logits_without_from_logits_raise_suggesting_it(mode_data, kind, mode):
    y_true, logits = inputs_for(mode_data, mode, True)
    # Saturated logits read as probabilities used to score near "perfect".
    logits = 100.0 * logits
    loss = make(kind, mode=mode, reduction=None)
    with pytest.raises(ValueError, match=r"\[0, 1\].*from_logits=True"):
        loss(y_true, logits)
    for run_mode in TRACED_MODES:
        assert np.isnan(traced(loss, run_mode)(y_true, logits)).all()


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("jit_compile", [False, True])
def test_logits_without_from_logits_give_nan_in_evaluate(data, kind, jit_compile):
    loss = make(kind)  # from_logits=False by mistake
    if runs_eagerly_in_model(jit_compile=jit_compile):
        with pytest.raises(ValueError, match=r"\[0, 1\].*from_logits=True"):
            evaluate_on_predictions(
                loss, data["labels"], data["logits"], jit_compile=jit_compile
            )
    else:
        got = evaluate_on_predictions(
            loss, data["labels"], data["logits"], jit_compile=jit_compile
        )
        assert np.isnan(got)
    fixed = evaluate_on_predictions(
        make(kind, from_logits=True),
        data["labels"],
        data["logits"],
        jit_compile=jit_compile,
    )
    expected = ref(kind, data["one_hot"], softmax(data["logits"])).mean()
    np.testing.assert_allclose(fixed, expected, rtol=1e-5)


@pytest.mark.parametrize("kind", list(KINDS))
def test_one_out_of_range_probability_makes_its_sample_nan(data, kind):
    y_pred = data["probs"].copy()
    y_pred[3, 0, 0] = [1.2, -0.1, -0.1]  # still sums to 1
    loss = make(kind, reduction=None)
    with pytest.raises(ValueError, match=r"3 value\(s\) outside.*from_logits"):
        loss(data["labels"], y_pred)
    for run_mode in TRACED_MODES:
        got = traced(loss, run_mode)(data["labels"], y_pred)
        assert np.isnan(got[3])
        np.testing.assert_allclose(
            got[:3], ref(kind, data["one_hot"][:3], y_pred[:3]), **TOL
        )


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize(
    ("row", "match"),
    [
        ([1.0, 1.0, 0.0], 'multi-hot.*mode="multilabel"'),
        ([0.0, 0.0, 0.0], "all-zero row.*ignore_index"),
        ([-1.0, 2.0, 0.0], r"\[0, 1\]"),
        ([np.nan, 1.0, 0.0], "NaN or infinite"),
    ],
    ids=["multi-hot", "all-zero", "negative", "nan"],
)
def test_dense_multiclass_targets_must_be_class_distributions(data, kind, row, match):
    y_true = data["one_hot"].copy()
    y_true[2, 5, 6] = row
    loss = make(kind, reduction=None)
    with pytest.raises(ValueError, match=match):
        loss(y_true, data["probs"])
    for run_mode in TRACED_MODES:
        got = traced(loss, run_mode)(y_true, data["probs"])
        assert np.isnan(got[2])
        np.testing.assert_allclose(
            got[[0, 1, 3]],
            ref(kind, data["one_hot"][[0, 1, 3]], data["probs"][[0, 1, 3]]),
            **TOL,
        )


@pytest.mark.parametrize("kind", list(KINDS))
def test_dense_target_and_probability_defects_flag_only_their_sample(data, kind):
    # Under XLA these checks run entrywise in the pass computing y * p (+inf
    # into I): each defect makes its own sample NaN with a zero gradient, as
    # the separate checks did, and a soft row within tolerance stays valid.
    y_true, y_pred = data["one_hot"].copy(), data["probs"].copy()
    y_true[0, 1, 2] = [0.5, 0.502, 0.0]  # sums to 1.002
    y_true[1, 3, 4] = [-0.5, 1.5, 0.0]  # sums to 1, one entry negative
    y_pred[2, 7, 7] = [1.2, -0.1, -0.1]  # sums to 1, outside [0, 1]
    y_true[3, 0, 0] = [0.5, 0.5005, 0.0]  # sums to 1.0005: within 1e-3
    loss = make(kind, reduction=None)
    for run_mode in TRACED_MODES:
        got = traced(loss, run_mode)(y_true, y_pred)
        assert np.isnan(got[:3]).all()
        np.testing.assert_allclose(got[3:], ref(kind, y_true[3:], y_pred[3:]), **TOL)
        grad = traced(
            lambda y, p: value_and_grad_tensors(lambda q: loss(y, q), p)[1], run_mode
        )(y_true, y_pred)
        assert (grad[:3] == 0).all()
        assert np.isfinite(grad[3]).all()
        assert np.any(grad[3] != 0)


@pytest.mark.parametrize("kind", list(KINDS))
def test_soft_multiclass_targets_stay_valid(data, kind):
    smoothed = data["one_hot"] * 0.9 + 0.1 / 3
    got = to_numpy(make(kind, reduction=None)(smoothed, data["probs"]))
    np.testing.assert_allclose(got, ref(kind, smoothed, data["probs"]), **TOL)


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("mode", ["multilabel", "binary"])
def test_nan_binary_targets_give_nan(mode_data, kind, mode):
    y_true, y_pred = inputs_for(mode_data, mode, False)
    y_true = y_true.copy()
    y_true[0, 1, 1] = np.nan
    loss = make(kind, mode=mode, reduction=None)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        loss(y_true, y_pred)
    for run_mode in TRACED_MODES:
        got = traced(loss, run_mode)(y_true, y_pred)
        assert np.isnan(got[0])
        assert np.isfinite(got[1:]).all()


@pytest.mark.parametrize("kind", list(KINDS))
def test_sigmoid_outputs_in_multiclass_mode_give_the_multilabel_loss(mode_data, kind):
    """Decision: region formulas are per class, so probability rows need not sum
    to 1 (from probabilities the multiclass and multilabel losses coincide)."""
    probs = mode_data["multi_probs"]
    multiclass = to_numpy(make(kind, reduction=None)(mode_data["one_hot"], probs))
    multilabel = make(kind, mode="multilabel", reduction=None)
    np.testing.assert_array_equal(
        multiclass, to_numpy(multilabel(mode_data["one_hot"], probs))
    )
    np.testing.assert_allclose(
        multiclass, ref(kind, mode_data["one_hot"], probs), **TOL
    )


def test_nan_denominator_is_not_empty_versus_empty():
    """`smooth=0`: 0 / 0 (empty vs empty) scores 0, NaN / NaN stays NaN."""
    from keras_components.losses._segmentation import _ratio

    got = to_numpy(_ratio(np.array([0.0, np.nan, 1.0]), np.array([0.0, np.nan, 2.0])))
    assert got[0] == 0.0
    assert np.isnan(got[1])
    assert got[2] == 0.5


# --------------------------------------------------------------------------
# Shared checks
# --------------------------------------------------------------------------
def value_and_gradient(loss, y_true, y_pred):
    value, grad = value_and_grad(
        lambda x: loss(y_true, x), np.asarray(y_pred, np.float32)
    )
    return float(value), grad


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_reduction_with_sample_weight(data, kind):
    keep = data["ignored"] != IGNORE
    expected = ref(
        kind, one_hot(np.where(keep, data["ignored"], 0), 3), data["probs"], keep=keep
    )
    assert_reductions(
        lambda **kw: make(kind, ignore_index=IGNORE, **kw),
        data["ignored"],
        data["probs"],
        expected,
    )
    with pytest.raises(ValueError, match=r"sample_weight.shape=\(4, 8, 8\)"):
        make(kind)(data["labels"], data["probs"], sample_weight=np.ones((4, 8, 8)))


@pytest.mark.parametrize("kind", list(KINDS))
def test_jit_and_gradients(data, kind):
    loss = make(kind, from_logits=True, ignore_index=IGNORE)
    assert_value_and_gradient_finite(loss, data["ignored"], data["logits"])
    assert_jit_equals_eager(loss, data["ignored"], data["logits"])
    multilabel = make(kind, mode="multilabel", from_logits=True)
    assert_jit_equals_eager(multilabel, data["multi_hot"], data["logits"])


def segmentation_data():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((48, 8, 8, 3)).astype(np.float32)
    y = np.argmax(x + 0.3 * rng.standard_normal(x.shape), axis=-1)
    return x, y


def segmenter(name="segmenter"):
    inputs = keras.Input((8, 8, 3))
    hidden = keras.layers.Conv2D(8, 3, padding="same", activation="relu")(inputs)
    return keras.Model(inputs, keras.layers.Conv2D(3, 1)(hidden), name=name)


@pytest.mark.parametrize("mixed_precision_policy", HALF_POLICIES, indirect=True)
def test_mixed_precision(data, mixed_precision_policy):
    for kind in KINDS:
        assert_half_precision_input(
            lambda kind=kind, **kw: make(
                kind, from_logits=True, ignore_index=IGNORE, **kw
            ),
            data["ignored"],
            data["logits"],
            mixed_precision_policy,
        )
    x, y = segmentation_data()
    model = segmenter()
    assert model.outputs[0].dtype != "float32"
    assert_trains(model, DiceLoss(from_logits=True), x, y)


@pytest.mark.parametrize("kind", list(KINDS))
def test_training_lowers_the_loss(kind):
    x, y = segmentation_data()
    loss = make(kind, from_logits=True, class_weights=[0.5, 1.0, 1.0])
    assert_trains(segmenter(), loss, x, y)


@pytest.mark.parametrize(
    "loss",
    [
        DiceLoss(),
        DiceLoss(
            mode="multiclass",
            from_logits=True,
            smooth=1.0,
            class_weights=[1, 2, 3],
            include_background=False,
            ignore_index=255,
            reduction="sum",
            name="d",
            dtype="mixed_bfloat16",
        ),
        JaccardLoss(mode="multilabel", smooth=0.0),
        TverskyLoss(0.3, 0.7, 0.75, mode="binary"),
    ],
    ids=["dice", "dice-all-args", "jaccard", "tversky"],
)
def test_config_roundtrip(loss):
    assert_config_roundtrip(loss)


def test_functions_are_registered():
    for fn in (dice_loss, jaccard_loss, tversky_loss):
        assert keras.saving.get_registered_name(fn) == f"keras_components>{fn.__name__}"


def tversky_model(x, y):
    model = segmenter("tversky_model")
    loss = TverskyLoss(0.3, 0.7, 1.3, from_logits=True, ignore_index=IGNORE)
    model.compile(optimizer="adam", loss=loss)
    model.fit(x, y, epochs=1, verbose=0)
    return model


def test_model_roundtrips(tmp_path):
    x, y = segmentation_data()
    model = tversky_model(x, y)
    loaded = assert_keras_roundtrip(model, x, tmp_path)
    assert loaded.loss.get_config() == model.loss.get_config()
    np.testing.assert_allclose(
        loaded.evaluate(x, y, verbose=0), model.evaluate(x, y, verbose=0), rtol=1e-6
    )


@pytest.mark.parametrize("export_format", EXPORT_FORMATS)
def test_model_exports(tmp_path, export_format):
    """SavedModel everywhere; `.pt2` (`format="torch"`) on PyTorch too."""
    x, y = segmentation_data()
    assert_exports(tversky_model(x, y), x[:4], tmp_path, export_format)


def test_binary_masks_without_channel_axis_are_named_in_the_error():
    """(N, H, W) masks would be read as rows over W: the error says so."""
    rng = np.random.default_rng(11)
    masks = rng.integers(0, 2, (2, 8, 8)).astype("float32")
    scores = rng.random((2, 8, 8)).astype("float32")
    with pytest.raises(ValueError, match=r"without a channel axis.*y\[\.\.\., None\]"):
        DiceLoss()(masks, scores)
    # With the channel axis it is the binary loss.
    loss = DiceLoss()(masks[..., None], scores[..., None])
    assert np.isfinite(float(loss))
