"""AUROC and AUPRC against scikit-learn."""

import warnings

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import average_precision_score, roc_auc_score

from keras_components import AUPRC, AUROC
from keras_components.metrics import ranking
from tests.helpers import (
    assert_config_roundtrip,
    assert_keras_roundtrip,
    assert_streaming_equals,
    metrics_in_model,
    passthrough_model,
    to_numpy,
)

# Issue 5's tolerances at the default bins.
ROC_TOL = 1e-4
AP_TOL = 1e-3


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-np.asarray(x, np.float64)))


def softmax(z):
    z = np.asarray(z, np.float64)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def sk_roc(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return roc_auc_score(*args, **kwargs)


def sk_ap(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return average_precision_score(*args, **kwargs)


def result(metric, y_true, y_pred, sample_weight=None):
    metric.update_state(y_true, y_pred, sample_weight)
    return to_numpy(metric.result()).astype(np.float64)


# --------------------------------------------------------------------------
# Data: the score distributions of the issue, and exact-grid data
# --------------------------------------------------------------------------
def saturated_binary(n, seed, positive_rate=0.5):
    """Saturated sigmoid scores: sigmoid(3 z + 4 y - 2), float32."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < positive_rate).astype(np.float32)
    logits = (3.0 * rng.standard_normal(n) + 4.0 * y - 2.0).astype(np.float32)
    return y, sigmoid(logits).astype(np.float32), logits


@pytest.fixture(scope="module")
def binary_cases():
    n = 20000
    rng = np.random.default_rng(0)
    uniform = rng.random(n).astype(np.float32)
    y_uniform = (rng.random(n) < uniform).astype(np.float32)
    y_sat, s_sat, _ = saturated_binary(n, 1)
    y_rare, s_rare, _ = saturated_binary(n, 2, positive_rate=0.01)
    y_w, s_w, _ = saturated_binary(n, 3)
    weights = rng.exponential(size=n).astype(np.float32)
    return {
        "uniform": (y_uniform, uniform, None),
        "saturated": (y_sat, s_sat, None),
        "1% positives": (y_rare, s_rare, None),
        "weighted": (y_w, s_w, weights),
    }


def grid_scores(indices):
    """Scores whose logits are 0.05 apart: every distinct score in its own bin.

    Bins are 2 * 24 / 16384 ~ 0.003 wide in logit, so on such data the
    binned metrics are exact (equal to scikit-learn up to float32 rounding).
    """
    return sigmoid(0.05 * np.asarray(indices)).astype(np.float32)


@pytest.fixture(scope="module")
def multiclass_data():
    rng = np.random.default_rng(4)
    n, c = 6000, 4
    labels = rng.integers(0, c, n)
    logits = rng.standard_normal((n, c)) + 1.5 * np.eye(c)[labels]
    logits[: n // 3] *= 6.0  # a third saturated (softmax probabilities ~ 1)
    return labels, logits.astype(np.float32)


@pytest.fixture(scope="module")
def multilabel_data():
    rng = np.random.default_rng(5)
    n, c = 6000, 3
    y = (rng.random((n, c)) < [0.5, 0.2, 0.05]).astype(np.float32)
    scores = sigmoid(3.0 * rng.standard_normal((n, c)) + 4.0 * y - 2.0)
    return y, scores.astype(np.float32)


# --------------------------------------------------------------------------
# Agreement with scikit-learn at the default bins
# --------------------------------------------------------------------------
@pytest.mark.parametrize("case", ["uniform", "saturated", "1% positives", "weighted"])
def test_binary_agrees_with_sklearn(binary_cases, case):
    y, scores, weights = binary_cases[case]
    roc = result(AUROC(), y, scores, weights)
    ap = result(AUPRC(), y, scores, weights)
    assert abs(roc - sk_roc(y, scores, sample_weight=weights)) <= ROC_TOL
    assert abs(ap - sk_ap(y, scores, sample_weight=weights)) <= AP_TOL


def test_binary_from_logits_agrees_with_sklearn(binary_cases):
    y, _, logits = saturated_binary(20000, 1)
    assert abs(result(AUROC(from_logits=True), y, logits) - sk_roc(y, logits)) <= (
        ROC_TOL
    )
    assert abs(result(AUPRC(from_logits=True), y, logits) - sk_ap(y, logits)) <= (
        AP_TOL
    )


def test_saturated_scores_at_the_default_bins():
    """The issue's data: 65536 saturated sigmoid scores, within tolerance.

    Keras's AUC(200) on the same data: `keras-components bench claims`.
    """
    y, scores, _ = saturated_binary(65536, 0)
    assert abs(result(AUROC(), y, scores) - sk_roc(y, scores)) <= ROC_TOL
    assert abs(result(AUPRC(), y, scores) - sk_ap(y, scores)) <= AP_TOL
    assert ranking.DEFAULT_NUM_THRESHOLDS >= 50 * 200


@pytest.mark.parametrize("average", ["macro", "weighted", "micro", None])
@pytest.mark.parametrize("from_logits", [False, True])
def test_multiclass_one_vs_rest(multiclass_data, average, from_logits):
    labels, logits = multiclass_data
    # The reference sees exactly our input: float64 softmax of the logits, or
    # the float32 probabilities themselves (which tie near 1).
    probs = softmax(logits) if from_logits else softmax(logits).astype(np.float32)
    y_pred = logits if from_logits else probs
    roc = result(AUROC(average=average, from_logits=from_logits), labels, y_pred)
    ap = result(AUPRC(average=average, from_logits=from_logits), labels, y_pred)
    one_hot = np.eye(4)[labels]
    np.testing.assert_allclose(
        roc, sk_roc(labels, probs, multi_class="ovr", average=average), atol=1e-4
    )
    np.testing.assert_allclose(ap, sk_ap(one_hot, probs, average=average), atol=1e-3)


def test_multiclass_one_hot_targets_equal_sparse(multiclass_data):
    labels, logits = multiclass_data
    sparse = result(AUROC(average=None, from_logits=True), labels, logits)
    dense = result(AUROC(average=None, from_logits=True), np.eye(4)[labels], logits)
    np.testing.assert_array_equal(dense, sparse)


@pytest.mark.parametrize("average", ["macro", "weighted", "micro", None])
def test_multilabel(multilabel_data, average):
    y, scores = multilabel_data
    kwargs = {"task": "multilabel", "average": average}
    roc = result(AUROC(**kwargs), y, scores)
    ap = result(AUPRC(**kwargs), y, scores)
    np.testing.assert_allclose(roc, sk_roc(y, scores, average=average), atol=1e-3)
    np.testing.assert_allclose(ap, sk_ap(y, scores, average=average), atol=1e-3)


def test_one_vs_rest_logits_are_stable_for_saturated_softmax():
    z = np.array([[60.0, 0.0, -5.0], [0.0, 0.0, 0.0], [-80.0, 3.0, 2.0]], np.float32)
    got = to_numpy(ranking.one_vs_rest_logits(z, task="multiclass", from_logits=True))
    z64 = z.astype(np.float64)
    expected = np.empty_like(z64)
    for k in range(3):
        rest = np.delete(z64, k, axis=1)
        expected[:, k] = z64[:, k] - np.logaddexp.reduce(rest, axis=1)
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-5)


def test_any_rank_equals_flattened():
    rng = np.random.default_rng(6)
    labels = rng.integers(0, 3, (4, 5, 6))
    logits = rng.standard_normal((4, 5, 6, 3)).astype(np.float32)
    weights = rng.random(4).astype(np.float32)
    image = result(AUROC(from_logits=True), labels, logits, weights)
    flat = result(
        AUROC(from_logits=True),
        labels.reshape(-1),
        logits.reshape(-1, 3),
        np.repeat(weights, 30),
    )
    np.testing.assert_allclose(image, flat, atol=1e-7)


# --------------------------------------------------------------------------
# Exactness, streaming, merging (hypothesis)
# --------------------------------------------------------------------------
def test_exact_when_scores_fall_in_distinct_bins():
    rng = np.random.default_rng(7)
    scores = grid_scores(rng.integers(-300, 300, 3000))
    y = (rng.random(3000) < scores).astype(np.float32)
    w = rng.random(3000).astype(np.float32)
    np.testing.assert_allclose(
        result(AUROC(), y, scores, w), sk_roc(y, scores, sample_weight=w), atol=1e-6
    )
    np.testing.assert_allclose(
        result(AUPRC(), y, scores, w), sk_ap(y, scores, sample_weight=w), atol=1e-6
    )


@st.composite
def binary_batches(draw):
    n = draw(st.integers(2, 40))
    y = np.array(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)), np.float32)
    grid = draw(st.lists(st.integers(-40, 40), min_size=n, max_size=n))
    weighted = draw(st.booleans())
    weights = (
        np.array(draw(st.lists(st.integers(1, 5), min_size=n, max_size=n)), np.float32)
        if weighted
        else None
    )
    return y, grid_scores(grid), weights


@settings(max_examples=15, deadline=None)
@given(binary_batches())
def test_streaming_and_merge_equal_sklearn(batch):
    y, scores, weights = batch
    assert_streaming_equals(
        AUROC, sk_roc(y, scores, sample_weight=weights), y, scores, weights
    )
    assert_streaming_equals(
        AUPRC, sk_ap(y, scores, sample_weight=weights), y, scores, weights
    )


def test_multilabel_streaming_and_merge(multilabel_data):
    rng = np.random.default_rng(8)
    y = multilabel_data[0][:300]
    scores = grid_scores(rng.integers(-200, 200, y.shape))
    for average in ("macro", "micro"):
        assert_streaming_equals(
            lambda a=average: AUPRC(task="multilabel", average=a),
            sk_ap(y, scores, average=average),
            y,
            scores,
        )


# --------------------------------------------------------------------------
# Undefined values
# --------------------------------------------------------------------------
def test_single_class_is_nan_for_auroc_and_follows_sklearn_for_ap():
    scores = np.array([0.1, 0.4, 0.8], np.float32)
    negatives, positives = np.zeros(3), np.ones(3)
    assert np.isnan(result(AUROC(), negatives, scores))
    assert np.isnan(result(AUROC(), positives, scores))
    assert np.isnan(sk_roc(negatives, scores))  # scikit-learn 1.9: NaN + warning
    # No positives: scikit-learn 1.9 defines AP = 0 (with a warning).
    assert result(AUPRC(), negatives, scores) == sk_ap(negatives, scores) == 0.0
    assert result(AUPRC(), positives, scores) == 1.0


def test_no_data_is_nan():
    assert np.isnan(to_numpy(AUROC().result()))
    assert np.isnan(to_numpy(AUPRC().result()))
    assert np.isnan(to_numpy(AUROC(task="multiclass").result()))


def test_class_without_positives_in_averages():
    y = np.array([[1, 0], [0, 0], [1, 0]], np.float32)
    scores = np.array([[0.2, 0.3], [0.1, 0.9], [0.8, 0.4]], np.float32)
    for average in ("macro", "weighted", "micro", None):
        expected_roc = sk_roc(y, scores, average=average)
        expected_ap = sk_ap(y, scores, average=average)
        kwargs = {"task": "multilabel", "average": average}
        np.testing.assert_allclose(result(AUROC(**kwargs), y, scores), expected_roc)
        np.testing.assert_allclose(result(AUPRC(**kwargs), y, scores), expected_ap)


# --------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf, 1.5, -0.1])
def test_eager_bad_scores_raise(bad):
    with pytest.raises(ValueError, match="`y_pred`"):
        AUROC().update_state([0, 1], np.array([0.5, bad], np.float32))


def test_eager_non_finite_logits_raise():
    with pytest.raises(ValueError, match=r"`y_pred`.*finite"):
        AUPRC(from_logits=True).update_state([0, 1], np.array([0.5, np.inf]))


@pytest.mark.parametrize(
    ("y_true", "y_pred", "from_logits"),
    [
        ([0.0, 1.0, 1.0], [0.2, np.nan, 0.3], False),
        ([0.0, 1.0, 1.0], [0.2, 1.5, 0.3], False),
        ([0.0, 1.0, 1.0], [0.2, np.inf, 0.3], True),
        ([0.0, 0.5, 1.0], [0.2, 0.4, 0.3], False),
        ([0.0, 2.0, 1.0], [0.2, 0.4, 0.3], False),
    ],
)
def test_traced_bad_input_gives_nan(y_true, y_pred, from_logits):
    for cls in (AUROC, AUPRC):
        metric = cls(from_logits=from_logits)

        @tf.function
        def step(y_true, y_pred, metric=metric):
            metric.update_state(y_true, y_pred)
            return metric.result()

        value = step(tf.constant(y_true, tf.float32), tf.constant(y_pred, tf.float32))
        assert np.isnan(to_numpy(value))
        metric.reset_state()
        metric.update_state([0.0, 1.0], [0.2, 0.7])
        assert to_numpy(metric.result()) == 1.0


def test_shape_and_class_errors():
    with pytest.raises(ValueError, match="Incompatible shapes"):
        AUROC().update_state(np.zeros(4), np.zeros(3))
    metric = AUROC()
    metric.update_state([0, 1], np.array([[0.3, 0.7], [0.6, 0.4]]))
    with pytest.raises(ValueError, match="built for"):
        metric.update_state([0, 1], np.full((2, 3), 1 / 3))
    with pytest.raises(ValueError, match="num_classes"):
        AUROC(num_classes=3).update_state([0, 1], np.full((2, 4), 0.25))


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"task": "ovo"}, ValueError, "argument `task`"),
        ({"average": "samples"}, ValueError, "argument `average`"),
        ({"num_thresholds": 1}, ValueError, "argument `num_thresholds`"),
        ({"num_thresholds": 200.0}, TypeError, "argument `num_thresholds`"),
        ({"num_classes": 0}, ValueError, "argument `num_classes`"),
        ({"task": "binary", "num_classes": 3}, ValueError, "argument `num_classes`"),
        ({"from_logits": 1}, TypeError, "argument `from_logits`"),
    ],
)
def test_invalid_arguments(kwargs, error, match):
    for cls in (AUROC, AUPRC):
        with pytest.raises(error, match=match):
            cls(**kwargs)


# --------------------------------------------------------------------------
# State, configuration, models
# --------------------------------------------------------------------------
def test_state_is_fixed_size_and_built_when_known():
    metric = AUROC(task="multiclass", num_classes=3, num_thresholds=500)
    assert tuple(metric.histogram.shape) == (3, 2, 500)  # built in __init__
    rng = np.random.default_rng(9)
    for n in (10, 1000):
        metric.update_state(rng.integers(0, 3, n), softmax(rng.random((n, 3))))
    assert [tuple(v.shape) for v in metric.variables] == [(4,), (3, 2, 500)]
    assert all(v.dtype == "float64" for v in metric.variables)
    assert tuple(AUPRC(task="binary").histogram.shape) == (1, 2, 16384)
    assert not AUROC().state_built  # task auto: built from the first batch


def test_merge_state_rejects_other_configurations():
    with pytest.raises(ValueError, match="argument `metrics`"):
        AUROC().merge_state([AUROC(average="micro")])


CONFIGURED = [
    AUROC(),
    AUROC(task="multilabel", num_classes=3, average=None, num_thresholds=1000),
    AUPRC(task="multiclass", average="weighted", from_logits=True, name="ap"),
]


@pytest.mark.parametrize("metric", CONFIGURED, ids=lambda m: m.name)
def test_config_roundtrip(metric):
    assert_config_roundtrip(metric)


def test_saved_model_with_metrics_roundtrips(tmp_path):
    model = passthrough_model((3,))
    model.compile(
        loss="categorical_crossentropy",
        metrics=[
            AUROC(average="weighted", num_thresholds=1000),
            AUPRC(task="multilabel", from_logits=True),
        ],
    )
    x = softmax(np.random.default_rng(10).random((8, 3))).astype(np.float32)
    model.evaluate(x, np.eye(3)[[0, 1, 2, 0, 1, 2, 0, 1]], verbose=0)
    loaded = assert_keras_roundtrip(model, x, tmp_path)
    logs = loaded.evaluate(x, np.eye(3)[[0, 1, 2, 0, 1, 2, 0, 1]], verbose=0)
    assert np.all(np.isfinite(logs))


@pytest.fixture(scope="module")
def model_data():
    rng = np.random.default_rng(11)
    scores = grid_scores(rng.integers(-60, 60, (64, 1)))
    y = (rng.random((64, 1)) < scores).astype(np.float32)
    weights = rng.integers(1, 4, 64).astype(np.float32)
    return y, scores, weights


MODEL_OPTIONS = [
    {"mode": "evaluate"},
    {"mode": "fit"},
    {"mode": "evaluate", "jit_compile": True},
    {"mode": "fit", "run_eagerly": True},
]


def check_in_model(model_data, **options):
    y, scores, weights = model_data
    out = metrics_in_model(lambda: [AUROC(), AUPRC()], y, scores, weights, **options)
    predicted = out["predictions"][:, 0]
    np.testing.assert_allclose(
        out["auroc"], sk_roc(y[:, 0], predicted, sample_weight=weights), atol=1e-6
    )
    np.testing.assert_allclose(
        out["auprc"], sk_ap(y[:, 0], predicted, sample_weight=weights), atol=1e-6
    )


@pytest.mark.parametrize(
    "options", MODEL_OPTIONS, ids=lambda o: "-".join(f"{k}={v}" for k, v in o.items())
)
def test_in_model_equals_sklearn(model_data, options):
    check_in_model(model_data, **options)


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["evaluate", "fit"])
def test_under_mirrored_strategy(model_data, mirrored_strategy, mode):
    check_in_model(model_data, mode=mode, strategy=mirrored_strategy)


@pytest.mark.slow
def test_multiclass_lazy_build_under_mirrored_strategy(mirrored_strategy):
    rng = np.random.default_rng(12)
    labels = rng.integers(0, 3, 32)
    probs = softmax(0.05 * rng.integers(-40, 40, (32, 3))).astype(np.float32)
    out = metrics_in_model(
        lambda: [AUROC(average="macro")],
        labels.astype(np.float32),
        probs,
        strategy=mirrored_strategy,
    )
    expected = sk_roc(labels, out["predictions"], multi_class="ovr")
    np.testing.assert_allclose(out["auroc"], expected, atol=1e-4)


@pytest.mark.parametrize("mixed_precision_policy", ["mixed_float16"], indirect=True)
def test_mixed_precision(model_data, mixed_precision_policy):
    y, scores, weights = model_data
    out = metrics_in_model(lambda: [AUROC(), AUPRC()], y, scores, weights)
    predicted = out["predictions"][:, 0]
    assert predicted.dtype == np.float16  # the metrics saw half precision
    np.testing.assert_allclose(
        out["auroc"], sk_roc(y[:, 0], predicted, sample_weight=weights), atol=1e-6
    )
    np.testing.assert_allclose(
        out["auprc"], sk_ap(y[:, 0], predicted, sample_weight=weights), atol=1e-6
    )
