"""The region losses' options: `classes`, and MONAI's `batch`, `squared_pred`,
`smooth_nr` / `smooth_dr` and `soft_label`.

References: MONAI 1.6's `DiceLoss` / `TverskyLoss` (test-only, on torch
tensors, channels first; skipped where MONAI is not installed) and a float64
NumPy reference written from the formulas in `dice_loss`.
"""

import itertools

import keras
import numpy as np
import pytest

from keras_components import DiceLoss, JaccardLoss, TverskyLoss
from keras_components.losses import dice_loss, jaccard_loss, tversky_loss
from tests.helpers import (
    assert_config_roundtrip,
    assert_keras_roundtrip,
    to_numpy,
    value_and_grad,
)
from tests.losses.common import assert_trains, traced
from tests.losses.region_reference import finite_difference
from tests.losses.region_reference import probabilities as activate
from tests.losses.test_segmentation import segmentation_data, segmenter

CLASSES = {"dice": DiceLoss, "jaccard": JaccardLoss, "tversky": TverskyLoss}
FUNCTIONS = {"dice": dice_loss, "jaccard": jaccard_loss, "tversky": tversky_loss}
TVERSKY = {"alpha": 0.3, "beta": 0.7}


def per_kind(rows, ids):
    """`(kind, *row)` params for every loss; each row starts with its options.

    TverskyLoss has no `squared_pred` (as MONAI's; its refusal is
    `test_tversky_has_no_squared_pred`), so its rows with one are left out.
    """
    return [
        pytest.param(kind, *row, id=f"{kind}-{name}")
        for kind in CLASSES
        for row, name in zip(rows, ids, strict=True)
        if not (kind == "tversky" and "squared_pred" in row[0])
    ]


# float32 against float32 (MONAI) or float64 (NumPy) on sums of 8x8 = 64 values.
TOL = {"rtol": 2e-5, "atol": 2e-6}
# Against MONAI (both float32; measured on TensorFlow: values within 4.6e-7
# relative, gradients within 3.3e-9 absolute, 6.8e-7 of their largest entry).
MONAI_TOL = {"rtol": 2e-6, "atol": 2e-7}
MONAI_GRAD_TOL = {"rtol": 1e-5, "atol": 1e-8}


# --------------------------------------------------------------------------
# float64 reference, written from the formulas
# --------------------------------------------------------------------------
def region_ref(
    y,
    p,
    kind,
    *,
    smooth_nr=1e-5,
    smooth_dr=1e-5,
    squared_pred=False,
    soft_label=False,
    batch=False,
    classes=None,
    class_weights=None,
    include_background=True,
    alpha=0.5,
    beta=0.5,
    gamma=1.0,
):
    """Per-sample losses `(N,)` (a float with `batch=True`), dense `y`, probs `p`."""
    y = np.asarray(y, np.float64)
    p = np.asarray(p, np.float64)
    axes = tuple(range(1, y.ndim - 1))
    if batch:
        axes = (0, *axes)
    i = (np.minimum(y, p) if soft_label and not squared_pred else y * p).sum(axes)
    power = 2 if squared_pred else 1
    t, q = (y**power).sum(axes), (p**power).sum(axes)
    if kind == "dice":
        num, den = 2 * i + smooth_nr, t + q + smooth_dr
    elif kind == "jaccard":
        num, den = i + smooth_nr, t + q - i + smooth_dr
    else:
        num = i + smooth_nr
        den = i + alpha * (q - i) + beta * (t - i) + smooth_dr
    with np.errstate(invalid="ignore", divide="ignore"):
        per_class = np.where(den > 0, 1.0 - num / den, 0.0)  # empty vs empty: 0
    if kind == "tversky" and gamma != 1.0:
        per_class = np.maximum(per_class, 0.0) ** gamma
    num_classes = y.shape[-1]
    w = np.ones(num_classes) if class_weights is None else np.array(class_weights)
    w = w.astype(np.float64)
    if not include_background:
        w[0] = 0.0
    if classes is not None:
        w = np.where(np.isin(np.arange(num_classes), classes), w, 0.0)
    return (per_class * w).sum(-1) / w.sum()


def one_hot(labels, num_classes):
    return np.eye(num_classes, dtype=np.float32)[labels]


# Cases: (mode, from_logits, C, soft targets).
CASES = {
    "binary_logits": ("binary", True, 1, False),
    "multilabel_logits_soft": ("multilabel", True, 3, True),
    "multiclass_logits": ("multiclass", True, 4, False),
    "multiclass_probs_soft": ("multiclass", False, 3, True),
}


