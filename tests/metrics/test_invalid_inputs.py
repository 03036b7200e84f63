"""No silent wrong answers: what every metric does with the inputs real users pass.

Every invalid input either raises a `ValueError` naming the values and the fix
(eager), or gives NaN with a warning that says why (traced: `fit`,
`evaluate`, `jit_compile`). References are scikit-learn on the valid data.
"""

import math
import warnings

import keras
import numpy as np
import pytest
from sklearn import metrics as skm

import keras_components as kc
from keras_components import metrics as km
from tests.helpers import (
    REQUIRED_ARGUMENTS,
    expected_state_shapes,
    in_model_id,
    metric_in_model,
    runs_eagerly_in_model,
    tensor,
    to_numpy,
    traced_with_state,
)

TRACED = [
    {"mode": "evaluate"},
    {"mode": "fit"},
    {"mode": "evaluate", "jit_compile": True},
]


def traced_value(make, y_true, y_pred, sample_weight=None, **options):
    """The metric's logged value in a model, and the warnings its eager
    `result()` gives afterwards (what Keras reads at the end of an epoch)."""
    holder = []

    def build():
        holder.append(make())
        return holder[-1]

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = metric_in_model(build, y_true, y_pred, sample_weight, **options)
        holder[-1].result()
    return value["value"], [str(w.message) for w in caught]


# --------------------------------------------------------------------------
# Dense multiclass targets are exactly one-hot
# --------------------------------------------------------------------------
BAD_ROWS = {
    "all-zero": ([[1, 0, 0], [0, 0, 0]], r"all-zero rows"),
    "multi-hot": ([[1, 0, 0], [0, 1, 1]], r"multi-hot.*task='multilabel'"),
    "nan": ([[1, 0, 0], [np.nan, 1, 0]], r"NaN or values other than 0 and 1"),
    "two": ([[1, 0, 0], [0, 2, 0]], r"NaN or values other than 0 and 1"),
    "soft": ([[1, 0, 0], [0.1, 0.8, 0.1]], r"soft target.*label smoothing"),
}
PROBS = np.array([[0.7, 0.2, 0.1], [0.1, 0.6, 0.3]], np.float32)


@pytest.mark.parametrize("case", BAD_ROWS, ids=str)
def test_dense_multiclass_rows_that_are_not_one_hot_raise_eagerly(case):
    rows, pattern = BAD_ROWS[case]
    for make in (km.F1, km.Accuracy, km.MCC, km.AUROC, km.LogLoss):
        metric = make()
        with pytest.raises(ValueError, match=pattern):
            metric.update_state(np.asarray(rows, np.float32), PROBS)


@pytest.mark.parametrize("options", TRACED, ids=in_model_id)
@pytest.mark.parametrize("case", ["all-zero", "multi-hot", "soft"])
def test_dense_multiclass_rows_that_are_not_one_hot_give_nan_when_traced(case, options):
    rows = np.asarray(BAD_ROWS[case][0] * 8, np.float32)
    y_pred = np.tile(PROBS, (8, 1))
    if runs_eagerly_in_model(**options):
        with pytest.raises(ValueError, match=BAD_ROWS[case][1]):
            traced_value(km.F1, rows, y_pred, **options)
        return
    value, messages = traced_value(km.F1, rows, y_pred, **options)
    assert np.isnan(value)
    reason = "soft targets" if case == "soft" else "invalid targets"
    assert any(
        f"F1(name='f1').result() is NaN: 8 entries with {reason}" in m for m in messages
    ), messages


def test_one_hot_rows_still_equal_sparse_labels():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 50)
    probs = rng.dirichlet(np.ones(3), 50).astype(np.float32)
    sparse, dense = km.F1(), km.F1()
    sparse.update_state(labels, probs)
    dense.update_state(np.eye(3)[labels], probs)
    expected = skm.f1_score(labels, probs.argmax(-1), average="macro")
    np.testing.assert_allclose(to_numpy(dense.result()), expected, atol=1e-6)
    np.testing.assert_allclose(to_numpy(sparse.result()), expected, atol=1e-6)


