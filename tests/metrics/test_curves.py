"""`AUROC.curve()` / `AUPRC.curve()` against scikit-learn at the bin edges.

The reference quantises every score to its bin independently of the metric
(float64 logit, `np.searchsorted` on the public `bin_edges`, threshold
`scipy.special.expit` of the lower edge) and runs scikit-learn's
`roc_curve` / `precision_recall_curve` on the quantised scores.
"""

import warnings

import keras
import numpy as np
import pytest
from scipy.special import expit
from sklearn import metrics as skm

from keras_components.metrics import AUPRC, AUROC
from keras_components.metrics._curves import (
    PrecisionRecallCurve,
    RocCurve,
    bin_thresholds,
)
from keras_components.metrics._ranking import bin_edges
from tests.helpers import random_splits

BINS = 256
# Few samples in 256 bins: the metrics warn that their error bound is wide.
pytestmark = pytest.mark.filterwarnings("ignore:.*may differ from the exact")


def _quantised(scores: np.ndarray, num_bins: int, *, from_logits: bool = False):
    """Each score replaced by its bin's threshold (float64 NumPy reference)."""
    s = np.asarray(scores, np.float64)
    with np.errstate(divide="ignore"):
        logits = s if from_logits else np.log(s) - np.log1p(-s)
    edges = bin_edges(num_bins)
    bins = np.clip(np.searchsorted(edges, logits, side="right") - 1, 0, num_bins - 1)
    return expit(edges[bins])


def _binary_data(n=300, seed=0, weights=False):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.4).astype(np.int32)
    p = expit(rng.normal(size=n) + 1.2 * y).astype(np.float32)
    w = rng.integers(0, 4, size=n).astype(np.float32) * 0.5 if weights else None
    return y, p, w


def _stream(metric, y, p, w, parts, seed):
    for s in random_splits(len(y), parts, np.random.default_rng(seed)):
        metric.update_state(y[s], p[s], None if w is None else w[s])
    return metric


def _assert_roc(curve, y, q, w, drop):
    assert isinstance(curve, RocCurve)
    fpr, tpr, thr = skm.roc_curve(y, q, sample_weight=w, drop_intermediate=drop)
    np.testing.assert_allclose(curve.fpr, fpr, rtol=1e-12, atol=0)
    np.testing.assert_allclose(curve.tpr, tpr, rtol=1e-12, atol=0)
    np.testing.assert_allclose(curve.thresholds, thr, rtol=1e-12, atol=0)


def _assert_pr(curve, y, q, w, drop):
    assert isinstance(curve, PrecisionRecallCurve)
    precision, recall, thr = skm.precision_recall_curve(
        y, q, sample_weight=w, drop_intermediate=drop
    )
    np.testing.assert_allclose(curve.precision, precision, rtol=1e-12, atol=0)
    np.testing.assert_allclose(curve.recall, recall, rtol=1e-12, atol=0)
    np.testing.assert_allclose(curve.thresholds, thr, rtol=1e-12, atol=0)


@pytest.mark.parametrize("weights", [False, True])
@pytest.mark.parametrize("parts", [1, 4])
@pytest.mark.parametrize("num_bins", [BINS, None])
def test_binary_curves_equal_sklearn_at_bin_edges(weights, parts, num_bins):
    y, p, w = _binary_data(seed=parts, weights=weights)
    bins = num_bins or 16384
    q = _quantised(p, bins)
    roc = _stream(AUROC(num_thresholds=num_bins), y, p, w, parts, seed=1)
    pr = _stream(AUPRC(num_thresholds=num_bins), y, p, w, parts, seed=2)
    for drop in (True, False):
        _assert_roc(roc.curve(drop_intermediate=drop), y, q, w, drop)
        _assert_pr(pr.curve(drop_intermediate=drop), y, q, w, drop)
    # Default orientation and options as scikit-learn's.
    _assert_roc(roc.curve(), y, q, w, True)
    _assert_pr(pr.curve(), y, q, w, False)


def test_area_of_the_curve_is_the_result():
    y, p, w = _binary_data(n=500, seed=3, weights=True)
    roc = _stream(AUROC(num_thresholds=BINS), y, p, w, 3, seed=4)
    pr = _stream(AUPRC(num_thresholds=BINS), y, p, w, 3, seed=5)
    fpr, tpr, _ = roc.curve()
    np.testing.assert_allclose(skm.auc(fpr, tpr), float(roc.result()), atol=1e-6)
    precision, recall, _ = pr.curve()
    ap = -np.sum(np.diff(recall) * precision[:-1])
    np.testing.assert_allclose(ap, float(pr.result()), atol=1e-6)


def test_multiclass_one_vs_rest_per_class():
    rng = np.random.default_rng(7)
    n, k = 400, 3
    y = rng.integers(0, k, size=n)
    z = rng.normal(size=(n, k)) + 1.5 * np.eye(k)[y]
    p = (np.exp(z) / np.exp(z).sum(-1, keepdims=True)).astype(np.float32)
    w = rng.integers(1, 4, size=n).astype(np.float32)
    roc = _stream(AUROC(num_thresholds=BINS), y, p, w, 3, seed=8)
    pr = _stream(AUPRC(num_thresholds=BINS), y, p, w, 5, seed=9)
    rocs, prs = roc.curve(), pr.curve()
    assert isinstance(rocs, list)
    assert len(rocs) == len(prs) == k
    per_class_auc = AUROC(num_thresholds=BINS, average=None)
    per_class_auc.update_state(y, p, w)
    for c in range(k):
        q = _quantised(p[:, c], BINS)
        _assert_roc(rocs[c], (y == c).astype(int), q, w, True)
        _assert_pr(prs[c], (y == c).astype(int), q, w, False)
        np.testing.assert_allclose(
            skm.auc(rocs[c].fpr, rocs[c].tpr),
            np.asarray(per_class_auc.result())[c],
            atol=1e-6,
        )


