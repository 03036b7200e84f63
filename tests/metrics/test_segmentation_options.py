"""`per_image=True` and `classes=[...]` of the region metrics.

References (independent, float64 NumPy):

- `sm_score`: segmentation_models' documented formulas
  (`segmentation_models/base/functional.py`: `iou_score`, `f_score` with
  `per_image` and `class_indexes`): per image and class
  `(num + smooth) / (den + smooth)`, the mean over images, then over the
  classes. With a vanishing `smooth` an empty class scores 1, which is our
  `zero_division=1.0`. (Its `precision` and `recall` functions have the two
  formulas swapped, so precision and recall are checked against
  `per_image_reference`, the textbook definitions.)
- `per_image_reference`: our documented rule for every average and
  `zero_division`, written per image with explicit loops.
- scikit-learn with `labels=classes` for the class subset without
  `per_image`.
"""

import math
import warnings

import keras
import numpy as np
import pytest
from sklearn import metrics as skm

from keras_components import metrics as km
from tests.helpers import (
    IN_MODEL_OPTIONS,
    assert_config_roundtrip,
    assert_keras_roundtrip,
    assert_streaming_equals,
    in_model_id,
    metric_in_model,
    to_numpy,
    traced_with_state,
)

C = 4
NAN = float("nan")
REGION = {
    "iou": (km.IoU, {}),
    "dice": (km.Dice, {}),
    "f1": (km.F1, {}),
    "fbeta": (km.FBeta, {"beta": 2.0}),
    "precision": (km.Precision, {}),
    "recall": (km.Recall, {}),
    "specificity": (km.Specificity, {}),
}


def atol() -> float:
    # float32 result (the metric's dtype); JAX without x64 keeps float32 words
    return 2e-6


