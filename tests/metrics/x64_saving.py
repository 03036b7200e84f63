"""Worker for test_x64_saving.py: save or load a `.keras` model in this process.

`python -m tests.metrics.x64_saving save|load MODEL.keras OUT.json`, with the
backend (and `JAX_ENABLE_X64`) chosen by the environment: the state's
representation (float64, or two float32 words on JAX without x64) is fixed
when a metric is built, so each side runs in a process of its own. Writes the
`evaluate` results, the metrics' variables (name, dtype) and the names in the
weights file to OUT.json.
"""

from __future__ import annotations

import io
import json
import sys
import zipfile

import numpy as np

N = 64


def data():
    # Distinct scores far apart (AUROC's bins resolve them: its result is
    # exact), labels drawn with those probabilities.
    rng = np.random.default_rng(23)
    scores = ((rng.permutation(N) + 0.5) / N).astype(np.float32)[:, None]
    labels = (rng.random((N, 1)) < scores).astype(np.float32)
    return scores, labels


def make_metrics():
    from keras_components import metrics as km

    return [
        km.LogLoss(),
        km.F1(),
        km.AUROC(),
        km.ConfusionMatrix(normalize="true", task="binary"),
        km.R2(),
    ]


def weight_names(path: str) -> list[str]:
    import h5py

    names: list[str] = []
    with zipfile.ZipFile(path) as archive:
        raw = archive.read("model.weights.h5")
    with h5py.File(io.BytesIO(raw)) as f:
        f.visititems(lambda name, obj: names.append(name))
    return names


def metric_report(model, results) -> dict:
    compiled = [m for m in model.metrics if m.name == "compile_metrics"]
    inner = compiled[0].metrics if compiled else model.metrics
    return {
        "results": {k: np.asarray(v, np.float64).tolist() for k, v in results.items()},
        "variables": {
            m.name: [[v.name, str(v.dtype)] for v in m.variables] for m in inner
        },
        "configs": {m.name: m.get_config()["dtype"] for m in inner},
    }


def main(mode: str, path: str, out: str) -> None:
    import keras

    from keras_components import _backend
    from keras_components.saving import load_model

    x, y = data()
    if mode == "save":
        inputs = keras.Input((1,))
        dense = keras.layers.Dense(1, trainable=False)
        model = keras.Model(inputs, dense(inputs))
        dense.set_weights([np.ones((1, 1), np.float32), np.zeros(1, np.float32)])
        model.compile(loss="mse", metrics=make_metrics())
    else:
        model = load_model(path)
    results = model.evaluate(x, y, batch_size=16, verbose=0, return_dict=True)
    report = metric_report(model, results)
    if mode == "save":
        model.save(path)
    report["weights"] = weight_names(path)
    report["float64_state"] = _backend.float64_state()
    report["backend"] = keras.backend.backend()
    with open(out, "w") as f:
        json.dump(report, f)


if __name__ == "__main__":
    main(*sys.argv[1:])
