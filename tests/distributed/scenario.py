"""One small training run, shared by every distributed test.

`run(strategy=..., distribution=...)` builds the same tiny binary classifier
from the same initial weights, fits it on the same data (no shuffling, 2
epochs) with our loss (`CombinedLoss` of `FocalLoss` and `DiceLoss`), our
metrics compiled as `weighted_metrics` and the `ValidationMetrics`
callback, evaluates it, and returns everything as JSON-able values. It uses
Keras only, so the same function runs in-process under
`tf.distribute.MirroredStrategy`, in worker processes under
`MultiWorkerMirroredStrategy` (`python -m tests.distributed.worker`) and on
JAX under `keras.distribution.DataParallel`
(`python -m tests.distributed.jax_worker`).

Sizes: every batch (training and validation, 32 rows) splits evenly over 2
replicas (Keras 3.15 crashes on an uneven split, see docs/scaling.md), and
every count stays far below 2**24, so float32 metric state (JAX without
`jax_enable_x64`) is exact too.
"""

from __future__ import annotations

import contextlib
from typing import Any

import keras
import numpy as np

import keras_components as km
from keras_components.callbacks import ValidationMetrics
from keras_components.losses import CombinedLoss, DiceLoss, FocalLoss

N_TRAIN = 256
N_VAL = 128
FEATURES = 6
HIDDEN = 8
BATCH = 32  # global batch: 16 rows per replica on 2 replicas
EPOCHS = 2
METRICS = ("f1", "iou", "auroc", "mcc", "log_loss", "r2")


def data() -> dict[str, np.ndarray]:
    """Training and validation arrays with sample weights (seeded)."""
    rng = np.random.default_rng(1301)
    n = N_TRAIN + N_VAL
    x = rng.normal(size=(n, FEATURES)).astype("float32")
    direction = rng.normal(size=(FEATURES,))
    logits = x @ direction + rng.normal(scale=1.5, size=n)
    y = (logits > 0).astype("float32")[:, None]
    w = rng.uniform(0.5, 2.0, size=n).astype("float32")
    return {
        "x": x[:N_TRAIN],
        "y": y[:N_TRAIN],
        "w": w[:N_TRAIN],
        "x_val": x[N_TRAIN:],
        "y_val": y[N_TRAIN:],
        "w_val": w[N_TRAIN:],
    }


def initial_weights() -> list[np.ndarray]:
    rng = np.random.default_rng(1302)
    return [
        rng.normal(scale=0.5, size=(FEATURES, HIDDEN)).astype("float32"),
        np.zeros(HIDDEN, "float32"),
        rng.normal(scale=0.5, size=(HIDDEN, 1)).astype("float32"),
        np.zeros(1, "float32"),
    ]


def make_metrics() -> list[keras.metrics.Metric]:
    return [km.F1(), km.IoU(), km.AUROC(), km.MCC(), km.LogLoss(), km.R2()]


def make_loss() -> keras.losses.Loss:
    return CombinedLoss([FocalLoss(), DiceLoss()])