def case_data(case, seed=0, shape=(3, 8, 8)):
    mode, from_logits, num_classes, soft = CASES[case]
    rng = np.random.default_rng(seed)
    logits = (2.0 * rng.standard_normal((*shape, num_classes))).astype(np.float32)
    y_pred = logits if from_logits else activate(logits, mode, True).astype(np.float32)
    if mode == "multiclass":
        if soft:
            y = rng.dirichlet(np.ones(num_classes), shape).astype(np.float32)
        else:
            y = one_hot(rng.integers(0, num_classes, shape), num_classes)
    elif soft:
        y = rng.uniform(0.0, 1.0, (*shape, num_classes)).astype(np.float32)
    else:
        y = rng.integers(0, 2, (*shape, num_classes)).astype(np.float32)
    return y, y_pred


# --------------------------------------------------------------------------
# MONAI 1.6
# --------------------------------------------------------------------------
SMOOTHINGS = [(1e-5, 1e-5), (0.0, 1e-3), (0.5, 1.0)]
MONAI_GRID = [
    (case, batch, squared, smoothing, soft, background)
    for case, batch, squared, smoothing, soft, background in itertools.product(
        CASES, (False, True), (False, True), SMOOTHINGS, (False, True), (True, False)
    )
    if background or CASES[case][0] == "multiclass"
]


def monai_reference(kind, y, y_pred, case, *, batch, squared, smoothing, soft, bg):
    """MONAI's loss (per sample, or one value with `batch`) and its gradient."""
    losses = pytest.importorskip("monai.losses")
    import torch

    mode, from_logits, _, _ = CASES[case]
    options = {
        "include_background": bg,
        "sigmoid": from_logits and mode != "multiclass",
        "softmax": from_logits and mode == "multiclass",
        "smooth_nr": smoothing[0],
        "smooth_dr": smoothing[1],
        "batch": batch,
        "soft_label": soft,
        "reduction": "mean" if batch else "none",
    }
    if kind == "dice":
        loss = losses.DiceLoss(squared_pred=squared, **options)
    else:
        loss = losses.TverskyLoss(**TVERSKY, **options)
    first = (0, y.ndim - 1, *range(1, y.ndim - 1))
    x = torch.tensor(np.transpose(y_pred, first), requires_grad=True)
    value = loss(x, torch.tensor(np.transpose(y, first)))
    per_sample = value if batch else value.mean(dim=tuple(range(1, value.ndim)))
    per_sample.mean().backward()
    last = (0, *range(2, y.ndim), 1)
    grad = np.transpose(x.grad.numpy(), last)
    return per_sample.detach().numpy(), grad


def ours(kind, y, y_pred, case, *, batch, squared, smoothing, soft, bg):
    mode, from_logits, _, _ = CASES[case]
    options = {
        "mode": mode,
        "from_logits": from_logits,
        "include_background": bg,
        "smooth_nr": smoothing[0],
        "smooth_dr": smoothing[1],
        "batch": batch,
        "soft_label": soft,
    }
    if kind == "dice":
        loss = DiceLoss(squared_pred=squared, **options)
    else:
        loss = TverskyLoss(**TVERSKY, **options)
    per_sample = FUNCTIONS[kind](
        y,
        y_pred,
        **{k: v for k, v in loss.get_config().items() if k in options},
        **({"squared_pred": squared} if kind == "dice" else TVERSKY),
    )
    value, grad = value_and_grad(lambda x: loss(y, x), y_pred)
    np.testing.assert_allclose(value, np.mean(to_numpy(per_sample)), rtol=1e-6)
    return to_numpy(per_sample), grad


# MONAI's TverskyLoss has no squared_pred: its grid leaves those cases out.
MONAI_CASES = [("dice", *g) for g in MONAI_GRID] + [
    ("tversky", *g) for g in MONAI_GRID if not g[2]
]


@pytest.mark.parametrize(
    ("kind", "case", "batch", "squared", "smoothing", "soft", "bg"),
    MONAI_CASES,
    ids=[
        f"{k}-{c}-batch{int(b)}-sq{int(q)}-s{s[0]}_{s[1]}-soft{int(f)}-bg{int(g)}"
        for k, c, b, q, s, f, g in MONAI_CASES
    ],
)
def test_equals_monai(kind, case, batch, squared, smoothing, soft, bg):
    y, y_pred = case_data(case, seed=0 if kind == "dice" else 1)
    options = {
        "batch": batch,
        "squared": squared,
        "smoothing": smoothing,
        "soft": soft,
        "bg": bg,
    }
    want, want_grad = monai_reference(kind, y, y_pred, case, **options)
    got, got_grad = ours(kind, y, y_pred, case, **options)
    np.testing.assert_allclose(got, want, **MONAI_TOL)
    np.testing.assert_allclose(got_grad, want_grad, **MONAI_GRAD_TOL)