# --------------------------------------------------------------------------
# Data: (N, H, W) masks; class 3 is missing from some images' truth and
# class 2 from some predictions, so empty classes occur per image.
# --------------------------------------------------------------------------
def masks(seed, n=14, h=5, w=4, c=C):
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, c, (n, h, w))
    y_true[: n // 2][y_true[: n // 2] == 3] = 0
    y_pred = rng.random((n, h, w, c)).astype(np.float32)
    y_pred[1::3, ..., 2] = 0.0
    y_true[-1] = 1  # one image with a single class
    y_pred[-1] = np.eye(c, dtype=np.float32)[1]
    weights = rng.uniform(0.1, 3.0, (n, h, w))
    return y_true, y_pred, weights


def counts_per_image(y_true, y_hat, weights, c, keep=None):
    """(N, C) float64 tp, fp, fn, tn, and the images' counted weight."""
    n = len(y_true)
    t = np.eye(c)[y_true.reshape(n, -1)]
    p = np.eye(c)[y_hat.reshape(n, -1)]
    w = np.ones(t.shape[:2]) if weights is None else weights.reshape(n, -1) * 1.0
    if keep is not None:
        w = w * keep.reshape(n, -1)
    w = w[..., None]
    tp = (w * t * p).sum(1)
    fp = (w * (1 - t) * p).sum(1)
    fn = (w * t * (1 - p)).sum(1)
    tn = (w * (1 - t) * (1 - p)).sum(1)
    return tp, fp, fn, tn, w[..., 0].sum(1)


def parts(name, tp, fp, fn, tn, beta=2.0):
    if name == "iou":
        return tp, tp + fp + fn
    if name in ("dice", "f1"):
        return 2 * tp, 2 * tp + fp + fn
    if name == "fbeta":
        b2 = beta * beta
        return (1 + b2) * tp, (1 + b2) * tp + b2 * fn + fp
    if name == "precision":
        return tp, tp + fp
    if name == "recall":
        return tp, tp + fn
    return tn, tn + fp


def ratio(num, den, zero_division):
    return num / den if den > 0 else zero_division


def per_image_reference(name, counts, average, zero_division, classes=None):
    """The mean over images of each image's score, per our documented rule."""
    tp, fp, fn, tn, mass = counts
    classes = list(range(tp.shape[1])) if classes is None else list(classes)
    skip_nan = name != "iou"  # F-beta / precision / recall skip NaN classes
    scores = []
    for i in range(len(tp)):
        if mass[i] <= 0:
            continue
        row = [parts(name, tp[i, k], fp[i, k], fn[i, k], tn[i, k]) for k in classes]
        per_class = [ratio(a, b, zero_division) for a, b in row]
        support = [tp[i, k] + fn[i, k] for k in classes]
        if average is None:
            scores.append(per_class)
            continue
        if average == "micro":
            s = ratio(sum(a for a, _ in row), sum(b for _, b in row), zero_division)
        else:
            used = [
                (v, s)
                for v, s in zip(per_class, support, strict=True)
                if not (skip_nan and math.isnan(v))
            ]
            if not used:
                s = NAN
            elif average == "macro" or sum(s for _, s in used) <= 0:
                s = sum(v for v, _ in used) / len(used)
            else:
                s = sum(v * s for v, s in used) / sum(s for _, s in used)
        scores.append(s)
    scores = np.array(scores, np.float64)
    if average is None:
        out = []
        for column in scores.T:
            defined = column[~np.isnan(column)]
            out.append(defined.mean() if len(defined) else zero_division)
        return np.array(out)
    defined = scores[~np.isnan(scores)]
    return defined.mean() if len(defined) else zero_division


def sm_score(gt, pr, *, kind, beta=1.0, class_indexes=None, smooth=1e-12):
    """segmentation_models' iou_score / f_score with per_image=True (float64).

    `gt`, `pr`: (B, H, W, C) one-hot masks.
    """
    gt, pr = gt.astype(np.float64), pr.astype(np.float64)
    if class_indexes is not None:
        gt, pr = gt[..., class_indexes], pr[..., class_indexes]
    axes = (1, 2)  # per_image: reduce H, W only
    tp = (gt * pr).sum(axes)
    if kind == "iou":
        union = (gt + pr).sum(axes) - tp
        score = (tp + smooth) / (union + smooth)
    else:
        fp = pr.sum(axes) - tp
        fn = gt.sum(axes) - tp
        b2 = beta**2
        score = ((1 + b2) * tp + smooth) / ((1 + b2) * tp + b2 * fn + fp + smooth)
    return score.mean(axis=0).mean()  # over images, then over classes


# --------------------------------------------------------------------------
# Against segmentation_models' formulas, streamed at any batch split
# --------------------------------------------------------------------------
@pytest.mark.parametrize("classes", [None, [1, 3], [2]])
@pytest.mark.parametrize(
    ("make", "kind", "beta"),
    [
        (km.IoU, "iou", 1.0),
        (km.Dice, "f", 1.0),
        (km.F1, "f", 1.0),
        (lambda **k: km.FBeta(beta=2.0, **k), "f", 2.0),
    ],
    ids=["iou", "dice", "f1", "fbeta2"],
)
def test_per_image_equals_segmentation_models(make, kind, beta, classes):
    y_true, y_pred, _ = masks(1)
    gt = np.eye(C)[y_true]
    pr = np.eye(C)[y_pred.argmax(-1)]
    expected = sm_score(gt, pr, kind=kind, beta=beta, class_indexes=classes)
    assert_streaming_equals(
        lambda: make(per_image=True, classes=classes, zero_division=1.0),
        expected,
        y_true,
        y_pred,
        atol=atol(),
        batchings=(1, 4),
    )


# --------------------------------------------------------------------------
# Every average and zero_division, weights and ignore_index
# --------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(REGION))
def test_per_image_every_average(name):
    cls, kwargs = REGION[name]
    y_true, y_pred, weights = masks(2)
    counts = counts_per_image(y_true, y_pred.argmax(-1), weights, C)
    for average in ("micro", "macro", "weighted", None):
        for zero_division in (0.0, 1.0, NAN):
            expected = per_image_reference(name, counts, average, zero_division)
            make = lambda a=average, z=zero_division: cls(  # noqa: E731
                per_image=True, average=a, zero_division=z, **kwargs
            )
            if average == "macro" and zero_division == 0.0:
                assert_streaming_equals(
                    make, expected, y_true, y_pred, weights, atol=atol()
                )
                continue
            # One fixed split (every configuration compiles its own kernel).
            metric = make()
            for s in (slice(0, 9), slice(9, None)):
                metric.update_state(y_true[s], y_pred[s], weights[s])
            np.testing.assert_allclose(
                to_numpy(metric.result()),
                expected,
                atol=atol(),
                err_msg=f"{name} average={average} zero_division={zero_division}",
            )


@pytest.mark.parametrize("average", ["micro", "macro", None])
def test_per_image_with_a_class_subset_and_ignore_index(average):
    y_true, y_pred, weights = masks(3)
    y_true = y_true.copy()
    y_true[:, 0, :] = 255
    y_true[4] = 255  # an image with no counted pixel has no score
    keep = y_true != 255
    labels = np.where(keep, y_true, 0)
    counts = counts_per_image(labels, y_pred.argmax(-1), weights, C, keep)
    expected = per_image_reference("f1", counts, average, 0.0, classes=[3, 1])
    assert_streaming_equals(
        lambda: km.F1(
            per_image=True, classes=[3, 1], average=average, ignore_index=255
        ),
        expected,
        y_true,
        y_pred,
        weights,
        atol=atol(),
    )


def test_per_image_binary_and_multilabel():
    rng = np.random.default_rng(4)
    y_true = rng.integers(0, 2, (10, 6, 5))
    y_true[0] = 0  # empty truth; predicted empty below: zero_division
    y_pred = rng.random((10, 6, 5)).astype(np.float32)
    y_pred[0] = 0.1
    tp = ((y_true == 1) & (y_pred > 0.5)).sum((1, 2)).astype(float)
    fp = ((y_true == 0) & (y_pred > 0.5)).sum((1, 2))
    fn = ((y_true == 1) & (y_pred <= 0.5)).sum((1, 2))
    den = tp + fp + fn
    for zero_division in (0.0, 1.0):
        per = np.where(den > 0, tp / np.where(den > 0, den, 1), zero_division)
        assert_streaming_equals(
            lambda zd=zero_division: km.IoU(
                task="binary", per_image=True, zero_division=zd
            ),
            per.mean(),
            y_true,
            y_pred,
            atol=atol(),
        )
    # Multilabel: each label of each image its own ratio.
    y_true = rng.integers(0, 2, (8, 4, 4, 3))
    y_pred = rng.random((8, 4, 4, 3)).astype(np.float32)
    hat = y_pred > 0.5
    tp = ((y_true == 1) & hat).sum((1, 2)).astype(float)
    den = (
        2 * tp + ((y_true == 0) & hat).sum((1, 2)) + ((y_true == 1) & ~hat).sum((1, 2))
    )
    per = np.where(den > 0, 2 * tp / np.where(den > 0, den, 1), 0.0)
    assert_streaming_equals(
        lambda: km.Dice(task="multilabel", per_image=True, average=None),
        per.mean(0),
        y_true,
        y_pred,
        atol=atol(),
    )
    assert_streaming_equals(
        lambda: km.Dice(task="multilabel", per_image=True, classes=[2, 0]),
        per[:, [2, 0]].mean(),
        y_true,
        y_pred,
        atol=atol(),
    )


def test_per_image_is_not_the_pooled_score():
    y_true, y_pred, _ = masks(5)
    pooled = km.IoU()
    per_image = km.IoU(per_image=True)
    for m in (pooled, per_image):
        m.update_state(y_true, y_pred)
    assert abs(float(to_numpy(pooled.result())) - float(to_numpy(per_image.result())))
    assert tuple(per_image.image_scores.shape) == ()  # no confusion matrix kept
    assert not hasattr(per_image, "confusion")


# --------------------------------------------------------------------------
# classes=[...] without per_image: scikit-learn's labels=
# --------------------------------------------------------------------------
@pytest.mark.parametrize("average", ["micro", "macro", "weighted", None])
@pytest.mark.parametrize(
    ("make", "reference"),
    [
        (km.IoU, skm.jaccard_score),
        (km.F1, skm.f1_score),
        (km.Precision, skm.precision_score),
        (km.Recall, skm.recall_score),
    ],
    ids=["iou", "f1", "precision", "recall"],
)
def test_class_subset_equals_sklearn_labels(make, reference, average):
    y_true, y_pred, weights = masks(6)
    classes = [3, 0, 2]
    expected = reference(
        y_true.ravel(),
        y_pred.argmax(-1).ravel(),
        labels=classes,
        average=average,
        sample_weight=weights.ravel(),
        zero_division=0.0,
    )
    assert_streaming_equals(
        lambda: make(classes=classes, average=average),
        expected,
        y_true,
        y_pred,
        weights,
        atol=atol(),
    )


# --------------------------------------------------------------------------
# Bad arguments and inputs
# --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("classes", "error", "match"),
    [
        ([1, 1], ValueError, r"Invalid value for argument `classes`.*duplicated"),
        ([-1], ValueError, r"Invalid value for argument `classes`.*>= 0"),
        ([], ValueError, r"Invalid value for argument `classes`"),
        ([1.5], TypeError, r"Invalid type for argument `classes`"),
        ("12", TypeError, r"Invalid type for argument `classes`"),
        (2, TypeError, r"Invalid type for argument `classes`"),
        ([True], TypeError, r"Invalid type for argument `classes`"),
    ],
)
def test_bad_classes_at_construction(classes, error, match):
    with pytest.raises(error, match=match):
        km.IoU(classes=classes)


