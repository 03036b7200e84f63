"""ROC and precision-recall curves read from `AUROC` / `AUPRC` histograms.

`AUROC.curve()` and `AUPRC.curve()` delegate here. The streaming state keeps,
per class, the weight of negatives and positives in each score bin (bin b
holds the logits in `[edges[b], edges[b + 1])`, `edges = bin_edges(B)`), so the
curve through the bin thresholds is exact for the scores replaced by their
bin: it equals scikit-learn's `roc_curve` / `precision_recall_curve` run on
every score quantised to the probability `sigmoid(edges[b])` of its bin's
lower edge.

Thresholds
----------
A bin's threshold is `sigmoid(edges[b])` in float64, the probability scale
(for logits too: the probability the logit stands for; for multiclass the
one-vs-rest softmax probability). "Score >= threshold" selects exactly the
bins at or above b. The bottom bin, which reaches down to logit -inf, has
threshold 0.0 (it holds the probabilities 0); the top bin, which reaches up
to +inf, has the float64 sigmoid of its finite lower edge, 1.0 (it holds
the probabilities 1). Only bins holding weight give points, and bins whose
thresholds are equal in float64 (logits above ~36.7 all read 1.0) are one
point, as scikit-learn treats equal scores. The ROC curve starts, as
scikit-learn's, at threshold `+inf` (nothing predicted positive).

Eager only: the curves are NumPy arrays read from the state's values.
"""

from __future__ import annotations

import warnings
from typing import Any, NamedTuple

import numpy as np

from keras_components import _inputs

__all__ = [
    "PrecisionRecallCurve",
    "RocCurve",
    "bin_thresholds",
    "metric_curves",
    "precision_recall_curve_from_histogram",
    "roc_curve_from_histogram",
]


class RocCurve(NamedTuple):
    """A ROC curve, oriented as `sklearn.metrics.roc_curve`.

    Attributes:
        fpr: False positive rates, increasing from 0 to 1.
        tpr: True positive rates, increasing from 0 to 1.
        thresholds: Decreasing probability thresholds; `fpr[i]`, `tpr[i]`
            are the rates of `score >= thresholds[i]`. `thresholds[0]` is
            `+inf` (nothing predicted positive, the point (0, 0)).
    """

    fpr: np.ndarray
    tpr: np.ndarray
    thresholds: np.ndarray


class PrecisionRecallCurve(NamedTuple):
    """A precision-recall curve, oriented as `sklearn.metrics.precision_recall_curve`.

    Attributes:
        precision: Precision of `score >= thresholds[i]`, with a last entry
            1 (no threshold) so the curve ends at recall 0.
        recall: Recall, decreasing to a last entry 0.
        thresholds: Increasing probability thresholds, one fewer than the
            rates.
    """

    precision: np.ndarray
    recall: np.ndarray
    thresholds: np.ndarray


def _sigmoid(z: np.ndarray) -> np.ndarray:
    """float64 logistic function, exact at +-inf, no overflow."""
    z = np.asarray(z, np.float64)
    with np.errstate(over="ignore"):
        e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def bin_thresholds(num_bins: int) -> np.ndarray:
    """The `num_bins` bin thresholds on the probability scale, ascending.

    `sigmoid(bin_edges(num_bins)[:-1])` in float64: bin b holds the scores
    `s` with `thresholds[b] <= s < thresholds[b + 1]` (logits binned in
    float32, so up to float32 rounding at the edges). The first is 0.0 (its
    edge is logit -inf); the last ones round to 1.0.
    """
    from keras_components.metrics._ranking import bin_edges

    return _sigmoid(bin_edges(num_bins)[:-1])