def test_monai_jaccard_is_half_smoothing():
    """MONAI's `jaccard=True` is our Jaccard with half its smoothing."""
    losses = pytest.importorskip("monai.losses")
    import torch

    y, y_pred = case_data("multiclass_probs_soft", seed=2)
    monai = losses.DiceLoss(
        jaccard=True, smooth_nr=0.2, smooth_dr=0.6, reduction="none"
    )
    first = (0, 3, 1, 2)
    want = monai(
        torch.tensor(np.transpose(y_pred, first)), torch.tensor(np.transpose(y, first))
    )
    got = jaccard_loss(y, y_pred, mode="multiclass", smooth_nr=0.1, smooth_dr=0.3)
    np.testing.assert_allclose(to_numpy(got), want.numpy().mean((1, 2, 3)), **TOL)


# --------------------------------------------------------------------------
# float64 references: every kind (Jaccard included) and `classes`
# --------------------------------------------------------------------------
OPTION_GRID = [
    {},
    {"squared_pred": True},
    {"soft_label": True},
    {"batch": True},
    {"smooth_nr": 0.0, "smooth_dr": 0.0},
    {"smooth_nr": 0.3, "smooth_dr": 0.1},
    {"classes": [2]},
    {"classes": [0, 2], "class_weights": [2.0, 5.0, 0.5, 1.0]},
    {"classes": [3, 1], "include_background": False, "soft_label": True},
    {"batch": True, "squared_pred": True, "classes": [1, 2], "smooth_nr": 0.0},
]


@pytest.mark.parametrize(
    ("kind", "options"),
    per_kind([(o,) for o in OPTION_GRID], [str(o) or "default" for o in OPTION_GRID]),
)
@pytest.mark.parametrize("case", ["multiclass_logits", "multiclass_probs_soft"])
def test_reference(kind, options, case):
    options = dict(options)
    mode, from_logits, num_classes, _ = CASES[case]
    if "class_weights" in options:
        options["class_weights"] = options["class_weights"][:num_classes]
    if any(c >= num_classes for c in options.get("classes", ())):
        options["classes"] = [c for c in options["classes"] if c < num_classes]
    if kind == "tversky":
        options.update(TVERSKY, gamma=1.5)
    y, y_pred = case_data(case, seed=3)
    p = activate(y_pred, mode, from_logits)
    ref_options = dict(options.items())
    ref_options.setdefault("smooth_nr", 1e-5)
    ref_options.setdefault("smooth_dr", 1e-5)
    want = region_ref(y, p, kind, **ref_options)
    got = FUNCTIONS[kind](y, y_pred, mode=mode, from_logits=from_logits, **options)
    assert np.shape(to_numpy(got)) == np.shape(want)
    np.testing.assert_allclose(to_numpy(got), want, **TOL)


@pytest.mark.parametrize("kind", list(CLASSES))
def test_classes_on_sparse_and_multilabel(kind):
    rng = np.random.default_rng(5)
    labels = rng.integers(0, 4, (4, 6, 6))
    probs = rng.dirichlet(np.ones(4), (4, 6, 6)).astype(np.float32)
    got = FUNCTIONS[kind](labels, probs, classes=(3, 1))
    want = region_ref(one_hot(labels, 4), probs, kind, classes=[3, 1])
    np.testing.assert_allclose(to_numpy(got), want, **TOL)
    multi_hot = rng.integers(0, 2, (4, 6, 6, 4)).astype(np.float32)
    got = FUNCTIONS[kind](multi_hot, probs, mode="multilabel", classes=[0, 2])
    want = region_ref(multi_hot, probs, kind, classes=[0, 2])
    np.testing.assert_allclose(to_numpy(got), want, **TOL)