def test_out_of_range_classes():
    with pytest.raises(ValueError, match=r"`classes`.*\[0, 4\).*\[4\]"):
        km.IoU(num_classes=4, task="multiclass", classes=[0, 4])
    metric = km.Dice(classes=[1, 5])  # C is known at the first call
    y_true, y_pred, _ = masks(7)
    with pytest.raises(ValueError, match=r"`classes`.*\[0, 4\).*\[5\]"):
        metric.update_state(y_true, y_pred)
    with pytest.raises(ValueError, match=r"`classes`.*binary task"):
        km.F1(task="binary", classes=[1])


def test_per_image_needs_a_spatial_axis():
    with pytest.raises(TypeError, match=r"`per_image`"):
        km.IoU(per_image=1)
    rng = np.random.default_rng(8)
    for metric, y_true, y_pred in (
        (km.IoU(per_image=True), rng.integers(0, 3, 6), rng.random((6, 3))),
        (km.F1(task="binary", per_image=True), rng.integers(0, 2, 6), rng.random(6)),
        (
            km.F1(task="binary", per_image=True),
            rng.integers(0, 2, (6, 1)),
            rng.random((6, 1)),
        ),
    ):
        with pytest.raises(ValueError, match=r"`per_image`.*spatial axis"):
            metric.update_state(y_true, y_pred)