# --------------------------------------------------------------------------
# Binary masks without a channel axis are never read as W classes
# --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def binary_masks():
    rng = np.random.default_rng(1)
    y_true = (rng.random((4, 16, 16)) < 0.3).astype(np.float32)
    y_pred = np.clip(y_true * 0.8 + rng.random((4, 16, 16)) * 0.3, 0, 1)
    return y_true, y_pred.astype(np.float32)


def test_same_shape_masks_need_an_explicit_task(binary_masks):
    y_true, y_pred = binary_masks
    for make in (km.F1, km.IoU, km.AUROC, km.LogLoss):
        with pytest.raises(ValueError, match=r"Ambiguous.*task='binary'"):
            make().update_state(y_true, y_pred)
    # A perfect prediction is perfect, not 0.375 (W scored as classes).
    perfect = km.F1(task="binary")
    perfect.update_state(y_true, y_true)
    assert float(to_numpy(perfect.result())) == 1.0


@pytest.mark.parametrize("options", [{}, *TRACED], ids=lambda o: in_model_id(o))
def test_binary_masks_with_task_binary_equal_sklearn(binary_masks, options):
    y_true, y_pred = binary_masks
    expected = skm.f1_score(y_true.ravel(), (y_pred.ravel() > 0.5).astype(int))
    if not options:
        metric = km.F1(task="binary")
        metric.update_state(y_true, y_pred)
        got = to_numpy(metric.result())
    else:
        got = metric_in_model(lambda: km.F1(task="binary"), y_true, y_pred, **options)
        got = got["value"]
    np.testing.assert_allclose(got, expected, atol=1e-6)


def test_mask_with_channel_axis_against_prediction_without_one(binary_masks):
    y_true, y_pred = binary_masks
    metric = km.F1()  # task auto: (N, H, W, 1) labels, (N, H, W) scores
    metric.update_state(y_true[..., None], y_pred)
    assert metric.resolved_task == "binary"
    expected = skm.f1_score(y_true.ravel(), (y_pred.ravel() > 0.5).astype(int))
    np.testing.assert_allclose(to_numpy(metric.result()), expected, atol=1e-6)


# --------------------------------------------------------------------------
# Probabilities outside [0, 1]: logits without from_logits=True
# --------------------------------------------------------------------------
def test_scores_outside_unit_interval_raise_eagerly():
    for make in (
        lambda: km.F1(task="binary"),
        lambda: km.Precision(task="multilabel"),
        lambda: km.ConfusionMatrix(task="binary"),
    ):
        metric = make()
        with pytest.raises(ValueError, match=r"probabilities in \[0, 1\].*from_logits"):
            metric.update_state([[0, 1], [1, 0]], [[-2.0, 3.0], [0.5, 0.1]])
        assert not np.any(to_numpy(metric.confusion))  # state untouched


@pytest.mark.parametrize("options", TRACED, ids=in_model_id)
def test_logits_without_from_logits_give_nan_when_traced(options):
    rng = np.random.default_rng(2)
    y_true = rng.integers(0, 2, (32, 1)).astype(np.float32)
    logits = rng.normal(size=(32, 1)).astype(np.float32) * 3
    if runs_eagerly_in_model(**options):
        with pytest.raises(ValueError, match=r"\[0, 1\].*from_logits=True"):
            traced_value(lambda: km.F1(task="binary"), y_true, logits, **options)
        return
    value, messages = traced_value(
        lambda: km.F1(task="binary"), y_true, logits, **options
    )
    assert np.isnan(value)
    assert any(
        "invalid predictions" in m and "from_logits=True" in m for m in messages
    ), messages


def test_multiclass_argmax_accepts_logits():
    # The argmax of logits equals the argmax of their softmax: no error.
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 4, 40)
    logits = rng.normal(size=(40, 4)).astype(np.float32) * 5
    metric = km.Accuracy()
    metric.update_state(labels, logits)
    expected = skm.accuracy_score(labels, logits.argmax(-1))
    np.testing.assert_allclose(to_numpy(metric.result()), expected, atol=1e-6)


