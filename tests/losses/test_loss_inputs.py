"""The loss side of the input normalisation: probability and target rows."""

import keras
import numpy as np
import pytest

import keras_components as kc
from keras_components import _backend, _inputs
from tests.helpers import to_numpy
from tests.losses.common import TRACED_MODES, traced


def test_row_sum_tolerance():
    assert _inputs.row_sum_tolerance("float32") == 1e-3
    assert _inputs.row_sum_tolerance("float64") == 1e-3
    assert _inputs.row_sum_tolerance("float16") == pytest.approx(3.90625e-3)
    assert _inputs.row_sum_tolerance("bfloat16") == pytest.approx(1.5625e-2)


def rows_with_every_defect(num_classes):
    rng = np.random.default_rng(num_classes)
    x = rng.dirichlet(np.ones(num_classes), (3, 8)).astype(np.float32)
    x[0, 1] = 0.0  # all zero
    x[0, 2, :2] = [1.0, 1.0]  # multi-hot (sum > 1)
    x[1, 0, 0] = np.nan
    x[1, 3, 0] += 2e-3  # sum 1.002
    x[2, 5, :2] = [-0.5, 1.5 - x[2, 5, 2:].sum()]  # sums to 1, one negative
    x[2, 6, 0] = np.inf
    x[2, 7] = 0.0
    x[2, 7, 0] = 1.0  # exactly one-hot: valid
    expected = np.zeros((3, 8), bool)
    expected[0, 1] = expected[0, 2] = expected[1, 0] = expected[1, 3] = True
    expected[2, 5] = expected[2, 6] = True
    return x, expected


@pytest.mark.parametrize("num_classes", [3, 16, 17])  # unrolled or not
@pytest.mark.parametrize("mode", ["eager", *TRACED_MODES])
def test_invalid_distribution_rows_and_samples(num_classes, mode):
    x, expected = rows_with_every_defect(num_classes)

    def rows(x):
        return _inputs.invalid_distribution_rows(x, 1e-3)

    def samples(x):
        return _inputs.invalid_distribution_samples(x, 1e-3)

    if mode == "eager":
        got_rows, got_samples = to_numpy(rows(x)), to_numpy(samples(x))
    else:  # XLA's min skips NaN: the row sum must catch it
        got_rows, got_samples = traced(rows, mode)(x), traced(samples, mode)(x)
    np.testing.assert_array_equal(got_rows, expected)
    np.testing.assert_array_equal(got_samples, expected.any(axis=1))
    # No spatial axes: one row per sample.
    flat = to_numpy(_inputs.invalid_distribution_samples(x[:, 1], 1e-3))
    np.testing.assert_array_equal(flat, expected[:, 1])


@pytest.mark.parametrize("mode", ["eager", *TRACED_MODES])
def test_out_of_unit_samples(mode):
    x = np.full((4, 3, 2), 0.5, np.float32)
    x[0, 0, 0], x[1, 2, 1], x[2, 1, 0] = -1e-7, 1.0 + 1e-6, np.inf
    x[3] = [[0.0, 1.0], [1.0, 0.0], [0.25, 0.75]]
    fn = _inputs.out_of_unit_samples
    got = to_numpy(fn(x)) if mode == "eager" else traced(fn, mode)(x)
    np.testing.assert_array_equal(got, [True, True, True, False])


def test_check_probability_values_messages():
    check = _inputs.check_probability_values
    with pytest.raises(ValueError, match=r"`p`. Expected finite probabilities"):
        check(np.array([np.nan, 0.5]), name="p")
    with pytest.raises(ValueError, match=r"\[0, 1\]. Received 1 value.*\[2\.0\]\. Fix"):
        check(np.array([2.0, 0.5]), name="p", range_hint="Fix.")
    with pytest.raises(ValueError, match=r"3 classes.*\[1\.5\]\. Hint\.$"):
        check(np.array([[0.5, 0.5, 0.5]]), name="p", rows=True, rows_hint="Hint.")
    check(np.array([[0.5, 0.5, 0.0005]]), name="p", rows=True)  # within 1e-3
    traced_check = traced(
        lambda x: check(x, name="p") or keras.ops.convert_to_tensor(0), "graph"
    )
    traced_check(np.array([5.0]))  # cannot raise while traced


def test_real_tensor():
    assert to_numpy(_inputs.real_tensor([1, 2], name="x")).tolist() == [1, 2]
    with pytest.raises(TypeError, match=r"`x`.*complex128.*keras.ops.real\(x\)"):
        _inputs.real_tensor(np.array([1 + 2j]), name="x")


def test_dense_targets_validate_rows():
    y_pred = np.zeros((2, 3, 3))
    good = np.eye(3)[[[0, 1, 2], [2, 2, 0]]]
    out = _inputs.dense_targets(good, y_pred, dtype="float32")
    assert not to_numpy(out.invalid).any()
    bad = good.copy()
    bad[1, 2] = [1.0, 1.0, 0.0]
    with pytest.raises(ValueError, match=r"1 row\(s\) summing to e\.g\. \[2\.0\]\. H$"):
        _inputs.dense_targets(bad, y_pred, dtype="float32", hint="H")
    for per_sample, expected in ((False, [[0, 0, 0], [0, 0, 1]]), (True, [0, 1])):
        fn = traced(
            lambda y, p, s=per_sample: (
                _inputs.dense_targets(y, p, dtype="float32", per_sample=s).invalid
            ),
            "xla",
        )
        np.testing.assert_array_equal(fn(bad, y_pred), np.array(expected, bool))
    # Sparse labels: per-sample invalid is any over the positions.
    labels = np.array([[0, 1, 7], [0, 1, 2]])
    fn = traced(
        lambda y, p: (
            _inputs.dense_targets(y, p, dtype="float32", per_sample=True).invalid
        ),
        "graph",
    )
    np.testing.assert_array_equal(fn(labels, y_pred), [True, False])


@pytest.mark.tensorflow_only  # TensorFlow's graphs vs XLA
def test_compiled_by_xla_tells_xla_from_graphs_and_eager():
    import tensorflow as tf

    seen = []

    def probe(x):
        seen.append(_backend.compiled_by_xla())
        return x

    probe(tf.constant(1.0))
    tf.function(probe)(tf.constant(1.0))
    tf.function(probe, jit_compile=True)(tf.constant(1.0))
    # Inner function traced inside an XLA-compiled outer one.
    inner = tf.function(probe)
    tf.function(lambda x: inner(x), jit_compile=True)(tf.constant(2.0))
    assert seen == [False, False, True, True]


@pytest.mark.parametrize(
    "make",
    [
        lambda: kc.DiceLoss(),
        lambda: kc.JaccardLoss(),
        lambda: kc.TverskyLoss(),
        lambda: kc.LovaszLoss(),
        lambda: kc.LovaszLoss(per_image=True),
    ],
    ids=["dice", "jaccard", "tversky", "lovasz", "lovasz-per-image"],
)
def test_an_empty_batch_is_not_an_error(make):
    # Eagerly as when traced: no "empty tensor" error from the input checks,
    # and nothing non-finite (an empty batch holds no invalid entry).
    y_true = np.zeros((0, 6, 5), np.int64)
    y_pred = np.full((0, 6, 5, 4), 0.25, np.float32)
    values = np.asarray(to_numpy(make()(y_true, y_pred)))
    assert np.all(np.isfinite(values))
