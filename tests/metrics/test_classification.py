"""Classification and segmentation metrics against scikit-learn."""

import functools
import math

import keras
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics as skm

from keras_components import metrics as km
from tests.helpers import (
    assert_config_roundtrip,
    assert_keras_roundtrip,
    assert_streaming_equals,
    float32_slack,
    metric_in_model,
    tensor,
    to_numpy,
    traced_with_state,
)

C = 4
NAN = float("nan")
AVERAGES = ["micro", "macro", "weighted", None]
ZERO_DIVISIONS = [0.0, 1.0, NAN]


# --------------------------------------------------------------------------
# Data. Class C-1 never occurs in y_true and class 2 is never predicted, so
# every average meets undefined per-class ratios (zero_division matters).
# --------------------------------------------------------------------------
def multiclass_data(seed, n=90, c=C):
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, c - 1, n)
    y_pred = rng.random((n, c)).astype(np.float32)
    y_pred[:, 2] = 0.0
    weights = rng.uniform(0.1, 3.0, n)
    return y_true, y_pred, weights


def binary_data(seed, n=90):
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, 2, n)
    y_pred = rng.random((n, 1)).astype(np.float32)
    return y_true, y_pred, rng.uniform(0.1, 3.0, n)


def multilabel_data(seed, n=90, c=C):
    rng = np.random.default_rng(seed)
    y_true = (rng.random((n, c)) < 0.4).astype(np.int64)
    y_true[:, c - 1] = 0  # a label with no positives
    y_pred = rng.random((n, c)).astype(np.float32)
    y_pred[:, 2] = 0.0  # a label never predicted
    return y_true, y_pred, rng.uniform(0.1, 3.0, n)


DATA = {
    "binary": binary_data,
    "multiclass": multiclass_data,
    "multilabel": multilabel_data,
}


def decisions(task, y_pred, threshold=0.5):
    if task == "multiclass":
        return y_pred.argmax(-1)
    if task == "binary":
        return (y_pred[:, 0] > threshold).astype(int)
    return (y_pred > threshold).astype(int)


# --------------------------------------------------------------------------
# The F-beta family and IoU: every task, average, weighting, zero_division.
# --------------------------------------------------------------------------
AVERAGED = {
    "F1": (km.F1, {}, skm.f1_score),
    "FBeta": (
        functools.partial(km.FBeta, 0.5),
        {},
        functools.partial(skm.fbeta_score, beta=0.5),
    ),
    "FBeta2": (
        functools.partial(km.FBeta, beta=2.0),
        {},
        functools.partial(skm.fbeta_score, beta=2.0),
    ),
    "Precision": (km.Precision, {}, skm.precision_score),
    "Recall": (km.Recall, {}, skm.recall_score),
    "IoU": (km.IoU, {}, skm.jaccard_score),
    "Dice": (km.Dice, {}, skm.f1_score),
}


def sklearn_reference(fn, task, y_true, y_hat, weights, average, zero_division):
    if fn is skm.jaccard_score and math.isnan(zero_division):
        return jaccard_with_nan(task, y_true, y_hat, weights, average)
    if task == "binary":
        return fn(
            y_true,
            y_hat,
            average="binary",
            sample_weight=weights,
            zero_division=zero_division,
        )
    return fn(
        y_true,
        y_hat,
        labels=list(range(C)),
        average=average,
        sample_weight=weights,
        zero_division=zero_division,
    )


def jaccard_with_nan(task, y_true, y_hat, weights, average):
    """jaccard_score refuses zero_division=nan: build it from the per-class
    counts and NumPy's NaN-propagating average, as jaccard_score averages."""
    labels = (
        [1] if task == "binary" else None if task == "multilabel" else list(range(C))
    )
    mcm = skm.multilabel_confusion_matrix(
        y_true, y_hat, labels=labels, sample_weight=weights
    )
    tp, fp, fn = mcm[:, 1, 1], mcm[:, 0, 1], mcm[:, 1, 0]
    if average == "micro":
        tp, fp, fn = tp.sum(keepdims=True), fp.sum(keepdims=True), fn.sum(keepdims=True)
    den = tp + fp + fn
    per_class = np.where(den > 0, tp / np.where(den > 0, den, 1), np.nan)
    if task == "binary" or average == "micro":
        return per_class[0]
    if average is None:
        return per_class
    support = tp + fn
    w = support if average == "weighted" and support.any() else None
    return np.average(per_class, weights=w)


