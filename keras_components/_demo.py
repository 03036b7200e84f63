"""`keras-components demo`: the main job, end to end.

Trains a small classifier on a dataset bundled with scikit-learn (no
download): the breast cancer data by default (binary, 37% malignant), or the
8x8 handwritten digits (`dataset="digits"`, 10 classes). The model uses our
activations and `FocalLoss`; the compiled metrics are ours; a
`ValidationMetrics` callback reports accuracy, balanced accuracy, precision,
recall, F1, MCC, AUROC, AUPRC, the best F1 over the thresholds (binary;
`BestThreshold`, whose threshold the report gives), log loss, the
calibration error (ECE), the confusion matrix and the validation loss every
epoch, with `CSVLogger` and
`TrainingCurves` listed after it so both see its values.

At the end every reported value is compared with scikit-learn (the
calibration error, which it lacks, with a float64 reference) on the
model's predictions of the validation rows (the tolerances are the documented
ones: 1e-6 for counting metrics, 1e-5 relative for log loss, 1e-4 / 1e-3 for
AUROC / AUPRC or their `error_bound()` if larger), the model is saved as
`.keras` and as a SavedModel (`model.export`), both are reloaded without
`custom_objects`, and their predictions are checked: bit-identical from
`.keras`, within 1e-5 from the SavedModel (its serving function runs without
XLA, so float rounding may differ). The output folder (default
`saved_models/demo/`) receives `curves.png`, `roc.png`, `pr.png`,
`confusion_matrix.png`, `reliability.png`, `report.json`, `history.csv`,
`model.keras` and `saved_model/`.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from keras_components import _report

DATASETS = ("breast_cancer", "digits")
EXPORT_TOLERANCE = 1e-5
BATCH_SIZE = 32
PREDICT_BATCH_SIZE = 256
LEARNING_RATE = 1e-3
# The panels of curves.png (train and validation where both exist).
CURVES = ("loss", "accuracy", "f1", "mcc", "auroc", "auprc")


@dataclasses.dataclass(frozen=True)
class Split:
    """A bundled dataset, standardised on its training rows and split 80/20."""

    title: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    task: _report.Task


def load(dataset: str = "breast_cancer", *, seed: int = 0) -> Split:
    """scikit-learn's bundled `dataset`, split 80/20 (stratified) by `seed`."""
    from sklearn import datasets
    from sklearn.model_selection import train_test_split

    if dataset == "breast_cancer":
        data = datasets.load_breast_cancer()
        # scikit-learn codes malignant as 0; the positive class is the finding.
        y = 1 - data.target
        names: tuple[str, ...] = ("benign", "malignant")
        kind = "binary"
        title = "breast cancer (binary: malignant vs benign)"
    elif dataset == "digits":
        data = datasets.load_digits()
        y = data.target
        names = tuple(str(d) for d in range(10))
        kind = "multiclass"
        title = "handwritten digits (multiclass: 10 classes, 8x8 pixels)"
    else:
        raise ValueError(
            "Invalid value for argument `dataset`. Expected one of "
            f"{', '.join(DATASETS)}. Received: dataset={dataset!r}"
        )
    x_train, x_val, y_train, y_val = train_test_split(
        data.data, y, test_size=0.2, random_state=seed, stratify=y
    )
    mean, std = x_train.mean(axis=0), x_train.std(axis=0)
    std[std == 0] = 1.0  # constant pixels of the digits stay 0

    def scale(x):
        return ((x - mean) / std).astype("float32")

    task = _report.Task.make(kind, len(names), from_logits=True, class_names=names)
    return Split(
        title,
        scale(x_train),
        y_train.astype("int32"),
        scale(x_val),
        y_val.astype("int32"),
        task,
    )


