"""Bad input to the probability metrics (`LogLoss`, `CalibrationError`).

Both read one task of predicted probabilities through the same checks
(`metrics._probabilistic.checked_scores`): each case is an eager
`ValueError` naming the argument, leaves the state empty, and gives NaN
(with the one warning) when traced. Multiclass probability rows must sum to
1: independent sigmoid outputs are not a distribution (scikit-learn's
`log_loss` only warns).
"""

import numpy as np
import pytest
from sklearn.metrics import log_loss

from keras_components import CalibrationError, LogLoss
from tests.helpers import tensor, to_numpy, traced_with_state

METRICS = [LogLoss, CalibrationError]
SIGMOID_ROWS = [[0.5, 0.7], [0.2, 0.3]]  # independent per-class scores

BAD_EAGER = [
    ([0, 1], [0.5, np.nan], {}, "`y_pred`"),
    ([0, 1], [0.5, 1.5], {}, r"`y_pred`. Expected probabilities in \[0, 1\]"),
    ([0, 1], [-0.1, 0.5], {}, r"`y_pred`. Expected probabilities in \[0, 1\]"),
    ([0, 1], [0.5, -np.inf], {"from_logits": True}, "`y_pred`"),
    ([0, 2], [0.5, 0.5], {}, "`y_true`"),
    ([0, 0.5], [0.5, 0.5], {}, "`y_true`"),
    ([0, 3], [[0.5, 0.5]] * 2, {}, "`y_true`"),
    ([0, 1], [[0.5, np.nan], [0.2, 0.8]], {}, "`y_pred`"),
    ([0, 1], SIGMOID_ROWS, {}, "each sum to 1.*score each class as a binary task"),
    ([0, 1, 2], [[0.2, 0.3, 0.4]] * 3, {}, r"summing to e.g. \[0.9\]"),
    ([0, 1, 2], [[0.2, 0.3, 0.517]] * 3, {}, r"summing to e.g. \[1.017\]"),
]

BAD_TRACED = [
    ([0.0, 1.0], [0.5, np.nan], False),
    ([0.0, 1.0], [0.5, 1.5], False),
    ([0.0, 1.0], [0.5, np.inf], True),
    ([0.0, 2.0], [0.5, 0.5], False),
    ([0.0, 1.0], SIGMOID_ROWS, False),
]


@pytest.mark.parametrize("cls", METRICS)
@pytest.mark.parametrize(("y_true", "y_pred", "kwargs", "match"), BAD_EAGER)
def test_eager_bad_input_raises_and_keeps_the_state(cls, y_true, y_pred, kwargs, match):
    metric = cls(**kwargs)
    with pytest.raises(ValueError, match=match):
        metric.update_state(
            np.asarray(y_true, np.float32), np.asarray(y_pred, np.float32)
        )
    assert np.isnan(to_numpy(metric.result()))  # the state is unchanged: empty


@pytest.mark.parametrize("cls", METRICS)
def test_eager_nan_weights_raise(cls):
    with pytest.raises(ValueError, match="`sample_weight`"):
        cls().update_state([0, 1], [0.2, 0.7], [1.0, np.nan])


@pytest.mark.parametrize("cls", METRICS)
@pytest.mark.parametrize(("y_true", "y_pred", "from_logits"), BAD_TRACED)
def test_traced_bad_input_gives_nan_and_warns(cls, y_true, y_pred, from_logits):
    metric = cls(from_logits=from_logits)

    def step(y_true, y_pred):
        metric.update_state(y_true, y_pred)
        return metric.result()

    step = traced_with_state(step, [metric])
    assert np.isnan(to_numpy(step(tensor(y_true), tensor(y_pred))))
    with pytest.warns(UserWarning, match=cls.__name__):
        assert np.isnan(to_numpy(metric.result()))


@pytest.mark.parametrize("cls", METRICS)
def test_sigmoid_rows_are_fine_as_logits_or_within_the_tolerance(cls):
    # The same rows as logits are valid (softmax makes the distribution);
    # rows a float32 softmax rounds (|sum - 1| ~ 1e-7) are valid probabilities.
    metric = cls(from_logits=True)
    metric.update_state([0, 1], np.asarray(SIGMOID_ROWS, np.float32))
    assert np.isfinite(to_numpy(metric.result()))
    rows = np.array([[0.2, 0.3, 0.5 + 5e-4], [0.1, 0.6, 0.3 - 5e-4]], np.float32)
    metric = cls()
    metric.update_state([2, 1], rows)
    assert np.isfinite(to_numpy(metric.result()))


@pytest.mark.parametrize("cls", METRICS)
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("num_classes", [10, 1000])
def test_half_precision_softmax_rows_are_valid_also_cast_to_float32(
    cls, dtype, num_classes
):
    # Rows off by a half-precision normalisation (|sum - 1| of a few units
    # of its precision, as TensorFlow's float16 softmax kernel gives at 1000
    # classes), rounded entry by entry, then cast to float32 as a float32
    # output layer does.
    import ml_dtypes

    rng = np.random.default_rng(num_classes)
    z = 3.0 * rng.standard_normal((64, num_classes))
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    # float16: 8 units (3.9e-3; TensorFlow's kernel measured up to 2.1e-3);
    # bfloat16: 2 units (7.8e-3), well above what its kernel gives.
    off = 8.0 * 2.0**-11 if dtype == "float16" else 2.0 * 2.0**-8
    p *= 1.0 + off * rng.choice([-1.0, 1.0], (64, 1))
    half = p.astype(getattr(ml_dtypes, dtype) if dtype == "bfloat16" else np.float16)
    labels = rng.integers(0, num_classes, 64)
    for rows in (half, half.astype(np.float32)):
        metric = cls()
        metric.update_state(labels, rows)
        assert np.isfinite(to_numpy(metric.result()))


def test_log_loss_within_the_tolerance_equals_sklearn_unnormalised():
    # Accepted rows are not renormalised: the value is scikit-learn's on the
    # rows as given (it warns that they do not sum to one).
    rows = np.array([[0.2, 0.3, 0.5 + 5e-4], [0.1, 0.6, 0.3 - 5e-4]])
    metric = LogLoss()
    metric.update_state([2, 1], rows.astype(np.float32))
    with pytest.warns(UserWarning, match="do not sum to one"):
        expected = log_loss([2, 1], rows, labels=range(3))
    assert abs(to_numpy(metric.result()) - expected) <= 1e-6