def test_invalid_input_raises_eagerly_and_is_nan_traced():
    y_true, y_pred, _ = masks(9)
    y_pred = y_pred.copy()
    y_pred[2, 1, 1] = np.nan
    metric = km.IoU(per_image=True)
    with pytest.raises(ValueError, match="NaN"):
        metric.update_state(y_true, y_pred)
    assert all(np.all(to_numpy(v) == 0) for v in metric.variables)

    def update(y_true, y_pred):
        metric.update_state(y_true, y_pred)

    traced_with_state(update, [metric])(y_true, y_pred)
    with pytest.warns(UserWarning, match="NaN"):
        assert np.isnan(to_numpy(metric.result()))


# --------------------------------------------------------------------------
# Inside Keras, replicas, saving
# --------------------------------------------------------------------------
@pytest.mark.parametrize("options", IN_MODEL_OPTIONS, ids=in_model_id)
def test_per_image_in_fit_and_evaluate(options):
    # 37 images in batches of 16: the last batch is short.
    y_true, y_pred, weights = masks(10, n=37)
    out = metric_in_model(
        lambda: km.IoU(per_image=True, classes=[0, 1, 3], zero_division=1.0),
        y_true,
        y_pred,
        weights,
        **options,
    )
    y_hat = out["predictions"].argmax(-1)
    counts = counts_per_image(y_true, y_hat, weights, C)
    expected = per_image_reference("iou", counts, "macro", 1.0, classes=[0, 1, 3])
    np.testing.assert_allclose(out["value"], expected, atol=atol())


@pytest.mark.tensorflow_only
@pytest.mark.parametrize("mode", ["evaluate", "fit"])
def test_per_image_under_mirrored_strategy(mirrored_strategy, mode):
    y_true, y_pred, weights = masks(11, n=40)
    out = metric_in_model(
        lambda: km.Dice(per_image=True, average=None),
        y_true,
        y_pred,
        weights,
        mode=mode,
        strategy=mirrored_strategy,
    )
    y_hat = out["predictions"].argmax(-1)
    counts = counts_per_image(y_true, y_hat, weights, C)
    expected = per_image_reference("dice", counts, None, 0.0)
    np.testing.assert_allclose(out["value"], expected, atol=atol())


@pytest.mark.parametrize("name", sorted(REGION))
def test_config_roundtrip(name):
    cls, kwargs = REGION[name]
    metric = cls(per_image=True, classes=[2, 0], **kwargs)
    rebuilt = assert_config_roundtrip(metric)
    assert rebuilt.per_image is True
    assert rebuilt.classes == (2, 0)