# --------------------------------------------------------------------------
# Thresholds: strictly greater, None by default, never with multiclass
# --------------------------------------------------------------------------
def test_threshold_is_strictly_greater():
    y_true = [1, 1, 0, 0]
    y_pred = [[0.5], [0.9], [0.5], [0.1]]  # 0.5 is not above 0.5: negative
    metric = km.Recall(task="binary")
    metric.update_state(y_true, y_pred)
    assert float(to_numpy(metric.result())) == 0.5
    at = km.Precision(task="binary", threshold=0.25)
    at.update_state([1, 0, 1], [[0.25], [0.3], [0.9]])
    expected = skm.precision_score([1, 0, 1], [0, 1, 1])
    assert float(to_numpy(at.result())) == pytest.approx(expected)


def test_threshold_defaults_to_none_in_config():
    assert km.F1().get_config()["threshold"] is None
    assert km.F1(task="binary").decision_threshold == 0.5


def test_explicit_threshold_with_inferred_multiclass_is_an_error():
    """tfa-style F1(threshold=0.5) on multi-label outputs used to take the
    argmax silently; now it names task='multilabel'."""
    rng = np.random.default_rng(4)
    y_true = (rng.random((64, 5)) < 0.4).astype(np.float32)
    scores = rng.random((64, 5)).astype(np.float32)
    metric = km.F1(threshold=0.5)
    with pytest.raises(ValueError, match=r"threshold.*task='multilabel'"):
        metric.update_state(y_true, scores)
    with pytest.raises(ValueError, match=r"threshold.*task='multilabel'"):
        metric_in_model(lambda: km.F1(threshold=0.5), y_true, scores)
    right = km.F1(task="multilabel", threshold=0.5)
    right.update_state(y_true, scores)
    expected = skm.f1_score(y_true, (scores > 0.5).astype(int), average="macro")
    np.testing.assert_allclose(to_numpy(right.result()), expected, atol=1e-6)


# --------------------------------------------------------------------------
# Non-finite sample weights: NaN in every metric
# --------------------------------------------------------------------------
def _weighted_cases():
    rng = np.random.default_rng(5)
    labels = rng.integers(0, 3, 16)
    probs = rng.dirichlet(np.ones(3), 16).astype(np.float32)
    binary = rng.integers(0, 2, (16, 1)).astype(np.float32)
    score = rng.random((16, 1)).astype(np.float32)
    target = rng.normal(size=(16, 1)).astype(np.float32)
    return [
        (km.F1, labels, probs),
        (km.Accuracy, labels, probs),
        (km.MCC, labels, probs),
        (km.ConfusionMatrix, labels, probs),
        (km.AUROC, binary, score),
        (km.AUPRC, labels, probs),
        (km.LogLoss, labels, probs),
        (km.R2, target, target * 0.5),
        (km.RMSE, target, target * 0.5),
    ]


