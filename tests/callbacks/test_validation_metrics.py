"""`ValidationMetrics`: logged values against scikit-learn, one pass, the logs.

References are scikit-learn on `model.predict` with the same epoch's
weights, recorded by a callback listed after ours.
"""

import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
from sklearn.metrics import (
    accuracy_score,
    classification_report,
    f1_score,
    matthews_corrcoef,
    roc_auc_score,
)

import keras_components as kc
from keras_components import _keras_compat
from keras_components.callbacks import ValidationMetrics

ROOT = Path(__file__).resolve().parents[2]
N, D, C = 96, 4, 3
CLASSES = ["cat", "dog", "eel"]


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(11)
    x = rng.normal(size=(N, D)).astype("float32")
    labels = (np.argmax(x[:, :C] + 0.8 * rng.normal(size=(N, C)), axis=-1)).astype(
        "int32"
    )
    weights = rng.uniform(0.2, 2.0, size=N).astype("float32")
    return x, labels, weights


def make_model(metrics=(), learning_rate=0.05):
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((D,)), keras.layers.Dense(C, activation="softmax")]
    )
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=list(metrics),
    )
    return model


class Record(keras.callbacks.Callback):
    """Predicts the validation x after each epoch and keeps the epoch's logs."""

    def __init__(self, x, auroc=None):
        super().__init__()
        self.x, self.auroc = x, auroc
        self.predictions, self.logs, self.bounds = [], [], []

    def on_epoch_end(self, epoch, logs=None):
        self.predictions.append(self.model.predict(self.x, verbose=0))
        self.logs.append(dict(logs))
        if self.auroc is not None:  # the binned AUROC's documented bound
            self.bounds.append(float(self.auroc.error_bound()))


class Batches(keras.utils.PyDataset):
    """(x, y[, w]) batches of 32, counting every batch read."""

    def __init__(self, *arrays):
        super().__init__()
        self.arrays = arrays
        self.reads = 0

    def __len__(self):
        return -(-len(self.arrays[0]) // 32)

    def __getitem__(self, i):
        self.reads += 1
        return tuple(a[i * 32 : (i + 1) * 32] for a in self.arrays)


def metric_list():
    return [
        kc.F1(),
        kc.MCC(),
        kc.AUROC(),
        kc.F1(average=None, name="f1_class"),
        keras.metrics.SparseCategoricalAccuracy(name="keras_acc"),
        ("sk_acc", lambda t, p, **kw: accuracy_score(t, p.argmax(-1), **kw)),
    ]


def validation_forms(x, labels, weights):
    return {
        "arrays": (x, labels, weights),
        "tf.data": tf.data.Dataset.from_tensor_slices((x, labels, weights)).batch(32),
        "PyDataset": Batches(x, labels, weights),
    }


@pytest.mark.parametrize("form", ["arrays", "tf.data", "PyDataset"])
def test_logged_values_equal_sklearn(data, form):
    x, labels, weights = data
    cb = ValidationMetrics(
        validation_forms(x, labels, weights)[form],
        metric_list(),
        class_names=CLASSES,
        verbose=0,
    )
    record = Record(x, auroc=cb.metrics[2])
    history = make_model().fit(
        x, labels, epochs=2, batch_size=32, verbose=0, callbacks=[cb, record]
    )
    for epoch, (probs, logs, bound) in enumerate(
        zip(record.predictions, record.logs, record.bounds, strict=True)
    ):
        pred = probs.argmax(-1)
        w = {"sample_weight": weights}
        expected = {
            "val_f1": f1_score(labels, pred, average="macro", **w),
            "val_mcc": matthews_corrcoef(labels, pred, **w),
            "val_keras_acc": accuracy_score(labels, pred, **w),
            "val_sk_acc": accuracy_score(labels, pred, **w),
        }
        per_class = f1_score(labels, pred, average=None, labels=range(C), **w)
        for name, value in zip(CLASSES, per_class, strict=True):
            expected[f"val_f1_class/{name}"] = value
        for key, value in expected.items():
            assert logs[key] == pytest.approx(value, abs=1e-6), (form, epoch, key)
            assert history.history[key][epoch] == pytest.approx(value, abs=1e-6)
        auroc = roc_auc_score(labels, probs, multi_class="ovr", **w)
        assert abs(logs["val_auroc"] - auroc) <= max(1e-4, bound) + 1e-7
        assert "val_f1_class" not in logs  # the vector is split per class
    assert cb.epochs == [0, 1]
    assert cb.history["val_f1"] == [log["val_f1"] for log in record.logs]


class CountRows(keras.layers.Layer):
    """Identity that counts the rows it sees at inference (training=False)."""

    def build(self, input_shape):
        self.rows = self.add_weight(shape=(), initializer="zeros", trainable=False)

    def call(self, x, training=False):
        if not training:
            self.rows.assign_add(keras.ops.cast(keras.ops.shape(x)[0], "float32"))
        return x


def test_one_pass_per_reporting_epoch_and_every_n_epochs(data):
    x, labels, _ = data
    batches = Batches(x, labels)
    cb = ValidationMetrics(
        batches, [kc.F1(), ("sk_f1", _sk_f1)], every_n_epochs=2, verbose=0
    )
    record = Record(x)
    keras.utils.set_random_seed(0)
    counter = CountRows()
    model = keras.Sequential(
        [keras.Input((D,)), counter, keras.layers.Dense(C, activation="softmax")]
    )
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    rows = []
    spy = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: rows.append(float(counter.rows.numpy()))
    )
    history = model.fit(
        x, labels, epochs=4, verbose=0, callbacks=[spy, cb, spy, record]
    )
    # Rows predicted by our callback in each epoch (between the two spies):
    # every validation row once on reporting epochs 1 and 3, none otherwise.
    ours = [after - before for before, after in zip(rows[::2], rows[1::2], strict=True)]
    assert ours == [0, N, 0, N]
    # Each batch read once per pass (the adapter may peek at batch 0 once
    # when it is built, to learn the batch's structure).
    assert batches.reads - 2 * len(batches) in (0, 1, 2)
    assert cb.epochs == [1, 3]
    assert ["val_f1" in log for log in record.logs] == [False, True, False, True]
    assert not any(k.startswith("val_") for k in record.logs[0])
    assert len(history.history["val_f1"]) == 2
    for epoch in (1, 3):
        pred = record.predictions[epoch].argmax(-1)
        expected = f1_score(labels, pred, average="macro")
        assert record.logs[epoch]["val_f1"] == pytest.approx(expected, abs=1e-6)
        assert record.logs[epoch]["val_sk_f1"] == pytest.approx(expected, abs=1e-12)


