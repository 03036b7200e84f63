"""Ranking and regression metric rows: update + result against Keras's built-ins.

Each step is one compiled function (`tf.function`, optionally XLA) that
resets the metric, updates it with one batch and returns `result()`, for
ours and for the Keras baseline alike: the work of one evaluation on one
batch, including the final read (where the histogram metrics do their
cumulative sums). Resetting inside the step keeps every call identical, so
the state does not drift between rounds, and costs both sides the same
kind of variable writes. Inputs are created once, outside the timed region:
65536 saturated sigmoid scores sigmoid(3 z + 4 y - 2) for the ranking rows
(and the binary CalibrationError / LogLoss rows),
(65536, 4) float32 targets around 1e4 for R2 (where Keras's R2Score is also
inaccurate; the timing does not depend on the values).

The fit rows time `model.fit` for one epoch (8192x32 inputs, 10 classes,
batch 256, Dense 64 -> 10 softmax) as users compile it: the default
`jit_compile="auto"` and `jit_compile=False` (graph). Keras resolves "auto"
to no XLA on a machine without an accelerator (Keras 3.15,
`Trainer._resolve_auto_jit_compile`), so on CPU both rows time a plain
graph step, from which each of our compiled updates is one XLA call; the
rows are named "jit_compile=auto" for the setting they use.
"Added cost" rows time, in each round, an epoch with AUROC, one with AUC
and one of the same model without a metric; they report the median epoch
with each metric less the median epoch without, and the ratio of those two
medians (`Case.reference`).
"""

from __future__ import annotations

import keras
import numpy as np

from keras_components import metrics
from keras_components.bench._steps import (
    _require_tensorflow,
    compiled,
    metric_step,
    mode_name,
)
from keras_components.bench.classification import _fit_epoch
from keras_components.bench.harness import Case
from keras_components.metrics import AUPRC, AUROC, R2
from keras_components.metrics._ranking import DEFAULT_NUM_THRESHOLDS

# Issue 5's targets: AUROC no slower than AUC(num_thresholds=200) while at
# least 50x finer; R2 at most 1.5x R2Score.
AUROC_VS_KERAS_AUC_TARGET = 1.0
R2_VS_KERAS_R2SCORE_TARGET = 1.5
# Issue 15's target: PrecisionAtRecall no slower than Keras's at 200 thresholds.
PRECISION_AT_RECALL_TARGET = 1.0
# Issue 15: each new metric's update costs no more than the closest existing
# one (PrecisionAtRecall against AUROC, CalibrationError against LogLoss;
# timed with `result()` and, for CalibrationError, also alone).
NEW_METRIC_VS_CLOSEST_TARGET = 1.0
# Issue 10's targets inside `fit`.
FIT_EPOCH_WITH_AUROC_TARGET = 1.05
AUROC_ADDED_COST_TARGET = 1.5


def _reset(metric: keras.metrics.Metric) -> None:
    metric.reset_state()


def update_and_result(
    metric: keras.metrics.Metric, y_true, y_pred, *, jit: bool | None
):
    """A zero-argument step: reset, update with one batch, return the result."""
    step = metric_step(metric, _reset, jit=jit)
    return lambda: step(y_true, y_pred)


def update_only(metric: keras.metrics.Metric, y_true, y_pred, *, jit: bool | None):
    """A zero-argument step: reset, update with one batch (no `result()`).

    For the targets stated on the update alone. TensorFlow only (the suite
    is): the graph runs the assignments before it returns, so returning the
    first label keeps the step's output the same small tensor for both sides.
    """

    def step(y_true, y_pred):
        _reset(metric)
        metric.update_state(y_true, y_pred)
        return y_true[0]

    step = compiled(step, jit=jit)
    return lambda: step(y_true, y_pred)


def auroc_rows(y, scores, *, jit) -> list[Case]:
    """AUROC update+result against Keras's `AUC(num_thresholds=200)`, mode `jit`."""
    return [
        Case(
            f"AUROC ({DEFAULT_NUM_THRESHOLDS} bins) update+result {int(y.shape[0])} "
            f"{mode_name(jit)}",
            update_and_result(AUROC(), y, scores, jit=jit),
            update_and_result(
                keras.metrics.AUC(num_thresholds=200), y, scores, jit=jit
            ),
            "keras AUC(200)",
            AUROC_VS_KERAS_AUC_TARGET,
        )
    ]


def _saturated_binary(n: int, rng: np.random.Generator):
    """Saturated sigmoid scores: sigmoid(3 z + 4 y - 2), float32."""
    y = (rng.random(n) < 0.5).astype(np.float32)
    logits = 3.0 * rng.standard_normal(n) + 4.0 * y - 2.0
    scores = (1.0 / (1.0 + np.exp(-logits))).astype(np.float32)
    return (
        keras.ops.convert_to_tensor(y),
        keras.ops.convert_to_tensor(scores),
    )