def _descending_points(
    histogram: np.ndarray, thresholds: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`(fps, tps, thresholds)` at each distinct occupied threshold, descending.

    scikit-learn's `confusion_matrix_at_thresholds`: cumulative weights of
    negatives and positives at or above each threshold, highest first.
    """
    negatives = np.asarray(histogram[0], np.float64)[::-1]
    positives = np.asarray(histogram[1], np.float64)[::-1]
    thresholds = thresholds[::-1]
    occupied = (negatives != 0) | (positives != 0)
    negatives, positives = negatives[occupied], positives[occupied]
    thresholds = thresholds[occupied]
    fps = np.cumsum(negatives)
    tps = np.cumsum(positives)
    # The last bin of each run of equal thresholds closes that point.
    last = np.r_[thresholds[1:] != thresholds[:-1], True]
    return fps[last], tps[last], thresholds[last]


def roc_curve_from_histogram(
    histogram: Any, *, drop_intermediate: bool = True
) -> RocCurve:
    """The ROC curve of one class's `(2, B)` histogram (negatives, positives).

    Equals `sklearn.metrics.roc_curve(y, q, sample_weight=w,
    drop_intermediate=drop_intermediate)` with every score `q` replaced by
    its bin's threshold (`bin_thresholds`). With no negatives (positives)
    the false (true) positive rates are NaN, with a warning, as in
    scikit-learn.
    """
    histogram = np.asarray(histogram, np.float64)
    fps, tps, thresholds = _descending_points(
        histogram, bin_thresholds(histogram.shape[-1])
    )
    if drop_intermediate and fps.shape[0] > 2:
        keep = np.r_[True, np.logical_or(np.diff(fps, 2), np.diff(tps, 2)), True]
        fps, tps, thresholds = fps[keep], tps[keep], thresholds[keep]
    fps = np.r_[0.0, fps]
    tps = np.r_[0.0, tps]
    thresholds = np.r_[np.inf, thresholds]
    fpr = _rates(fps, "negatives", "false positive rates")
    tpr = _rates(tps, "positives", "true positive rates")
    return RocCurve(fpr, tpr, thresholds)


def _rates(counts: np.ndarray, kind: str, what: str) -> np.ndarray:
    if counts[-1] <= 0:
        warnings.warn(
            f"No {kind} in the metric's state: the {what} of the curve are "
            "undefined (NaN), as scikit-learn's `roc_curve` gives them.",
            UserWarning,
            stacklevel=4,
        )
        return np.full(counts.shape, np.nan)
    return counts / counts[-1]


def precision_recall_curve_from_histogram(
    histogram: Any, *, drop_intermediate: bool = False
) -> PrecisionRecallCurve:
    """The precision-recall curve of one class's `(2, B)` histogram.

    Equals `sklearn.metrics.precision_recall_curve(y, q, sample_weight=w,
    drop_intermediate=drop_intermediate)` on the scores quantised to their
    bins' thresholds. With no positives the recall is 1 at every threshold,
    with a warning, as in scikit-learn.
    """
    histogram = np.asarray(histogram, np.float64)
    fps, tps, thresholds = _descending_points(
        histogram, bin_thresholds(histogram.shape[-1])
    )
    if drop_intermediate and fps.shape[0] > 2:
        keep = np.r_[True, np.logical_or(np.diff(tps[:-1]), np.diff(tps[1:])), True]
        fps, tps, thresholds = fps[keep], tps[keep], thresholds[keep]
    predicted = tps + fps
    precision = np.divide(tps, predicted, out=np.zeros_like(tps), where=predicted != 0)
    if tps[-1] == 0:
        warnings.warn(
            "No positives in the metric's state: the recall of the curve is "
            "set to 1 at every threshold, as scikit-learn's "
            "`precision_recall_curve` sets it.",
            UserWarning,
            stacklevel=3,
        )
        recall = np.ones_like(tps)
    else:
        recall = tps / tps[-1]
    return PrecisionRecallCurve(
        np.r_[precision[::-1], 1.0], np.r_[recall[::-1], 0.0], thresholds[::-1]
    )


def metric_curves(metric: Any, kind: str, **options: Any) -> Any:
    """The `kind` (`"roc"` or `"pr"`) curve(s) of an `AUROC` / `AUPRC` state.

    One curve for the binary task, a list with one per class for the
    multiclass (one-vs-rest) and multilabel tasks.

    Raises:
        RuntimeError: When called while traced (`tf.function`, jit, inside
            `fit`'s step): the curve is NumPy, read from the state's values.
        ValueError: When the metric has seen no data, or its state counted
            invalid inputs (its `result()` is then NaN).
    """
    name = f"{type(metric).__name__}.curve()"
    if not metric.state_built:
        raise ValueError(
            f"{name} needs data: the metric {metric.name!r} has not been "
            "updated yet. Call `update_state` (or `fit` / `evaluate`) first."
        )
    state = metric.state_values()
    histogram = _inputs.concrete_value(state["histogram"])
    invalid = _inputs.concrete_value(state["invalid"])
    if histogram is None or invalid is None:
        raise RuntimeError(
            f"{name} reads the metric's state as NumPy arrays and cannot run "
            "while traced (inside `tf.function`, `jax.jit`, a compiled train "
            "or test step). Call it eagerly, e.g. after `fit` or `evaluate`."
        )
    if np.sum(invalid) > 0:
        raise ValueError(
            f"{name}: the state of {metric.name!r} counted "
            f"{int(np.sum(invalid))} invalid input cells (non-finite scores, "
            "probabilities outside [0, 1] or labels that are not 0/1), so its "
            "result is NaN and no curve can be drawn. Fix the inputs and "
            "`reset_state()`."
        )
    histogram = np.asarray(histogram, np.float64)
    if not np.any(histogram):
        raise ValueError(
            f"{name} needs data: the state of {metric.name!r} holds no "
            "weight (no samples since the last `reset_state()`, or only "
            "zero weights)."
        )
    build = (
        roc_curve_from_histogram
        if kind == "roc"
        else (precision_recall_curve_from_histogram)
    )
    task = metric._spec[0]
    curves = [build(row, **options) for row in histogram]
    return curves[0] if task == "binary" else curves
