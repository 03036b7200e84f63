"""Bad input to keras_components.compat.tfa: never a silently finite number.

tfa checked none of its inputs; the compat classes go through the package's
shared checks (keras_components/_inputs.py). Eagerly an invalid batch is a
`ValueError` naming the values and the fix (and leaves a metric's state as
it was); traced (`tf.function`, `evaluate` with and without `jit_compile`)
the result is NaN, and a metric's eager `result()` then warns once per
reason. Valid data keeps tfa's numbers (tests/compat/test_tfa.py checks them
against the committed tfa fixtures); here valid variants only have to stay
finite.

Each probe that found the problem is a test of its own (`test_probe_*`); the
sweep runs every compat metric and loss over a NaN score, a soft target, an
out-of-range label and a NaN weight.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np
import pytest

from keras_components.compat import tfa
from tests.helpers import metric_in_model, passthrough_model, runs_eagerly_in_model

F32 = np.float32
RNG = np.random.default_rng(20260512)
N = 8


def _probs(n: int, c: int) -> np.ndarray:
    x = RNG.uniform(0.05, 0.95, size=(n, c))
    return x.astype(F32)


MULTI_HOT = (RNG.uniform(size=(N, 3)) > 0.5).astype(F32)
ONE_HOT = np.eye(3, dtype=F32)[np.arange(N) % 3]
LABELS = (np.arange(N) % 3).astype(F32)
SCORES = _probs(N, 3)
HARD = (SCORES > 0.5).astype(F32)
WEIGHTS = RNG.uniform(0.5, 1.5, size=N).astype(F32)


@dataclass
class Case:
    """A compat class with a valid batch and how to corrupt it.

    Each corruption returns `(y_true, y_pred, sample_weight)`, or is None
    where the input is valid for this class (then the result stays finite).
    `eager` says what an eager call does with each corruption: "raise" (a
    ValueError) or "nan" (our own WeightedKappaLoss weighs NaN to NaN).
    """

    make: Any
    y_true: np.ndarray
    y_pred: np.ndarray
    nan_score: Any = "default"
    soft_target: Any = "default"
    out_of_range: Any = "default"
    nan_weight: Any = "default"
    eager: dict[str, str] = field(default_factory=dict)
    loss: bool = False
    smoothed: Any = None  # valid soft targets, where soft_target is None

    def corrupted(self, kind: str):
        how = getattr(self, kind)
        if how is None:
            return None
        y_true, y_pred = self.y_true.copy(), self.y_pred.copy()
        weights = WEIGHTS.copy()
        if how != "default":
            return how(y_true, y_pred, weights)
        if kind == "nan_score":
            y_pred.flat[0] = np.nan
        elif kind == "soft_target":
            y_true.flat[0] = 0.7
        elif kind == "out_of_range":
            y_true.flat[0] = 2.0
        else:
            weights[0] = np.nan
        return y_true, y_pred, weights


def _labels_with(value):
    def corrupt(y_true, y_pred, weights):
        y_true[0] = value
        return y_true, y_pred, weights

    return corrupt


def _soft_row(y_true, y_pred, weights):
    y_true[0] = [0.3, 0.7, 0.0]
    return y_true, y_pred, weights


def _regression_nan(y_true, y_pred, weights):
    y_pred[0, 0] = np.nan
    return y_true, y_pred, weights


CASES = {
    "F1Score": Case(
        lambda: tfa.F1Score(num_classes=3, threshold=0.5), MULTI_HOT, SCORES
    ),
    "F1Score-argmax": Case(lambda: tfa.F1Score(num_classes=3), ONE_HOT, SCORES),
    "FBetaScore": Case(
        lambda: tfa.FBetaScore(num_classes=3, beta=2.0, average="macro"),
        MULTI_HOT,
        SCORES,
    ),
    "HammingLoss-multilabel": Case(
        lambda: tfa.HammingLoss(mode="multilabel", threshold=0.5), MULTI_HOT, SCORES
    ),
    "HammingLoss-multiclass": Case(
        lambda: tfa.HammingLoss(mode="multiclass"), ONE_HOT, SCORES
    ),
    "MultiLabelConfusionMatrix": Case(
        lambda: tfa.MultiLabelConfusionMatrix(num_classes=3), MULTI_HOT, HARD
    ),
    "MatthewsCorrelationCoefficient": Case(
        lambda: tfa.MatthewsCorrelationCoefficient(num_classes=3),
        ONE_HOT,
        SCORES,
        soft_target=_soft_row,
    ),
    "CohenKappa-onehot": Case(
        lambda: tfa.CohenKappa(num_classes=3, weightage="quadratic"),
        ONE_HOT,
        SCORES,
        soft_target=_soft_row,
    ),
    "CohenKappa-sparse": Case(
        lambda: tfa.CohenKappa(num_classes=3, sparse_labels=True),
        LABELS,
        SCORES,
        soft_target=_labels_with(1.5),  # a fractional label
        out_of_range=_labels_with(3.0),
    ),
    "CohenKappa-regression": Case(
        lambda: tfa.CohenKappa(num_classes=3, sparse_labels=True, regression=True),
        LABELS,
        (LABELS[:, None] + RNG.uniform(-0.4, 0.4, size=(N, 1))).astype(F32),
        nan_score=_regression_nan,
        soft_target=_labels_with(0.5),
        out_of_range=_labels_with(-1.0),
    ),
    "CohenKappa-binary": Case(
        lambda: tfa.CohenKappa(num_classes=2),
        (np.arange(N) % 2).astype(F32)[:, None],
        SCORES[:, :1],
    ),
    "RSquare": Case(
        lambda: tfa.RSquare(),
        RNG.normal(size=N).astype(F32),
        RNG.normal(size=N).astype(F32),
        soft_target=None,  # any real target is valid
        out_of_range=None,
    ),
    "SigmoidFocalCrossEntropy": Case(
        lambda: tfa.SigmoidFocalCrossEntropy(),
        MULTI_HOT,
        SCORES,
        soft_target=None,  # soft targets in [0, 1] are valid, as for FocalLoss
        out_of_range=_labels_with(-1.0),
        loss=True,
    ),
    "SigmoidFocalCrossEntropy-logits": Case(
        lambda: tfa.SigmoidFocalCrossEntropy(
            from_logits=True, reduction="sum_over_batch_size"
        ),
        MULTI_HOT,
        (SCORES - 0.5) * 8.0,
        soft_target=None,
        loss=True,
    ),
    "WeightedKappaLoss": Case(
        lambda: tfa.WeightedKappaLoss(num_classes=3),
        ONE_HOT,
        SCORES / SCORES.sum(axis=1, keepdims=True),
        soft_target=None,  # a loss: soft rows are class distributions
        out_of_range=lambda t, p, w: (
            np.where(np.arange(N) == 0, 5.0, LABELS).astype(F32),
            p,
            w,
        ),
        eager={"nan_weight": "nan"},  # our own loss: NaN, not an error
        smoothed=(ONE_HOT * 0.9 + 0.1 / 3).astype(F32),  # label smoothing 0.1
        loss=True,
    ),
}
KINDS = ("nan_score", "soft_target", "out_of_range", "nan_weight")
SWEEP = [
    pytest.param(name, kind, id=f"{name}-{kind}") for name in CASES for kind in KINDS
]


def to_numpy(x):
    return np.asarray(keras.ops.convert_to_numpy(x), np.float64)


def evaluate(case: Case, y_true, y_pred, weights=None):
    """The eager value: a loss's output, or a metric's result after one update."""
    obj = case.make()
    if case.loss:
        return to_numpy(obj(y_true, y_pred, sample_weight=weights))
    obj.update_state(y_true, y_pred, weights)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an eager update never leaves a warning
        return to_numpy(obj.result())


@pytest.mark.parametrize("name", list(CASES))
def test_valid_batch_is_finite(name):
    case = CASES[name]
    value = evaluate(case, case.y_true, case.y_pred, WEIGHTS)
    assert np.all(np.isfinite(value)), value


@pytest.mark.parametrize(("name", "kind"), SWEEP)
def test_sweep_eager(name, kind):
    case = CASES[name]
    batch = case.corrupted(kind)
    if batch is None:
        y_true, y_pred, weights = case.y_true.copy(), case.y_pred.copy(), WEIGHTS
        if kind == "soft_target":
            if case.smoothed is None:
                y_true.flat[0] = 0.7
            else:
                y_true = case.smoothed
        value = evaluate(case, y_true, y_pred, weights)
        assert np.all(np.isfinite(value)), value
        return
    if case.eager.get(kind) == "nan":
        assert np.isnan(evaluate(case, *batch)).any()
        return
    with pytest.raises(ValueError, match=r"Invalid values in `|Incompatible shapes"):
        evaluate(case, *batch)


@pytest.mark.parametrize(("name", "kind"), SWEEP)
def test_sweep_eager_error_leaves_the_state(name, kind):
    case = CASES[name]
    batch = case.corrupted(kind)
    if case.loss or batch is None:
        pytest.skip("a loss has no state / the input is valid")
    metric = case.make()
    metric.update_state(case.y_true, case.y_pred, WEIGHTS)
    before = to_numpy(metric.result())
    with pytest.raises(ValueError, match=r"Invalid values in `|Incompatible"):
        metric.update_state(*batch)
    np.testing.assert_array_equal(to_numpy(metric.result()), before)


@pytest.mark.tensorflow_only
@pytest.mark.parametrize(("name", "kind"), SWEEP)
def test_sweep_tf_function(name, kind):
    import tensorflow as tf

    case = CASES[name]
    batch = case.corrupted(kind)
    if batch is None:
        pytest.skip("valid input (test_sweep_eager)")
    obj = case.make()
    args = [tf.constant(x) for x in batch]
    if case.loss:
        value = tf.function(lambda t, p, w: obj(t, p, sample_weight=w))(*args)
        assert np.isnan(to_numpy(value)).any()
        return
    tf.function(obj.update_state)(*args)
    reason = "weights" if kind == "nan_weight" else None
    with pytest.warns(UserWarning, match=r"result\(\) is NaN") as record:
        value = to_numpy(obj.result())
    assert np.all(np.isnan(value)), value
    if reason:
        assert any("sample weights" in str(w.message) for w in record)
    # The traced result is NaN too, and reset_state clears it.
    assert np.all(np.isnan(to_numpy(tf.function(obj.result)())))
    obj.reset_state()
    obj.update_state(case.y_true, case.y_pred, WEIGHTS)
    assert np.all(np.isfinite(to_numpy(obj.result())))


IN_MODEL = [{"jit_compile": False}, {"jit_compile": True}]


@pytest.fixture(autouse=True)
def _fresh_torch_compile():
    """A fresh torch.compile cache per test on PyTorch.

    After many compilations of the same metric code in one process, dynamo
    hits its recompile limit and silently runs eagerly, where the eager
    check raises instead of the traced NaN this module tests
    (tests/known_backend_failures.py, DYNAMO_FALLBACK).
    """
    if keras.backend.backend() == "torch":
        import torch

        torch._dynamo.reset()
    return


def _loss_in_model(case: Case, y_true, y_pred, weights, *, jit_compile):
    model = passthrough_model(y_pred.shape[1:])
    model.compile(loss=case.make(), jit_compile=jit_compile)
    logs = model.evaluate(
        y_pred,
        y_true,
        sample_weight=weights,
        batch_size=4,
        verbose=0,
        return_dict=True,
    )
    return np.asarray(logs["loss"])


def _in_model(case: Case, batch, options):
    y_true, y_pred, weights = batch
    if case.loss:
        return _loss_in_model(case, y_true, y_pred, weights, **options)
    holder = []

    def make():
        holder.append(case.make())
        return holder[-1]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # MultiLabelConfusionMatrix's weight note
        value = metric_in_model(
            make, y_true, y_pred, weights, batch_size=4, mode="evaluate", **options
        )["value"]
    return value, holder[-1]


@pytest.mark.parametrize("options", IN_MODEL, ids=["jit=False", "jit=True"])
@pytest.mark.parametrize(("name", "kind"), SWEEP)
def test_sweep_in_evaluate(name, kind, options):
    case = CASES[name]
    batch = case.corrupted(kind)
    if batch is None:
        pytest.skip("valid input (test_sweep_eager)")
    if runs_eagerly_in_model(**options) and case.eager.get(kind) != "nan":
        with pytest.raises(ValueError, match=r"Invalid values in `"):
            _in_model(case, batch, options)
        return
    if case.loss:
        assert np.isnan(_in_model(case, batch, options)).all()
        return
    value, metric = _in_model(case, batch, options)
    assert np.isnan(value).all(), value
    if keras.backend.backend() == "tensorflow" or options["jit_compile"]:
        with pytest.warns(UserWarning, match=r"result\(\) is NaN"):
            assert np.isnan(to_numpy(metric.result())).all()


# --------------------------------------------------------------------------
# The probes that found the problem, before -> after
# --------------------------------------------------------------------------
NAN_ROW = np.array([[np.nan, 0.2, 0.1], [0.1, 0.9, 0.0]], F32)
TRUE_ROWS = np.array([[1, 0, 0], [0, 1, 0]], F32)
SOFT = np.array([[0.3, 0.7], [0.7, 0.3]], F32)
SOFT_PRED = np.array([[0.2, 0.8], [0.6, 0.4]], F32)
KAPPA_PRED = np.array([[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8]], F32)


def _traced_metric(metric, *batch):
    """The result after one update in each way a batch can run traced."""
    results = []
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.function(metric.update_state)(*[tf.constant(x) for x in batch])
        with pytest.warns(UserWarning, match=r"result\(\) is NaN"):
            results.append(to_numpy(metric.result()))
    return results


def test_probe_f1_nan_score():
    # Before: [0, 1, 0], finite.
    with pytest.raises(ValueError, match=r"`y_pred`. Expected finite"):
        tfa.F1Score(num_classes=3, threshold=0.5).update_state(TRUE_ROWS, NAN_ROW)
    for value in _traced_metric(
        tfa.F1Score(num_classes=3, threshold=0.5), TRUE_ROWS, NAN_ROW
    ):
        assert np.isnan(value).all()


@pytest.mark.parametrize(
    "make",
    [
        lambda: tfa.F1Score(num_classes=2, threshold=0.5),
        lambda: tfa.FBetaScore(num_classes=2, beta=2.0),
        lambda: tfa.MatthewsCorrelationCoefficient(num_classes=2),
        lambda: tfa.HammingLoss(mode="multilabel", threshold=0.5),
        lambda: tfa.MultiLabelConfusionMatrix(num_classes=2),
        lambda: tfa.CohenKappa(num_classes=3),
    ],
    ids=["F1", "FBeta", "MCC", "Hamming", "MLCM", "CohenKappa"],
)
def test_probe_soft_targets(make):
    # Before: F1 / FBeta [0.7, 0.7], MCC 1.0, Hamming 0.5, MLCM finite counts.
    y_true, y_pred = SOFT, SOFT_PRED
    if isinstance(make(), tfa.CohenKappa):
        y_true = np.array([[0.3, 0.7, 0.0]] * 3, F32)
        y_pred = KAPPA_PRED
    if isinstance(make(), tfa.MultiLabelConfusionMatrix):
        y_pred = (y_pred > 0.5).astype(F32)
    with pytest.raises(ValueError, match=r"soft target.*label smoothing"):
        make().update_state(y_true, y_pred)
    for value in _traced_metric(make(), y_true, y_pred):
        assert np.isnan(value).all()


def test_probe_focal_negative_target():
    # Before: a negative loss (-0.0061 for p = 0.3).
    loss = tfa.SigmoidFocalCrossEntropy()
    y_true, y_pred = np.array([[-1.0]], F32), np.array([[0.3]], F32)
    with pytest.raises(ValueError, match=r"`y_true`. Expected values in \[0, 1\]"):
        loss(y_true, y_pred)
    # Soft targets in [0, 1] stay valid (as for FocalLoss in binary mode).
    assert float(to_numpy(loss(np.array([[0.3]], F32), y_pred))[0]) > 0
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        assert np.isnan(to_numpy(tf.function(loss)(y_true, y_pred))).all()


def test_probe_focal_probabilities_outside_unit_interval():
    loss = tfa.SigmoidFocalCrossEntropy()
    with pytest.raises(ValueError, match=r"from_logits=True"):
        loss(np.array([[1.0]], F32), np.array([[1.5]], F32))
    # Logits are any finite number.
    logits = tfa.SigmoidFocalCrossEntropy(from_logits=True)
    assert np.isfinite(to_numpy(logits(np.array([[1.0]], F32), np.array([[1.5]], F32))))


def test_probe_cohen_kappa_1d_labels_without_sparse_labels():
    # Before: TensorFlow's InvalidArgumentError from ArgMax.
    with pytest.raises(ValueError, match=r"y_true.shape=\(3,\).*|sparse_labels=True"):
        tfa.CohenKappa(num_classes=3).update_state(np.array([0, 1, 2], F32), KAPPA_PRED)
    with pytest.raises(ValueError, match=r"pass sparse_labels=True"):
        tfa.CohenKappa(num_classes=3).update_state(np.array([0, 1, 2], F32), KAPPA_PRED)


@pytest.mark.parametrize("label", [1.5, 3.0, -1.0, np.nan])
def test_probe_cohen_kappa_sparse_labels(label):
    # Before: 1.5 was truncated to 1 (kappa 1.0).
    y_true = np.array([0, label, 2], F32)
    with pytest.raises(ValueError, match=r"`y_true`. Expected integers in \[0, 3\)"):
        tfa.CohenKappa(num_classes=3, sparse_labels=True).update_state(
            y_true, KAPPA_PRED
        )
    metric = tfa.CohenKappa(num_classes=3, sparse_labels=True)
    for value in _traced_metric(metric, y_true, KAPPA_PRED):
        assert np.isnan(value)


def test_cohen_kappa_rank1_fractional_predictions_point_to_regression():
    metric = tfa.CohenKappa(num_classes=3, sparse_labels=True)
    with pytest.raises(ValueError, match=r"regression=True"):
        metric.update_state(np.array([0, 1, 2], F32), np.array([0, 1.4, 2], F32))


def test_cohen_kappa_regression_takes_real_predictions():
    # Rounded from |y_pred| as tfa: -0.4 -> 0, 1.4 -> 1, 2.3 -> 2 (perfect).
    metric = tfa.CohenKappa(num_classes=3, sparse_labels=True, regression=True)
    metric.update_state(np.array([0, 1, 2]), np.array([[-0.4], [1.4], [2.3]], F32))
    assert float(to_numpy(metric.result())) == 1.0
    with pytest.raises(ValueError, match=r"clip the outputs"):
        metric.update_state(np.array([0, 1, 2]), np.array([[0.0], [1.0], [2.6]], F32))


def test_threshold_keeps_raw_logits_and_strict_greater():
    # tfa allowed any scores: logits against the threshold, `>` (0.5 is not > 0.5).
    metric = tfa.F1Score(num_classes=2, threshold=0.5)
    metric.update_state(
        np.array([[1, 0], [1, 1]], F32), np.array([[3.0, -2.0], [0.5, 0.6]], F32)
    )
    np.testing.assert_allclose(to_numpy(metric.result()), [2 / 3, 1.0], rtol=1e-6)


def test_rsquare_infinite_score_is_nan_not_zero():
    # Before: an infinite prediction made tfa's R2 0.0 (its "inf -> 0" rule).
    with pytest.raises(ValueError, match=r"`y_pred`. Expected finite"):
        tfa.RSquare().update_state(
            np.array([1.0, 2.0, 4.0]), np.array([1.0, np.inf, 3.0])
        )
    metric = tfa.RSquare()
    for value in _traced_metric(
        metric, np.array([1.0, 2.0, 4.0], F32), np.array([1.0, np.inf, 3.0], F32)
    ):
        assert np.isnan(value)


def test_invalid_warning_names_each_reason_once():
    if keras.backend.backend() != "tensorflow":
        pytest.skip("traced update via tf.function")
    import tensorflow as tf

    metric = tfa.HammingLoss(mode="multilabel", threshold=0.5)
    y_true = np.array([[0.7, 0.0], [1.0, 0.0]], F32)
    y_pred = np.array([[0.9, np.nan], [0.9, 0.1]], F32)
    tf.function(metric.update_state)(tf.constant(y_true), tf.constant(y_pred))
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        assert np.isnan(to_numpy(metric.result()))
    messages = [str(w.message) for w in record if w.category is UserWarning]
    assert len(messages) == 2, messages
    assert "1 entries with soft targets" in messages[0]
    assert "1 entries with invalid predictions" in messages[1]


def test_invalid_input_warning_points_at_the_caller_of_result():
    """As for the package's own metrics: the line that called `result()`."""
    if keras.backend.backend() != "tensorflow":
        pytest.skip("traced update via tf.function")
    import tensorflow as tf

    metric = tfa.F1Score(num_classes=2, threshold=0.5)
    y_true = np.array([[1.0, 0.0], [0.0, 1.0]], F32)
    y_pred = np.array([[0.9, np.nan], [0.2, 0.8]], F32)
    tf.function(metric.update_state)(tf.constant(y_true), tf.constant(y_pred))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        metric.result()
    nan_warnings = [w for w in caught if "result() is NaN" in str(w.message)]
    assert nan_warnings
    assert all(w.filename == __file__ for w in nan_warnings)