@pytest.mark.parametrize("task", ["binary", "multiclass", "multilabel"])
@pytest.mark.parametrize("name", list(AVERAGED))
def test_averaged_metrics_equal_sklearn(name, task):
    make, _, reference = AVERAGED[name]
    # A seed per case that is the same in every process (hash() is not).
    seed = 100 * list(AVERAGED).index(name) + list(DATA).index(task)
    y_true, y_pred, weights = DATA[task](seed=seed)
    y_hat = decisions(task, y_pred)
    averages = [None] if task == "binary" else AVERAGES
    for average in averages:
        for zero_division in ZERO_DIVISIONS:
            for w in (None, weights):
                expected = sklearn_reference(
                    reference, task, y_true, y_hat, w, average, zero_division
                )
                kwargs = {"task": task, "zero_division": zero_division}
                if average is not None or task != "binary":
                    kwargs["average"] = average
                assert_streaming_equals(
                    lambda kwargs=kwargs: make(**kwargs),
                    np.asarray(expected, float),
                    y_true,
                    y_pred,
                    w,
                    batchings=(1, 4),
                )


@pytest.mark.parametrize("task", ["binary", "multiclass", "multilabel"])
def test_accuracy(task):
    y_true, y_pred, weights = DATA[task](seed=7)
    y_hat = decisions(task, y_pred)
    for w in (None, weights):
        expected = skm.accuracy_score(y_true, y_hat, sample_weight=w)
        assert_streaming_equals(
            lambda: km.Accuracy(task=task),
            expected,
            y_true,
            y_pred,
            w,
            batchings=(1, 5),
        )


@pytest.mark.parametrize("task", ["binary", "multiclass"])
def test_balanced_accuracy_mcc(task):
    y_true, y_pred, weights = DATA[task](seed=11)
    y_hat = decisions(task, y_pred)
    for w in (None, weights):
        assert_streaming_equals(
            lambda: km.BalancedAccuracy(task=task),
            skm.balanced_accuracy_score(y_true, y_hat, sample_weight=w),
            y_true,
            y_pred,
            w,
            batchings=(1, 5),
        )
        assert_streaming_equals(
            lambda: km.MCC(task=task),
            skm.matthews_corrcoef(y_true, y_hat, sample_weight=w),
            y_true,
            y_pred,
            w,
            batchings=(1, 5),
        )


@pytest.mark.parametrize("weights_kind", [None, "linear", "quadratic"])
@pytest.mark.parametrize("task", ["binary", "multiclass"])
def test_cohen_kappa(task, weights_kind):
    y_true, y_pred, weights = DATA[task](seed=13)
    y_hat = decisions(task, y_pred)
    labels = [0, 1] if task == "binary" else list(range(C))
    for w in (None, weights):
        expected = skm.cohen_kappa_score(
            y_true, y_hat, labels=labels, weights=weights_kind, sample_weight=w
        )
        assert_streaming_equals(
            lambda: km.CohenKappa(weights_kind, task=task),
            expected,
            y_true,
            y_pred,
            w,
            batchings=(1, 5),
        )


# The weighted counts are exact sums of float64 weights to 1e-9 where float64
# exists (0 added). On JAX without x64 the state is exact over batches but
# each batch's weight sum is float32 (README, "JAX") and so is the result:
# a positive sum's few roundings plus the normalising division, 4 eps32
# relative (measured: at most 1.6).
FLOAT32_RESULT_RTOL = float32_slack(4)


@pytest.mark.parametrize("normalize", [None, "true", "pred", "all"])
@pytest.mark.parametrize("task", ["binary", "multiclass"])
def test_confusion_matrix(task, normalize):
    y_true, y_pred, weights = DATA[task](seed=17)
    y_hat = decisions(task, y_pred)
    labels = [0, 1] if task == "binary" else list(range(C))
    with np.errstate(all="ignore"):
        expected = skm.confusion_matrix(
            y_true, y_hat, labels=labels, sample_weight=weights, normalize=normalize
        )
    assert_streaming_equals(
        lambda: km.ConfusionMatrix(normalize, task=task),
        expected,
        y_true,
        y_pred,
        weights,
        batchings=(1, 5),
        atol=1e-9,
        rtol=FLOAT32_RESULT_RTOL,
    )


