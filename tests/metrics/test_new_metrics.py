"""Specificity and HammingLoss (the worked "adding a metric" examples) against
scikit-learn, and the README's "Adding a metric" snippet, executed."""

import inspect
import re
from pathlib import Path

import keras
import numpy as np
import pytest
from sklearn import metrics as skm

import keras_components
from keras_components import metrics as km
from tests.helpers import (
    REQUIRED_ARGUMENTS,
    assert_config_roundtrip,
    assert_keras_roundtrip,
    assert_streaming_equals,
    init_argument_names,
    to_numpy,
)

C = 4
NAN = float("nan")
README = Path(__file__).resolve().parents[2] / "README.md"


def multiclass_data(seed, n=90, c=C):
    # Class C-1 never occurs in y_true and class 2 is never predicted.
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, c - 1, n)
    y_pred = rng.random((n, c)).astype(np.float32)
    y_pred[:, 2] = 0.0
    return y_true, y_pred, rng.uniform(0.1, 3.0, n)


def multilabel_data(seed, n=80, c=C):
    rng = np.random.default_rng(seed)
    y_true = (rng.random((n, c)) < 0.4).astype(np.int32)
    y_true[:, 0] = 0  # a label without positives
    y_pred = rng.random((n, c)).astype(np.float32)
    return y_true, y_pred, rng.uniform(0.1, 3.0, n)


def binary_data(seed, n=70):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 2, n), rng.random(n).astype(np.float32), rng.random(n)


# --------------------------------------------------------------------------
# Independent references (float64 NumPy from scikit-learn's counts)
# --------------------------------------------------------------------------
def specificity_reference(y_true, y_hat, weights, *, labels, average, zero_division):
    blocks = skm.multilabel_confusion_matrix(
        y_true, y_hat, sample_weight=weights, labels=labels
    ).astype(np.float64)
    tn, fp = blocks[:, 0, 0], blocks[:, 0, 1]
    support = blocks[:, 1, 1] + blocks[:, 1, 0]
    if average == "micro":
        total = tn.sum() + fp.sum()
        return tn.sum() / total if total > 0 else zero_division
    with np.errstate(invalid="ignore", divide="ignore"):
        per_class = np.where(tn + fp > 0, tn / np.maximum(tn + fp, 1e-300), np.nan)
    per_class = np.where(np.isnan(per_class), zero_division, per_class)
    if average is None:
        return per_class
    defined = ~np.isnan(per_class)
    if not defined.any():
        return np.nan
    if average == "weighted" and support[defined].sum() > 0:
        return np.average(per_class[defined], weights=support[defined])
    return per_class[defined].mean()


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("zero_division", [0.0, 1.0, NAN])
@pytest.mark.parametrize("average", ["micro", "macro", "weighted", None])
@pytest.mark.parametrize("task", ["multiclass", "multilabel"])
def test_specificity_equals_sklearn_counts(task, average, zero_division, weighted):
    if task == "multiclass":
        y_true, y_pred, w = multiclass_data(1)
        y_hat = np.argmax(y_pred, -1)
    else:
        y_true, y_pred, w = multilabel_data(2)
        y_hat = (y_pred > 0.5).astype(np.int32)
    w = w if weighted else None
    expected = specificity_reference(
        y_true,
        y_hat,
        w,
        labels=list(range(C)),
        average=average,
        zero_division=zero_division,
    )
    assert_streaming_equals(
        lambda: km.Specificity(task=task, average=average, zero_division=zero_division),
        expected,
        y_true,
        y_pred,
        w,
    )


@pytest.mark.parametrize("weighted", [False, True])
def test_binary_specificity_is_recall_of_the_negative_class(weighted):
    y_true, y_pred, w = binary_data(3)
    w = w if weighted else None
    expected = skm.recall_score(y_true, y_pred > 0.5, pos_label=0, sample_weight=w)
    assert_streaming_equals(
        lambda: km.Specificity(task="binary"), expected, y_true, y_pred, w
    )
    # One batch, as a plain update.
    metric = km.Specificity(task="binary")
    metric.update_state(y_true, y_pred, w)
    np.testing.assert_allclose(to_numpy(metric.result()), expected, atol=1e-6)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("task", ["binary", "multiclass", "multilabel"])
def test_hamming_loss_equals_sklearn(task, weighted):
    if task == "multiclass":
        y_true, y_pred, w = multiclass_data(4)
        y_hat = np.argmax(y_pred, -1)
    elif task == "multilabel":
        y_true, y_pred, w = multilabel_data(5)
        y_hat = (y_pred > 0.5).astype(np.int32)
    else:
        y_true, y_pred, w = binary_data(6)
        y_hat = (y_pred > 0.5).astype(np.int32)
    w = w if weighted else None
    expected = skm.hamming_loss(y_true, y_hat, sample_weight=w)
    assert_streaming_equals(
        lambda: km.HammingLoss(task=task), expected, y_true, y_pred, w
    )


def test_hamming_loss_ignore_index_drops_cells():
    y_true = np.array([[0, 1, 255], [1, 255, 0]])
    y_pred = np.array([[0.9, 0.8, 0.1], [0.2, 0.9, 0.1]], np.float32)
    metric = km.HammingLoss(task="multilabel", ignore_index=255)
    metric.update_state(y_true, y_pred)
    # Counted cells: (0, .9) wrong, (1, .8) right, (1, .2) wrong, (0, .1) right.
    assert float(to_numpy(metric.result())) == pytest.approx(0.5)