def _sk_f1(y_true, y_pred):
    return f1_score(y_true, y_pred.argmax(-1), average="macro")


@pytest.mark.parametrize(
    ("metric", "monitor", "op"),
    [
        (kc.F1(), "val_f1", keras.ops.greater),
        (kc.F1(average=None), "val_f1/1", keras.ops.greater),
        (kc.HammingLoss(), "val_hamming_loss", keras.ops.less),
    ],
)
def test_early_stopping_after_it_stops_on_its_direction(data, metric, monitor, op):
    # With a learning rate of 0 the metric never improves: patience 1 stops
    # training at the second epoch. mode="auto" works only if the direction
    # was set from the metric (Keras alone raises for this name).
    x, labels, _ = data
    cb = ValidationMetrics((x, labels), [metric], verbose=0)
    stop = keras.callbacks.EarlyStopping(monitor=monitor, patience=1)
    history = make_model(learning_rate=0.0).fit(
        x, labels, epochs=10, verbose=0, callbacks=[cb, stop]
    )
    assert stop.monitor_op is op
    assert stop.stopped_epoch == 1
    assert len(history.history["loss"]) == 2
    assert monitor in history.history


def test_checkpoint_plateau_and_csv_logger_after_it(data, tmp_path):
    x, labels, _ = data
    cb = ValidationMetrics((x, labels), [kc.MCC(), kc.HammingLoss()], verbose=0)
    plateau = keras.callbacks.ReduceLROnPlateau(
        monitor="val_hamming_loss", min_delta=0.01
    )
    path = str(tmp_path / "best.keras")
    checkpoint = keras.callbacks.ModelCheckpoint(
        path, monitor="val_mcc", save_best_only=True
    )
    csv_path = tmp_path / "log.csv"
    logger = keras.callbacks.CSVLogger(str(csv_path))
    make_model().fit(
        x, labels, epochs=2, verbose=0, callbacks=[cb, checkpoint, plateau, logger]
    )
    assert checkpoint.monitor_op is keras.ops.greater
    assert plateau.monitor_op is keras.ops.less
    assert plateau.min_delta == -0.01  # as Keras sets it for a "min" monitor
    assert os.path.exists(path)
    with open(csv_path) as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2
    assert "val_mcc" in rows[0]
    assert [float(r["val_mcc"]) for r in rows] == pytest.approx(cb.history["val_mcc"])