@pytest.mark.parametrize("normalize", [None, "true", "pred", "all"])
def test_multilabel_confusion_matrix(normalize):
    y_true, y_pred, weights = multilabel_data(seed=19)
    mcm = skm.multilabel_confusion_matrix(
        y_true, decisions("multilabel", y_pred), sample_weight=weights
    )
    axis = {None: None, "true": 2, "pred": 1, "all": (1, 2)}[normalize]
    if axis is not None:
        totals = mcm.sum(axis=axis, keepdims=True)
        mcm = np.where(totals > 0, mcm / np.where(totals > 0, totals, 1), 0.0)
    assert_streaming_equals(
        lambda: km.ConfusionMatrix(normalize, task="multilabel"),
        mcm,
        y_true,
        y_pred,
        weights,
        batchings=(1, 5),
        atol=1e-9,
        rtol=FLOAT32_RESULT_RTOL,
    )


# --------------------------------------------------------------------------
# Label forms, ranks, ignore_index, thresholds, logits
# --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def masks():
    """Segmentation batch: (N, H, W) labels with void pixels, (N, H, W, C) scores."""
    rng = np.random.default_rng(3)
    n, h, w = 6, 9, 7
    y_true = rng.integers(0, C, (n, h, w))
    y_true[rng.random((n, h, w)) < 0.1] = 255
    logits = rng.normal(size=(n, h, w, C)).astype(np.float32)
    logits += 2.0 * np.eye(C)[np.where(y_true == 255, 0, y_true)]
    return y_true, logits, rng.uniform(0.5, 2.0, n)


@pytest.mark.parametrize(
    "make",
    [
        lambda: km.F1(ignore_index=255),
        lambda: km.IoU(average="micro", ignore_index=255),
        lambda: km.IoU(average=None, ignore_index=255),
        lambda: km.MCC(ignore_index=255),
        lambda: km.Accuracy(ignore_index=255),
    ],
)
def test_segmentation_masks_match_flattened_sklearn(masks, make):
    y_true, logits, weights = masks
    metric = make()
    keep = y_true.ravel() != 255
    flat_true = y_true.ravel()[keep]
    flat_pred = logits.reshape(-1, C).argmax(-1)[keep]
    flat_w = np.broadcast_to(weights[:, None, None], y_true.shape).ravel()[keep]
    fn = {km.F1: skm.f1_score, km.IoU: skm.jaccard_score}.get(type(metric))
    if fn is not None:
        expected = fn(
            flat_true,
            flat_pred,
            labels=list(range(C)),
            average=metric.average,
            sample_weight=flat_w,
            zero_division=0,
        )
    elif isinstance(metric, km.MCC):
        expected = skm.matthews_corrcoef(flat_true, flat_pred, sample_weight=flat_w)
    else:
        expected = skm.accuracy_score(flat_true, flat_pred, sample_weight=flat_w)
    assert_streaming_equals(make, expected, y_true, logits, weights, batchings=(1, 3))
    # The same pixels as (N, H, W, 1) labels and as one-hot rows (the void
    # pixels, which one-hot cannot express, are dropped through the weights).
    # One-hot masks have y_pred's shape, which task="auto" refuses as
    # ambiguous (binary masks without a channel axis look the same).
    for y_form, w_form, task in (
        (y_true[..., None], weights, "auto"),
        (
            np.eye(C)[np.where(y_true == 255, 0, y_true)],
            weights[:, None, None] * (y_true != 255),
            "multiclass",
        ),
    ):
        m = type(metric).from_config({**metric.get_config(), "task": task})
        m.update_state(y_form, logits, w_form)
        np.testing.assert_allclose(to_numpy(m.result()), expected, atol=1e-6)


