"""CalibrationError against a float64 NumPy reference of torchmetrics' formula.

And against torchmetrics' `calibration_error` itself where it is installed
(a test-only reference; the tests that need it skip cleanly otherwise).
"""

import numpy as np
import pytest

from keras_components import CalibrationError, _backend
from keras_components.metrics._calibration import COUNTED_BINS, bin_edges, bin_index
from tests.helpers import (
    IN_MODEL_OPTIONS,
    assert_config_roundtrip,
    assert_keras_roundtrip,
    assert_streaming_equals,
    in_model_id,
    metrics_in_model,
    nested_xla_calls,
    passthrough_model,
    runs_eagerly_in_model,
    tensor,
    to_numpy,
)

NORMS = ("l1", "l2", "max")
# float32 confidences, float64 sums: the reference is float64 throughout.
# Without float64 (JAX without x64) a batch's sums are float32 (_base.py).
EXACT_BATCH_SUMS = _backend.float64_state()
TOL = 1e-6 if EXACT_BATCH_SUMS else 1e-5


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-np.asarray(x, np.float64)))


def softmax(z):
    z = np.asarray(z, np.float64)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def reference(y, y_pred, weights=None, *, num_bins=15, norm="l1", from_logits=False):
    """torchmetrics' calibration error in float64 NumPy, with sample weights.

    Binary (`y_pred` 1-D): confidence = p(class 1), accuracy = the label.
    Multiclass: confidence = max probability, accuracy = (first argmax ==
    label). Bins: `searchsorted(edges, c, side="right") - 1` over the edges
    `j / n` in the scores' dtype (torch.bucketize(right=True) - 1): bin j
    is [j/n, (j+1)/n), and c = 1 has a bin of its own.
    """
    y_pred = np.asarray(y_pred)
    dtype = np.float64 if y_pred.dtype == np.float64 else np.float32
    y = np.asarray(y).reshape(-1)
    if y_pred.ndim == 1:
        p = sigmoid(y_pred) if from_logits else y_pred.astype(np.float64)
        confidence, correct = p, y.astype(np.float64)
    else:
        p = softmax(y_pred) if from_logits else y_pred.astype(np.float64)
        confidence = p.max(axis=-1)
        correct = (p.argmax(axis=-1) == y).astype(np.float64)
    w = np.ones(len(y)) if weights is None else np.asarray(weights, np.float64)
    edges = (np.arange(num_bins + 1) / num_bins).astype(dtype).astype(np.float64)
    index = np.searchsorted(edges, confidence.astype(dtype), side="right") - 1
    n = np.bincount(index, weights=w, minlength=num_bins + 1)
    conf = np.bincount(index, weights=w * confidence, minlength=num_bins + 1)
    acc = np.bincount(index, weights=w * correct, minlength=num_bins + 1)
    filled = n > 0
    safe = np.where(filled, n, 1.0)
    conf = np.where(filled, conf / safe, 0.0)
    acc = np.where(filled, acc / safe, 0.0)
    share = n / n.sum()
    gap = np.abs(acc - conf)
    if norm == "l1":
        return float(np.sum(share * gap))
    if norm == "l2":
        return float(np.sqrt(np.sum(share * gap**2)))
    return float(np.max(gap))


def result(metric, y_true, y_pred, sample_weight=None):
    metric.update_state(y_true, y_pred, sample_weight)
    return float(to_numpy(metric.result()))


@pytest.fixture(scope="module")
def binary():
    rng = np.random.default_rng(0)
    logits = (2.5 * rng.standard_normal(3000)).astype(np.float32)
    # Miscalibrated on purpose: the labels follow a flatter sigmoid.
    y = (rng.random(3000) < sigmoid(0.6 * logits)).astype(np.float32)
    weights = rng.exponential(size=3000).astype(np.float32)
    return y, logits, weights


@pytest.fixture(scope="module")
def multiclass():
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 5, 3000)
    logits = (2.0 * rng.standard_normal((3000, 5)) + 1.5 * np.eye(5)[labels]).astype(
        np.float32
    )
    weights = rng.exponential(size=3000).astype(np.float32)
    return labels, logits, weights