def test_history_best_json_and_csv_round_trip(data, tmp_path):
    x, labels, _ = data
    cb = ValidationMetrics(
        (x, labels),
        [
            kc.F1(),
            kc.F1(average=None, name="f1_class"),
            kc.ConfusionMatrix(),
            ("loss_like", lambda t, p: float(np.mean(p.argmax(-1) != t))),
            ("up_anyway", lambda t, p: float(np.mean(p.argmax(-1) != t)), "up"),
        ],
        verbose=0,
    )
    record = Record(x)
    make_model().fit(x, labels, epochs=3, verbose=0, callbacks=[cb, record])
    # Matrices: in history, never in the logs.
    assert "val_confusion_matrix" not in record.logs[-1]
    matrix = np.asarray(cb.history["val_confusion_matrix"][-1])
    pred = record.predictions[-1].argmax(-1)
    expected = np.zeros((C, C))
    np.add.at(expected, (labels, pred), 1)
    np.testing.assert_array_equal(matrix, expected)
    # best: direction-aware ("loss" in a name means lower is better).
    for key, pick in (("val_f1", max), ("val_loss_like", min), ("val_up_anyway", max)):
        values = cb.history[key]
        assert cb.best[key]["value"] == pick(values)
        assert cb.best[key]["epoch"] == cb.epochs[values.index(pick(values))]
    assert "val_confusion_matrix" not in cb.best
    # The metrics keep the last pass's state.
    assert float(cb.metrics[0].result()) == cb.history["val_f1"][-1]

    cb.to_json(tmp_path / "report.json")
    loaded = json.loads((tmp_path / "report.json").read_text())
    assert loaded["epochs"] == cb.epochs
    assert loaded["history"] == cb.history
    assert loaded["best"] == cb.best

    cb.to_csv(tmp_path / "history.csv")
    with open(tmp_path / "history.csv") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["epoch"]) for r in rows] == cb.epochs
    assert "val_confusion_matrix" not in rows[0]
    assert {"val_f1", "val_f1_class/0", "val_loss_like"} <= set(rows[0])
    for key in ("val_f1", "val_f1_class/2", "val_loss_like"):
        assert [float(r[key]) for r in rows] == cb.history[key]


def test_verbose_line_and_per_class_table_equal_classification_report(data, capsys):
    x, labels, _ = data
    cb = ValidationMetrics(
        (x, labels), [kc.F1(), kc.AUROC()], class_names=CLASSES, verbose=2
    )
    record = Record(x)
    make_model().fit(x, labels, epochs=2, verbose=0, callbacks=[cb, record])
    out = capsys.readouterr().out
    lines = out.splitlines()
    first = [line for line in lines if line.startswith("val_f1 ")]
    assert len(first) == 2
    assert re.fullmatch(r"val_f1 \d\.\d{4}\*  val_auroc \d\.\d{4}\*", first[0])
    report = classification_report(
        labels,
        record.predictions[-1].argmax(-1),
        labels=range(C),
        target_names=CLASSES,
        output_dict=True,
        zero_division=0,
    )
    table = lines[lines.index(first[1]) + 1 :]
    for name in (*CLASSES, "macro avg", "weighted avg"):
        (row,) = [r for r in table if r.split()[:-4] == name.split()]
        p, r, f, s = (float(v) for v in row.split()[-4:])
        expected = report[name]
        assert (p, r, f) == pytest.approx(
            (expected["precision"], expected["recall"], expected["f1-score"]),
            abs=1e-4,
        )
        assert s == expected["support"]


def test_verbose_table_skipped_without_a_classification_metric(data, capsys):
    x, labels, _ = data
    cb = ValidationMetrics((x, labels), [("sk_f1", _sk_f1)], verbose=2)
    make_model().fit(x, labels, epochs=1, verbose=0, callbacks=[cb])
    assert "per-class table skipped" in capsys.readouterr().out


def test_silent_with_verbose_0(data, capsys):
    x, labels, _ = data
    cb = ValidationMetrics((x, labels), [kc.F1()], verbose=0)
    make_model().fit(x, labels, epochs=1, verbose=0, callbacks=[cb])
    assert capsys.readouterr().out == ""


# -- bad input ---------------------------------------------------------------
class Endless(keras.utils.PyDataset):
    """A PyDataset without `__len__`: Keras reads it as an endless stream."""

    @property
    def num_batches(self):
        return None

    def __getitem__(self, i):
        return np.zeros((2, D), "float32"), np.zeros(2, "int32")