def test_binary_mask_with_channel_axis():
    rng = np.random.default_rng(5)
    y_true = rng.integers(0, 2, (4, 8, 8))
    logits = rng.normal(size=(4, 8, 8, 1)).astype(np.float32)
    flat_pred = (1 / (1 + np.exp(-logits.ravel())) > 0.3).astype(int)
    expected = skm.f1_score(y_true.ravel(), flat_pred)
    assert_streaming_equals(
        lambda: km.F1(from_logits=True, threshold=0.3),
        expected,
        y_true,
        logits,
        batchings=(1, 3),
    )
    # Without a channel axis the task must be given.
    m = km.Dice(task="binary", from_logits=True, threshold=0.3)
    m.update_state(y_true, logits[..., 0])
    np.testing.assert_allclose(to_numpy(m.result()), expected, atol=1e-6)


def test_multilabel_thresholds_logits_and_ignore():
    y_true, probabilities, weights = multilabel_data(seed=23)
    y_true[::7, 1] = -1  # unknown labels
    probabilities = np.clip(probabilities, 1e-6, 1 - 1e-6)
    logits = np.log(probabilities) - np.log1p(-probabilities)
    keep = y_true != -1
    y_hat = (probabilities > 0.7).astype(int)
    # Dropping cells equals scikit-learn on each label's kept cells (macro).
    per_label = [
        skm.recall_score(
            y_true[keep[:, c], c],
            y_hat[keep[:, c], c],
            sample_weight=weights[keep[:, c]],
            zero_division=0,
        )
        for c in range(C)
    ]
    metric = km.Recall(
        task="multilabel",
        threshold=0.7,
        from_logits=True,
        ignore_index=-1,
        average=None,
    )
    metric.update_state(y_true, logits, weights)
    np.testing.assert_allclose(to_numpy(metric.result()), per_label, atol=1e-6)


def test_one_hot_targets_equal_sparse():
    y_true, y_pred, weights = multiclass_data(seed=29)
    for make in (km.F1, km.CohenKappa, km.BalancedAccuracy):
        sparse, dense = make(), make()
        sparse.update_state(y_true, y_pred, weights)
        dense.update_state(np.eye(C)[y_true], y_pred, weights)
        np.testing.assert_allclose(to_numpy(sparse.result()), to_numpy(dense.result()))


# --------------------------------------------------------------------------
# Streaming properties (hypothesis)
# --------------------------------------------------------------------------
@settings(max_examples=20, deadline=None)
@given(
    n=st.integers(2, 60),
    classes=st.integers(2, 5),
    parts=st.integers(1, 6),
    seed=st.integers(0, 10_000),
    weighted=st.booleans(),
)
def test_any_batch_split_equals_one_batch_equals_sklearn(
    n, classes, parts, seed, weighted
):
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, classes, n)
    y_pred = rng.random((n, classes)).astype(np.float32)
    w = rng.uniform(0.0, 2.0, n) if weighted else None
    y_hat = y_pred.argmax(-1)
    labels = list(range(classes))
    cases = [
        (
            lambda: km.F1(average="macro"),
            skm.f1_score(
                y_true,
                y_hat,
                labels=labels,
                average="macro",
                sample_weight=w,
                zero_division=0,
            ),
        ),
        (
            lambda: km.IoU(average="weighted"),
            skm.jaccard_score(
                y_true,
                y_hat,
                labels=labels,
                average="weighted",
                sample_weight=w,
                zero_division=0,
            ),
        ),
        (lambda: km.MCC(), skm.matthews_corrcoef(y_true, y_hat, sample_weight=w)),
    ]
    for make, expected in cases:
        assert_streaming_equals(
            make, expected, y_true, y_pred, w, seed=seed, batchings=(1, parts)
        )


# --------------------------------------------------------------------------
# Inside Keras: evaluate / fit, graph / eager / XLA, MirroredStrategy
# --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def softmax_batch():
    rng = np.random.default_rng(31)
    y_true = rng.integers(0, C, 96)
    y_pred = rng.random((96, C)).astype(np.float32)
    return y_true, y_pred, rng.uniform(0.5, 2.0, 96)


