"""`keras-components demo`: train, save, export, reload, verify.

Builds a small classifier with our activation layers, trains it for a few
epochs on data generated in place, saves it as `.keras` and as a SavedModel
(`model.export`), reloads both without `custom_objects` and checks that the
reloaded models predict exactly what the trained one does.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np


def _data(seed: int = 0, n: int = 1024, features: int = 16):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, features)).astype("float32")
    w = rng.standard_normal(features)
    logits = x @ w + 0.5 * np.sin(3 * x[:, 0])
    y = (logits > 0).astype("float32")
    return x, y


def build_model(features: int):
    import keras

    from keras_components import activations, layers

    inputs = keras.Input((features,), name="features")
    h = keras.layers.Dense(32, activation=activations.mish)(inputs)
    h = layers.Swish(trainable_beta=True)(keras.layers.Dense(32)(h))
    h = layers.GELU()(keras.layers.Dense(16)(h))
    outputs = keras.layers.Dense(1, activation="sigmoid", name="probability")(h)
    return keras.Model(inputs, outputs, name="demo_classifier")


def run(
    out_dir: str | os.PathLike = "saved_models/demo",
    *,
    epochs: int = 5,
    verbose: int = 1,
) -> dict[str, Any]:
    """Runs the demo end to end and returns its JSON report (also written)."""
    import keras

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(0)
    x, y = _data()
    split = int(0.8 * len(x))
    x_train, y_train, x_val, y_val = x[:split], y[:split], x[split:], y[split:]

    model = build_model(x.shape[1])
    model.compile(
        optimizer=keras.optimizers.Adam(1e-2),
        loss="binary_crossentropy",
        metrics=["accuracy"],
    )
    history = model.fit(
        x_train,
        y_train,
        validation_data=(x_val, y_val),
        epochs=epochs,
        batch_size=64,
        verbose=verbose,
    )

    keras_path = out / "model.keras"
    export_path = out / "saved_model"
    model.save(keras_path)
    model.export(str(export_path), verbose=False)

    expected = model.predict(x_val, verbose=0)
    reloaded = keras.saving.load_model(keras_path)
    from_keras = reloaded.predict(x_val, verbose=0)
    max_diff_keras = float(np.max(np.abs(from_keras - expected)))

    import tensorflow as tf

    saved_model = tf.saved_model.load(str(export_path))  # keep it alive
    served = saved_model.serve(x_val)
    max_diff_export = float(np.max(np.abs(np.asarray(served) - expected)))

    report = {
        "epochs": epochs,
        "history": {k: [float(v) for v in vs] for k, vs in history.history.items()},
        "keras_path": str(keras_path),
        "export_path": str(export_path),
        "max_abs_diff_reloaded_keras": max_diff_keras,
        "max_abs_diff_saved_model": max_diff_export,
        "reloaded_identical": max_diff_keras == 0.0,
        "export_matches": max_diff_export <= 1e-6,
    }
    (out / "report.json").write_text(json.dumps(report, indent=2))
    if verbose:
        print(f"Saved {keras_path} and {export_path}; report in {out / 'report.json'}")
        print(
            f"Reloaded .keras max |diff| = {max_diff_keras:.3g}; "
            f"SavedModel max |diff| = {max_diff_export:.3g}"
        )
    if not (report["reloaded_identical"] and report["export_matches"]):
        raise RuntimeError(f"Reloaded models disagree with the trained one: {report}")
    return report