def data(binary, multiclass, task, from_logits):
    y, logits, weights = binary if task == "binary" else multiclass
    if from_logits:
        return y, logits, weights
    probs = sigmoid(logits) if task == "binary" else softmax(logits)
    return y, probs.astype(np.float32), weights


# --------------------------------------------------------------------------
# The documented values (torchmetrics' docstring examples)
# --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("norm", "expected"), [("l1", 0.29), ("l2", 0.2918), ("max", 0.3167)]
)
def test_torchmetrics_documented_binary_values(norm, expected):
    got = result(
        CalibrationError(num_bins=2, norm=norm),
        [0, 0, 1, 1, 1],
        np.array([0.25, 0.25, 0.55, 0.75, 0.75], np.float32),
    )
    assert abs(got - expected) < 5e-5


@pytest.mark.parametrize(
    ("norm", "expected"), [("l1", 0.2), ("l2", 0.2082), ("max", 0.2333)]
)
def test_torchmetrics_documented_multiclass_values(norm, expected):
    p = np.array(
        [
            [0.25, 0.20, 0.55],
            [0.55, 0.05, 0.40],
            [0.10, 0.30, 0.60],
            [0.90, 0.05, 0.05],
        ],
        np.float32,
    )
    got = result(CalibrationError(num_bins=3, norm=norm), [0, 1, 2, 0], p)
    assert abs(got - expected) < 5e-5