@pytest.mark.parametrize(
    ("mode", "jit_compile", "run_eagerly"),
    [
        ("evaluate", False, False),
        ("evaluate", True, False),
        ("evaluate", False, True),
        ("fit", False, False),
        ("fit", True, False),
    ],
)
def test_inside_keras_equals_sklearn_on_predict(
    softmax_batch, mode, jit_compile, run_eagerly
):
    y_true, y_pred, weights = softmax_batch
    out = metric_in_model(
        lambda: km.F1(average="weighted"),
        y_true,
        y_pred,
        weights,
        mode=mode,
        jit_compile=jit_compile,
        run_eagerly=run_eagerly,
    )
    y_hat = out["predictions"].argmax(-1)
    expected = skm.f1_score(
        y_true, y_hat, labels=list(range(C)), average="weighted", sample_weight=weights
    )
    np.testing.assert_allclose(out["value"], expected, atol=1e-6)


@pytest.mark.parametrize("mode", ["evaluate", "fit"])
def test_mirrored_strategy(softmax_batch, mirrored_strategy, mode):
    y_true, y_pred, weights = softmax_batch
    for make, reference in (
        (
            lambda: km.IoU(),
            lambda yh: skm.jaccard_score(
                y_true,
                yh,
                labels=list(range(C)),
                average="macro",
                sample_weight=weights,
            ),
        ),
        (
            lambda: km.CohenKappa("quadratic"),
            lambda yh: skm.cohen_kappa_score(
                y_true,
                yh,
                labels=list(range(C)),
                weights="quadratic",
                sample_weight=weights,
            ),
        ),
    ):
        out = metric_in_model(
            make, y_true, y_pred, weights, mode=mode, strategy=mirrored_strategy
        )
        expected = reference(out["predictions"].argmax(-1))
        np.testing.assert_allclose(out["value"], expected, atol=1e-6)


def test_stateless_update_leaves_the_variables_alone(softmax_batch):
    y_true, y_pred, weights = softmax_batch
    metric = km.F1(task="multiclass", num_classes=C)
    # Even variables passed as the "values" must not be written through.
    state = [v.value for v in metric.variables]
    new_state = metric.stateless_update_state(state, y_true, y_pred, weights)
    assert all(np.all(to_numpy(v) == 0) for v in metric.variables)
    expected = skm.f1_score(
        y_true, y_pred.argmax(-1), average="macro", sample_weight=weights
    )
    np.testing.assert_allclose(
        to_numpy(metric.stateless_result(new_state)), expected, atol=1e-6
    )


def test_eager_updates_of_metrics_made_under_a_strategy(
    softmax_batch, mirrored_strategy
):
    # Variables created under MirroredStrategy are per-replica; eager updates
    # inside and outside the scope go through Keras's assign, not the fused
    # single-device path.
    y_true, y_pred, weights = softmax_batch
    with mirrored_strategy.scope():
        inside = km.F1(task="multiclass", num_classes=C)
        outside = km.F1(task="multiclass", num_classes=C)
        inside.update_state(y_true, y_pred, weights)
    outside.update_state(y_true, y_pred, weights)
    expected = skm.f1_score(
        y_true, y_pred.argmax(-1), average="macro", sample_weight=weights
    )
    for metric in (inside, outside):
        np.testing.assert_allclose(to_numpy(metric.result()), expected, atol=1e-6)


@pytest.mark.parametrize("units", [1, C])
def test_default_f1_compiles_for_sigmoid_and_softmax(units):
    rng = np.random.default_rng(37)
    x = rng.normal(size=(64, 5)).astype(np.float32)
    y = rng.integers(0, max(units, 2), 64)
    model = keras.Sequential(
        [
            keras.Input((5,)),
            keras.layers.Dense(
                units, activation="sigmoid" if units == 1 else "softmax"
            ),
        ]
    )
    model.compile(
        optimizer="adam",
        loss="binary_crossentropy" if units == 1 else "sparse_categorical_crossentropy",
        metrics=[km.F1()],
    )
    logs = model.evaluate(x, y, batch_size=16, verbose=0, return_dict=True)
    p = model.predict(x, verbose=0)
    y_hat = (p[:, 0] > 0.5).astype(int) if units == 1 else p.argmax(-1)
    expected = skm.f1_score(
        y,
        y_hat,
        average="binary" if units == 1 else "macro",
        labels=None if units == 1 else list(range(C)),
    )
    np.testing.assert_allclose(logs["f1"], expected, atol=1e-6)
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)


