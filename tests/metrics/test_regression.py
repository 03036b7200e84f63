"""R2, RMSE, MAE and MSLE against scikit-learn (float64), at any offset."""

import warnings

import keras
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import (
    mean_absolute_error,
    mean_squared_log_error,
    r2_score,
    root_mean_squared_error,
)

from keras_components import MAE, MSLE, R2, RMSE
from tests.helpers import (
    IN_MODEL_OPTIONS,
    assert_config_roundtrip,
    assert_keras_roundtrip,
    assert_streaming_equals,
    in_model_id,
    metrics_in_model,
    passthrough_model,
    tensor,
    to_numpy,
    traced_with_state,
)

OFFSETS = (0.0, 1e3, 1e4, 1e5)

REFERENCES = {
    R2: r2_score,
    RMSE: root_mean_squared_error,
    MAE: mean_absolute_error,
    MSLE: mean_squared_log_error,
}


def reference(cls, y_true, y_pred, sample_weight=None, **kwargs):
    """scikit-learn on the float64 values of the (float32) inputs."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return REFERENCES[cls](
            np.asarray(y_true, np.float64),
            np.asarray(y_pred, np.float64),
            sample_weight=None if sample_weight is None else np.asarray(sample_weight),
            **kwargs,
        )


def result(metric, y_true, y_pred, sample_weight=None, *, batches=1):
    for rows in np.array_split(np.arange(len(y_true)), batches):
        metric.update_state(
            y_true[rows],
            y_pred[rows],
            None if sample_weight is None else sample_weight[rows],
        )
    return to_numpy(metric.result()).astype(np.float64)


@pytest.fixture(scope="module")
def data():
    """Three outputs of different scales (positive, for MSLE too)."""
    rng = np.random.default_rng(0)
    scale = np.array([1.0, 10.0, 0.1])
    y = np.exp(rng.standard_normal((2000, 3))) * scale
    y_pred = np.abs(y + 0.5 * scale * rng.standard_normal((2000, 3)))
    weights = rng.exponential(size=2000)
    return y.astype(np.float32), y_pred.astype(np.float32), weights.astype(np.float32)


def offset_data(offset, n=10000, seed=0):
    """Float32 targets `offset + N(0, 1)`, predictions off by N(0, 0.3**2)."""
    rng = np.random.default_rng(seed)
    y = offset + rng.standard_normal((n, 2))
    y_pred = y + 0.3 * rng.standard_normal((n, 2))
    return y.astype(np.float32), y_pred.astype(np.float32)


# --------------------------------------------------------------------------
# Agreement with scikit-learn
# --------------------------------------------------------------------------
@pytest.mark.parametrize("cls", [R2, RMSE, MAE, MSLE])
@pytest.mark.parametrize(
    "multioutput", ["raw_values", "uniform_average", [0.2, 0.3, 0.5]]
)
@pytest.mark.parametrize("weighted", [False, True])
def test_agrees_with_sklearn(data, cls, multioutput, weighted):
    y, y_pred, weights = data
    w = weights if weighted else None
    got = result(cls(multioutput=multioutput), y, y_pred, w, batches=7)
    expected = reference(cls, y, y_pred, w, multioutput=multioutput)
    np.testing.assert_allclose(got, expected, rtol=1e-6)


@pytest.mark.parametrize("weighted", [False, True])
def test_r2_variance_weighted(data, weighted):
    y, y_pred, weights = data
    w = weights if weighted else None
    got = result(R2(multioutput="variance_weighted"), y, y_pred, w, batches=5)
    expected = reference(R2, y, y_pred, w, multioutput="variance_weighted")
    np.testing.assert_allclose(got, expected, rtol=1e-6)


@pytest.mark.parametrize(
    ("shape_true", "shape_pred"), [((50,), (50,)), ((50, 1), (50,)), ((50,), (50, 1))]
)
def test_single_output_layouts(data, shape_true, shape_pred):
    y, y_pred, _ = data
    y, y_pred = y[:50, 0], y_pred[:50, 0]
    for cls in (R2, RMSE, MAE, MSLE):
        got = result(cls(), y.reshape(shape_true), y_pred.reshape(shape_pred))
        np.testing.assert_allclose(got, reference(cls, y, y_pred), rtol=1e-6)


def test_leading_positions_are_samples(data):
    y, y_pred, weights = data
    y3, p3 = y[:60].reshape(6, 10, 3), y_pred[:60].reshape(6, 10, 3)
    got = result(R2(multioutput="raw_values"), y3, p3, weights[:6])
    expected = reference(
        R2, y[:60], y_pred[:60], np.repeat(weights[:6], 10), multioutput="raw_values"
    )
    np.testing.assert_allclose(got, expected, rtol=1e-6)


# --------------------------------------------------------------------------
# Large offsets: the float32 cancellation Keras's R2Score suffers from
# --------------------------------------------------------------------------
@pytest.mark.parametrize("offset", OFFSETS)
def test_r2_at_offsets_over_100_batches(offset):
    y, y_pred = offset_data(offset)
    metrics = {
        "uniform_average": R2(),
        "variance_weighted": R2(multioutput="variance_weighted"),
        RMSE: RMSE(),
        MAE: MAE(),
    }
    if offset:  # MSLE needs y >= 0
        metrics[MSLE] = MSLE()
    step = traced_with_state(
        lambda y_true, y_pred: [
            m.update_state(y_true, y_pred) for m in metrics.values()
        ],
        list(metrics.values()),
    )
    for rows in np.split(np.arange(len(y)), 100):
        step(y[rows], y_pred[rows])
    for key, metric in metrics.items():
        got = to_numpy(metric.result()).astype(np.float64)
        if isinstance(key, str):
            expected = reference(R2, y, y_pred, multioutput=key)
            assert abs(got - expected) <= 1e-4, (offset, got, expected)
            assert abs(got - expected) <= 1e-6  # in fact float32 rounding only
        else:
            np.testing.assert_allclose(got, reference(key, y, y_pred), rtol=1e-5)


# --------------------------------------------------------------------------
# Conventions: constant targets, too few samples, adjusted R2
# --------------------------------------------------------------------------
@pytest.mark.parametrize("constant", [0.0, 0.1, -2.0, 1e4 + 0.3])
def test_r2_constant_targets_follow_sklearn_force_finite(constant):
    y = np.full((12, 2), constant, np.float32)
    perfect, imperfect = y.copy(), y.copy()
    imperfect[3, 1] += 0.5
    for y_pred in (perfect, imperfect):
        for multioutput in ("raw_values", "uniform_average", "variance_weighted"):
            got = result(R2(multioutput=multioutput), y, y_pred, batches=4)
            expected = reference(R2, y, y_pred, multioutput=multioutput)
            np.testing.assert_array_equal(got, expected)


def test_r2_needs_two_samples():
    assert np.isnan(result(R2(), np.array([1.0]), np.array([2.0])))
    assert np.isnan(to_numpy(R2().result()))
    assert np.isnan(to_numpy(RMSE().result()))


@pytest.mark.parametrize("num_regressors", [1, 3])
def test_adjusted_r2(data, num_regressors):
    y, y_pred, _ = data
    n = len(y)
    plain = reference(R2, y, y_pred, multioutput="raw_values")
    expected = 1 - (1 - plain) * (n - 1) / (n - num_regressors - 1)
    got = result(
        R2(multioutput="raw_values", num_regressors=num_regressors),
        y,
        y_pred,
        batches=3,
    )
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    # Single output near zero, where Keras's R2Score is accurate: the same.
    keras_adjusted = keras.metrics.R2Score(num_regressors=num_regressors)
    np.testing.assert_allclose(
        result(R2(num_regressors=num_regressors), y[:, :1], y_pred[:, :1]),
        result(keras_adjusted, y[:, :1], y_pred[:, :1]),
        rtol=1e-5,
    )


def test_adjusted_r2_undefined_without_degrees_of_freedom():
    y = np.arange(4, dtype=np.float32)
    assert np.isnan(result(R2(num_regressors=3), y, y + 1))
    assert np.isfinite(result(R2(num_regressors=2), y, y + 1))


# --------------------------------------------------------------------------
# Streaming and merging (hypothesis)
# --------------------------------------------------------------------------
@st.composite
def regression_batches(draw):
    """Non-negative data on a 0.01 grid, at offset 0 or 1e4, maybe weighted."""
    n = draw(st.integers(1, 30))
    offset = draw(st.sampled_from([0.0, 1e4]))
    values = st.lists(st.integers(0, 400), min_size=n, max_size=n)
    y = offset + 0.01 * np.array(draw(values))
    y_pred = np.abs(y + 0.01 * (np.array(draw(values)) - 200))
    weights = np.array(draw(st.lists(st.integers(1, 5), min_size=n, max_size=n)))
    weighted = draw(st.booleans())
    return (
        y.astype(np.float32),
        y_pred.astype(np.float32),
        weights.astype(np.float32) if weighted else None,
    )


@settings(max_examples=15, deadline=None)
@given(regression_batches(), st.sampled_from([RMSE, MAE, MSLE]))
def test_streaming_and_merge_equal_sklearn(batch, mean_error):
    # R2 (Chan merge) every time; the three mean errors share their update
    # and merge code, so each example checks one of them.
    y, y_pred, weights = batch
    for cls in (R2, mean_error):
        assert_streaming_equals(
            cls,
            reference(cls, y, y_pred, weights),
            y,
            y_pred,
            weights,
            atol=1e-6,
            rtol=1e-5,
        )


def test_r2_merge_at_large_offset_is_chan_exact():
    y, y_pred = offset_data(1e5, n=3000, seed=1)
    shards = [R2(multioutput="raw_values") for _ in range(5)]
    for metric, rows in zip(shards, np.array_split(np.arange(3000), 5), strict=True):
        metric.update_state(y[rows], y_pred[rows])
    merged = R2(multioutput="raw_values")
    merged.merge_state(shards)
    np.testing.assert_allclose(
        to_numpy(merged.result()),
        reference(R2, y, y_pred, multioutput="raw_values"),
        atol=1e-6,
    )


# --------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------
@pytest.mark.parametrize("cls", [R2, RMSE, MAE, MSLE])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_eager_non_finite_raises(cls, bad):
    clean = np.ones((4, 2), np.float32)
    dirty = clean.copy()
    dirty[1, 1] = bad
    with pytest.raises(ValueError, match=r"`y_true`.*finite"):
        cls().update_state(dirty, clean)
    with pytest.raises(ValueError, match=r"`y_pred`.*finite"):
        cls().update_state(clean, dirty)


def test_msle_negative_values_raise():
    ok = np.array([1.0, 2.0], np.float32)
    bad = np.array([1.0, -0.5], np.float32)
    with pytest.raises(ValueError, match=r"`y_true`.*>= 0.*-0\.5"):
        MSLE().update_state(bad, ok)
    with pytest.raises(ValueError, match=r"`y_pred`.*>= 0"):
        MSLE().update_state(ok, bad)


@pytest.mark.parametrize(
    ("cls", "y_true", "y_pred"),
    [
        (R2, [1.0, np.nan, 3.0], [1.0, 2.0, 3.0]),
        (R2, [1.0, 2.0, 3.0], [1.0, np.inf, 3.0]),
        (RMSE, [1.0, 2.0, 3.0], [1.0, -np.inf, 3.0]),
        (MAE, [np.inf, 2.0, 3.0], [1.0, 2.0, 3.0]),
        (MSLE, [1.0, 2.0, 3.0], [1.0, -0.5, 3.0]),
        (MSLE, [1.0, -2.0, 3.0], [1.0, 2.0, 3.0]),
    ],
)
def test_traced_bad_input_gives_nan(cls, y_true, y_pred):
    metric = cls()

    def step(y_true, y_pred):
        metric.update_state(y_true, y_pred)
        return metric.result()

    step = traced_with_state(step, [metric])
    good = tensor([1.0, 2.0, 4.0])
    step(good, good)  # a clean batch first: the bad one still poisons
    assert np.isnan(to_numpy(step(tensor(y_true), tensor(y_pred))))
    metric.reset_state()
    assert np.isfinite(to_numpy(step(good, good + 1.0)))


def test_shape_errors():
    with pytest.raises(ValueError, match="Incompatible shapes"):
        R2().update_state(np.zeros((4, 2)), np.zeros((4, 3)))
    with pytest.raises(ValueError, match="Incompatible shapes"):
        RMSE().update_state(np.zeros(4), np.zeros(5))
    with pytest.raises(ValueError, match="sample_weight"):
        MAE().update_state(np.zeros((4, 2)), np.zeros((4, 2)), np.ones(3))
    metric = R2()
    metric.update_state(np.zeros((4, 2)), np.zeros((4, 2)))
    with pytest.raises(ValueError, match="built for"):
        metric.update_state(np.zeros((4, 3)), np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"argument `multioutput`.*3 output"):
        RMSE(multioutput=[0.5, 0.5]).update_state(np.zeros((4, 3)), np.zeros((4, 3)))


@pytest.mark.parametrize(
    ("cls", "kwargs", "error"),
    [
        (RMSE, {"multioutput": "variance_weighted"}, ValueError),
        (R2, {"multioutput": "weighted"}, ValueError),
        (MAE, {"multioutput": None}, TypeError),
        (MSLE, {"multioutput": [0.5, -0.5]}, ValueError),
        (MSLE, {"multioutput": [0.0, 0.0]}, ValueError),
        (R2, {"multioutput": []}, ValueError),
        (R2, {"num_regressors": -1}, ValueError),
        (R2, {"num_regressors": 1.5}, TypeError),
    ],
)
def test_invalid_arguments(cls, kwargs, error):
    with pytest.raises(error, match=r"Invalid (value|type) for argument"):
        cls(**kwargs)


# --------------------------------------------------------------------------
# Configuration, models, distribution
# --------------------------------------------------------------------------
CONFIGURED = [
    R2(),
    R2(multioutput="variance_weighted", num_regressors=2, name="adj_r2"),
    RMSE(multioutput=[0.25, 0.75]),
    MAE(multioutput="raw_values"),
    MSLE(),
]


@pytest.mark.parametrize("metric", CONFIGURED, ids=lambda m: m.name)
def test_config_roundtrip(metric):
    assert_config_roundtrip(metric)


def test_saved_model_with_metrics_roundtrips(tmp_path):
    model = passthrough_model((2,))
    model.compile(
        loss="mse",
        metrics=[R2(num_regressors=1), RMSE(multioutput=[0.5, 0.5]), MAE(), MSLE()],
    )
    x = np.abs(np.random.default_rng(1).standard_normal((8, 2))).astype(np.float32)
    model.evaluate(x, x + 1.0, verbose=0)
    assert_keras_roundtrip(model, x, tmp_path)


@pytest.fixture(scope="module")
def model_data():
    y, y_pred = offset_data(1e4, n=64, seed=2)
    weights = np.random.default_rng(3).integers(1, 4, 64).astype(np.float32)
    return y, y_pred, weights


def check_in_model(model_data, **options):
    y, y_pred, weights = model_data
    out = metrics_in_model(
        lambda: [R2(), RMSE(), MAE(), MSLE(multioutput="raw_values")],
        y,
        y_pred,
        weights,
        **options,
    )
    for cls, name, kwargs in (
        (R2, "r2", {}),
        (RMSE, "rmse", {}),
        (MAE, "mae", {}),
        (MSLE, "msle", {"multioutput": "raw_values"}),
    ):
        expected = reference(cls, y, out["predictions"], weights, **kwargs)
        np.testing.assert_allclose(out[name], expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("options", IN_MODEL_OPTIONS, ids=in_model_id)
def test_in_model_equals_sklearn(model_data, options):
    check_in_model(model_data, **options)


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["evaluate", "fit"])
def test_under_mirrored_strategy_at_offset_1e4(model_data, mirrored_strategy, mode):
    # Each replica keeps its own (n, S1, M2, P); Keras sums them when read.
    check_in_model(model_data, mode=mode, strategy=mirrored_strategy)


@pytest.mark.slow
def test_r2_constant_targets_under_mirrored_strategy(mirrored_strategy):
    # The between-replica term sum(P_r) - S1**2 / n cancels to rounding noise
    # on constant targets; it must count as 0 (sklearn's force_finite path).
    y = np.full((64, 1), 0.1, np.float32)
    y_pred = y.copy()
    y_pred[5] += 0.25
    out = metrics_in_model(lambda: [R2()], y, y_pred, strategy=mirrored_strategy)
    assert out["r2"] == reference(R2, y, y_pred) == 0.0


@pytest.mark.parametrize("mixed_precision_policy", ["mixed_float16"], indirect=True)
def test_mixed_precision(mixed_precision_policy):
    y, y_pred = offset_data(0.0, n=64, seed=4)
    y, y_pred = np.abs(y), np.abs(y_pred)
    out = metrics_in_model(lambda: [R2(), RMSE(), MSLE()], y, y_pred)
    predicted = out["predictions"]
    assert predicted.dtype == np.float16  # the metrics saw half precision
    for cls, name in ((R2, "r2"), (RMSE, "rmse"), (MSLE, "msle")):
        np.testing.assert_allclose(
            out[name], reference(cls, y, predicted), rtol=1e-6, atol=1e-6
        )