@pytest.mark.parametrize("bad", [np.nan, np.inf])
@pytest.mark.parametrize(
    ("make", "y_true", "y_pred"),
    _weighted_cases(),
    ids=lambda x: getattr(x, "__name__", ""),
)
def test_non_finite_sample_weight(make, y_true, y_pred, bad):
    weights = np.ones(len(y_true), np.float32)
    weights[3] = bad
    with pytest.raises(ValueError, match="sample_weight"):
        make().update_state(y_true, y_pred, weights)
    metric = make()
    traced_with_state(metric.update_state, [metric])(
        tensor(y_true), tensor(y_pred), tensor(weights)
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert np.all(np.isnan(to_numpy(metric.result())))
    assert any("sample weight" in str(w.message) for w in caught), caught


def test_string_sample_weight_is_a_type_error():
    with pytest.raises(TypeError, match="sample_weight"):
        km.F1().update_state([0, 1], [[0.9, 0.1], [0.2, 0.8]], ["a", "b"])


# --------------------------------------------------------------------------
# Dtypes
# --------------------------------------------------------------------------
@pytest.mark.parametrize("name", km.__all__)
def test_integer_result_dtype_is_an_error(name):
    cls = getattr(km, name)
    if not (isinstance(cls, type) and issubclass(cls, keras.metrics.Metric)):
        pytest.skip("not a metric class")
    with pytest.raises(ValueError, match=r"argument `dtype`.*Received: dtype='int32'"):
        cls(dtype="int32", **REQUIRED_ARGUMENTS.get(name, {}))


def test_complex_inputs_are_a_type_error():
    for make, y_true, y_pred in (
        (km.F1, [0, 1], np.array([[0.9, 0.1], [0.2, 0.8]], np.complex64)),
        (km.AUROC, np.array([0, 1], np.complex64), [0.2, 0.7]),
        (km.R2, [1.0, 2.0], np.array([1.0, 2.5], np.complex64)),
    ):
        with pytest.raises(TypeError, match=r"complex|real numbers"):
            make().update_state(y_true, y_pred)


def test_integer_hard_predictions_are_scored():
    y_true = [0, 1, 1, 0, 1]
    y_pred = np.array([[0], [1], [0], [0], [1]], np.int32)
    metric = km.F1(task="binary")
    metric.update_state(y_true, y_pred)
    expected = skm.f1_score(y_true, y_pred.ravel())
    assert float(to_numpy(metric.result())) == pytest.approx(expected)


# --------------------------------------------------------------------------
# LogLoss refuses another layout, like every other metric
# --------------------------------------------------------------------------
def test_log_loss_refuses_a_second_layout():
    metric = km.LogLoss()
    metric.update_state([0, 1], [[0.9, 0.1], [0.2, 0.8]])
    with pytest.raises(ValueError, match="cannot accept inputs"):
        metric.update_state([0, 2], [[0.8, 0.1, 0.1], [0.2, 0.2, 0.6]])
    with pytest.raises(ValueError, match="cannot accept inputs"):
        metric.update_state([0, 1], [0.2, 0.8])  # binary now
    binary = km.LogLoss()
    binary.update_state([0, 1], [0.2, 0.8])
    with pytest.raises(ValueError, match="cannot accept inputs"):
        binary.merge_state([metric])


# --------------------------------------------------------------------------
# Honest NaNs: the warning names the metric, the count and the fix
# --------------------------------------------------------------------------
def test_soft_targets_in_fit_warn_with_the_fix():
    """Label smoothing turns binary targets soft: F1 cannot count them."""
    rng = np.random.default_rng(6)
    x = rng.normal(size=(64, 4)).astype(np.float32)
    y = (x[:, :1] > 0).astype(np.float32) * 0.9 + 0.05  # smoothed 0/1
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, "sigmoid")])
    model.compile(loss="binary_crossentropy", metrics=[km.F1(), km.AUROC()])
    if runs_eagerly_in_model(jit_compile=model.jit_compile):  # eager: it raises
        with pytest.raises(ValueError, match=r"16 soft target.*before smoothing"):
            model.fit(x, y, batch_size=16, epochs=1, verbose=0)
        return
    with pytest.warns(
        UserWarning,
        match=r"F1\(name='f1'\).result\(\) is NaN: 64 "
        r"entries with soft targets.*before smoothing",
    ):
        history = model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    assert math.isnan(history.history["f1"][-1])
    assert math.isnan(history.history["auroc"][-1])


def test_non_scalar_metric_in_compile_warns_once():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(32, 3)).astype(np.float32)
    y = rng.integers(0, 3, 32)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(3, "softmax")])
    metric = km.ConfusionMatrix()
    model.compile(loss="sparse_categorical_crossentropy", metrics=[metric])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.evaluate(x, y, batch_size=8, verbose=0)
        model.evaluate(x, y, batch_size=8, verbose=0)
    shape_warnings = [w for w in caught if "not a scalar" in str(w.message)]
    assert len(shape_warnings) == 1, [str(w.message) for w in caught]
    assert "ConfusionMatrix(name='confusion_matrix')" in str(shape_warnings[0].message)