# --------------------------------------------------------------------------
# Against the float64 reference: every norm, task, input form, weights, splits
# --------------------------------------------------------------------------
@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("task", ["binary", "multiclass"])
@pytest.mark.parametrize("from_logits", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
def test_streaming_and_merge_equal_reference(
    binary, multiclass, norm, task, from_logits, weighted
):
    y, y_pred, weights = data(binary, multiclass, task, from_logits)
    w = weights if weighted else None
    expected = reference(y, y_pred, w, norm=norm, from_logits=from_logits)
    assert expected > 0.01  # miscalibrated data: a real number to check
    assert_streaming_equals(
        lambda: CalibrationError(norm=norm, from_logits=from_logits),
        expected,
        y,
        y_pred,
        w,
        atol=TOL,
    )


@pytest.mark.parametrize("num_bins", [1, 2, 7, 10, 100])
def test_bin_counts(multiclass, num_bins):
    y, logits, weights = multiclass
    probs = softmax(logits).astype(np.float32)
    for norm in NORMS:
        got = result(CalibrationError(num_bins, norm), y, probs, weights)
        expected = reference(y, probs, weights, num_bins=num_bins, norm=norm)
        assert abs(got - expected) <= TOL, norm


def test_one_hot_targets_column_scores_and_task_argument(binary, multiclass):
    y, probs, _ = data(binary, multiclass, "multiclass", False)
    expected = reference(y, probs)
    one_hot = np.eye(5, dtype=np.float32)[y]
    assert (
        abs(result(CalibrationError(task="multiclass"), one_hot, probs) - expected)
        <= TOL
    )
    y, probs, _ = data(binary, multiclass, "binary", False)
    expected = reference(y, probs)
    assert abs(result(CalibrationError(), y[:, None], probs[:, None]) - expected) <= TOL
    assert abs(result(CalibrationError(task="binary"), y, probs) - expected) <= TOL


def test_integer_weights_equal_repetition(multiclass):
    y, logits, _ = multiclass
    counts = np.random.default_rng(5).integers(0, 4, len(y))
    weighted = result(
        CalibrationError(from_logits=True), y, logits, counts.astype(np.float32)
    )
    repeated = result(
        CalibrationError(from_logits=True),
        np.repeat(y, counts),
        np.repeat(logits, counts, axis=0),
    )
    assert abs(weighted - repeated) <= TOL


def test_any_rank_and_half_precision():
    rng = np.random.default_rng(2)
    labels = rng.integers(0, 3, (4, 6, 5))
    probs = softmax(2 * rng.standard_normal((4, 6, 5, 3)))
    half = probs.astype(np.float16)
    # Half precision is binned in float32, the scores' values unchanged.
    expected = reference(labels, half.reshape(-1, 3).astype(np.float32))
    assert abs(result(CalibrationError(), labels, half) - expected) <= TOL
    y = rng.integers(0, 2, (4, 6, 5)).astype(np.float32)
    p = rng.random((4, 6, 5)).astype(np.float32)
    expected = reference(y.ravel(), p.ravel(), num_bins=4, norm="max")
    assert (
        abs(result(CalibrationError(4, "max", task="binary"), y, p) - expected) <= TOL
    )


def test_edges_and_certain_predictions():
    # Confidences exactly on the edges (binary fractions, exact in float32),
    # 0 and 1: bin j is [j/n, (j+1)/n) and confidence 1 has a bin of its own.
    p = np.array([0.0, 0.25, 0.5, 0.75, 1.0, 1.0, 0.5, 0.25], np.float32)
    y = np.array([0, 1, 1, 0, 1, 0, 0, 1], np.float32)
    for norm in NORMS:
        got = result(CalibrationError(4, norm), y, p)
        assert abs(got - reference(y, p, num_bins=4, norm=norm)) <= 1e-7, norm
    bins = CalibrationError(4)
    bins.update_state(y, p)
    out = bins.bins()
    np.testing.assert_array_equal(out.weight, [1, 2, 2, 1, 2])
    np.testing.assert_allclose(out.accuracy, [0, 1, 0.5, 0, 0.5])
    np.testing.assert_allclose(out.confidence, [0, 0.25, 0.5, 0.75, 1.0])
    np.testing.assert_allclose(out.lower, [0, 0.25, 0.5, 0.75, 1.0])
    np.testing.assert_allclose(out.upper, [0.25, 0.5, 0.75, 1.0, 1.0])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("num_bins", [3, 7, 10, 15, 49, 1000])
def test_bin_index_is_exact_next_to_every_edge(num_bins, dtype):
    edges = bin_edges(num_bins, dtype)
    near = np.concatenate(
        [
            edges,
            np.nextafter(edges, np.array(-1.0, dtype)),
            np.nextafter(edges, np.array(2.0, dtype)),
        ]
    ).astype(dtype)
    near = near[(near >= 0) & (near <= 1)]
    if dtype == "float64":
        from tests.helpers import skip_without_float64

        skip_without_float64()
    expected = np.searchsorted(edges, near, side="right") - 1
    got = to_numpy(bin_index(tensor(near, dtype), num_bins))
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    "num_bins", [1, 15, COUNTED_BINS, COUNTED_BINS + 1, 1000, 3 << 20]
)
def test_bin_index_is_exact_compiled_and_with_many_bins(num_bins, dtype):
    # Compiled (XLA / jax.jit) as inside an update: up to COUNTED_BINS bins
    # counts the edges below each confidence, more gathers an edge; 3 << 20
    # bins in float32 take the two-comparison path (`bin_index`).
    if dtype == "float64":
        from tests.helpers import skip_without_float64

        skip_without_float64()
    edges = bin_edges(num_bins, dtype)
    rng = np.random.default_rng(7)
    some = edges[np.unique(rng.integers(0, num_bins + 1, 3000))]
    near = np.concatenate(
        [
            some,
            np.nextafter(some, np.array(-1.0, dtype)),
            np.nextafter(some, np.array(2.0, dtype)),
            rng.random(3000).astype(dtype),
        ]
    ).astype(dtype)
    near = near[(near >= 0) & (near <= 1)]
    expected = np.searchsorted(edges, near, side="right") - 1
    compiled = _backend.jit(lambda c: bin_index(c, num_bins))
    got = to_numpy(compiled(tensor(near, dtype)))
    np.testing.assert_array_equal(got, expected)