def _offset_regression(shape: tuple[int, int], rng: np.random.Generator):
    y = 1e4 + rng.standard_normal(shape)
    y_pred = y + 0.3 * rng.standard_normal(shape)
    return (
        keras.ops.convert_to_tensor(y.astype(np.float32)),
        keras.ops.convert_to_tensor(y_pred.astype(np.float32)),
    )


def _inputs(quick: bool):
    rng = np.random.default_rng(0)
    n = 512 if quick else 65536
    y, scores = _saturated_binary(n, rng)
    return y, scores, rng


def cases(*, quick: bool = False) -> list[Case]:
    _require_tensorflow()
    y, scores, rng = _inputs(quick)
    n = int(y.shape[0])
    reg_true, reg_pred = _offset_regression((n, 4), rng)
    bins = DEFAULT_NUM_THRESHOLDS
    rows = []
    # Quick mode only checks the suite runs (XLA is covered by the tests).
    for jit in (False,) if quick else (False, True):
        mode = mode_name(jit)

        def step(metric, y_true, y_pred, jit=jit):
            return update_and_result(metric, y_true, y_pred, jit=jit)

        rows += auroc_rows(y, scores, jit=jit)
        rows += [
            Case(
                f"AUPRC ({bins} bins) update+result {n} {mode}",
                step(AUPRC(), y, scores),
                step(keras.metrics.AUC(num_thresholds=200, curve="PR"), y, scores),
                "keras AUC(200, PR)",
            ),
            Case(
                f"PrecisionAtRecall(0.8) ({bins} bins) update+result {n} {mode}",
                step(metrics.PrecisionAtRecall(0.8), y, scores),
                step(
                    keras.metrics.PrecisionAtRecall(0.8, num_thresholds=200), y, scores
                ),
                "keras PrecisionAtRecall(0.8, 200)",
                PRECISION_AT_RECALL_TARGET,
            ),
            Case(
                f"PrecisionAtRecall(0.8) ({bins} bins) update+result {n} {mode}",
                step(metrics.PrecisionAtRecall(0.8), y, scores),
                step(AUROC(), y, scores),
                f"our AUROC ({bins} bins)",
                NEW_METRIC_VS_CLOSEST_TARGET,
            ),
            Case(
                f"CalibrationError (15 bins) update+result {n} {mode}",
                step(metrics.CalibrationError(), y, scores),
                step(metrics.LogLoss(), y, scores),
                "our LogLoss",
                NEW_METRIC_VS_CLOSEST_TARGET,
            ),
            Case(
                f"CalibrationError (15 bins) update {n} {mode}",
                update_only(metrics.CalibrationError(), y, scores, jit=jit),
                update_only(metrics.LogLoss(), y, scores, jit=jit),
                "our LogLoss",
                NEW_METRIC_VS_CLOSEST_TARGET,
            ),
            Case(
                f"R2 update+result ({n}, 4) {mode}",
                step(R2(), reg_true, reg_pred),
                step(keras.metrics.R2Score(), reg_true, reg_pred),
                "keras R2Score",
                R2_VS_KERAS_R2SCORE_TARGET,
            ),
        ]
    rows += _fit_cases(rng, quick=quick)
    return [
        Case(
            c.name,
            c.ours,
            c.baseline,
            c.baseline_name,
            c.target,
            "ranking",
            c.reference,
        )
        for c in rows
    ]


def _fit_cases(rng: np.random.Generator, *, quick: bool) -> list[Case]:
    n, c = (1024 if quick else 8192), 10
    x = rng.normal(size=(n, 32)).astype("float32")
    y = np.eye(c, dtype="float32")[rng.integers(0, c, n)]
    rows = []
    for jit in ("auto",) if quick else ("auto", False):
        mode = "jit_compile=auto" if jit == "auto" else "graph"
        ours = _fit_epoch(
            [metrics.F1(), metrics.Precision(), metrics.Recall(), AUROC()],
            x,
            y,
            jit=jit,
        )
        theirs = _fit_epoch(
            [
                keras.metrics.F1Score(average="macro"),
                keras.metrics.Precision(),
                keras.metrics.Recall(),
                keras.metrics.AUC(),
            ],
            x,
            y,
            jit=jit,
        )
        rows.append(
            Case(
                f"fit epoch {n}x32, [F1, Precision, Recall, AUROC] {mode}",
                ours,
                theirs,
                "keras [F1Score, Precision, Recall, AUC]",
                FIT_EPOCH_WITH_AUROC_TARGET,
            )
        )
        rows.append(
            Case(
                f"AUROC added cost in fit epoch {n}x32 {mode} "
                "(median with - median without)",
                _fit_epoch([AUROC()], x, y, jit=jit),
                _fit_epoch([keras.metrics.AUC()], x, y, jit=jit),
                "AUC added cost",
                AUROC_ADDED_COST_TARGET,
                reference=_fit_epoch([], x, y, jit=jit),
            )
        )
    return rows