def test_empty_vs_empty_with_separate_smoothing():
    y = np.zeros((2, 4, 4, 1), np.float32)
    p = np.zeros((2, 4, 4, 1), np.float32)
    for kind in CLASSES:
        fn = FUNCTIONS[kind]
        # smooth_dr = 0: no denominator at all; scored as perfect, never inf/NaN.
        np.testing.assert_array_equal(to_numpy(fn(y, p, smooth_dr=0.0)), [0.0, 0.0])
        np.testing.assert_array_equal(
            to_numpy(fn(y, p, smooth_nr=0.5, smooth_dr=0.0)), [0.0, 0.0]
        )
        # MONAI's value: 1 - s_nr / s_dr.
        np.testing.assert_allclose(
            to_numpy(fn(y, p, smooth_nr=0.25, smooth_dr=1.0)), [0.75, 0.75]
        )
        np.testing.assert_array_equal(to_numpy(fn(y, p, smooth=0.0)), [0.0, 0.0])


# --------------------------------------------------------------------------
# Gradients
# --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kind", "options"),
    per_kind(
        [
            ({"squared_pred": True},),
            ({"soft_label": True},),
            ({"soft_label": True, "batch": True, "smooth_nr": 0.0, "smooth_dr": 0.1},),
        ],
        ["squared_pred", "soft_label", "soft_label_batch"],
    ),
)
def test_gradient_matches_finite_differences(kind, options):
    if kind == "tversky":
        options = {**options, **TVERSKY, "gamma": 1.5}
    rng = np.random.default_rng(6)
    # Soft targets and probabilities away from each other: min(y, p) is smooth.
    y = rng.uniform(0.0, 1.0, (2, 5, 5, 3)).astype(np.float32)
    p = np.clip(
        y + rng.choice([-1, 1], y.shape) * rng.uniform(0.05, 0.3, y.shape), 0.01, 0.99
    )
    p = p.astype(np.float32)
    loss = CLASSES[kind](mode="multilabel", **options)
    _, grad = value_and_grad(lambda x: loss(y, x), p)
    ref_options = dict(options.items())
    ref_options.setdefault("smooth_nr", 1e-5)
    ref_options.setdefault("smooth_dr", 1e-5)

    def objective(x):
        return float(np.mean(region_ref(y, x, kind, **ref_options)))

    want = finite_difference(objective, p.astype(np.float64))
    np.testing.assert_allclose(grad, want, rtol=2e-3, atol=2e-6)


@pytest.mark.parametrize(
    ("kind", "options"),
    per_kind(
        [
            ({"squared_pred": True, "smooth_dr": 0.0},),
            ({"soft_label": True, "smooth": 0.0},),
            ({"batch": True, "smooth_nr": 0.0, "smooth_dr": 0.0},),
            ({"classes": [1], "smooth_nr": 1.0, "smooth_dr": 0.0},),
        ],
        ["squared", "soft", "batch", "classes"],
    ),
)
def test_gradient_finite_at_extremes(kind, options):
    if kind == "tversky":
        options = {**options, **TVERSKY, "gamma": 0.5}
    y = np.zeros((3, 4, 4, 2), np.float32)
    y[0, :2, :, 1] = 1.0  # sample 0: a foreground half in class 1
    y[..., 0] = 1.0 - y[..., 1]
    p = np.zeros_like(y)
    p[0, :, :2, 1] = 1.0  # saturated, half wrong
    p[1, :, :, 1] = 1.0  # a false positive everywhere
    p[..., 0] = 1.0 - p[..., 1]  # sample 2: exact (empty class 1)
    loss = CLASSES[kind](mode="multilabel", **options)
    value, grad = value_and_grad(lambda x: loss(y, x), p)
    assert np.isfinite(value)
    assert np.all(np.isfinite(grad))
    assert np.any(grad != 0.0)
    logits = np.where(y > 0, -30.0, 30.0).astype(np.float32)  # confidently wrong
    loss = CLASSES[kind](mode="multilabel", from_logits=True, **options)
    value, grad = value_and_grad(lambda x: loss(y, x), logits)
    assert np.isfinite(value)
    assert np.all(np.isfinite(grad))


