"""`keras-components demo`: the main job, end to end.

Trains a small classifier on scikit-learn's bundled handwritten digits (8x8
images, 10 classes; no download) with our activations, `FocalLoss` and our
streaming metrics, reporting validation metrics every epoch. Then it checks
the reported validation metrics against scikit-learn on the model's
predictions, saves the model as `.keras` and as a SavedModel
(`model.export`), reloads both without `custom_objects` and verifies their
predictions: bit-identical for the `.keras` model, within 1e-5 for the
SavedModel (its serving function runs without XLA, so float rounding
differs). Everything lands in the output folder (default
`saved_models/demo/`), with a JSON report.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np


def load_digits_split(seed: int = 0):
    """scikit-learn's digits, scaled to [0, 1], split 80/20 (stratified)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = (digits.data / 16.0).astype("float32")
    y = digits.target.astype("int32")
    return train_test_split(x, y, test_size=0.2, random_state=seed, stratify=y)


def build_model(features: int, classes: int):
    import keras

    from keras_components import activations, layers

    inputs = keras.Input((features,), name="pixels")
    h = keras.layers.Dense(64, activation=activations.mish)(inputs)
    h = layers.Swish(trainable_beta=True)(keras.layers.Dense(64)(h))
    h = layers.GELU()(keras.layers.Dense(32)(h))
    outputs = keras.layers.Dense(classes, name="logits")(h)
    return keras.Model(inputs, outputs, name="digits_classifier")


def _metrics():
    from keras_components import metrics

    return [
        metrics.Accuracy(from_logits=True),
        metrics.F1(from_logits=True),
        metrics.MCC(from_logits=True),
        metrics.CohenKappa("quadratic", from_logits=True),
    ]


def _sklearn_scores(y_true: np.ndarray, logits: np.ndarray) -> dict[str, float]:
    from sklearn import metrics as skm

    y_hat = logits.argmax(-1)
    labels = list(range(logits.shape[-1]))
    return {
        "accuracy": skm.accuracy_score(y_true, y_hat),
        "f1": skm.f1_score(y_true, y_hat, labels=labels, average="macro"),
        "mcc": skm.matthews_corrcoef(y_true, y_hat),
        "cohen_kappa": skm.cohen_kappa_score(
            y_true, y_hat, labels=labels, weights="quadratic"
        ),
    }


def run(
    out_dir: str | os.PathLike = "saved_models/demo",
    *,
    epochs: int = 8,
    verbose: int = 1,
) -> dict[str, Any]:
    """Runs the demo and returns its JSON report (also written to the folder)."""
    import keras
    import tensorflow as tf

    from keras_components.losses import FocalLoss

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(0)
    x_train, x_val, y_train, y_val = load_digits_split()
    classes = int(y_train.max()) + 1

    model = build_model(x_train.shape[1], classes)
    model.compile(
        optimizer=keras.optimizers.Adam(3e-3),
        loss=FocalLoss(gamma=2.0, from_logits=True),
        metrics=_metrics(),
    )
    history = model.fit(
        x_train,
        y_train,
        validation_data=(x_val, y_val),
        epochs=epochs,
        batch_size=64,
        verbose=verbose,
    )

    # The streamed validation metrics of the last epoch against scikit-learn.
    val_logits = model.predict(x_val, verbose=0)
    reference = _sklearn_scores(y_val, val_logits)
    reported = {k: float(history.history[f"val_{k}"][-1]) for k in reference}
    max_metric_gap = max(abs(reported[k] - reference[k]) for k in reference)

    keras_path = out / "model.keras"
    export_path = out / "saved_model"
    model.save(keras_path)
    model.export(str(export_path), verbose=False)

    reloaded = keras.saving.load_model(keras_path)
    diff_keras = float(np.max(np.abs(reloaded.predict(x_val, verbose=0) - val_logits)))
    saved_model = tf.saved_model.load(str(export_path))  # keep it alive while serving
    served = np.asarray(saved_model.serve(x_val))
    diff_export = float(np.max(np.abs(served - val_logits)))
    reloaded_scores = reloaded.evaluate(x_val, y_val, verbose=0, return_dict=True)

    report = {
        "dataset": "sklearn.datasets.load_digits (80/20 stratified split)",
        "epochs": epochs,
        "history": {k: [float(v) for v in vs] for k, vs in history.history.items()},
        "validation_metrics": reported,
        "sklearn_on_predictions": reference,
        "max_abs_gap_vs_sklearn": max_metric_gap,
        "reloaded_keras_evaluate": {k: float(v) for k, v in reloaded_scores.items()},
        "keras_path": str(keras_path),
        "export_path": str(export_path),
        "max_abs_diff_reloaded_keras": diff_keras,
        "max_abs_diff_saved_model": diff_export,
        "reloaded_identical": diff_keras == 0.0,
        "export_matches": diff_export <= 1e-5,
        "metrics_match_sklearn": max_metric_gap <= 1e-6,
    }
    (out / "report.json").write_text(json.dumps(report, indent=2))
    if verbose:
        print("\nValidation metrics (ours, streamed) vs scikit-learn on predictions:")
        for k in reference:
            print(f"  {k:12s} {reported[k]:.6f}  sklearn {reference[k]:.6f}")
        print(f"Saved {keras_path} and {export_path}; report in {out / 'report.json'}")
        print(
            f"Reloaded .keras max |diff| = {diff_keras:.3g}; "
            f"SavedModel max |diff| = {diff_export:.3g}"
        )
    checks = ("reloaded_identical", "export_matches", "metrics_match_sklearn")
    failed = [c for c in checks if not report[c]]
    if failed:
        raise RuntimeError(f"Demo checks failed: {failed}. Report: {report}")
    return report