def test_valid_inputs_do_not_warn():
    rng = np.random.default_rng(8)
    labels = rng.integers(0, 3, 40)
    probs = rng.dirichlet(np.ones(3), 40).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        metric_in_model(km.F1, labels, probs)
        metric = km.F1()
        metric.update_state(labels, probs)
        metric.result()


def test_void_label_message_prints_integers_and_names_ignore_index():
    with pytest.raises(
        ValueError, match=r"Received values: \[255\]\. .*ignore_index=255"
    ):
        km.IoU().update_state(np.array([[0, 1, 255]]), np.eye(2)[[[0, 1, 1]]])


# --------------------------------------------------------------------------
# State: reset gives a fresh metric
# --------------------------------------------------------------------------
def test_reset_accepts_another_number_of_classes():
    metric = km.F1()
    metric.update_state([0, 1], [[0.9, 0.1], [0.2, 0.8]])
    with pytest.raises(ValueError, match="cannot accept"):
        metric.update_state([0, 2], np.eye(3)[[0, 2]])
    metric.reset_state()
    labels, probs = [0, 2, 1, 2], np.eye(3)[[0, 2, 2, 2]]
    metric.update_state(labels, probs)
    expected = skm.f1_score(labels, np.argmax(probs, -1), average="macro")
    assert float(to_numpy(metric.result())) == pytest.approx(expected)
    assert [tuple(v.shape) for v in metric.variables] == expected_state_shapes(
        (4,), (3, 3)
    )
    fixed = km.F1(task="multiclass", num_classes=2)
    fixed.reset_state()
    with pytest.raises(ValueError, match="num_classes"):
        fixed.update_state([0, 2], np.eye(3)[[0, 2]])


def test_reset_state_of_every_kind_reads_like_a_new_metric():
    for make, y_true, y_pred in (
        (km.AUROC, [0, 1, 1], [0.2, 0.7, 0.4]),
        (km.LogLoss, [0, 1, 1], [0.2, 0.7, 0.4]),
        (km.R2, [0.0, 1.0, 3.0], [0.5, 1.0, 2.0]),
        (km.RMSE, [0.0, 1.0, 3.0], [0.5, 1.0, 2.0]),
        (km.MCC, [0, 1, 1], [[0.2], [0.7], [0.4]]),
        (lambda: km.ConfusionMatrix(task="binary"), [0, 1], [[0.2], [0.7]]),
    ):
        used = make()
        used.update_state(y_true, y_pred)
        used.reset_state()
        np.testing.assert_equal(to_numpy(used.result()), to_numpy(make().result()))


# --------------------------------------------------------------------------
# Monitoring: every metric declares its direction
# --------------------------------------------------------------------------
def _public_metrics():
    return [
        km.F1(),
        km.FBeta(beta=2.0),
        km.Precision(),
        km.Recall(),
        km.IoU(),
        km.Dice(),
        km.Accuracy(),
        km.BalancedAccuracy(),
        km.MCC(),
        km.CohenKappa(),
        km.AUROC(),
        km.AUPRC(),
        km.LogLoss(),
    ]


def test_every_public_metric_declares_its_direction():
    expected = {"log_loss": "down", "rmse": "down", "mae": "down", "msle": "down"}
    expected["hamming_loss"] = "down"
    expected["calibration_error"] = "down"
    for name in km.__all__:
        cls = getattr(km, name)
        if isinstance(cls, type) and issubclass(cls, keras.metrics.Metric):
            metric = cls(**REQUIRED_ARGUMENTS.get(name, {}))
            assert metric._direction == expected.get(metric.name, "up"), name