def test_segmentation_model_with_metrics(masks, tmp_path):
    y_true, logits, _ = masks
    inputs = keras.Input(logits.shape[1:])
    # A per-pixel Dense initialised to the identity: predictions == logits.
    outputs = keras.layers.Dense(C, kernel_initializer="identity")(inputs)
    model = keras.Model(inputs, outputs, name="segmenter")
    model.compile(
        optimizer="sgd",
        loss=keras.losses.SparseCategoricalCrossentropy(
            from_logits=True, ignore_class=255
        ),
        metrics=[km.IoU(from_logits=True, ignore_index=255)],
    )
    logs = model.evaluate(logits, y_true, batch_size=2, verbose=0, return_dict=True)
    pred = model.predict(logits, verbose=0).argmax(-1)
    keep = y_true != 255
    expected = skm.jaccard_score(
        y_true[keep], pred[keep], labels=list(range(C)), average="macro"
    )
    np.testing.assert_allclose(logs["iou"], expected, atol=1e-6)
    assert_keras_roundtrip(model, logits, tmp_path)


# --------------------------------------------------------------------------
# Exact counts, invalid input, precision
# --------------------------------------------------------------------------
def test_counts_stay_exact_past_2_to_the_24():
    metric = km.ConfusionMatrix(task="binary")
    big = float(2**24)
    for _ in range(3):
        metric.update_state([1], [0.9], [big])
    metric.update_state([1], [0.9], [1.0])
    assert to_numpy(metric.result())[1, 1] == 3 * 2**24 + 1  # float32 gives 3 * 2**24
    recall = km.Recall(task="binary")
    for _ in range(3):
        recall.update_state([1], [0.9], [big])
    recall.update_state([1], [0.1], [1.0])
    np.testing.assert_allclose(
        to_numpy(recall.result()), 3 * big / (3 * big + 1), rtol=1e-7
    )


def test_invalid_labels_raise_eagerly():
    with pytest.raises(ValueError, match=r"Expected integers in \[0, 3\).*\[3, 9\]"):
        km.F1().update_state([0, 3, 9], np.eye(3))
    with pytest.raises(ValueError, match=r"Expected 0 or 1.*\[2\]"):
        km.F1().update_state([0, 2], [[0.3], [0.8]])
    with pytest.raises(ValueError, match=r"`y_pred`. Expected finite"):
        km.F1().update_state([0, 1], [[np.nan], [0.8]])


def test_invalid_inputs_give_nan_when_traced():
    metric = km.F1(task="multiclass", num_classes=3)
    update = traced_with_state(metric.update_state, [metric])
    update(tensor([0, 1]), tensor(np.eye(3)[:2], "float32"))
    assert np.isfinite(to_numpy(metric.result()))
    update(tensor([0, 5]), tensor(np.eye(3)[:2], "float32"))
    assert np.isnan(to_numpy(metric.result()))
    metric.reset_state()
    update(tensor([0, 1]), tensor([[np.nan, 0, 0], [0, 1, 0]], "float32"))
    assert np.isnan(to_numpy(metric.result()))
    for bad in (np.inf, -np.inf):
        metric.reset_state()
        update(tensor([0, 1]), tensor([[1, bad, 0], [0, 1, 0]], "float32"))
        assert np.isnan(to_numpy(metric.result()))
    metric.reset_state()
    update(tensor([0, 1]), tensor(np.eye(3)[:2], "float32"))
    assert to_numpy(metric.result()) == pytest.approx(2 / 3)  # classes 0, 1 of 3


