"""Ranking metrics: `AUROC` and `AUPRC` (average precision), streamed in bins.

Exact ranking metrics need every score; a streaming metric cannot keep them.
These keep, per class, the weighted number of positives and negatives whose
score falls in each of `B` bins, and compute the metric from those
histograms in `result()`:

- Bins are uniform in **logit** space over `[-L, L]` with `L = 24`
  (`LOGIT_RANGE`): `bin = floor((clip(logit, -L, L) + L) / (2 L) * B)`.
  Probabilities are mapped to their logit, so saturated sigmoid outputs
  near 0 and 1 keep their resolution (uniform bins in probability space
  put all of them into the two end bins). Multiclass logits use the
  one-vs-rest logit of the softmax, `z_k - logsumexp_{j != k} z_j`.
  `L = 24` covers every float32 probability below 1 (their largest logit is
  16.6) and down to 4e-11, and the logits of confident models; scores
  beyond +-L tie in the end bins. (With `L = 16`, one-vs-rest AUROC of a
  strongly saturated 4-class softmax was off by 1e-4; with 24, by 7e-6.)
- `B = 16384` by default (`DEFAULT_NUM_THRESHOLDS`, 82x Keras's 200
  thresholds): a bin is 0.003 wide in logit. The histograms are filled with
  one arithmetic bucket index and one bincount per batch: O(N + K B) per
  update, never an N x T comparison.
- ROC AUC is then the exact trapezoid (Mann-Whitney) over the bin
  thresholds, counting positive / negative pairs in the same bin as half;
  average precision is scikit-learn's step-wise sum
  `sum_k (R_k - R_{k+1}) P_k` over the bin thresholds, not interpolated.
  Both equal scikit-learn exactly when no two distinct scores share a bin;
  otherwise the difference comes only from pairs within a bin (measured on
  20000 uniform, saturated-sigmoid, 1%-positive and weighted scores:
  <= 1e-5 for AUROC and <= 2e-4 for AP).

State: `histogram` of shape `(K, 2, B)` (negatives, positives) in float64
with `aggregation="sum"`, so it is exact for integer weights up to 2**53,
additive across batches, replicas and `merge_state`, and never grows with
the number of samples. K is 1 (binary) or the number of classes.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from keras_components import _backend, _inputs
from keras_components._export import export
from keras_components._validation import (
    check_bool,
    check_choice,
    check_int,
    check_optional_int,
    invalid_value,
)
from keras_components.metrics._base import (
    STATE_DTYPE,
    StreamingMetric,
)

__all__ = [
    "AUPRC",
    "AUROC",
    "DEFAULT_NUM_THRESHOLDS",
    "LOGIT_RANGE",
    "average_precision_from_histograms",
    "batch_histogram",
    "bin_index",
    "one_vs_rest_logits",
    "roc_auc_from_histograms",
    "weighted_bincount",
]

LOGIT_RANGE = 24.0
DEFAULT_NUM_THRESHOLDS = 16384
AVERAGES = ("macro", "weighted", "micro", None)


# --------------------------------------------------------------------------
# Pure functions
# --------------------------------------------------------------------------
def _compute_dtype(x: Any) -> str:
    dtype = keras.backend.standardize_dtype(x.dtype)
    return "float64" if dtype == "float64" else "float32"


def _softmax_one_vs_rest_logits(z: Any) -> Any:
    """`logit(softmax(z)_k) = z_k - logsumexp_{j != k} z_j`, stably."""
    num_classes = z.shape[-1]
    log_p = ops.log_softmax(z, axis=-1)
    # Every class but the arg max has p_k <= 1/2, where log(1 - p_k) =
    # log1p(-exp(log p_k)) is accurate. The arg max gets log-sum-exp over
    # the other classes directly (no 1 - p cancellation when p ~ 1).
    is_top = ops.equal(
        ops.arange(num_classes, dtype="int32"),
        ops.expand_dims(ops.cast(ops.argmax(z, axis=-1), "int32"), -1),
    )
    rest = ops.where(is_top, ops.full_like(z, float("-inf")), z)
    top_logit = z - ops.logsumexp(rest, axis=-1, keepdims=True)
    other_logit = log_p - ops.log1p(-ops.exp(log_p))
    return ops.where(is_top, top_logit, other_logit)


def one_vs_rest_logits(scores: Any, *, task: str, from_logits: bool) -> Any:
    """The logit of each class's one-vs-rest probability, `(M, K)`.

    Args:
        scores: `(M, K)` probabilities (`from_logits=False`) or logits.
        task: `"binary"`, `"multiclass"` or `"multilabel"`. Multiclass logits
            are softmax logits: class k's one-vs-rest logit is
            `z_k - logsumexp_{j != k} z_j`.
        from_logits: Whether `scores` are logits.

    Returns:
        Logits in float32 (float64 for float64 scores). Probabilities 0 and 1
        map to -inf and +inf; values outside `[0, 1]` (and NaN) map to NaN.
    """
    scores = ops.convert_to_tensor(scores)
    scores = ops.cast(scores, _compute_dtype(scores))
    if from_logits:
        if task == "multiclass":
            return _softmax_one_vs_rest_logits(scores)
        return scores
    # log(p / (1 - p)) is as accurate as log(p) - log1p(-p) here, with one
    # transcendental instead of two: 1 - p is exact for p >= 1/2 (Sterbenz)
    # and off by at most one rounding below, so the logit is within a few
    # 1e-7 (float32) everywhere, against bins 3e-3 wide.
    return ops.log(scores / (1.0 - scores))


def bin_index(logits: Any, num_bins: int) -> Any:
    """int32 bin of each logit: `floor((clip(x, -L, L) + L) / (2 L) * B)`.

    Uniform bins over `[-L, L]`; +-inf and values beyond +-L fall into the
    end bins. NaN gives an arbitrary index: mask it.
    """
    scale = num_bins / (2.0 * LOGIT_RANGE)
    position = ops.clip(logits * scale + num_bins / 2.0, 0.0, num_bins - 1.0)
    return ops.cast(position, "int32")  # truncation is floor for values >= 0


def weighted_bincount(index: Any, weights: Any, length: int) -> Any:
    """`out[i] = sum(weights[index == i])` for `i < length`, float64.

    `index` is int32 in `[0, length)`; `weights` None counts (exactly, in
    int32 per batch). A segment sum with a static number of segments: the
    bincount whose length XLA can see at compile time.
    """
    if weights is None:
        weights = ops.ones(ops.shape(index), "int32")
    counts = _backend.segment_sum(weights, index, length)
    return ops.cast(counts, STATE_DTYPE)


def _at_or_above(histogram: Any) -> Any:
    """`out[..., b] = sum(histogram[..., b:])`: the weight at or above bin b.

    One forward cumulative sum (`total - prefix + own`), cheaper than a
    reversed one (two flips); exact for integer weights, otherwise within
    float64 rounding of the total.
    """
    prefix = ops.cumsum(histogram, axis=-1)
    return prefix[..., -1:] - prefix + histogram


def roc_auc_from_histograms(positives: Any, negatives: Any) -> Any:
    """ROC AUC per row from score histograms (bins in ascending score order).

    `AUC = sum_b pos_b * (neg_below_b + neg_b / 2) / (P * N)`: the trapezoid
    under the ROC curve through the bin thresholds, i.e. the Mann-Whitney
    statistic with same-bin pairs counted as ties (1/2). NaN where P or N is
    0 (undefined, as scikit-learn's NaN with `UndefinedMetricWarning`).
    """
    below_or_at = ops.cumsum(negatives, axis=-1)
    total_neg = below_or_at[..., -1]
    total_pos = ops.sum(positives, axis=-1)
    wins = ops.sum(positives * (below_or_at - 0.5 * negatives), axis=-1)
    pairs = total_pos * total_neg
    defined = pairs > 0
    return ops.where(
        defined,
        wins / ops.where(defined, pairs, ops.ones_like(pairs)),
        ops.full_like(pairs, float("nan")),
    )


def average_precision_from_histograms(positives: Any, negatives: Any) -> Any:
    """Step-wise average precision per row from score histograms.

    `AP = sum_b (pos_b / P) * TP_b / (TP_b + FP_b)`, where `TP_b`, `FP_b`
    count the weight at or above bin b: scikit-learn's
    `sum_k (R_k - R_{k+1}) P_k` over the bin thresholds. With no positives
    it is 0 (scikit-learn 1.9's value, which warns); with no data, NaN.
    """
    tp = _at_or_above(positives)
    predicted = tp + _at_or_above(negatives)
    precision = tp / ops.where(predicted > 0, predicted, ops.ones_like(predicted))
    total_pos = tp[..., 0]
    total = predicted[..., 0]
    summed = ops.sum(positives * precision, axis=-1)
    value = summed / ops.where(total_pos > 0, total_pos, ops.ones_like(total_pos))
    nan = ops.full_like(total, float("nan"))
    return ops.where(total > 0, value, nan)


def average_scores(per_class: Any, support: Any, average: str | None) -> Any:
    """Averages per-class scores as scikit-learn's `_average_binary_score`.

    `"macro"`: plain mean (NaN if any class is NaN). `"weighted"`: weighted
    by `support` (the positive weight per class); classes without support
    count 0 with weight 0, and no support at all gives 0. `None`: the vector.
    """
    if average is None:
        return per_class
    if average == "macro":
        return ops.mean(per_class, axis=-1)
    zero = ops.zeros_like(per_class)
    per_class = ops.where(support > 0, per_class, zero)
    total = ops.sum(support, axis=-1)
    weighted = ops.sum(per_class * support, axis=-1)
    return ops.where(
        total > 0, weighted / ops.where(total > 0, total, ops.ones_like(total)), 0.0
    )


def batch_histogram(
    y_true: Any,
    y_pred: Any,
    sample_weight: Any,
    *,
    task: str,
    num_classes: int,
    num_bins: int,
    from_logits: bool,
) -> tuple[Any, Any]:
    """`(histogram, invalid)` of one batch (pure; run compiled by the metrics).

    `histogram` is float64 `(K, 2, num_bins)`: per class, the weight of
    negatives (row 0) and positives (row 1) in each logit bin (K = 1 for the
    binary task). `invalid` counts cells that could not be binned (non-finite
    scores or logits, probabilities outside [0, 1], labels that are not 0/1).
    """
    k = num_classes
    found = _inputs.score_targets(
        y_true,
        y_pred,
        sample_weight,
        task=task,
        num_classes=max(k, 2),
        dtype=STATE_DTYPE,
    )
    logits = one_vs_rest_logits(found.scores, task=task, from_logits=from_logits)
    # Probabilities outside [0, 1] (and NaN) have a NaN logit; logits must be
    # finite themselves.
    bad = ops.isnan(logits)
    if from_logits:
        bad = ops.logical_not(ops.isfinite(found.scores))
    bad_weights = None
    if found.weights is not None:
        bad_weights = ops.broadcast_to(
            ops.logical_not(ops.isfinite(found.weights)), ops.shape(bad)
        )
    invalid, code = _inputs.reason_codes(
        targets=found.invalid,
        soft=found.soft,
        predictions=bad,
        weights=bad_weights,
    )
    # One bincount over (class, label, bin) cells fills every histogram;
    # invalid cells go to one extra cell per reason, which counts them.
    cell = bin_index(logits, num_bins) + num_bins * found.targets
    if k > 1:
        cell = cell + ops.arange(k, dtype="int32") * (2 * num_bins)
    size = k * 2 * num_bins
    cell = ops.reshape(ops.where(invalid, size + code, cell), (-1,))
    weights = None
    if found.weights is not None:
        weights = ops.reshape(ops.where(invalid, 1.0, found.weights), (-1,))
    counts = weighted_bincount(cell, weights, size + _inputs.NUM_REASONS)
    return ops.reshape(counts[:size], (k, 2, num_bins)), counts[size:]


def _histogram_increments(y_true, y_pred, sample_weight, **config) -> dict[str, Any]:
    """`batch_histogram` as increments by state name."""
    histogram, invalid = batch_histogram(y_true, y_pred, sample_weight, **config)
    return {"histogram": histogram, "invalid": invalid}


# --------------------------------------------------------------------------
# Classes
# --------------------------------------------------------------------------
class _BinnedRankingMetric(StreamingMetric):
    """Shared state and update of `AUROC` and `AUPRC`."""

    def __init__(
        self,
        *,
        task: str = "auto",
        num_classes: int | None = None,
        average: str | None = "macro",
        num_thresholds: int | None = None,
        from_logits: bool = False,
        name: str | None = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(name=name, dtype=dtype)
        self.task = check_choice("task", task, _inputs.TASK_CHOICES)
        self.num_classes = check_optional_int("num_classes", num_classes, low=1)
        self.average = check_choice("average", average, AVERAGES)
        if num_thresholds is not None:
            num_thresholds = check_int("num_thresholds", num_thresholds, low=2)
        self.num_thresholds = num_thresholds
        self.from_logits = check_bool("from_logits", from_logits)
        self.num_bins = (
            DEFAULT_NUM_THRESHOLDS if num_thresholds is None else num_thresholds
        )
        if self.task == "binary":
            if self.num_classes not in (None, 1, 2):
                raise invalid_value(
                    "num_classes", "None, 1 or 2 for the binary task", num_classes
                )
            self.build_from_spec(("binary", 1), fixed=True)
        elif self.task in ("multiclass", "multilabel") and self.num_classes:
            self.build_from_spec((self.task, self.num_classes), fixed=True)

    # -- state ------------------------------------------------------------
    def state_spec(self, y_true: Any, y_pred: Any) -> tuple[str, int]:
        task = _inputs.resolve_task(self.task, y_pred, y_true)
        if task == "binary":
            _inputs.class_count(y_pred, task, self.num_classes)
            return ("binary", 1)
        return (task, _inputs.class_count(y_pred, task, self.num_classes))

    def build_state(self, spec: tuple[str, int]) -> None:
        _, k = spec
        self.histogram = self.add_state("histogram", (k, 2, self.num_bins))

    # -- update -----------------------------------------------------------
    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None):
        y_true, y_pred, sample_weight = self.batch_inputs(y_true, y_pred, sample_weight)
        task, k = self._spec
        self.accumulate(
            _histogram_increments,
            y_true,
            y_pred,
            sample_weight,
            task=task,
            num_classes=k,
            num_bins=self.num_bins,
            from_logits=self.from_logits,
        )

    def explain_invalid(self, y_true: Any, y_pred: Any, sample_weight: Any) -> None:
        """The eager checks that name what is wrong (they raise)."""
        task, k = self._spec
        _inputs.check_finite(y_pred, name="y_pred")
        if not self.from_logits:
            _inputs.check_bounds(y_pred, name="y_pred", low=0.0, high=1.0)
        _inputs.score_targets(
            y_true,
            y_pred,
            sample_weight,
            task=task,
            num_classes=max(k, 2),
            dtype=STATE_DTYPE,
        )

    # -- result -----------------------------------------------------------
    def score_from_histograms(self, positives: Any, negatives: Any) -> Any:
        raise NotImplementedError

    def compute_result(self):
        if not self.state_built:
            return ops.cast(float("nan"), self.dtype)
        task, _ = self._spec
        negatives = self.histogram[:, 0, :]
        positives = self.histogram[:, 1, :]
        if task == "binary":
            value = self.score_from_histograms(positives[0], negatives[0])
        elif self.average == "micro":
            value = self.score_from_histograms(
                ops.sum(positives, axis=0), ops.sum(negatives, axis=0)
            )
        else:
            value = average_scores(
                self.score_from_histograms(positives, negatives),
                ops.sum(positives, axis=-1),
                self.average,
            )
        return self.guard(value)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "task": self.task,
            "num_classes": self.num_classes,
            "average": self.average,
            "num_thresholds": self.num_thresholds,
            "from_logits": self.from_logits,
        }


_CLASS_DOC_ARGS = """
    Args:
        task: `"auto"` (binary when `y_pred` is 1-D or has a last axis of 1,
            else multiclass), `"binary"`, `"multiclass"` (one-vs-rest: class
            k's score is `y_pred[..., k]`, or its softmax probability when
            `from_logits`) or `"multilabel"` (one sigmoid score per class).
        num_classes: Number of classes; inferred from `y_pred.shape[-1]` when
            None. Given with an explicit multiclass / multilabel task, the
            state is built at construction.
        average: `"macro"`, `"weighted"` (by positive weight per class),
            `"micro"` (all class cells pooled) or None (per-class vector).
            The binary task returns the positive class's scalar.
        num_thresholds: Number of score bins B (None: 16384). State is
            `K * 2 * B` float64 values (256 KiB per class by default): lower
            it for many classes. Accuracy degrades gracefully with fewer bins.
        from_logits: Whether `y_pred` holds logits (any real scores) rather
            than probabilities in `[0, 1]`.
        name: Name of the metric instance.
        dtype: dtype of the result (float32 by default).

    Inputs: `y_true` as for the classification metrics (binary 0/1 labels,
    multiclass sparse labels or one-hot rows, multilabel multi-hot; any rank,
    every position one sample); `sample_weight` per position.

    Bad input: NaN or infinite `y_pred`, probabilities outside `[0, 1]` and
    labels that are not whole numbers in range raise a `ValueError` when
    called eagerly; while traced (`fit`, `evaluate`, `tf.function`, jit)
    they are counted and `result()` is NaN.
"""


@export
class AUROC(_BinnedRankingMetric):
    __doc__ = (
        """Area under the ROC curve, streamed over score bins.

    Formula, per class from weighted positive / negative score histograms
    (see `keras_components.metrics.ranking`):

    ```
    AUROC = sum_b pos_b * (neg_below_b + neg_b / 2) / (P * N)
    ```

    the exact trapezoid (Mann-Whitney with ties as 1/2) over the bin
    thresholds. Agrees with `sklearn.metrics.roc_auc_score` (`multi_class=
    "ovr"` for multiclass) within 1e-4 at the default bins, including on
    saturated sigmoid scores, where Keras's `AUC(num_thresholds=200)` is off
    by ~3e-4.

    Undefined values: a class seen with only positives or only negatives
    has AUROC NaN (scikit-learn 1.9 also returns NaN, with a warning), so
    `average="macro"` is NaN too; `average="weighted"` gives such a class
    weight 0 when it has no positives, as scikit-learn does. Before any
    update the result is NaN.
"""
        + _CLASS_DOC_ARGS
        + """
    Returns:
        `result()`: a scalar, or a `(K,)` vector for `average=None`.

    Example:

    >>> import numpy as np
    >>> from keras_components.metrics import AUROC
    >>> metric = AUROC()
    >>> metric.update_state([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    >>> print(np.asarray(metric.result()).round(4))
    0.75

    Reference:
        Hanley and McNeil, 1982, "The meaning and use of the area under a
        receiver operating characteristic (ROC) curve", Radiology 143(1).
    """
    )

    def __init__(
        self,
        *,
        task: str = "auto",
        num_classes: int | None = None,
        average: str | None = "macro",
        num_thresholds: int | None = None,
        from_logits: bool = False,
        name: str | None = "auroc",
        dtype: Any = None,
    ) -> None:
        super().__init__(
            task=task,
            num_classes=num_classes,
            average=average,
            num_thresholds=num_thresholds,
            from_logits=from_logits,
            name=name,
            dtype=dtype,
        )

    def score_from_histograms(self, positives: Any, negatives: Any) -> Any:
        return roc_auc_from_histograms(positives, negatives)


@export
class AUPRC(_BinnedRankingMetric):
    __doc__ = (
        """Average precision (area under the precision-recall curve, step-wise).

    Formula, per class from weighted positive / negative score histograms
    (see `keras_components.metrics.ranking`), with `TP_b`, `FP_b` the weight
    at or above bin b and P the total positive weight:

    ```
    AP = sum_b (pos_b / P) * TP_b / (TP_b + FP_b)
    ```

    scikit-learn's `average_precision_score` (`sum_k (R_k - R_{k+1}) P_k`),
    not the interpolated area Keras's `AUC(curve="PR")` computes. Agrees
    with scikit-learn within 1e-3 at the default bins (Keras's
    `AUC(curve="PR", num_thresholds=200)` is off by ~3e-3 on saturated
    sigmoid scores).

    Undefined values: a class with no positives has AP 0 (scikit-learn
    1.9's value, with a warning); with no data at all, NaN.
"""
        + _CLASS_DOC_ARGS
        + """
    Returns:
        `result()`: a scalar, or a `(K,)` vector for `average=None`.

    Example:

    >>> import numpy as np
    >>> from keras_components.metrics import AUPRC
    >>> metric = AUPRC()
    >>> metric.update_state([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    >>> print(np.asarray(metric.result()).round(4))
    0.8333

    Reference:
        Manning, Raghavan and Schuetze, 2008, "Introduction to Information
        Retrieval", section 8.4; scikit-learn `average_precision_score`.
    """
    )

    def __init__(
        self,
        *,
        task: str = "auto",
        num_classes: int | None = None,
        average: str | None = "macro",
        num_thresholds: int | None = None,
        from_logits: bool = False,
        name: str | None = "auprc",
        dtype: Any = None,
    ) -> None:
        super().__init__(
            task=task,
            num_classes=num_classes,
            average=average,
            num_thresholds=num_thresholds,
            from_logits=from_logits,
            name=name,
            dtype=dtype,
        )

    def score_from_histograms(self, positives: Any, negatives: Any) -> Any:
        return average_precision_from_histograms(positives, negatives)