def test_bins_equal_the_reference_per_bin(binary):
    y, logits, weights = binary
    p = sigmoid(logits).astype(np.float32)
    metric = CalibrationError(num_bins=10)
    metric.update_state(y, p, weights)
    out = metric.bins()
    index = np.minimum((p.astype(np.float64) * 10).astype(int), 10)
    w = weights.astype(np.float64)
    for b in range(10):
        inside = index == b
        assert abs(out.weight[b] - w[inside].sum()) <= 1e-6 * w.sum()
        assert abs(out.accuracy[b] - np.average(y[inside], weights=w[inside])) <= TOL
        assert abs(out.confidence[b] - np.average(p[inside], weights=w[inside])) <= TOL
    assert metric.direction == "down"
    assert metric.name == "calibration_error"


# --------------------------------------------------------------------------
# torchmetrics itself (test-only reference, skipped where not installed)
# --------------------------------------------------------------------------
@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("task", ["binary", "multiclass"])
@pytest.mark.parametrize("from_logits", [False, True])
@pytest.mark.parametrize("num_bins", [1, 10, 15])
def test_equals_torchmetrics(binary, multiclass, norm, task, from_logits, num_bins):
    torchmetrics = pytest.importorskip("torchmetrics")
    import torch

    y, y_pred, _ = data(binary, multiclass, task, from_logits)
    kwargs = {"num_classes": 5} if task == "multiclass" else {}
    expected = torchmetrics.functional.calibration_error(
        torch.from_numpy(np.asarray(y_pred)),
        torch.from_numpy(np.asarray(y).astype(np.int64)),
        task=task,
        n_bins=num_bins,
        norm=norm,
        **kwargs,
    ).item()
    got = result(CalibrationError(num_bins, norm, from_logits=from_logits), y, y_pred)
    # torchmetrics sums in float32; ours in float64.
    assert abs(got - expected) <= 2e-5


def test_edges_equal_torchmetrics():
    torchmetrics = pytest.importorskip("torchmetrics")
    import torch

    p = np.array([0.0, 0.25, 0.5, 0.75, 1.0, 1.0, 0.5, 0.25], np.float32)
    y = np.array([0, 1, 1, 0, 1, 0, 0, 1])
    for norm in NORMS:
        expected = torchmetrics.functional.calibration_error(
            torch.from_numpy(p), torch.from_numpy(y), task="binary", n_bins=4, norm=norm
        ).item()
        got = result(CalibrationError(4, norm), y, p)
        assert abs(got - expected) <= 1e-7, norm


# --------------------------------------------------------------------------
# Undefined values and bad input
# --------------------------------------------------------------------------
def test_no_data_is_nan():
    metric = CalibrationError()
    assert np.isnan(to_numpy(metric.result()))
    with pytest.raises(ValueError, match="seen no data"):
        metric.bins()
    # Zero total weight holds nothing either.
    metric.update_state([0, 1], [0.2, 0.7], [0.0, 0.0])
    assert np.isnan(to_numpy(metric.result()))


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (
            {"num_bins": 0},
            ValueError,
            "Invalid value for argument `num_bins`. Expected an integer >= 1. "
            "Received: num_bins=0",
        ),
        ({"num_bins": -3}, ValueError, "argument `num_bins`"),
        ({"num_bins": 2.5}, TypeError, "argument `num_bins`"),
        ({"num_bins": True}, TypeError, "argument `num_bins`"),
        (
            {"norm": "l3"},
            ValueError,
            "Invalid value for argument `norm`. Expected one of {'l1', 'l2', "
            "'max'}. Received: norm='l3'",
        ),
        ({"norm": None}, ValueError, "argument `norm`"),
        ({"task": "multilabel"}, ValueError, "argument `task`"),
        ({"from_logits": "yes"}, TypeError, "argument `from_logits`"),
    ],
)
def test_invalid_arguments(kwargs, error, message):
    with pytest.raises(error) as caught:
        CalibrationError(**kwargs)
    assert message in str(caught.value)


