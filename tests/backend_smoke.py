"""Cross-backend smoke check, run in a subprocess per backend by test_backends.py.

Usage: KERAS_BACKEND=jax python -m tests.backend_smoke

Exercises every family on the selected backend against independent
references (float64 NumPy, scikit-learn, Keras's own losses): activations and
their gradients inside a trained model, losses, streaming metrics with
batch splits and merge_state, fit/evaluate, and a .keras round trip.
"""

from __future__ import annotations

import os
import sys
import tempfile

import numpy as np


def close(got, want, atol, what):
    got = np.asarray(got, np.float64)
    if not np.allclose(got, want, atol=atol, rtol=0):
        raise AssertionError(f"{what}: got {got}, expected {want}")


def input_gradient(fn, x):
    """d sum(fn(x)) / dx on the current backend."""
    import keras

    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        return np.asarray(jax.grad(lambda v: fn(v).sum())(x))
    if backend == "torch":
        import torch

        v = torch.tensor(x, requires_grad=True)
        fn(v).sum().backward()
        return v.grad.numpy()
    import tensorflow as tf

    v = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(v)
        y = tf.reduce_sum(fn(v))
    return tape.gradient(y, v).numpy()


def main() -> int:
    import keras
    from scipy.special import erfc, expit
    from sklearn import metrics as skm

    import keras_components as kc

    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        jax.config.update("jax_enable_x64", True)  # float64 metric state
    rng = np.random.default_rng(0)

    # Activations against float64 definitions.
    x = np.linspace(-30, 30, 2001).astype("float32")
    x64 = x.astype(np.float64)
    close(kc.activations.mish(x), x64 * np.tanh(np.logaddexp(0, x64)), 1e-5, "mish")
    t64 = np.tanh(np.logaddexp(0, x64))  # Mish's hand-written gradient:
    mish_grad = t64 + x64 * expit(x64) * (1 - t64 * t64)
    close(input_gradient(kc.activations.mish, x), mish_grad, 1e-5, "mish gradient")
    close(kc.activations.gelu(x), x64 * 0.5 * erfc(-x64 / np.sqrt(2)), 1e-5, "gelu")
    close(kc.activations.swish(x, beta=2.0), x64 * expit(2 * x64), 1e-5, "swish")

    # Losses: focal with gamma=0 is cross-entropy; Dice of a perfect mask is 0.
    logits = rng.normal(size=(32, 5)).astype("float32")
    labels = rng.integers(0, 5, 32)
    ours = kc.FocalLoss(gamma=0.0, from_logits=True)(labels, logits)
    theirs = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(
        labels, logits
    )
    close(ours, float(keras.ops.convert_to_numpy(theirs)), 1e-5, "focal gamma=0")
    masks = rng.integers(0, 2, (4, 8, 8))
    close(kc.DiceLoss()(masks, masks[..., None].astype("float32")), 0.0, 1e-6, "dice")

    # Streaming metrics against scikit-learn, in two batches and merged.
    y = rng.integers(0, 4, 200)
    p = rng.random((200, 4)).astype("float32")
    cases = [
        (kc.F1, skm.f1_score(y, p.argmax(-1), average="macro")),
        (kc.IoU, skm.jaccard_score(y, p.argmax(-1), average="macro")),
        (kc.MCC, skm.matthews_corrcoef(y, p.argmax(-1))),
    ]
    for make, expected in cases:
        a, b = make(), make()
        a.update_state(y[:77], p[:77])
        b.update_state(y[77:], p[77:])
        a.merge_state([b])
        close(a.result(), expected, 1e-6, make.__name__)
    scores = rng.random(500).astype("float32")
    truth = (rng.random(500) < scores).astype("int32")
    auroc = kc.AUROC()
    auroc.update_state(truth, scores)
    close(auroc.result(), skm.roc_auc_score(truth, scores), 1e-4, "AUROC")
    log_loss = kc.LogLoss()
    log_loss.update_state(truth, scores)
    close(log_loss.result(), skm.log_loss(truth, scores), 1e-5, "LogLoss")
    target = (1e4 + rng.normal(size=300)).astype("float32")
    pred = (target + 0.3 * rng.normal(size=300)).astype("float32")
    r2 = kc.R2()
    for chunk in np.array_split(np.arange(300), 7):
        r2.update_state(target[chunk], pred[chunk])
    close(r2.result(), skm.r2_score(target, pred), 1e-4, "R2")

    # A model with our layers, loss and metrics trains, evaluates and reloads.
    keras.utils.set_random_seed(0)
    features = rng.normal(size=(256, 6)).astype("float32")
    classes = (features[:, 0] + features[:, 1] > 0).astype("int32") + (
        features[:, 2] > 1
    ).astype("int32")
    model = keras.Sequential(
        [
            keras.Input((6,)),
            keras.layers.Dense(16, activation=kc.activations.mish),
            kc.Swish(trainable_beta=True),
            kc.GELU(),
            keras.layers.Dense(3),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(1e-2),
        loss=kc.FocalLoss(from_logits=True),
        metrics=[kc.F1(from_logits=True), kc.Accuracy()],
    )
    history = model.fit(features, classes, epochs=5, batch_size=32, verbose=0)
    losses = history.history["loss"]
    if not losses[-1] < losses[0]:
        raise AssertionError(f"loss did not go down: {losses}")
    logs = model.evaluate(features, classes, batch_size=32, verbose=0, return_dict=True)
    predicted = model.predict(features, verbose=0).argmax(-1)
    close(logs["f1"], skm.f1_score(classes, predicted, average="macro"), 1e-6, "f1")
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.keras")
        model.save(path)
        loaded = keras.saving.load_model(path)
        close(
            loaded.predict(features, verbose=0),
            model.predict(features, verbose=0),
            0.0,
            "reloaded predictions",
        )
    print(f"backend smoke OK: {backend}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