def build_model(features: int, task: _report.Task):
    """A small MLP with our activations; it outputs logits."""
    import keras

    from keras_components import activations, layers

    outputs = 1 if task.kind == "binary" else task.num_classes
    inputs = keras.Input((features,), name="features")
    h = keras.layers.Dense(32, activation=activations.mish)(inputs)
    h = layers.Swish(trainable_beta=True)(keras.layers.Dense(32)(h))
    h = layers.GELU()(keras.layers.Dense(16)(h))
    logits = keras.layers.Dense(outputs, name="logits")(h)
    return keras.Model(inputs, logits, name=f"{task.kind}_classifier")


def _header(split: Split, model) -> str:
    positives = (
        f", {split.y_train.mean():.0%} positive ({split.task.class_names[1]})"
        if split.task.kind == "binary"
        else ""
    )
    return (
        f"keras-components demo: {split.title}\n"
        f"  data: {len(split.x_train)} training / {len(split.x_val)} validation rows, "
        f"{split.x_train.shape[1]} features{positives}\n"
        f"  model: Dense 32 (mish) -> Dense 32 + Swish -> Dense 16 + GELU -> "
        f"Dense {model.output_shape[-1]} logits, {model.count_params():,} parameters\n"
        "  loss: FocalLoss(gamma=2); validation: ValidationMetrics every epoch"
    )


def _reload_checks(
    model, out: Path, x_val: np.ndarray, outputs: np.ndarray, *, batch_size: int
):
    # `outputs` came from `model.predict(x_val, batch_size=batch_size)`: the
    # reloaded model predicts at the same batch size, since oneDNN's kernels
    # may round a different batch shape differently (seen on AVX2-only CPUs:
    # 1e-6 apart) and bit-identity is a claim about the weights, not the kernels.
    import keras
    import tensorflow as tf

    keras_path = out / "model.keras"
    export_path = out / "saved_model"
    model.save(keras_path)
    model.export(str(export_path), verbose=False)
    reloaded = keras.saving.load_model(keras_path)
    predicted = reloaded.predict(x_val, verbose=0, batch_size=batch_size)
    diff_keras = float(np.max(np.abs(predicted - outputs)))
    served = tf.saved_model.load(str(export_path))  # keep it alive while serving
    diff_export = float(np.max(np.abs(np.asarray(served.serve(x_val)) - outputs)))
    return {
        "keras_path": str(keras_path),
        "export_path": str(export_path),
        "max_abs_diff_reloaded_keras": diff_keras,
        "max_abs_diff_saved_model": diff_export,
        "saved_model_tolerance": EXPORT_TOLERANCE,
    }


