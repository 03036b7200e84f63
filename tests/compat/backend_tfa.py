"""compat.tfa on the current Keras backend against tfa 0.23's fixture values.

Usage: KERAS_BACKEND=jax python -m tests.compat.backend_tfa

Run in a subprocess per backend by tests/compat/test_tfa_backends.py. Every
compat class that does not need TensorFlow (all but loading `.h5` files):
activations, losses and metrics (streamed over the recorded batches and
merged from the two batches) reproduce the values written by the real
tensorflow-addons (tests/fixtures/tfa/) to 1e-5, as tests/compat/test_tfa.py
checks on TensorFlow.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np

FIXTURES = Path(__file__).parents[1] / "fixtures" / "tfa"
# Recorded inputs compat refuses (tests/compat/test_tfa.py: REFUSED).
REFUSED = {"metrics.CohenKappa.defaults,num_classes=2"}


def main() -> None:
    import keras

    from keras_components.compat import tfa

    values = json.loads((FIXTURES / "values.json").read_text())
    inputs = np.load(FIXTURES / "inputs.npz")
    backend = keras.backend.backend()

    def arr(key):
        return None if key is None else inputs[key]

    def close(got, want, what):
        got = np.asarray(keras.ops.convert_to_numpy(got), np.float64)
        want = np.asarray(want, np.float64)
        if not np.allclose(got, want, atol=1e-5, rtol=1e-5):
            raise AssertionError(f"{backend}: {what}: got {got}, tfa {want}")

    def component(record):
        return getattr(tfa, record["component"].split(".")[-1])

    checked = 0
    for record in values["activations"]:
        if "output" not in record:
            continue
        x = inputs[record["x"]]
        name = record["component"]
        if name == "tfa.layers.GELU":
            out = tfa.GELU(**record["args"])(x)
        elif name == "tfa.activations.gelu":
            out = tfa.gelu(x, **record["args"])
        else:
            out = tfa.mish(x)
        close(out, record["output"], record["id"])
        checked += 1

    for record in values["losses"]:
        if "error" in record:
            continue
        y_true, y_pred = arr(record["y_true"]), arr(record["y_pred"])
        if record["component"] == "tfa.losses.sigmoid_focal_crossentropy":
            out = tfa.sigmoid_focal_crossentropy(y_true, y_pred, **record["args"])
        else:
            loss = component(record)(**record["args"])
            out = loss(y_true, y_pred, sample_weight=arr(record.get("sample_weight")))
        close(out, record["output"], record["id"])
        checked += 1

    def updated(record, batches):
        metric = component(record)(**record["args"])
        for batch in batches:
            metric.update_state(
                arr(batch["y_true"]),
                arr(batch["y_pred"]),
                arr(batch.get("sample_weight")),
            )
        return metric

    merged_count = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # MultiLabelConfusionMatrix's weight note
        for record in values["metrics"]:
            if "error" in record or record["id"] in REFUSED:
                continue
            batches = record["batches"]
            close(
                updated(record, batches[:1]).result(),
                record["result_batch1"],
                record["id"],
            )
            close(updated(record, batches).result(), record["result"], record["id"])
            checked += 1
            if len(batches) == 2:
                merged = updated(record, batches[:1])
                merged.merge_state([updated(record, batches[1:])])
                close(merged.result(), record["result"], record["id"] + " (merged)")
                merged_count += 1
    if checked < 100 or merged_count < 10:
        raise AssertionError(f"too few records checked: {checked}, {merged_count}")
    print(f"tfa backend OK: {backend} ({checked} records, {merged_count} merged)")


if __name__ == "__main__":
    main()