def _arrays():
    rng = np.random.default_rng(0)
    return rng.normal(size=(8, D)).astype("float32"), np.zeros(8, "int32")


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"validation_data": "x.npz"}, TypeError, r"`validation_data`.*str"),
        ({"validation_data": (np.zeros((4, 2)),)}, ValueError, r"`validation_data`"),
        (
            {"validation_data": (np.zeros((4, 2)), np.zeros(5))},
            ValueError,
            r"same number of rows.*\[4, 5\]",
        ),
        (
            {"validation_data": (np.zeros((4, 2)), np.zeros(4), np.ones(3))},
            ValueError,
            r"\[4, 4, 3\]",
        ),
        ({"validation_data": ([1, 2], [0, 1])}, TypeError, r"`validation_data`"),
        (
            {"validation_data": tf.data.Dataset.from_tensor_slices(np.zeros(4))},
            ValueError,
            r"`validation_data`",
        ),
        ({"metrics": [kc.F1(), "accuracy"]}, TypeError, r"`metrics`.*'accuracy'"),
        ({"metrics": ["accuracy"]}, TypeError, r"strings.*instance.*'accuracy'"),
        ({"metrics": [kc.F1]}, TypeError, r"class, not an instance.*F1\(\.\.\.\)"),
        (
            {"metrics": [keras.metrics.AUC]},
            TypeError,
            r"class, not an instance.*AUC\(\.\.\.\)",
        ),
        (
            {
                "validation_data": tf.data.Dataset.from_tensor_slices(
                    (np.zeros(4), np.zeros(4))
                )
                .batch(2)
                .repeat()
            },
            ValueError,
            r"`validation_data`.*finite.*repeat",
        ),
        ({"validation_data": Endless()}, ValueError, r"finite PyDataset.*None"),
        ({"metrics": [("f", 3)]}, TypeError, r"`metrics`.*\('f', 3\)"),
        ({"metrics": [("f", f1_score, "sideways")]}, ValueError, r"'up' or 'down'"),
        ({"metrics": kc.F1()}, TypeError, r"`metrics`"),
        ({"metrics": []}, ValueError, r"`metrics`"),
        (
            {"metrics": [kc.F1(), ("f1", f1_score)]},
            ValueError,
            r"distinct.*\['f1'\]",
        ),
        ({"every_n_epochs": 0}, ValueError, r"`every_n_epochs`.*every_n_epochs=0"),
        ({"every_n_epochs": 1.5}, ValueError, r"every_n_epochs=1.5"),
        ({"batch_size": 0}, ValueError, r"batch_size=0"),
        ({"verbose": 3}, ValueError, r"verbose=3"),
        ({"class_names": "abc"}, TypeError, r"class_names='abc'"),
        ({"class_names": ["a", "a"]}, ValueError, r"distinct"),
        (
            {
                "validation_data": tf.data.Dataset.from_tensor_slices(
                    (np.zeros(4), np.zeros(4))
                ).batch(2),
                "batch_size": 2,
            },
            ValueError,
            r"batch_size=2",
        ),
    ],
)
def test_bad_arguments(kwargs, error, match):
    arguments = {"validation_data": _arrays(), "metrics": [kc.F1()], **kwargs}
    with pytest.raises(error, match=match):
        ValidationMetrics(**arguments)


def test_a_pass_without_batches_is_an_error_not_a_score(data):
    # A one-shot source consumed by the first pass must not report F1 = 0.
    x, labels, _ = data
    cb = ValidationMetrics((x, labels), [kc.F1()], verbose=0)
    cb.set_model(make_model())
    cb.evaluate()
    cb._batches = iter(())  # what a reused one-shot loader yields
    with pytest.raises(ValueError, match=r"`validation_data`.*no batch"):
        cb.evaluate()


def test_each_fit_starts_a_new_record_as_history(data):
    x, labels, _ = data
    model = make_model()
    cb = ValidationMetrics((x, labels), [kc.F1()], verbose=0)
    model.fit(x, labels, epochs=2, verbose=0, callbacks=[cb])
    record = Record(x)
    history = model.fit(
        x, labels, epochs=3, initial_epoch=1, verbose=0, callbacks=[cb, record]
    )
    assert cb.epochs == [1, 2] == history.epoch
    assert cb.history["val_f1"] == history.history["val_f1"]
    expected = [
        f1_score(labels, p.argmax(-1), average="macro") for p in record.predictions
    ]
    np.testing.assert_allclose(cb.history["val_f1"], expected, atol=1e-6)
    best = int(np.argmax(expected))
    assert cb.best["val_f1"]["epoch"] == [1, 2][best]