def test_callbacks_monitor_every_metric_with_mode_auto(tmp_path):
    """EarlyStopping / ModelCheckpoint with mode="auto" on every logged name
    (Keras raises when a monitored metric declares no direction)."""
    rng = np.random.default_rng(9)
    x = rng.normal(size=(48, 4)).astype(np.float32)
    y = rng.integers(0, 3, 48)
    targets = x[:, :1] ** 2  # non-negative, for MSLE
    for outputs, loss, metrics, labels in (
        (
            keras.layers.Dense(3, "softmax"),
            "sparse_categorical_crossentropy",
            _public_metrics(),
            y,
        ),
        (
            keras.layers.Dense(1, "softplus"),
            "mse",
            [km.R2(), km.RMSE(), km.MAE(), km.MSLE()],
            targets,
        ),
    ):
        model = keras.Sequential([keras.Input((4,)), outputs])
        model.compile(loss=loss, metrics=metrics)
        callbacks = []
        for i, metric in enumerate(metrics):
            monitor = f"val_{metric.name}"
            callbacks.append(keras.callbacks.EarlyStopping(monitor, patience=5))
            if i == 0:  # the same monitor logic as EarlyStopping's
                callbacks.append(
                    keras.callbacks.ModelCheckpoint(
                        str(tmp_path / f"m{i}.keras"),
                        monitor=monitor,
                        save_best_only=True,
                    )
                )
        model.fit(
            x,
            labels,
            validation_split=0.25,
            epochs=2,
            batch_size=12,
            verbose=0,
            callbacks=callbacks,
        )
        for callback in callbacks:
            assert callback.monitor_op is not None


def test_public_surface_exposes_the_metrics():
    assert kc.F1 is km.F1


def test_invalid_input_warning_points_at_the_caller_of_result():
    """The warning names the line that called `result()`, not our code."""
    metric = km.F1()
    y_true, y_pred = np.array([0, 1]), np.array([[0.9, 0.1], [np.nan, 0.8]])
    traced_with_state(metric.update_state, [metric])(tensor(y_true), tensor(y_pred))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        metric.result()
    nan_warnings = [w for w in caught if "result() is NaN" in str(w.message)]
    assert nan_warnings
    assert all(w.filename == __file__ for w in nan_warnings)


# --------------------------------------------------------------------------
# Shapes are checked at every call, not only at a configuration's first
# --------------------------------------------------------------------------
WARMED = {
    "F1": km.F1,
    "IoU": km.IoU,
    "MCC": km.MCC,
    "AUROC": km.AUROC,
    "AUPRC": km.AUPRC,
    "LogLoss": km.LogLoss,
    "CalibrationError": km.CalibrationError,
    "PrecisionAtRecall": lambda: km.PrecisionAtRecall(recall=0.5),
}


@pytest.mark.parametrize("name", sorted(WARMED))
def test_mismatched_shapes_raise_after_updates_of_other_batch_sizes(name):
    """An eager update runs one trace for any batch size once a configuration
    has seen two (shared by every metric of that configuration). A batch whose
    `y_true`, `y_pred` or `sample_weight` disagree in their leading axis
    still raises the shape error naming both shapes: before, TensorFlow
    served it from that trace, which broadcast one label over the batch into
    a finite, wrong value (or failed with a graph execution error)."""
    make = WARMED[name]
    rng = np.random.default_rng(0)
    eye = np.eye(3, dtype="float32")
    for n in (6, 9, 12):  # valid batches of three sizes: the relaxed trace
        labels = np.arange(n) % 3
        make().update_state(labels, eye[labels] * 0.8 + 0.1 / 1.5)
        make().update_state(labels % 2, rng.uniform(size=n).astype("float32"))
        make().update_state(
            labels % 2, rng.uniform(size=n).astype("float32"), np.ones(n)
        )
    scores = rng.uniform(size=5).astype("float32")
    cases = [
        (np.array([1]), eye[[0, 1, 2, 1, 0]] * 0.8 + 0.1 / 1.5, None),
        (np.array([1]), scores, None),
        (np.array([0, 1, 1, 0]), scores, None),
        (np.array([0, 1, 1, 0, 1]), scores, np.ones(3)),
    ]
    for y_true, y_pred, weights in cases:
        metric = make()
        with pytest.raises(ValueError, match=r"Incompatible shapes.*Received: "):
            metric.update_state(y_true, y_pred, sample_weight=weights)