# --------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------
@pytest.mark.parametrize("kind", list(CLASSES))
@pytest.mark.parametrize("seed", range(3))
def test_properties(kind, seed):
    rng = np.random.default_rng(10 + seed)
    num_classes = int(rng.integers(2, 6))
    labels = rng.integers(0, num_classes, (int(rng.integers(1, 5)), 5, 7))
    logits = rng.standard_normal((*labels.shape, num_classes)).astype(np.float32)
    fn = FUNCTIONS[kind]
    base = to_numpy(fn(labels, logits, from_logits=True))
    every = list(rng.permutation(num_classes))
    np.testing.assert_allclose(
        to_numpy(fn(labels, logits, from_logits=True, classes=every)), base, rtol=1e-6
    )
    # Hard labels: min(y, p) == y * p exactly.
    np.testing.assert_allclose(
        to_numpy(fn(labels, logits, from_logits=True, soft_label=True)),
        base,
        rtol=1e-6,
        atol=1e-7,
    )
    for n in range(len(labels)):
        one = to_numpy(
            fn(labels[n : n + 1], logits[n : n + 1], from_logits=True, batch=True)
        )
        assert one.shape == ()
        np.testing.assert_allclose(one, base[n], rtol=1e-6)


# --------------------------------------------------------------------------
# Traced: invalid input stays NaN with the options (fused checks kept)
# --------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["graph", "xla"])
@pytest.mark.parametrize(
    "options",
    [{"squared_pred": True}, {"soft_label": True}, {"classes": [1]}],
    ids=["squared", "soft", "classes"],
)
def test_traced_invalid_is_nan(mode, options):
    rng = np.random.default_rng(7)
    y = one_hot(rng.integers(0, 3, (3, 4, 4)), 3)
    p_ok = rng.dirichlet(np.ones(3), (3, 4, 4)).astype(np.float32)
    p = p_ok.copy()
    p[1, 0, 0] = [1.5, -0.5, 0.0]  # outside [0, 1]
    y_bad = y.copy()
    y_bad[2, 1, 1] = [1.0, 1.0, 0.0]  # multi-hot row in multiclass mode
    for kind in CLASSES:
        if kind == "tversky" and "squared_pred" in options:
            continue
        loss = CLASSES[kind](reduction=None, **options)
        got = traced(loss, mode)(y_bad, p)
        assert np.isfinite(got[0])
        assert np.isnan(got[1])
        assert np.isnan(got[2])
        batched = CLASSES[kind](batch=True, **options)
        assert np.isnan(traced(batched, mode)(y_bad, p))
        assert np.isfinite(traced(batched, mode)(y, p_ok))
    with pytest.raises(ValueError, match="y_pred"):
        DiceLoss(**options)(y, p)


# --------------------------------------------------------------------------
# Config, saving, fit
# --------------------------------------------------------------------------
@pytest.mark.parametrize("kind", list(CLASSES))
def test_config_roundtrip(kind):
    options = {
        "classes": [2, 0],
        "batch": True,
        "smooth_nr": 0.0,
        "smooth_dr": 1e-3,
        "soft_label": True,
    }
    if kind != "tversky":
        options["squared_pred"] = True
    loss = CLASSES[kind](**options)
    rebuilt = assert_config_roundtrip(loss)
    assert rebuilt.get_config() == loss.get_config()
    assert loss.get_config()["classes"] == [2, 0]
    default = CLASSES[kind]().get_config()
    assert default["smooth_nr"] is None
    assert default["smooth_dr"] is None


def test_keras_file_roundtrip_and_fit(tmp_path):
    x, y = segmentation_data()
    model = segmenter("options")
    loss = DiceLoss(from_logits=True, squared_pred=True, classes=[1, 2])
    assert_trains(model, loss, x, y)
    loaded = assert_keras_roundtrip(model, x, tmp_path)
    assert loaded.loss.get_config() == model.loss.get_config()
    np.testing.assert_allclose(
        loaded.evaluate(x, y, verbose=0), model.evaluate(x, y, verbose=0), rtol=1e-6
    )


@pytest.mark.parametrize(
    "loss",
    [
        JaccardLoss(from_logits=True, batch=True),
        TverskyLoss(0.3, 0.7, from_logits=True, soft_label=True, smooth_dr=0.0),
    ],
    ids=["jaccard_batch", "tversky_soft"],
)
def test_fit(loss):
    x, y = segmentation_data()
    assert_trains(segmenter(), loss, x, y)


