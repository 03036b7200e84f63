"""Classification-metric rows: streaming F1 and friends against Keras's."""

from __future__ import annotations

import itertools

import keras
import numpy as np
from keras import ops

from keras_components import metrics
from keras_components.bench._steps import (
    _require_tensorflow,
    compiled,
    metric_step,
    mode_name,
)
from keras_components.bench.harness import Case

# Targets of the classification-metrics issue.
F1_VS_KERAS_TARGET = 0.5
F1_VS_READ_TARGET = 5.0
FIT_EPOCH_TARGET = 1.1
# An eager update on a batch size never seen before (a loop's last partial
# batch, a new evaluation set) costs no more than Keras's eager update: it
# once paid an XLA compilation per new size (0.3-0.5 s, ~100x Keras's).
NEW_BATCH_SIZE_TARGET = 1.0


def _zero_state(metric) -> None:
    for v in metric.variables:
        v.assign(ops.zeros(v.shape, v.dtype))


def _update_and_result(metric, *, jit: bool | None):
    """One step: reset, update on a batch, read the result.

    `jit=None` runs eagerly; False / True compile it without / with XLA
    (on JAX / PyTorch: see `_steps.compiled`).
    """
    return metric_step(metric, _zero_state, jit=jit)


def _inputs(quick: bool):
    n, c = (512, 10) if quick else (65536, 10)
    rng = np.random.default_rng(0)
    labels = rng.integers(0, c, n)
    y_pred = ops.convert_to_tensor(rng.random((n, c)), "float32")
    one_hot = ops.convert_to_tensor(np.eye(c)[labels], "float32")
    return labels, y_pred, one_hot, rng


def f1_rows(one_hot, y_pred, *, jit) -> list[Case]:
    """F1 update+result against Keras's `F1Score(average="macro")`, mode `jit`."""
    ours = _update_and_result(metrics.F1(), jit=jit)
    keras_f1 = _update_and_result(keras.metrics.F1Score(average="macro"), jit=jit)
    return [
        Case(
            f"F1 update+result {tuple(y_pred.shape)} one-hot {mode_name(jit)}",
            lambda: ours(one_hot, y_pred),
            lambda: keras_f1(one_hot, y_pred),
            "keras F1Score",
            F1_VS_KERAS_TARGET,
        )
    ]


def _on_new_batch_sizes(step, y_true, y_pred):
    """`step` eagerly on a batch size it has not seen before, at every call.

    Sizes run down from the full batch one row at a time, so the two sides of
    a row (each with its own counter) see the same sizes in the same round.
    """
    sizes = itertools.count(int(y_pred.shape[0]) - 1, -1)

    def call():
        m = next(sizes)
        return step(y_true[:m], y_pred[:m])

    return call


def _fit_epoch(metric_list, x, y, *, jit: bool):
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input(x.shape[1:]),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(y.shape[-1], activation="softmax"),
        ]
    )
    model.compile(
        optimizer="adam",
        loss="categorical_crossentropy",
        metrics=metric_list,
        jit_compile=jit,
    )
    return lambda: model.fit(x, y, epochs=1, batch_size=256, verbose=0)


def cases(*, quick: bool = False) -> list[Case]:
    _require_tensorflow()
    labels, y_pred, one_hot, rng = _inputs(quick)
    n, c = y_pred.shape
    sparse = ops.convert_to_tensor(labels, "int32")
    size = f"({n}, {c})"
    rows = []
    for jit in (None, False, True):
        mode = mode_name(jit)
        (vs_keras,) = f1_rows(one_hot, y_pred, jit=jit)
        ours = vs_keras.ours
        keras_f1 = _update_and_result(keras.metrics.F1Score(average="macro"), jit=jit)
        read_once = compiled(lambda t, p: ops.sum(t) + ops.sum(p), jit=jit)
        ours_sparse = _update_and_result(metrics.F1(), jit=jit)
        rows += [
            vs_keras,
            Case(
                f"F1 update+result {size} one-hot {mode}",
                ours,
                lambda f=read_once: f(one_hot, y_pred),
                "reading the inputs once",
                F1_VS_READ_TARGET,
            ),
            Case(
                f"F1 update+result {size} sparse {mode}",
                lambda f=ours_sparse: f(sparse, y_pred),
                lambda f=keras_f1: f(one_hot, y_pred),
                "keras F1Score (one-hot)",
            ),
        ]
    # Eagerly, on a batch size never seen before at every round.
    n_new = 512 if quick else 4096
    rows.append(
        Case(
            f"F1 update+result ({n_new}-i, {c}) one-hot eager, new batch size",
            _on_new_batch_sizes(
                _update_and_result(metrics.F1(), jit=None),
                one_hot[:n_new],
                y_pred[:n_new],
            ),
            _on_new_batch_sizes(
                _update_and_result(keras.metrics.F1Score(average="macro"), jit=None),
                one_hot[:n_new],
                y_pred[:n_new],
            ),
            "keras F1Score",
            NEW_BATCH_SIZE_TARGET,
        )
    )
    # A training epoch with three metrics, ours against Keras's closest.
    n_fit = 1024 if quick else 8192
    x = rng.normal(size=(n_fit, 32)).astype("float32")
    y = np.eye(c, dtype="float32")[rng.integers(0, c, n_fit)]
    for jit in (False, True):
        mode = "XLA" if jit else "graph"
        ours = _fit_epoch(
            [metrics.F1(), metrics.Precision(), metrics.Recall()], x, y, jit=jit
        )
        theirs = _fit_epoch(
            [
                keras.metrics.F1Score(average="macro"),
                keras.metrics.Precision(),
                keras.metrics.Recall(),
            ],
            x,
            y,
            jit=jit,
        )
        rows.append(
            Case(
                f"fit epoch {n_fit}x32, [F1, Precision, Recall] {mode}",
                ours,
                theirs,
                "keras [F1Score, Precision, Recall]",
                FIT_EPOCH_TARGET,
            )
        )
    return [
        Case(r.name, r.ours, r.baseline, r.baseline_name, r.target, "classification")
        for r in rows
    ]