# --------------------------------------------------------------------------
# Configuration, merging and models
# --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "metric",
    [
        CalibrationError(),
        CalibrationError(7, "max", task="multiclass", from_logits=True, name="mce"),
        CalibrationError(num_bins=3, norm="l2", task="binary"),
    ],
)
def test_config_roundtrip(metric):
    assert_config_roundtrip(metric)


def test_merge_refuses_another_configuration():
    a, b = CalibrationError(10), CalibrationError(15)
    b.update_state([0, 1], [0.2, 0.7])
    with pytest.raises(ValueError, match="argument `metrics`"):
        a.merge_state([b])


def test_saved_model_with_metric_roundtrips(tmp_path):
    model = passthrough_model((3,))
    model.compile(
        loss="categorical_crossentropy",
        metrics=[CalibrationError(5, "l2", from_logits=True)],
    )
    x = np.random.default_rng(3).standard_normal((8, 3)).astype(np.float32)
    model.evaluate(x, np.eye(3)[[0, 1, 2, 0, 1, 2, 0, 1]], verbose=0)
    assert_keras_roundtrip(model, x, tmp_path)


@pytest.fixture(scope="module")
def model_data():
    rng = np.random.default_rng(4)
    labels = rng.integers(0, 3, 96).astype(np.float32)
    logits = (2.0 * rng.standard_normal((96, 3))).astype(np.float32)
    weights = rng.integers(1, 4, 96).astype(np.float32)
    return labels, logits, weights


@pytest.mark.parametrize("options", IN_MODEL_OPTIONS, ids=in_model_id)
def test_in_model_equals_reference(model_data, options):
    labels, logits, weights = model_data
    out = metrics_in_model(
        lambda: [
            CalibrationError(5, norm, from_logits=True, name=f"ce_{norm}")
            for norm in NORMS
        ],
        labels,
        logits,
        weights,
        **options,
    )
    for norm in NORMS:
        expected = reference(
            labels, out["predictions"], weights, num_bins=5, norm=norm, from_logits=True
        )
        np.testing.assert_allclose(out[f"ce_{norm}"], expected, rtol=1e-6, atol=1e-7)


def test_binary_probabilities_in_model(binary):
    y, logits, _ = binary
    p = sigmoid(logits[:160]).astype(np.float32)[:, None]
    out = metrics_in_model(lambda: [CalibrationError()], y[:160], p, jit_compile=True)
    expected = reference(y[:160], out["predictions"][:, 0])
    np.testing.assert_allclose(out["calibration_error"], expected, rtol=1e-6)


@pytest.mark.parametrize("jit_compile", [False, True])
def test_bad_input_in_model(jit_compile):
    y = np.array([0, 1, 1, 0], np.float32)
    p = np.array([[0.2], [1.5], [0.6], [0.1]], np.float32)
    run = lambda: metrics_in_model(  # noqa: E731
        lambda: [CalibrationError()], y, p, jit_compile=jit_compile
    )
    if runs_eagerly_in_model(jit_compile=jit_compile):
        with pytest.raises(ValueError, match="`y_pred`"):
            run()
        return
    assert np.isnan(run()["calibration_error"])


@pytest.mark.tensorflow_only
@pytest.mark.parametrize("norm", NORMS)
def test_plain_graph_runs_update_and_result_as_nested_xla_kernels(binary, norm):
    # The speed of `fit`'s default CPU step rests on this: in a plain graph
    # the update is one XLA kernel (as every metric's), and so is the result
    # (about 20 graph operations on a few bins otherwise).
    import tensorflow as tf

    y, logits, weights = binary
    metric = CalibrationError(norm=norm, from_logits=True)
    args = tensor(y), tensor(logits), tensor(weights)

    def step():
        metric.update_state(*args)
        return metric.result()

    assert nested_xla_calls(step) == 2
    metric.update_state(*args)
    assert nested_xla_calls(metric.result) == 1
    # and the nested kernels give the float64 reference's value
    metric.reset_state()
    got = float(tf.function(step)())
    want = reference(y, logits, weights, norm=norm, from_logits=True)
    assert abs(got - want) <= TOL