@pytest.mark.parametrize("task", ["binary", "multilabel"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_scores_give_nan_when_traced(task, bad):
    y_pred = np.array([[0.2, 0.9], [0.7, bad]], np.float32)
    y_true = np.array([[0, 1], [1, 1]])
    if task == "binary":
        y_pred, y_true = y_pred[:, 1:], y_true[:, 1:]
    metric = km.Recall(task=task)
    traced_with_state(metric.update_state, [metric], jit_compile=True)(
        tensor(y_true), tensor(y_pred)
    )
    assert np.isnan(to_numpy(metric.result()))


def test_eager_update_with_bad_input_leaves_the_state_unchanged():
    metric = km.F1()
    metric.update_state([0, 1, 2], np.eye(3))
    before = to_numpy(metric.confusion)
    with pytest.raises(ValueError, match="Expected integers"):
        metric.update_state([0, 7, 2], np.eye(3))
    np.testing.assert_array_equal(to_numpy(metric.confusion), before)
    assert not np.any(to_numpy(metric.invalid))
    assert to_numpy(metric.result()) == pytest.approx(1.0)


def test_mixed_precision_inputs(softmax_batch):
    y_true, y_pred, weights = softmax_batch
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        metric = km.F1()
        assert metric.dtype == "float32"
        metric.update_state(y_true, keras.ops.cast(y_pred, "float16"), weights)
        y_hat = y_pred.astype(np.float16).argmax(-1)
        expected = skm.f1_score(y_true, y_hat, average="macro", sample_weight=weights)
        assert keras.backend.standardize_dtype(metric.result().dtype) == "float32"
        np.testing.assert_allclose(to_numpy(metric.result()), expected, atol=1e-6)
    finally:
        keras.mixed_precision.set_global_policy("float32")


@pytest.mark.parametrize("zero_division", [0.0, 1.0, NAN])
def test_result_before_any_update_is_the_empty_value(zero_division):
    """Empty counts give zero_division, whether or not the layout is known
    (sklearn's value for 0/0), and a reset metric reads like a new one."""
    for make in (
        lambda **kw: km.F1(**kw),
        lambda **kw: km.F1(task="binary", **kw),
        lambda **kw: km.F1(task="multiclass", num_classes=3, **kw),
        lambda **kw: km.MCC(**kw),
        lambda **kw: km.Accuracy(task="multilabel", num_classes=2, **kw),
    ):
        fresh = make(zero_division=zero_division)
        np.testing.assert_equal(float(to_numpy(fresh.result())), zero_division)
        used = make(zero_division=zero_division)
        used.update_state(
            *{
                "binary": ([0, 1], [[0.2], [0.9]]),
                "multilabel": ([[0, 1]], [[0.2, 0.9]]),
            }.get(used.resolved_task, ([0, 1, 2], np.eye(3)))
        )
        used.reset_state()
        np.testing.assert_equal(float(to_numpy(used.result())), zero_division)


# --------------------------------------------------------------------------
# Arguments and serialization
# --------------------------------------------------------------------------
ALL_METRICS = [
    km.F1(
        average="micro",
        task="multiclass",
        num_classes=4,
        ignore_index=255,
        zero_division=1.0,
        name="f1_micro",
    ),
    km.FBeta(0.5, average=None, task="multilabel", threshold=0.3, from_logits=True),
    km.Precision(average="weighted"),
    km.Recall(task="binary", threshold=0.25),
    km.IoU(num_classes=21, task="multiclass", ignore_index=255),
    km.Dice(task="binary", from_logits=True),
    km.Accuracy(task="multilabel", num_classes=3),
    km.BalancedAccuracy(zero_division=NAN),
    km.MCC(task="binary"),
    km.CohenKappa("linear", num_classes=5, task="multiclass"),
    km.ConfusionMatrix("true", task="multiclass", num_classes=3),
]


@pytest.mark.parametrize("metric", ALL_METRICS, ids=lambda m: type(m).__name__)
def test_config_roundtrip(metric):
    rebuilt = assert_config_roundtrip(metric)
    assert rebuilt.state_built == metric.state_built


def test_model_with_metrics_roundtrips(tmp_path, softmax_batch):
    y_true, y_pred, _ = softmax_batch
    inputs = keras.Input((C,))
    model = keras.Model(
        inputs, keras.layers.Dense(C, activation="softmax")(inputs), name="classifier"
    )
    model.compile(
        optimizer="adam",
        loss="sparse_categorical_crossentropy",
        metrics=[km.F1(), km.MCC(), km.CohenKappa("quadratic")],
    )
    model.fit(y_pred, y_true, epochs=1, batch_size=32, verbose=0)
    loaded = assert_keras_roundtrip(model, y_pred, tmp_path)
    before = model.evaluate(y_pred, y_true, verbose=0, return_dict=True)
    after = loaded.evaluate(y_pred, y_true, verbose=0, return_dict=True)
    for key in ("f1", "mcc", "cohen_kappa"):
        np.testing.assert_allclose(after[key], before[key], atol=1e-7)


@pytest.mark.parametrize(
    ("build", "error", "pattern"),
    [
        (lambda: km.F1(average="samples"), ValueError, r"argument `average`"),
        (lambda: km.F1(task="ranking"), ValueError, r"argument `task`"),
        (
            lambda: km.MCC(task="multilabel"),
            ValueError,
            r"MCC is not defined for the multilabel task",
        ),
        (lambda: km.CohenKappa(task="multilabel"), ValueError, r"not defined for"),
        (
            lambda: km.BalancedAccuracy(task="multilabel"),
            ValueError,
            r"not defined for",
        ),
        (lambda: km.F1(threshold=1.0), ValueError, r"argument `threshold`"),
        (lambda: km.F1(threshold=0), ValueError, r"Received: threshold=0.0"),
        (
            lambda: km.F1(task="multiclass", threshold=0.3),
            ValueError,
            r"threshold.*binary and multilabel tasks only",
        ),
        (lambda: km.FBeta(beta=0), ValueError, r"argument `beta`.*> 0"),
        (lambda: km.FBeta(beta="2"), TypeError, r"argument `beta`"),
        (lambda: km.F1(num_classes=0), ValueError, r"argument `num_classes`"),
        (lambda: km.F1(task="binary", num_classes=3), ValueError, r"num_classes"),
        (lambda: km.F1(task="multiclass", num_classes=1), ValueError, r"num_classes"),
        (lambda: km.F1(zero_division=0.5), ValueError, r"argument `zero_division`"),
        (lambda: km.F1(zero_division="warn"), TypeError, r"argument `zero_division`"),
        (lambda: km.F1(ignore_index=1.5), TypeError, r"argument `ignore_index`"),
        (lambda: km.F1(from_logits="yes"), TypeError, r"argument `from_logits`"),
        (lambda: km.CohenKappa("cubic"), ValueError, r"argument `weights`"),
        (lambda: km.ConfusionMatrix("rows"), ValueError, r"argument `normalize`"),
    ],
)
def test_invalid_arguments(build, error, pattern):
    with pytest.raises(error, match=pattern):
        build()


@pytest.mark.parametrize(
    ("make", "y_true", "y_pred", "pattern"),
    [
        (
            lambda: km.F1(num_classes=3),
            np.zeros(4),
            np.zeros((4, 5)),
            r"num_classes.*y_pred.shape\[-1\]=5",
        ),
        (
            km.F1,
            np.zeros((4, 2)),
            np.zeros((4, 3)),
            r"y_true.shape=\(4, 2\), y_pred.shape=\(4, 3\)",
        ),
        (km.F1, np.zeros(5), np.zeros((4, 3)), r"y_true.shape=\(5,\)"),
        (
            lambda: km.F1(task="multilabel"),
            np.zeros((4,)),
            np.zeros((4, 3)),
            r"same shape as y_pred",
        ),
        (km.Accuracy, np.zeros(4), np.zeros((4, 3, 2)), r"Incompatible shapes"),
    ],
)
def test_invalid_shapes(make, y_true, y_pred, pattern):
    with pytest.raises(ValueError, match=pattern):
        make().update_state(y_true, y_pred)


def test_sample_weight_shape_is_checked():
    with pytest.raises(ValueError, match=r"sample_weight.shape=\(3,\)"):
        km.F1().update_state(np.zeros(4), np.eye(4), np.ones(3))


def test_merge_requires_same_configuration():
    a, b = km.F1(average="macro"), km.F1(average="micro")
    with pytest.raises(ValueError, match="argument `metrics`"):
        a.merge_state([b])
    with pytest.raises(ValueError, match="argument `metrics`"):
        a.merge_state([km.IoU()])


def test_built_for_other_classes_refuses_new_shape():
    metric = km.F1()
    metric.update_state([0, 1], np.eye(3)[:2])
    with pytest.raises(ValueError, match="was built for"):
        metric.update_state([0, 1], np.eye(4)[:2])