def test_keras_roundtrip(tmp_path):
    y_true, y_pred, _ = masks(12, n=8)
    inputs = keras.Input(y_pred.shape[1:])
    model = keras.Model(inputs, keras.layers.Identity()(inputs))
    model.compile(
        loss="categorical_crossentropy",
        metrics=[
            km.IoU(task="multiclass", per_image=True, classes=[1, 2]),
            km.F1(task="multiclass", per_image=True, average="micro"),
        ],
    )
    loaded = assert_keras_roundtrip(model, y_pred, tmp_path)
    before = model.evaluate(y_pred, np.eye(C)[y_true], verbose=0, return_dict=True)
    after = loaded.evaluate(y_pred, np.eye(C)[y_true], verbose=0, return_dict=True)
    for key, value in before.items():
        np.testing.assert_allclose(after[key], value, atol=1e-6)
    counts = counts_per_image(y_true, y_pred.argmax(-1), None, C)
    expected = per_image_reference("iou", counts, "macro", 0.0, classes=[1, 2])
    np.testing.assert_allclose(after["iou"], expected, atol=atol())


# --------------------------------------------------------------------------
# per_image=True on the confusion-matrix metrics: each image's score is
# scikit-learn's function of that image alone, the result their mean.
# --------------------------------------------------------------------------
def _kappa(weights, labels=tuple(range(C))):
    """scikit-learn's kappa; undefined (NaN: one class) is zero_division 0."""

    def reference(t, p, sample_weight=None):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            kappa = skm.cohen_kappa_score(
                t, p, labels=list(labels), weights=weights, sample_weight=sample_weight
            )
        return 0.0 if math.isnan(kappa) else kappa

    return reference


MATRIX = {
    "accuracy": (km.Accuracy, {}, skm.accuracy_score),
    "hamming_loss": (km.HammingLoss, {}, skm.hamming_loss),
    "balanced_accuracy": (km.BalancedAccuracy, {}, skm.balanced_accuracy_score),
    "mcc": (km.MCC, {}, skm.matthews_corrcoef),
    "kappa": (km.CohenKappa, {}, _kappa(None)),
    "kappa_quadratic": (km.CohenKappa, {"weights": "quadratic"}, _kappa("quadratic")),
}


def sklearn_per_image(reference, y_true, y_hat, weights=None, keep=None):
    """The float64 mean over images of `reference` on each image alone.

    Positions outside `keep` are dropped; an image with none left is not
    counted.
    """
    scores = []
    for i in range(len(y_true)):
        t, p = y_true[i].reshape(-1), y_hat[i].reshape(-1)
        w = None if weights is None else weights[i].reshape(-1)
        if keep is not None:
            k = keep[i].reshape(-1)
            if not k.any():
                continue
            t, p = t[k], p[k]
            w = None if w is None else w[k]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # sklearn on one-class images
            scores.append(float(reference(t, p, sample_weight=w)))
    return np.mean(np.array(scores, np.float64))


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_matrix_metric_per_image_equals_sklearn(name):
    cls, kwargs, reference = MATRIX[name]
    y_true, y_pred, weights = masks(13)
    expected = sklearn_per_image(reference, y_true, y_pred.argmax(-1), weights)
    assert_streaming_equals(
        lambda: cls(per_image=True, **kwargs),
        expected,
        y_true,
        y_pred,
        weights,
        atol=atol(),
        batchings=(1, 4, 14),
    )
    # Not the pooled score (weighted: images' pixel masses differ).
    pooled = reference(
        y_true.ravel(), y_pred.argmax(-1).ravel(), sample_weight=weights.ravel()
    )
    assert abs(expected - pooled) > 1e-4
    metric = cls(per_image=True, **kwargs)
    metric.update_state(y_true, y_pred)
    np.testing.assert_allclose(
        to_numpy(metric.result()),
        sklearn_per_image(reference, y_true, y_pred.argmax(-1)),
        atol=atol(),
    )