def build_model() -> keras.Model:
    model = keras.Sequential(
        [
            keras.Input((FEATURES,)),
            keras.layers.Dense(HIDDEN, activation="tanh"),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.set_weights(initial_weights())
    return model


def _floats(values: Any) -> Any:
    return np.asarray(values, dtype=np.float64).tolist()


def run(strategy: Any = None, distribution: Any = None) -> dict[str, Any]:
    """fit + evaluate under `strategy` (tf.distribute) or `distribution` (Keras).

    Returns `history` (fit's logs per epoch: loss, metrics, and the
    callback's `val_*` keys), `evaluate` (loss and metrics), `predictions`
    on the validation data after training, and the final `weights`.
    """
    d = data()
    if strategy is not None:
        scope = strategy.scope()
    elif distribution is not None:
        scope = distribution.scope()
    else:
        scope = contextlib.nullcontext()
    with scope:
        model = build_model()
        model.compile(
            optimizer=keras.optimizers.SGD(learning_rate=0.5),
            loss=make_loss(),
            weighted_metrics=make_metrics(),
        )
        callback = ValidationMetrics(
            (d["x_val"], d["y_val"], d["w_val"]),
            make_metrics(),
            batch_size=BATCH,
            verbose=0,
        )
        history = model.fit(
            d["x"],
            d["y"],
            sample_weight=d["w"],
            batch_size=BATCH,
            epochs=EPOCHS,
            shuffle=False,
            callbacks=[callback],
            verbose=0,
        )
        evaluation = model.evaluate(
            d["x_val"],
            d["y_val"],
            sample_weight=d["w_val"],
            batch_size=BATCH,
            return_dict=True,
            verbose=0,
        )
        predictions = model.predict(d["x_val"], batch_size=BATCH, verbose=0)
    return {
        "history": {k: _floats(v) for k, v in history.history.items()},
        "evaluate": {k: float(v) for k, v in evaluation.items()},
        "predictions": _floats(predictions),
        "weights": [_floats(v) for v in model.get_weights()],
        # AUROC is binned: how far its value on the validation data may be
        # from the exact (scikit-learn) one, from the callback's last pass.
        "auroc_error_bound": float(
            keras.ops.convert_to_numpy(callback.metrics[2].error_bound())
        ),
    }


def sklearn_metrics(y: Any, p: Any, w: Any) -> dict[str, float]:
    """The independent reference: scikit-learn on predictions `p`."""
    import sklearn.metrics as skm

    y = np.asarray(y).ravel()
    p = np.asarray(p, np.float64).ravel()
    w = np.asarray(w, np.float64)
    hard = (p > 0.5).astype(int)
    return {
        "f1": skm.f1_score(y, hard, sample_weight=w),
        "iou": skm.jaccard_score(y, hard, sample_weight=w),
        "auroc": skm.roc_auc_score(y, p, sample_weight=w),
        "mcc": skm.matthews_corrcoef(y, hard, sample_weight=w),
        "log_loss": skm.log_loss(y, p, sample_weight=w),
        "r2": skm.r2_score(y, p, sample_weight=w),
    }


METRIC_ATOL = 1e-6
LOSS_RTOL = 1e-5  # float32 sums in another order (per replica, then across)
WEIGHT_ATOL = 1e-5


def assert_same_run(got: dict[str, Any], expected: dict[str, Any], how: str) -> None:
    """A distributed run equals the single-device run of the same data and weights.

    Metrics to 1e-6 (they are sums of the same counts); losses and weights
    to float32 tolerance (the gradient is summed in another order).
    """
    assert set(got["history"]) == set(expected["history"]), how
    for key, values in expected["history"].items():
        tol = {"rtol": LOSS_RTOL} if key == "loss" else {"atol": METRIC_ATOL}
        np.testing.assert_allclose(
            got["history"][key], values, err_msg=f"{how}: fit {key}", **tol
        )
    assert set(got["evaluate"]) == set(expected["evaluate"]), how
    for key, value in expected["evaluate"].items():
        tol = {"rtol": LOSS_RTOL} if key == "loss" else {"atol": METRIC_ATOL}
        np.testing.assert_allclose(
            got["evaluate"][key], value, err_msg=f"{how}: evaluate {key}", **tol
        )
    np.testing.assert_allclose(
        got["auroc_error_bound"], expected["auroc_error_bound"], atol=METRIC_ATOL
    )
    for a, b in zip(got["weights"], expected["weights"], strict=True):
        np.testing.assert_allclose(a, b, atol=WEIGHT_ATOL, err_msg=f"{how}: weights")


def assert_matches_sklearn(result: dict[str, Any], how: str) -> None:
    """`evaluate` and the last epoch's `val_*` equal scikit-learn on the predictions.

    Both score the validation data with the final weights (the callback
    runs at the end of the last epoch), so both equal scikit-learn on
    `predict`'s output.
    """
    d = data()
    reference = sklearn_metrics(d["y_val"], result["predictions"], d["w_val"])
    for name, value in reference.items():
        atol = METRIC_ATOL
        if name == "auroc":  # binned, within its own error bound
            assert 0 <= result["auroc_error_bound"] < 1e-3, result
            atol += result["auroc_error_bound"]
        np.testing.assert_allclose(
            result["evaluate"][name],
            value,
            atol=atol,
            err_msg=f"{how}: evaluate {name}",
        )
        np.testing.assert_allclose(
            result["history"][f"val_{name}"][-1],
            value,
            atol=atol,
            err_msg=f"{how}: ValidationMetrics val_{name}",
        )