def test_multiclass_from_logits_thresholds_on_probability_scale():
    rng = np.random.default_rng(11)
    n, k = 300, 4
    y = rng.integers(0, k, size=n)
    z = (rng.normal(size=(n, k)) + np.eye(k)[y]).astype(np.float32)
    metric = AUROC(num_thresholds=BINS, from_logits=True)
    metric.update_state(y, z)
    z64 = z.astype(np.float64)
    p = np.exp(z64) / np.exp(z64).sum(-1, keepdims=True)
    for c, curve in enumerate(metric.curve()):
        assert np.all(curve.thresholds[1:] <= 1.0)
        assert np.all(curve.thresholds[1:] >= 0.0)
        _assert_roc(curve, (y == c).astype(int), _quantised(p[:, c], BINS), None, True)


def test_multilabel_with_weights():
    rng = np.random.default_rng(12)
    n, k = 300, 3
    y = (rng.random((n, k)) < 0.3).astype(np.int32)
    p = expit(rng.normal(size=(n, k)) + y).astype(np.float32)
    w = rng.integers(0, 3, size=n).astype(np.float32)
    roc = _stream(AUROC(task="multilabel", num_thresholds=BINS), y, p, w, 4, 13)
    pr = _stream(AUPRC(task="multilabel", num_thresholds=BINS), y, p, w, 2, 14)
    for c, (r, q_curve) in enumerate(zip(roc.curve(), pr.curve(), strict=True)):
        q = _quantised(p[:, c], BINS)
        _assert_roc(r, y[:, c], q, w, True)
        _assert_pr(q_curve, y[:, c], q, w, False)


def test_binary_from_logits():
    rng = np.random.default_rng(15)
    y = rng.integers(0, 2, size=300)
    z = (3.0 * rng.normal(size=300) + 2.0 * y).astype(np.float32)
    metric = AUPRC(num_thresholds=BINS, from_logits=True)
    metric.update_state(y, z)
    q = _quantised(z, BINS, from_logits=True)
    _assert_pr(metric.curve(), y, q, None, False)


def test_after_merge_state():
    y, p, w = _binary_data(n=400, seed=16, weights=True)
    q = _quantised(p, BINS)
    for cls, check, drop in ((AUROC, _assert_roc, True), (AUPRC, _assert_pr, False)):
        shards = [cls(num_thresholds=BINS) for _ in range(3)]
        for shard, s in zip(shards, np.array_split(np.arange(400), 3), strict=True):
            shard.update_state(y[s], p[s], w[s])
        merged = cls(num_thresholds=BINS)
        merged.merge_state(shards)
        check(merged.curve(), y, q, w, drop)


def test_end_bins_hold_exact_zeros_and_ones():
    y = np.array([0, 0, 1, 1, 0, 1])
    p = np.array([0.0, 0.3, 0.6, 1.0, 1.0, 0.0], np.float32)
    metric = AUROC(num_thresholds=BINS)
    metric.update_state(y, p)
    curve = metric.curve(drop_intermediate=False)
    assert curve.thresholds[0] == np.inf
    assert curve.thresholds[1] == 1.0
    assert curve.thresholds[-1] == 0.0
    _assert_roc(curve, y, _quantised(p, BINS), None, False)
    assert bin_thresholds(BINS)[0] == 0.0


def test_single_class_state_follows_sklearn():
    y = np.zeros(20, np.int32)
    p = np.linspace(0.05, 0.95, 20).astype(np.float32)
    q = _quantised(p, BINS)
    roc = AUROC(num_thresholds=BINS)
    roc.update_state(y, p)
    with pytest.warns(UserWarning, match="No positives"):
        curve = roc.curve()
    assert np.all(np.isnan(curve.tpr))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fpr, tpr, thr = skm.roc_curve(y, q)
    np.testing.assert_array_equal(curve.fpr, fpr)
    np.testing.assert_array_equal(curve.tpr, tpr)  # NaN == NaN here
    np.testing.assert_allclose(curve.thresholds, thr, rtol=1e-12)
    pr = AUPRC(num_thresholds=BINS)
    pr.update_state(y, p)
    with pytest.warns(UserWarning, match="recall"):
        curve = pr.curve()
    np.testing.assert_array_equal(curve.recall[:-1], 1.0)


def test_no_data_is_a_value_error():
    with pytest.raises(ValueError, match="needs data"):
        AUROC().curve()
    metric = AUPRC()
    metric.update_state([0, 1], [0.2, 0.7])
    metric.reset_state()
    with pytest.raises(ValueError, match="needs data"):
        metric.curve()


def test_bad_argument():
    metric = AUROC()
    metric.update_state([0, 1], [0.2, 0.7])
    with pytest.raises(TypeError, match="drop_intermediate"):
        metric.curve(drop_intermediate="yes")


@pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="tf.function tracing"
)
def test_traced_call_and_invalid_state_are_clear_errors():
    import tensorflow as tf

    metric = AUROC(num_thresholds=BINS)
    metric.update_state([0, 1], [0.2, 0.7])

    @tf.function
    def traced():
        return metric.curve()

    with pytest.raises(RuntimeError, match="traced"):
        traced()

    tf.function(lambda: metric.update_state([0, 1], [0.2, float("nan")]))()
    with pytest.raises(ValueError, match="invalid"):
        metric.curve()
