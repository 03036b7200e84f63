"""LogLoss against scikit-learn's log_loss and a float64 log-space reference."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import log_loss

from keras_components import LogLoss
from keras_components.metrics._probabilistic import log_loss_per_sample
from tests.helpers import (
    IN_MODEL_OPTIONS,
    assert_config_roundtrip,
    assert_keras_roundtrip,
    assert_streaming_equals,
    in_model_id,
    metrics_in_model,
    passthrough_model,
    to_numpy,
)

TOL = 1e-5  # issue 5: within 1e-5 of scikit-learn


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-np.asarray(x, np.float64)))


def softmax(z):
    z = np.asarray(z, np.float64)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def result(metric, y_true, y_pred, sample_weight=None):
    metric.update_state(y_true, y_pred, sample_weight)
    return float(to_numpy(metric.result()))


@pytest.fixture(scope="module")
def binary():
    rng = np.random.default_rng(0)
    logits = (3.0 * rng.standard_normal(2000)).astype(np.float32)
    y = (rng.random(2000) < sigmoid(logits)).astype(np.float32)
    weights = rng.exponential(size=2000).astype(np.float32)
    return y, logits, weights


@pytest.fixture(scope="module")
def multiclass():
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 4, 2000)
    logits = (2.0 * rng.standard_normal((2000, 4)) + np.eye(4)[labels]).astype(
        np.float32
    )
    weights = rng.exponential(size=2000).astype(np.float32)
    return labels, logits, weights


@pytest.mark.parametrize("column", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
def test_binary_probabilities(binary, column, weighted):
    y, logits, weights = binary
    probs = sigmoid(logits).astype(np.float32)
    w = weights if weighted else None
    y_pred = probs[:, None] if column else probs
    expected = log_loss(y, probs, sample_weight=w, labels=[0, 1])
    assert abs(result(LogLoss(), y, y_pred, w) - expected) <= TOL


@pytest.mark.parametrize("weighted", [False, True])
def test_binary_logits(binary, weighted):
    y, logits, weights = binary
    w = weights if weighted else None
    expected = log_loss(y, sigmoid(logits), sample_weight=w, labels=[0, 1])
    assert abs(result(LogLoss(from_logits=True), y, logits, w) - expected) <= TOL


@pytest.mark.parametrize("one_hot", [False, True])
@pytest.mark.parametrize("from_logits", [False, True])
def test_multiclass(multiclass, one_hot, from_logits):
    labels, logits, weights = multiclass
    probs64 = softmax(logits)
    probs32 = probs64.astype(np.float32)
    y_true = np.eye(4)[labels] if one_hot else labels
    y_pred = logits if from_logits else probs32
    expected = log_loss(
        labels,
        probs64 if from_logits else probs32,
        sample_weight=weights,
        labels=range(4),
    )
    metric = LogLoss(from_logits=from_logits)
    assert abs(result(metric, y_true, y_pred, weights) - expected) <= TOL


def test_clipping_matches_sklearn_for_certain_mistakes():
    # Probabilities of exactly 0 and 1 on the wrong class: scikit-learn clips
    # to [eps, 1 - eps] with eps of the input dtype.
    y = np.array([1, 0, 1, 0], np.float32)
    for dtype in (np.float32, np.float64):
        probs = np.array([0.0, 1.0, 1.0, 0.0], dtype)
        expected = log_loss(y, probs, labels=[0, 1])
        assert abs(result(LogLoss(), y, probs) - expected) <= TOL * expected
    probs = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]], np.float32)
    expected = log_loss([1, 2], probs, labels=range(3))
    assert abs(result(LogLoss(), [1, 2], probs) - expected) <= TOL * expected


def test_extreme_logits_are_exact():
    z = np.array([-1e4, -100.0, -20.0, 0.0, 20.0, 100.0, 1e4], np.float32)
    for label in (0, 1):
        y = np.full(z.shape, label, np.float32)
        got = to_numpy(
            log_loss_per_sample(y[:, None], z[:, None], task="binary", from_logits=True)
        )
        expected = np.logaddexp(0.0, -z.astype(np.float64) * (2 * label - 1))
        # Relative where the value is a normal float32 (below: underflow to 0).
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-37)
    z = np.array([[100.0, -100.0, 0.0]], np.float32)
    got = to_numpy(
        log_loss_per_sample(
            np.array([[0, 1, 0]]), z, task="multiclass", from_logits=True
        )
    )
    np.testing.assert_allclose(got, [200.0], rtol=1e-6)


@pytest.mark.filterwarnings("ignore:The y_prob values do not sum to one")
def test_any_rank_and_half_precision():
    rng = np.random.default_rng(2)
    labels = rng.integers(0, 3, (4, 5))
    probs = softmax(rng.standard_normal((4, 5, 3))).astype(np.float16)
    # Half precision is computed in float32 (its eps), like float32 input.
    expected = log_loss(
        labels.ravel(), probs.reshape(-1, 3).astype(np.float32), labels=range(3)
    )
    assert abs(result(LogLoss(), labels, probs) - expected) <= 1e-4


@st.composite
def binary_batches(draw):
    n = draw(st.integers(1, 40))
    y = np.array(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)), np.float32)
    p = np.array(
        draw(st.lists(st.floats(0.0, 1.0, width=32), min_size=n, max_size=n)),
        np.float32,
    )
    w = np.array(
        draw(st.lists(st.floats(0.125, 5.0, width=32), min_size=n, max_size=n)),
        np.float32,
    )
    return y, p, w


@settings(max_examples=15, deadline=None)
@given(binary_batches())
def test_streaming_and_merge_equal_sklearn(batch):
    y, p, w = batch
    assert_streaming_equals(
        LogLoss,
        log_loss(y, p, sample_weight=w, labels=[0, 1]),
        y,
        p,
        w,
        atol=1e-6,
        rtol=1e-6,
    )


# --------------------------------------------------------------------------
# Undefined values and bad input
# --------------------------------------------------------------------------
def test_no_data_is_nan():
    assert np.isnan(to_numpy(LogLoss().result()))


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"task": "multilabel"}, ValueError),
        ({"task": None}, ValueError),
        ({"from_logits": "yes"}, TypeError),
    ],
)
def test_invalid_arguments(kwargs, error):
    with pytest.raises(error, match="argument"):
        LogLoss(**kwargs)


# --------------------------------------------------------------------------
# Configuration and models
# --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "metric", [LogLoss(), LogLoss(task="multiclass", from_logits=True, name="nll")]
)
def test_config_roundtrip(metric):
    assert_config_roundtrip(metric)


def test_saved_model_with_metric_roundtrips(tmp_path):
    model = passthrough_model((3,))
    model.compile(loss="categorical_crossentropy", metrics=[LogLoss(from_logits=True)])
    x = np.random.default_rng(3).standard_normal((8, 3)).astype(np.float32)
    model.evaluate(x, np.eye(3)[[0, 1, 2, 0, 1, 2, 0, 1]], verbose=0)
    assert_keras_roundtrip(model, x, tmp_path)


@pytest.fixture(scope="module")
def model_data():
    rng = np.random.default_rng(4)
    labels = rng.integers(0, 3, 64).astype(np.float32)
    logits = (2.0 * rng.standard_normal((64, 3))).astype(np.float32)
    weights = rng.integers(1, 4, 64).astype(np.float32)
    return labels, logits, weights


def check_in_model(model_data, **options):
    labels, logits, weights = model_data
    out = metrics_in_model(
        lambda: [LogLoss(from_logits=True)], labels, logits, weights, **options
    )
    expected = log_loss(
        labels, softmax(out["predictions"]), sample_weight=weights, labels=range(3)
    )
    np.testing.assert_allclose(out["log_loss"], expected, rtol=1e-6)


@pytest.mark.parametrize("options", IN_MODEL_OPTIONS, ids=in_model_id)
def test_in_model_equals_sklearn(model_data, options):
    check_in_model(model_data, **options)


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["evaluate", "fit"])
def test_under_mirrored_strategy(model_data, mirrored_strategy, mode):
    check_in_model(model_data, mode=mode, strategy=mirrored_strategy)


def test_probabilities_in_model(model_data):
    labels, logits, weights = model_data
    probs = softmax(logits).astype(np.float32)
    out = metrics_in_model(lambda: [LogLoss()], labels, probs, weights)
    expected = log_loss(
        labels, out["predictions"], sample_weight=weights, labels=range(3)
    )
    np.testing.assert_allclose(out["log_loss"], expected, rtol=1e-6)
