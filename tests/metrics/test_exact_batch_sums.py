"""One batch holding more than 2**24 total weight in one cell sums exactly.

Every backend, PyTorch included: Keras 3.15's torch `segment_sum` scatters
into a float32 buffer and its torch `cumsum` / `maximum` / `minimum` /
`floor` / `matmul` return float32 for float64 inputs, where 2**24 + 1 rounds
to 2**24. Our kernels sum through `keras_components._backend`, which keeps
float64 there. (JAX without x64 has no float64 tensors: a batch's sums are
float32 words there, so these tests skip.) References are float64 NumPy and
scikit-learn.
"""

import keras
import numpy as np
import pytest
from sklearn.metrics import confusion_matrix, f1_score

from keras_components import F1, CalibrationError, ConfusionMatrix, _backend
from tests.helpers import metrics_in_model, skip_without_float64, to_numpy

BIG = 2.0**24  # float32 rounds BIG + 1 to BIG


@pytest.fixture(autouse=True)
def _float64():
    skip_without_float64()


def test_helpers_keep_float64():
    x = keras.ops.convert_to_tensor(np.array([BIG, 1.0, 1.0]), "float64")
    ids = keras.ops.convert_to_tensor(np.zeros(3, np.int32))
    stacked = keras.ops.stack([x, 2.0 * x], axis=1)
    checks = {
        "segment_sum 1-D": (_backend.segment_sum(x, ids, 1), [BIG + 2]),
        "segment_sum 2-D": (
            _backend.segment_sum(stacked, ids, 1),
            [[BIG + 2, 2 * BIG + 4]],
        ),
        "cumsum": (_backend.cumsum(x, axis=-1), [BIG, BIG + 1, BIG + 2]),
        "maximum": (_backend.maximum(x + 1.0, 0.0), [BIG + 1, 2.0, 2.0]),
        "minimum": (_backend.minimum(x + 1.0, 3 * BIG), [BIG + 1, 2.0, 2.0]),
        "floor": (_backend.floor(x + 1.5), [BIG + 1, 2.0, 2.0]),
        "matmul": (
            _backend.matmul(x[None, :] + 1.0, keras.ops.ones((3, 1), "float64")),
            [[BIG + 5]],
        ),
    }
    for name, (got, expected) in checks.items():
        assert keras.backend.standardize_dtype(got.dtype) == "float64", name
        np.testing.assert_array_equal(to_numpy(got), np.array(expected), err_msg=name)


def test_cumsum_keeps_integer_dtypes():
    x = keras.ops.convert_to_tensor(np.array([1, 2, 3], np.int32))
    got = _backend.cumsum(x, axis=0)
    assert keras.backend.standardize_dtype(got.dtype) == "int32"
    np.testing.assert_array_equal(to_numpy(got), [1, 3, 6])


def test_confusion_matrix_cell_past_2_24_in_one_batch():
    y_true = np.array([1, 1, 1, 0])
    y_pred = np.array([1, 1, 1, 0])
    w = np.array([BIG, 1.0, 1.0, 1.0])
    metric = ConfusionMatrix(task="binary")
    metric.update_state(y_true, y_pred.astype("float32"), w)
    expected = confusion_matrix(y_true, y_pred, sample_weight=w)
    assert expected[1, 1] == BIG + 2
    np.testing.assert_array_equal(to_numpy(metric.result()), expected)


def test_f1_counts_past_2_24_in_one_batch():
    # tp = 2**24 + 1, fp = 1, fn = 2: 2 tp + fp + fn = 2**25 + 5 (float32
    # holds only multiples of 4 there).
    y_true = np.array([1, 1, 0, 1, 1])
    y_pred = np.array([1, 1, 1, 0, 0])
    w = np.array([BIG, 1.0, 1.0, 1.0, 1.0])
    metric = F1(task="binary", dtype="float64")
    metric.update_state(y_true, y_pred.astype("float32"), w)
    expected = f1_score(y_true, y_pred, sample_weight=w)
    assert expected == (2 * BIG + 2) / (2 * BIG + 5)
    assert float(to_numpy(metric.result())) == expected


def test_calibration_per_bin_sums_past_2_24_in_one_batch():
    # Three samples in bin 7 of 10 (confidence 0.75): weights 2**24, 1, 1.
    y_true = np.array([1, 0, 1])
    p = np.full(3, 0.75, np.float32)
    w = np.array([BIG, 1.0, 1.0])
    metric = CalibrationError(num_bins=10, task="binary", dtype="float64")
    metric.update_state(y_true, p, w)
    bins = metric.bins()
    assert bins.weight[7] == BIG + 2
    assert np.sum(bins.weight) == BIG + 2
    # Sums 2**24 + 1 (correct) and 0.75 (2**24 + 2) over 2**24 + 2.
    assert bins.accuracy[7] == (BIG + 1) / (BIG + 2)
    assert bins.confidence[7] == 0.75
    gap = abs((BIG + 1) / (BIG + 2) - 0.75)
    assert abs(float(to_numpy(metric.result())) - gap) <= 1e-15


@pytest.mark.parametrize("jit_compile", [False, True])
def test_exact_in_model(jit_compile):
    """Also compiled (torch.compile on PyTorch, XLA elsewhere) inside `evaluate`."""
    y_true = np.array([1, 1, 0, 1, 1])
    y_pred = np.array([1, 1, 1, 0, 0], np.float32)
    w = np.array([BIG, 1.0, 1.0, 1.0, 1.0])
    out = metrics_in_model(
        lambda: [
            F1(task="binary", dtype="float64"),
            CalibrationError(num_bins=10, dtype="float64"),
        ],
        y_true[:, None],
        y_pred[:, None],
        w,
        jit_compile=jit_compile,
        batch_size=5,
    )
    assert out["f1"] == f1_score(y_true, y_pred.astype(int), sample_weight=w)
    # Binary: confidence p, correct y. Bin 10 (p = 1): weight 2**24 + 2 with
    # 2**24 + 1 positive, gap 1 / (2**24 + 2); bin 0 (p = 0): weight 2, both
    # positive, gap 1. ECE = (1 + 2) / (2**24 + 4); float32 sums: 2 / 2**24.
    assert abs(out["calibration_error"] - 3.0 / (BIG + 4.0)) <= 1e-15