def test_empty_results_are_zero_division():
    assert float(to_numpy(km.Specificity(zero_division=1.0).result())) == 1.0
    assert float(to_numpy(km.HammingLoss().result())) == 0.0


@pytest.mark.parametrize(
    "metric",
    [
        km.Specificity(average="weighted", task="multiclass", num_classes=3),
        km.Specificity(task="binary", threshold=0.3, zero_division=NAN),
        km.HammingLoss(task="multilabel", ignore_index=255, name="hl"),
        km.HammingLoss(),
    ],
    ids=lambda m: type(m).__name__,
)
def test_config_roundtrip(metric):
    rebuilt = assert_config_roundtrip(metric)
    assert rebuilt.state_built == metric.state_built


def test_model_with_new_metrics_roundtrips(tmp_path):
    y_true, y_pred, _ = multiclass_data(7)
    inputs = keras.Input((C,))
    model = keras.Model(
        inputs, keras.layers.Dense(C, activation="softmax")(inputs), name="clf"
    )
    model.compile(
        optimizer="adam",
        loss="sparse_categorical_crossentropy",
        metrics=[km.Specificity(), km.HammingLoss()],
    )
    model.fit(y_pred, y_true, epochs=1, batch_size=32, verbose=0)
    loaded = assert_keras_roundtrip(model, y_pred, tmp_path)
    before = model.evaluate(y_pred, y_true, verbose=0, return_dict=True)
    after = loaded.evaluate(y_pred, y_true, verbose=0, return_dict=True)
    for key in ("specificity", "hamming_loss"):
        np.testing.assert_allclose(after[key], before[key], atol=1e-7)


def test_directions_drive_early_stopping_mode_auto():
    y_true, y_pred, _ = multiclass_data(10)
    for metric, op in (
        (km.Specificity(), keras.ops.greater),
        (km.HammingLoss(), keras.ops.less),
    ):
        stop = keras.callbacks.EarlyStopping(monitor=metric.name, mode="auto")
        model = keras.Sequential([keras.Input((C,)), keras.layers.Dense(C, "softmax")])
        model.compile(loss="sparse_categorical_crossentropy", metrics=[metric])
        model.fit(y_pred, y_true, epochs=1, callbacks=[stop], verbose=0)
        assert stop.monitor_op is op, (metric.name, stop.monitor_op)


# --------------------------------------------------------------------------
# Signatures at their root
# --------------------------------------------------------------------------
def _public_metric_classes():
    return [
        getattr(km, name)
        for name in km.__all__
        if isinstance(getattr(km, name), type)
        and issubclass(getattr(km, name), keras.metrics.Metric)
    ]


@pytest.mark.parametrize("cls", _public_metric_classes(), ids=lambda c: c.__name__)
def test_public_signature_lists_every_argument(cls):
    """`inspect.signature(cls)` (what help() shows) names exactly what the
    constructors up the MRO accept, with the default name."""
    parameters = inspect.signature(cls).parameters
    assert set(parameters) == init_argument_names(cls)
    assert not any(p.kind is p.VAR_KEYWORD for p in parameters.values())
    made = cls(**REQUIRED_ARGUMENTS.get(cls.__name__, {}))
    if cls is km.BestThreshold:
        # Its default name follows the rule it maximises ("best_" + metric).
        assert parameters["name"].default is None
        for rule in ("f1", "fbeta", "youden"):
            assert cls(metric=rule).name == f"best_{rule}"
    else:
        assert parameters["name"].default == made.name


def test_f1_signature():
    assert str(inspect.signature(km.F1)) == (
        "(*, average: 'str | None' = 'macro', per_image: 'bool' = False, "
        "classes: 'Sequence[int] | None' = None, zero_division: 'float' = 0.0, "
        "task: 'str' = 'auto', num_classes: 'int | None' = None, threshold: "
        "'float | None' = None, from_logits: 'bool' = False, ignore_index: "
        "'int | None' = None, name: 'str | None' = 'f1', dtype: 'Any' = None)"
    )


# --------------------------------------------------------------------------
# The README's worked example
# --------------------------------------------------------------------------
def _adding_a_metric_block():
    section = README.read_text().split("### Adding a metric", 1)[1]
    return re.findall(r"```python\n(.*?)```", section, re.DOTALL)[0]


def test_readme_adding_a_metric_example_runs_and_matches(monkeypatch):
    """The snippet, executed (registration aside: the real class holds the
    name), scores as the shipped `Specificity` and scikit-learn, and its
    declarations are the ones in `classification.py`."""
    block = _adding_a_metric_block()
    monkeypatch.setattr(keras_components._export, "export", lambda cls: cls)
    namespace = {}
    exec(block, namespace)
    example = namespace["Specificity"]
    y_true, y_pred, w = multiclass_data(8)
    for average in ("micro", "macro", "weighted", None):
        ours, shipped = example(average=average), km.Specificity(average=average)
        for m in (ours, shipped):
            m.update_state(y_true, y_pred, w)
        np.testing.assert_array_equal(to_numpy(ours.result()), shipped.result())
    binary = example(task="binary")
    yb, pb, wb = binary_data(9)
    binary.update_state(yb, pb, wb)
    expected = skm.recall_score(yb, pb > 0.5, pos_label=0, sample_weight=wb)
    np.testing.assert_allclose(to_numpy(binary.result()), expected, atol=1e-6)
    # Honest: every declaration line of the snippet is in the shipped module.
    source = inspect.getsource(km.Specificity)
    for line in block.splitlines():
        if line.startswith("    ") and '"""' not in line:
            assert line in source.splitlines(), line