# --------------------------------------------------------------------------
# Bad arguments
# --------------------------------------------------------------------------
BAD_ARGUMENTS = [
    ({"classes": []}, ValueError, r"`classes`.*Received: classes=\[\]"),
    ({"classes": [1, 1]}, ValueError, r"`classes`.*duplicated: \[1\]"),
    ({"classes": [-1]}, ValueError, r"`classes`.*Received: classes=\[-1\]"),
    ({"classes": [1.0]}, TypeError, r"`classes`.*Received: classes=\[1.0\]"),
    ({"classes": [True]}, TypeError, r"`classes`.*Received: classes=\[True\]"),
    ({"classes": "01"}, TypeError, r"`classes`.*Received: classes='01'"),
    ({"classes": [0], "mode": "binary"}, ValueError, r"`classes`.*binary"),
    (
        {"classes": [0, 1], "include_background": False},
        ValueError,
        r"`classes`.*include_background=False.*Received: classes=\(0, 1\)",
    ),
    ({"batch": 1}, TypeError, r"`batch`.*Received: batch=1"),
    ({"squared_pred": "no"}, TypeError, r"`squared_pred`.*squared_pred='no'"),
    ({"smooth_nr": -1.0}, ValueError, r"`smooth_nr`.*Received: smooth_nr=-1.0"),
    ({"smooth_dr": -1e-3}, ValueError, r"`smooth_dr`.*Received: smooth_dr=-0.001"),
    ({"soft_label": None}, TypeError, r"`soft_label`.*Received: soft_label=None"),
]


@pytest.mark.parametrize(
    ("kind", "options", "error", "match"),
    per_kind(BAD_ARGUMENTS, [str(row[0]) for row in BAD_ARGUMENTS]),
)
def test_bad_arguments(kind, options, error, match):
    with pytest.raises(error, match=match):
        CLASSES[kind](**options)
    with pytest.raises(error, match=match):
        FUNCTIONS[kind](np.zeros((1, 2, 2)), np.full((1, 2, 2, 3), 1 / 3), **options)


def test_tversky_has_no_squared_pred():
    with pytest.raises(TypeError, match="squared_pred"):
        TverskyLoss(squared_pred=True)
    with pytest.raises(TypeError, match="squared_pred"):
        tversky_loss(
            np.zeros((1, 2, 2)), np.full((1, 2, 2, 3), 1 / 3), squared_pred=True
        )


@pytest.mark.parametrize("kind", list(CLASSES))
def test_bad_input_at_first_call(kind):
    labels = np.zeros((2, 3, 3), np.int32)
    probs = np.full((2, 3, 3, 3), 1 / 3, np.float32)
    with pytest.raises(ValueError, match=r"\[0, 3\).*out of range: \[3, 5\]"):
        CLASSES[kind](classes=[1, 3, 5])(labels, probs)
    with pytest.raises(ValueError, match=r"`classes`.*binary mode"):
        CLASSES[kind](classes=[0])(labels, probs[..., :1])
    with pytest.raises(ValueError, match=r"`class_weights`.*classes=\[2\]"):
        CLASSES[kind](classes=[2], class_weights=[1.0, 1.0, 0.0])(labels, probs)
    with pytest.raises(ValueError, match=r"`sample_weight`.*batch=True"):
        CLASSES[kind](batch=True)(labels, probs, sample_weight=np.ones(2))
    # batch=False keeps weighing samples.
    weighted = CLASSES[kind](classes=[1])(labels, probs, sample_weight=np.ones(2))
    assert np.isfinite(to_numpy(weighted))


def test_batch_is_one_value_per_replica_call():
    rng = np.random.default_rng(8)
    labels = rng.integers(0, 3, (4, 5, 5))
    probs = rng.dirichlet(np.ones(3), (4, 5, 5)).astype(np.float32)
    value = DiceLoss(batch=True)(labels, probs)
    want = region_ref(one_hot(labels, 3), probs, "dice", batch=True)
    np.testing.assert_allclose(to_numpy(value), want, **TOL)
    for reduction in ("sum", None, "sum_over_batch_size"):
        got = DiceLoss(batch=True, reduction=reduction)(labels, probs)
        np.testing.assert_allclose(to_numpy(got), want, **TOL)
    assert keras.ops.shape(dice_loss(labels, probs, batch=True)) == ()


@pytest.mark.parametrize("kind", sorted(CLASSES))
def test_batch_sample_weight_error_shows_a_static_shape_in_fit(kind):
    """Inside `fit` the batch size is symbolic: the message shows (None,)."""
    rng = np.random.default_rng(5)
    x = rng.random((4, 6, 6, 3)).astype("float32")
    y = np.eye(3, dtype="float32")[rng.integers(0, 3, (4, 6, 6))]
    inputs = keras.Input((6, 6, 3))
    model = keras.Model(inputs, keras.layers.Softmax()(inputs))
    model.compile(loss=CLASSES[kind](batch=True))
    with pytest.raises(ValueError, match=r"sample_weight of shape \((None|4),\)"):
        model.fit(x, y, sample_weight=np.ones(4), verbose=0)