@pytest.mark.parametrize("name", ["accuracy", "balanced_accuracy", "mcc", "kappa"])
def test_matrix_metric_per_image_binary_and_zero_division(name):
    cls, kwargs, reference = MATRIX[name]
    rng = np.random.default_rng(14)
    y_true = rng.integers(0, 2, (9, 6, 5))
    y_pred = rng.random((9, 6, 5)).astype(np.float32)
    y_true[0], y_pred[0] = 1, 0.9  # one class, all right: MCC / kappa undefined
    y_true[1], y_pred[1] = 0, 0.2
    hat = (y_pred > 0.5).astype(int)
    if name == "kappa":
        reference = _kappa(None, labels=(0, 1))
    if name in ("mcc", "kappa"):  # images 0 and 1 take zero_division
        rest = sklearn_per_image(reference, y_true[2:], hat[2:])
        cases = {0.0: (rest * 7 + 0.0) / 9, 1.0: (rest * 7 + 2.0) / 9, NAN: rest}
        # scikit-learn: MCC 0.0 there, kappa undefined (NaN, read as 0.0)
        assert reference(y_true[0].ravel(), hat[0].ravel()) == 0.0
    else:
        full = sklearn_per_image(reference, y_true, hat)
        cases = {0.0: full, 1.0: full, NAN: full}
    for zero_division, expected in cases.items():
        assert_streaming_equals(
            lambda z=zero_division: cls(
                task="binary", per_image=True, zero_division=z, **kwargs
            ),
            expected,
            y_true,
            y_pred,
            atol=atol(),
            batchings=(3,),
        )


def test_matrix_metric_per_image_multilabel():
    rng = np.random.default_rng(15)
    y_true = rng.integers(0, 2, (10, 3, 3, 2))
    y_pred = rng.random((10, 3, 3, 2)).astype(np.float32)
    weights = rng.uniform(0.5, 2.0, (10, 3, 3))
    hat = (y_pred > 0.5).astype(int)
    for cls, reference in (
        (km.Accuracy, skm.accuracy_score),  # subset accuracy per image
        (km.HammingLoss, skm.hamming_loss),
    ):
        expected = np.mean(
            [
                reference(
                    y_true[i].reshape(-1, 2),
                    hat[i].reshape(-1, 2),
                    sample_weight=weights[i].ravel(),
                )
                for i in range(10)
            ]
        )
        assert_streaming_equals(
            lambda c=cls: c(task="multilabel", per_image=True),
            expected,
            y_true,
            y_pred,
            weights,
            atol=atol(),
            batchings=(1, 4),
        )


def test_matrix_metric_per_image_ignore_index():
    y_true, y_pred, weights = masks(16)
    y_true = y_true.copy()
    y_true[:, 0, :] = 255
    y_true[4] = 255  # an image with no counted pixel is not counted
    keep = y_true != 255
    hat = y_pred.argmax(-1)
    for name in ("accuracy", "mcc", "kappa"):
        cls, kwargs, reference = MATRIX[name]
        expected = sklearn_per_image(reference, y_true, hat, weights, keep)
        assert_streaming_equals(
            lambda c=cls, k=kwargs: c(per_image=True, ignore_index=255, **k),
            expected,
            y_true,
            y_pred,
            weights,
            atol=atol(),
            batchings=(3,),
        )


def test_matrix_metric_per_image_needs_a_spatial_axis():
    rng = np.random.default_rng(17)
    for metric, y_true, y_pred in (
        (km.Accuracy(per_image=True), rng.integers(0, 3, 6), rng.random((6, 3))),
        (km.MCC(task="binary", per_image=True), rng.integers(0, 2, 6), rng.random(6)),
        (
            km.CohenKappa(per_image=True),
            rng.integers(0, 3, 6),
            rng.random((6, 3)),
        ),
    ):
        with pytest.raises(ValueError, match=r"`per_image`.*spatial axis"):
            metric.update_state(y_true, y_pred)
    with pytest.raises(TypeError, match=r"`per_image`"):
        km.Accuracy(per_image="yes")
    with pytest.raises(TypeError, match=r"no argument `per_image`.*Accuracy"):
        km.ConfusionMatrix(per_image=True)  # counts, not a score


@pytest.mark.parametrize("options", IN_MODEL_OPTIONS, ids=in_model_id)
def test_matrix_metric_per_image_in_fit_and_evaluate(options):
    y_true, y_pred, weights = masks(18, n=37)  # batches of 16: the last is short
    out = metric_in_model(
        lambda: km.MCC(per_image=True), y_true, y_pred, weights, **options
    )
    hat = out["predictions"].argmax(-1)
    expected = sklearn_per_image(skm.matthews_corrcoef, y_true, hat, weights)
    np.testing.assert_allclose(out["value"], expected, atol=atol())


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_matrix_metric_per_image_config_roundtrip(name):
    cls, kwargs, _ = MATRIX[name]
    rebuilt = assert_config_roundtrip(cls(per_image=True, **kwargs))
    assert rebuilt.per_image is True
    assert cls(**kwargs).get_config()["per_image"] is False
