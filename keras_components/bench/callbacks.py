"""Callback rows: `ValidationMetrics`' pass against `model.evaluate`.

One validation pass of `ValidationMetrics([F1, AUROC, MCC])` over 8192 rows
(32 features, 10 classes, Dense 64 -> 10 softmax, batch 32 as `evaluate`'s
default) against `model.evaluate` with the same metrics compiled, over the
same arrays, on the same model (compiled as users do: the default
`jit_compile="auto"`: XLA on TensorFlow with an accelerator, a plain graph
on a CPU-only machine). Both sides predict every row once
and update the three streaming metrics; `evaluate` also computes the loss.
The callback's pass is what it adds to each reporting epoch of `fit`.
"""

from __future__ import annotations

import keras
import numpy as np

from keras_components.bench.harness import Case
from keras_components.callbacks import ValidationMetrics
from keras_components.metrics import AUROC, F1, MCC

# Issue 11's target: the callback costs at most 1.05x `model.evaluate`.
VALIDATION_METRICS_VS_EVALUATE_TARGET = 1.05


def _model(x, y, metric_list):
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input(x.shape[1:]),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(y.shape[-1], activation="softmax"),
        ]
    )
    model.compile(
        optimizer="adam", loss="categorical_crossentropy", metrics=metric_list
    )
    return model


def cases(*, quick: bool = False) -> list[Case]:
    rng = np.random.default_rng(0)
    n, c = (1024 if quick else 8192), 10
    x = rng.normal(size=(n, 32)).astype("float32")
    y = np.eye(c, dtype="float32")[rng.integers(0, c, n)]
    evaluated = _model(x, y, [F1(), AUROC(), MCC()])
    model = _model(x, y, [])
    callback = ValidationMetrics((x, y), [F1(), AUROC(), MCC()], verbose=0)
    callback.set_model(model)
    # Build the model as `fit` would have before the first epoch ends.
    model.predict(x[:32], verbose=0)
    return [
        Case(
            f"ValidationMetrics([F1, AUROC, MCC]) over {n} validation rows",
            callback.evaluate,
            lambda: evaluated.evaluate(x, y, verbose=0, return_dict=True),
            "model.evaluate, same metrics and data",
            VALIDATION_METRICS_VS_EVALUATE_TARGET,
            "callbacks",
        )
    ]