def test_a_metric_also_compiled_into_the_model(data):
    # Documented: the training value is logged before the pass; the pass's
    # value equals scikit-learn on the epoch's predictions.
    x, labels, _ = data
    f1 = kc.F1()
    model = make_model(metrics=[f1])
    cb = ValidationMetrics((x[:40], labels[:40]), [f1], verbose=0)
    record = Record(x[:40])
    history = model.fit(
        x[40:], labels[40:], epochs=2, verbose=0, callbacks=[cb, record]
    )
    for value, pred in zip(history.history["val_f1"], record.predictions, strict=True):
        expected = f1_score(labels[:40], pred.argmax(-1), average="macro")
        assert abs(value - expected) <= 1e-6
    train = history.history["f1"]
    assert train != history.history["val_f1"]


def test_name_clash_with_a_compiled_metric_is_refused_before_training(data):
    x, labels, _ = data
    model = make_model(metrics=[kc.F1()])
    cb = ValidationMetrics((x, labels), [kc.F1()], prefix="", verbose=0)
    with pytest.raises(ValueError, match=r"'f1'.*already one the model logs"):
        model.fit(x, labels, epochs=1, verbose=0, callbacks=[cb])
    cb = ValidationMetrics((x, labels), [kc.MCC(name="loss")], prefix="", verbose=0)
    with pytest.raises(ValueError, match=r"'loss'"):
        model.fit(x, labels, epochs=1, verbose=0, callbacks=[cb])


def test_clash_with_fits_own_validation_is_refused(data, monkeypatch):
    x, labels, _ = data
    model = make_model(metrics=[kc.F1()])
    cb = ValidationMetrics((x, labels), [kc.F1()], verbose=0)
    seen = []
    spy = keras.callbacks.LambdaCallback(on_train_begin=lambda logs: seen.append(1))
    with pytest.raises(ValueError, match=r"'val_f1'"):
        model.fit(
            x,
            labels,
            epochs=1,
            verbose=0,
            validation_data=(x, labels),
            callbacks=[cb, spy],
        )
    assert not seen  # refused in on_train_begin, before the first batch
    # Without it, train f1 and the callback's val_f1 coexist.
    history = model.fit(x, labels, epochs=1, verbose=0, callbacks=[cb])
    assert {"f1", "val_f1"} <= set(history.history)
    # When the call stack does not show fit (fallback), the clash is caught
    # at the first reporting epoch, before anything is written.
    monkeypatch.setattr(_keras_compat, "training_context", lambda cb: (None, None))
    record = Record(x)
    with pytest.raises(ValueError, match=r"\['val_f1'\].*already in the epoch logs"):
        model.fit(
            x,
            labels,
            epochs=1,
            verbose=0,
            validation_data=(x, labels),
            callbacks=[cb, record],
        )
    assert not record.logs


def test_unknown_monitor_with_our_prefix_lists_the_names(data):
    x, labels, _ = data
    cb = ValidationMetrics((x, labels), [kc.F1(), kc.MCC()], verbose=0)
    stop = keras.callbacks.EarlyStopping(monitor="val_f2")
    with pytest.raises(ValueError, match=r"'val_f2'.*\['loss', 'val_f1', 'val_mcc'\]"):
        make_model().fit(x, labels, epochs=1, verbose=0, callbacks=[cb, stop])
    # Keys the model logs itself pass untouched.
    stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=5)
    make_model().fit(
        x, labels, epochs=1, verbose=0, validation_data=(x, labels),
        callbacks=[ValidationMetrics((x, labels), [kc.MCC()], verbose=0), stop],
    )  # fmt: skip
    assert stop.monitor_op is keras.ops.less


def test_training_context_fallback(data, monkeypatch):
    # Outside fit the stack shows no CallbackList.
    x, labels, _ = data
    cb = ValidationMetrics((x, labels), [kc.F1()], verbose=0)
    assert _keras_compat.training_context(cb) == (None, None)
    # Without it nothing is set: an explicit mode still works.
    monkeypatch.setattr(_keras_compat, "training_context", lambda cb: (None, None))
    stop = keras.callbacks.EarlyStopping(monitor="val_f1", mode="max", patience=1)
    make_model(learning_rate=0.0).fit(
        x, labels, epochs=5, verbose=0, callbacks=[cb, stop]
    )
    assert stop.stopped_epoch == 1


def test_readme_callbacks_example():
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", readme, re.DOTALL)
    (block,) = [b for b in blocks if "ValidationMetrics(" in b]
    namespace = {}
    exec(block, namespace)
    cb = namespace["callback"]
    assert cb.epochs
    assert "val_auroc" in namespace["history"].history


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_other_backends(backend):
    pytest.importorskip(backend)
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(
        [sys.executable, "-m", "tests.callbacks.backend_validation_metrics"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-6000:]
    assert f"validation metrics OK: {backend}" in done.stdout