def run(
    out_dir: str | os.PathLike = "saved_models/demo",
    *,
    dataset: str = "breast_cancer",
    epochs: int = 12,
    seed: int = 0,
    verbose: int = 1,
) -> dict[str, Any]:
    """Runs the demo, writes its artifacts and returns its JSON report.

    Args:
        out_dir: the output folder (created if missing).
        dataset: `"breast_cancer"` (binary) or `"digits"` (multiclass).
        epochs: training epochs.
        seed: the split and the weight initialisation.
        verbose: 1 prints the header, Keras's progress bar, one validation
            line per epoch and the summary; 0 prints only the output folder
            and the verdict line (the caller prints those).

    Returns:
        The report also written to `report.json`; `report["passed"]` is
        False when any check failed, and `report["failures"]` says which.
    """
    import keras

    from keras_components import callbacks
    from keras_components.losses import FocalLoss
    from keras_components.metrics import F1, MCC, Accuracy

    started = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(seed)
    split = load(dataset, seed=seed)
    task = split.task

    model = build_model(split.x_train.shape[1], task)
    loss = FocalLoss(gamma=2.0, from_logits=True)
    model.compile(
        optimizer=keras.optimizers.Adam(LEARNING_RATE),
        loss=loss,
        metrics=[
            Accuracy(from_logits=True),
            F1(from_logits=True),
            MCC(from_logits=True),
        ],
    )
    reported = _report.report_metrics(task)
    validation = callbacks.ValidationMetrics(
        (split.x_val, split.y_val),
        [*reported, ("loss", lambda y, p: float(loss(y, p)))],
        batch_size=BATCH_SIZE,
        class_names=task.class_names,
        verbose=verbose,
    )
    if verbose:
        print(_header(split, model))
    history = model.fit(
        split.x_train,
        split.y_train,
        epochs=epochs,
        batch_size=BATCH_SIZE,
        verbose=verbose,
        callbacks=[
            validation,
            keras.callbacks.CSVLogger(str(out / "history.csv")),
            callbacks.TrainingCurves(out / "curves.png", metrics=CURVES),
        ],
    )

    # The last epoch's streamed values against scikit-learn on the same weights.
    outputs = model.predict(split.x_val, verbose=0, batch_size=PREDICT_BATCH_SIZE)
    ours = _report.results_of(reported)
    rows, matrix = _report.compare(
        ours, split.y_val, outputs, task, bounds=_report.error_bounds(reported)
    )
    pictures = _report.draw(out, reported, task)
    artifacts = _reload_checks(
        model, out, split.x_val, outputs, batch_size=PREDICT_BATCH_SIZE
    )

    failures = _report.failures(rows, matrix)
    calibration = _report.calibration(reported, split.y_val, outputs, task)
    if not calibration["passed"]:
        failures.append(
            f"calibration_error: |ours - reference| = {calibration['abs_diff']:.3g}"
        )
    logged = {r.name: history.history.get(f"val_{r.name}", [None])[-1] for r in rows}
    failures += [
        f"val_{n} in the epoch logs is {v}, not the streamed {ours[n]}"
        for n, v in logged.items()
        if v is None or float(v) != ours[n]
    ]
    if artifacts["max_abs_diff_reloaded_keras"] != 0.0:
        failures.append("model.keras reloaded does not predict bit-identically")
    if artifacts["max_abs_diff_saved_model"] > EXPORT_TOLERANCE:
        failures.append(
            f"SavedModel predictions differ by more than {EXPORT_TOLERANCE}"
        )
    report = {
        "dataset": dataset,
        "title": split.title,
        "seed": seed,
        "epochs": epochs,
        "train_rows": len(split.x_train),
        "validation_rows": len(split.x_val),
        "class_names": list(task.class_names),
        "history": {k: [float(v) for v in vs] for k, vs in history.history.items()},
        "best": validation.best,
        "validation": _report.rows_as_json(rows),
        "best_threshold": _report.best_threshold(reported),
        "confusion_matrix": np.asarray(ours["confusion_matrix"]).astype(int).tolist(),
        "confusion_matrix_max_abs_diff_vs_sklearn": matrix.ours,
        "calibration": calibration,
        **artifacts,
        "pictures": [str(p) for p in [out / "curves.png", *pictures]],
        "history_csv": str(out / "history.csv"),
        "seconds_after_imports": round(time.perf_counter() - started, 2),
        "failures": failures,
        "passed": not failures,
    }
    (out / "report.json").write_text(json.dumps(report, indent=2))
    if verbose:
        print(
            f"\nValidation metrics at epoch {epochs} (streamed by ValidationMetrics) "
            "vs scikit-learn on model.predict:"
        )
        print(_report.format_summary(rows, matrix))
        print(_report.format_calibration(report["calibration"]))
        if report["best_threshold"]:
            print(_report.format_best_threshold(report["best_threshold"]))
        print(
            "Reloaded model.keras: max |diff| = "
            f"{artifacts['max_abs_diff_reloaded_keras']:.3g} (must be 0); "
            f"SavedModel: max |diff| = {artifacts['max_abs_diff_saved_model']:.3g} "
            f"(allowed {EXPORT_TOLERANCE:g})"
        )
        print(
            "Wrote curves.png, roc.png, pr.png, confusion_matrix.png, "
            "reliability.png, report.json, history.csv, model.keras, saved_model/"
        )
    return report
