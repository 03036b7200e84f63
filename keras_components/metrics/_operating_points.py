"""Operating points read from the score histograms: no second pass over the data.

`PrecisionAtRecall`, `RecallAtPrecision`, `SensitivityAtSpecificity`,
`SpecificityAtSensitivity` and `BestThreshold` keep exactly the state of
`AUROC` / `AUPRC` (`keras_components.metrics._ranking`): per class, the
weighted negatives and positives in each of `B` logit bins
(`bin_edges(B)`), 16384 by default. `result()` reads every operating point
off those histograms at once.

Thresholds
----------
Threshold `b` (`0 <= b <= B`) predicts positive every score whose bin is at
or above `b`: `TP_b`, `FP_b` are the positive and negative weight there, and
`b = B` predicts nothing (`TP = FP = 0`). As a score, threshold `b` is the
lower edge of bin `b`: for probabilities `sigmoid(edges[b])` (0.0 for the
bottom bin, which holds the probabilities 0; 1.0 for the top bin; the
one-vs-rest softmax probability for multiclass), for `from_logits=True` the
logit `edges[b]` itself (the one-vs-rest logit for multiclass); `b = B` is
`+inf`. "score >= threshold" then selects the same samples, up to the
float rounding of a score next to an edge.

Semantics (Keras's, at bin resolution)
--------------------------------------
As Keras's `PrecisionAtRecall(recall)` and its siblings: the largest value
of the dependent rate among the thresholds whose constrained rate is at
least the requested one, 0 when no threshold reaches it (only
`RecallAtPrecision` can miss: every other constraint is met by predicting
all or nothing). Keras reads 200 evenly spaced probability thresholds; here
the thresholds are the `B + 1` bin edges. Where Keras's `divide_no_nan`
returns 0 for a rate of no data, the metric is NaN (undefined: no
positives, and for the sensitivity / specificity pair also no negatives),
as `AUROC`. The precision of predicting nothing is undefined; that point
never meets a precision constraint and counts 0 as a dependent, as in Keras.

Exactness
---------
Every bin edge is an exact threshold of the scores, so `result()` is the
exact metric (scikit-learn's `roc_curve` / `precision_recall_curve` read at
the requested point) over the thresholds the bins allow: exact when the
optimum does not fall inside a bin holding both positives and negatives,
and never above the exact value. `error_bound()` bounds the gap from the
histograms alone: inside bin `b` an exact threshold has `TP` between
`TP_{b+1}` and `TP_b` and `FP` between `FP_{b+1}` and `FP_b`; every rate
used here rises with `TP` and falls with `FP`, so the corner
`(TP_b, FP_{b+1})` dominates the bin and the exact value lies in
`[result(), max over corners]`. `threshold()` gives the threshold of
`result()`. The constraint kinds' `result()` reads the same maximum from
per-block sums and the few blocks that can hold it (`_pruned_rows`).

The state, its update and `merge_state` are those of
`_BinnedRankingMetric`; `histograms(state)` is the one reader of the
stored representation.
"""

from __future__ import annotations

import functools
from typing import Any

import keras
import numpy as np
from keras import ops

from keras_components import _backend, _docs, _inputs
from keras_components._export import export
from keras_components._validation import check_choice, check_float, invalid_value
from keras_components.metrics._base import (
    StreamingMetric,
    _compiled_score,
    average_classes,
    guarded_score,
)
from keras_components.metrics._ranking import _BinnedRankingMetric, bin_edges

__all__ = [
    "BestThreshold",
    "PrecisionAtRecall",
    "RecallAtPrecision",
    "SensitivityAtSpecificity",
    "SpecificityAtSensitivity",
    "histograms",
    "operating_point",
]

# The constraint metrics by kind: (constrained rate, dependent rate).
CONSTRAINTS = {
    "precision_at_recall": ("recall", "precision"),
    "recall_at_precision": ("precision", "recall"),
    "sensitivity_at_specificity": ("specificity", "recall"),
    "specificity_at_sensitivity": ("recall", "specificity"),
}
BEST_METRICS = ("f1", "fbeta", "youden")
# The rows of the stored `(K, 2, B)` histogram (`histograms`).
NEGATIVES, POSITIVES = 0, 1
OUTPUTS = ("value", "threshold", "bound")


# --------------------------------------------------------------------------
# Pure functions
# --------------------------------------------------------------------------
def histograms(state: dict[str, Any]) -> tuple[Any, Any]:
    """`(positives, negatives)`, each `(K, B)`, from the metric's state values.

    The stored representation is `"histogram"`, `(K, 2, B)`: negatives in
    row `NEGATIVES`, positives in row `POSITIVES` (`_rows` reads the same
    layout).
    """
    histogram = state["histogram"]
    return histogram[:, POSITIVES, :], histogram[:, NEGATIVES, :]


def _ratio(numerator: Any, denominator: Any) -> Any:
    """`numerator / denominator`, NaN where the denominator is not positive."""
    defined = denominator > 0
    safe = ops.where(defined, denominator, ops.ones_like(denominator))
    return ops.where(defined, numerator / safe, ops.full_like(numerator, float("nan")))


def _rates(tp: Any, fp: Any, total_pos: Any, total_neg: Any) -> dict[str, Any]:
    """`(numerator, denominator)` of recall, specificity and precision."""
    return {
        "recall": (tp, total_pos),
        "specificity": (total_neg - fp, total_neg),
        "precision": (tp, tp + fp),
    }


def _objective(
    tp: Any, fp: Any, total_pos: Any, total_neg: Any, metric: str, beta: float
) -> Any:
    """BestThreshold's quantity at each `(tp, fp)`."""
    if metric == "youden":
        return _ratio(tp, total_pos) - _ratio(fp, total_neg)
    b2 = beta * beta
    # (1 + b2) TP / ((1 + b2) TP + b2 FN + FP), FN = P - TP.
    return _ratio((1.0 + b2) * tp, tp + b2 * total_pos + fp)


@functools.cache
def _threshold_table(num_bins: int, from_logits: bool) -> np.ndarray:
    """The score of each threshold `b = 0..B` (see the module docstring)."""
    edges = bin_edges(num_bins)  # edges[B] = +inf: nothing predicted positive
    if from_logits:
        return edges
    with np.errstate(over="ignore"):
        table = 1.0 / (1.0 + np.exp(-edges))  # 0.0 at -inf, 1.0 at +inf
    table[-1] = np.inf
    return table


def _at_or_above_flipped(histogram: Any) -> Any:
    """`(..., B + 1)`: entry `j` is the weight in bins `>= B - j` (0 at `j = 0`).

    The reversed cumulative sum of `_at_or_above` in `_ranking`, read from
    its far end: the same sums in the same order (so it never decreases
    with `j`, float rounding being monotone; its last entry is the total),
    without flipping the result back.
    """
    summed = _backend.cumsum(ops.flip(histogram, axis=-1), axis=-1)
    return ops.concatenate([ops.zeros_like(histogram[..., :1]), summed], axis=-1)


def _first_index(mask: Any) -> Any:
    """The smallest `j` where `mask[..., j]`, or `mask.shape[-1]` (int32)."""
    size = mask.shape[-1]
    index = ops.arange(size, dtype="int32")
    return ops.min(ops.where(mask, index, ops.full_like(index, size)), axis=-1)


def _per_threshold(numerator: Any, denominator: Any) -> Any:
    """`numerator / denominator`, NaN where a per-threshold denominator is not positive.

    A per-row denominator `(K, 1)` (a class total) is left unchecked: a row
    whose total is not positive is undefined and comes out NaN anyway.
    """
    if denominator.shape[-1] == 1:
        return numerator / denominator
    return _ratio(numerator, denominator)


def _threshold_scores(
    tp: Any,
    fp: Any,
    total_pos: Any,
    total_neg: Any,
    kind: str,
    target: float,
    beta: float,
) -> Any:
    """The quantity maximised at each `(tp, fp)`; -inf where not a candidate.

    `BestThreshold`'s objective (-inf where undefined); for a constraint
    kind the dependent rate where the constraint holds (0 where that rate
    is undefined) and -inf where it does not.
    """
    if kind in BEST_METRICS:
        value = _objective(tp, fp, total_pos, total_neg, kind, beta)
        return ops.where(ops.isnan(value), ops.full_like(value, -np.inf), value)
    rates = _rates(tp, fp, total_pos, total_neg)
    constraint, wanted = (rates[name] for name in CONSTRAINTS[kind])
    numerator, denominator = constraint
    # Not `ops.cast(target, ...)`: a Python float would pass through float32.
    scaled = ops.convert_to_tensor(target, dtype=denominator.dtype) * denominator
    # `numerator >= target * denominator`, without rounding a quotient
    # (exact at the ends: XLA's float32 division on CPU is not
    # correctly rounded); an undefined rate never meets it (a row
    # without its total is NaN in the end).
    feasible = numerator >= scaled
    if denominator.shape[-1] != 1:
        feasible = ops.logical_and(feasible, denominator > 0)
    dependent = _per_threshold(*wanted)
    # The dependent rate where feasible, 0 where undefined, -inf elsewhere.
    score = ops.where(
        ops.logical_and(feasible, ops.logical_not(ops.isnan(dependent))),
        dependent,
        ops.zeros_like(dependent),
    )
    return ops.where(feasible, score, ops.full_like(score, -np.inf))


def _defined(total_pos: Any, total_neg: Any, kind: str) -> Any:
    """Per row (`(K, 1)` totals): whether the metric is defined."""
    defined = total_pos[..., 0] > 0
    if kind in ("sensitivity_at_specificity", "specificity_at_sensitivity", "youden"):
        defined = ops.logical_and(defined, total_neg[..., 0] > 0)
    return defined


# `_pruned_rows`: thresholds per block, and the blocks read bin by bin.
PRUNING_BLOCK = 128
PRUNING_CANDIDATES = 8


def _prunable(num_bins: int, kind: str) -> bool:
    """Whether `_pruned_rows` applies: a constraint, whole blocks, enough of them.

    Not for `BestThreshold`: its objectives are flat near their maximum, so
    more blocks than `PRUNING_CANDIDATES` often stay (measured on random
    binormal scores, B = 16384: F1 in 9 of 40 draws, Youden's J in 23, the
    constraint kinds in at most 1) and the cumulative pass would run anyway.
    """
    # More blocks than candidates (`top_k` reads one past them), and enough
    # more that pruning pays: 2048 bins or more.
    return (
        kind in CONSTRAINTS
        and num_bins % PRUNING_BLOCK == 0
        and num_bins // PRUNING_BLOCK >= 2 * PRUNING_CANDIDATES
    )


def _pruned_rows(
    histogram: Any, *, kind: str, target: float, beta: float, full: Any
) -> Any:
    """`_rows(output="value")`, reading the bins of a few blocks only.

    The same maximum of `_threshold_scores` over the `B + 1` thresholds
    (up to the float rounding of the cumulative sums, summed per block
    here), without a cumulative pass over all of them, which is most of
    `result()`'s cost at B = 16384. The thresholds fall in blocks of
    `PRUNING_BLOCK`; the block sums give the exact cumulative `(TP, FP)` at
    every block boundary, hence the best boundary value `lower`. Inside a
    block TP is at most its value at the block's low-threshold end and FP
    at least its value at the other end; every score rises with TP and
    falls with FP (module docstring), so the score at that corner bounds
    the block (a bound <= 0 matters not: the boundary `b = B`, predicting
    nothing, scores 0, or the constraint kinds report 0 for none
    feasible). Only blocks bounded above `lower` can hold the maximum: when
    at most `PRUNING_CANDIDATES` are, per row, their bins are summed and
    scored; otherwise `full()` (the cumulative pass) runs instead, so the
    value never depends on how the scores are spread.
    """
    rows, _, num_bins = histogram.shape
    blocks = num_bins // PRUNING_BLOCK
    # Threshold order as `_at_or_above_flipped`: j = 0 predicts nothing.
    tiles = ops.reshape(
        ops.flip(histogram, axis=-1), (rows * 2 * blocks, PRUNING_BLOCK)
    )
    # A product with ones: XLA's CPU row sums of float64 cost a little more.
    ones = ops.ones((PRUNING_BLOCK, 1), dtype=tiles.dtype)
    sums = ops.reshape(ops.matmul(tiles, ones), (rows, 2, blocks))
    # (K, 2, blocks + 1): the cumulative weights at the block boundaries.
    edges = ops.concatenate(
        [ops.zeros_like(sums[..., :1]), _backend.cumsum(sums, axis=-1)], axis=-1
    )
    tp, fp = edges[:, POSITIVES], edges[:, NEGATIVES]
    total_pos, total_neg = tp[..., -1:], fp[..., -1:]

    def scores(tp: Any, fp: Any) -> Any:
        return _threshold_scores(tp, fp, total_pos, total_neg, kind, target, beta)

    lower = ops.max(scores(tp, fp), axis=-1)
    bound = scores(tp[..., 1:], fp[..., :-1])  # block i: TP at its end, FP at start
    top, chosen = ops.top_k(bound, k=PRUNING_CANDIDATES + 1)
    exact = ops.all(top[..., -1] <= lower)
    chosen = chosen[..., :PRUNING_CANDIDATES]

    def read() -> Any:
        # Flat rows of `tiles` (and of `edges`) for each (class, side, block).
        side = ops.reshape(ops.arange(2, dtype="int32"), (1, 2, 1))
        first = ops.reshape(ops.arange(rows, dtype="int32"), (rows, 1, 1)) * 2 + side
        picked = ops.expand_dims(ops.cast(chosen, "int32"), 1)
        bins = ops.take(tiles, ops.reshape(first * blocks + picked, (-1,)), axis=0)
        start = ops.take(
            ops.reshape(edges, (-1,)),
            ops.reshape(first * (blocks + 1) + picked, (-1,)),
            axis=0,
        )
        cumulative = ops.reshape(
            ops.expand_dims(start, -1) + _backend.cumsum(bins, axis=-1),
            (rows, 2, PRUNING_CANDIDATES * PRUNING_BLOCK),
        )
        inner = scores(cumulative[:, POSITIVES], cumulative[:, NEGATIVES])
        best = _backend.maximum(lower, ops.max(inner, axis=-1))
        best = ops.where(best > 0, best, ops.zeros_like(best))  # constraint kinds only
        nan = ops.full_like(best, float("nan"))
        return ops.where(_defined(total_pos, total_neg, kind), best, nan)

    return ops.cond(exact, read, full)


def _rows(
    histogram: Any,
    *,
    kind: str,
    target: float,
    beta: float,
    output: str,
    thresholds: Any,
    pruned: bool = True,
) -> Any:
    """Per row of a `(K, 2, B)` histogram: the value, its threshold or the bound.

    The value is read by `_pruned_rows` where the bins allow it (`pruned`).

    Computed over the thresholds in reverse order (`_at_or_above_flipped`:
    index `j` is threshold `b = B - j`), so "the highest threshold" is the
    smallest `j`. The ties are broken only for `output="threshold"`.
    """
    if output == "value" and pruned and _prunable(histogram.shape[-1], kind):
        return _pruned_rows(
            histogram,
            kind=kind,
            target=target,
            beta=beta,
            full=functools.partial(
                _rows,
                histogram,
                kind=kind,
                target=target,
                beta=beta,
                output=output,
                thresholds=thresholds,
                pruned=False,
            ),
        )
    # Row by row: TensorFlow concatenates (K, B) rows faster than (K, 2, B).
    tp = _at_or_above_flipped(histogram[:, POSITIVES, :])
    fp = _at_or_above_flipped(histogram[:, NEGATIVES, :])
    total_pos, total_neg = tp[..., -1:], fp[..., -1:]
    defined = _defined(total_pos, total_neg, kind)
    nan = ops.full_like(total_pos[..., 0], float("nan"))
    if output == "bound":
        # The corners (TP_b, FP_{b+1}) dominate every exact threshold in bin
        # b: in reverse order TP at j = B - b, FP at j - 1.
        tp, fp = tp[..., 1:], fp[..., :-1]

    if kind in BEST_METRICS:
        clean = _threshold_scores(tp, fp, total_pos, total_neg, kind, target, beta)
        best = ops.max(clean, axis=-1)
        if output == "threshold":
            chosen = _first_index(ops.equal(clean, ops.expand_dims(best, -1)))
    else:
        score = _threshold_scores(tp, fp, total_pos, total_neg, kind, target, beta)
        best = ops.max(score, axis=-1)
        # None feasible: 0. (`ops.where`: Keras's torch `maximum` of two
        # float64 tensors returns float32.)
        best = ops.where(best > 0, best, ops.zeros_like(best))
        if output == "threshold":
            # Ties: the larger constrained rate, then the highest threshold.
            constraint = _rates(tp, fp, total_pos, total_neg)[CONSTRAINTS[kind][0]]
            constrained = _per_threshold(*constraint)
            feasible = ops.isfinite(score)
            tied = ops.logical_and(
                feasible, ops.equal(score, ops.expand_dims(best, -1))
            )
            runner = ops.max(
                ops.where(tied, constrained, ops.full_like(constrained, -np.inf)),
                axis=-1,
            )
            top = ops.equal(constrained, ops.expand_dims(runner, -1))
            chosen = _first_index(ops.logical_and(tied, top))
    if output == "threshold":
        # The thresholds in the same reverse order; none chosen: index B + 1.
        table = ops.cast(np.append(thresholds[::-1], np.nan), best.dtype)
        best = ops.take(table, chosen)
    return ops.where(defined, best, nan)


def operating_point(state: dict[str, Any], **options: Any) -> Any:
    """An operating-point metric from the histogram state (`_operating_point`).

    In a TensorFlow graph outside XLA (`fit`'s default on a CPU, an eager
    `result()`) it runs as one nested XLA kernel (`_backend.graph_kernel`):
    there each of the ~20 operations over the `B + 1` thresholds would be a
    graph pass of its own over a new buffer (measured, one CPU thread,
    binary, B = 16384, update+result: 1.31x -> 1.15x Keras's
    `PrecisionAtRecall(200)`). The
    value of a constraint kind is read from block sums and the few blocks
    that can hold it (`_pruned_rows`; 1.15x -> about 1.0x, and under XLA
    1.19x -> about 0.95x).
    """
    return _backend.graph_kernel(
        _operating_point, {"histogram": state["histogram"]}, **options
    )


def _operating_point(
    state: dict[str, Any],
    *,
    kind: str,
    target: float,
    beta: float,
    task: str,
    average: str | None,
    num_bins: int,
    from_logits: bool,
    output: str,
) -> Any:
    """An operating-point metric from the histogram state (pure `keras.ops`).

    Args:
        state: the state values (`histograms` reads them).
        kind: a key of `CONSTRAINTS`, or `"f1"`, `"fbeta"`, `"youden"`.
        target: the constraint's value (constraint kinds).
        beta: the F-beta weight (`"fbeta"`, `"f1"`).
        task: `"binary"`, `"multiclass"` or `"multilabel"`.
        average: as `AUROC`'s: `"macro"`, `"weighted"` (by positive
            weight), `"micro"` (pooled histograms) or None (per class).
        num_bins: B.
        from_logits: thresholds as logits rather than probabilities.
        output: `"value"` (`result()`), `"threshold"` (its threshold; per
            class unless binary or micro) or `"bound"` (the largest value
            the exact metric can have minus `result()`: `error_bound()`).
    """
    histogram = state["histogram"]
    rows = functools.partial(
        _rows,
        kind=kind,
        target=target,
        beta=beta,
        output="value" if output == "bound" else output,
        thresholds=_threshold_table(num_bins, from_logits),
    )

    def per_class(histogram):
        if output != "bound":
            return rows(histogram)
        upper = _rows(
            histogram,
            kind=kind,
            target=target,
            beta=beta,
            output="bound",
            thresholds=None,
        )
        gap = upper - rows(histogram)
        return ops.where(gap > 0, gap, ops.zeros_like(gap))

    if task == "binary":
        return per_class(histogram)[0]
    if average == "micro":
        return per_class(ops.sum(histogram, axis=0, keepdims=True))[0]
    values = per_class(histogram)
    if output == "threshold":
        return values
    positives, _ = histograms(state)
    return average_classes(
        values,
        ops.sum(positives, axis=-1),
        average=average,
        drop_unsupported=True,
        no_support=0.0,
    )


# --------------------------------------------------------------------------
# Classes
# --------------------------------------------------------------------------
class _OperatingPoint(_BinnedRankingMetric):
    """`AUROC`'s histogram state, read at an operating point.

    The state, `increments`, `explain_invalid`, configuration checks and
    `merge_state` are `_BinnedRankingMetric`'s (no running pair count:
    `_keeps_wins` stays False); `result()` is the contract's path
    (`StreamingMetric.compute_result`) over `operating_point`.
    """

    kind: str = ""

    # The contract's result path, restored on purpose: the ranking base's
    # `compute_result` is AUROC's and AUPRC's own (traced, the running
    # `wins` or `_ranking_outputs`; eager, their error bound for the
    # tolerance warning), none of which applies to an operating point, whose
    # `score` is the whole result. Sharing the rest of that base (state,
    # update, merge) is why this is an override and not a separate base.
    compute_result = StreamingMetric.compute_result
    score = staticmethod(operating_point)

    def _target(self) -> float:
        return 0.0

    def _beta(self) -> float:
        return 1.0

    def score_options(self, output: str = "value") -> dict[str, Any]:
        return {
            "kind": self.kind,
            "target": self._target(),
            "beta": self._beta(),
            "task": self._spec[0],
            "average": self.average,
            "num_bins": self.num_bins,
            "from_logits": self.from_logits,
            "output": output,
        }

    def _read(self, output: str) -> Any:
        """`operating_point(state, output=output)`, as `compute_result` runs it."""
        if not self.state_built:
            return ops.cast(float("nan"), self.dtype)
        state = self.state_values()
        dtype = keras.backend.standardize_dtype(self.dtype)
        options = tuple(sorted(self.score_options(output).items()))
        score = type(self).score
        if any(isinstance(v, keras.KerasTensor) for v in state.values()):
            return guarded_score(state, score=score, options=options, dtype=dtype)
        if _inputs.concrete_value(state["invalid"]) is None:  # traced
            return guarded_score(state, score=score, options=options, dtype=dtype)
        shapes = tuple((k, tuple(v.shape)) for k, v in self.state_variables.items())
        return _compiled_score(keras.backend.backend(), score, options, dtype, shapes)(
            state
        )

    def threshold(self) -> Any:
        """The threshold at which `result()` is reached.

        A score: a probability in `[0, 1]`, or with `from_logits=True` a
        logit (for multiclass, the one-vs-rest softmax probability or
        logit); predicting positive every score `>=` it gives the
        operating point (module docstring). `+inf` means predicting
        nothing. NaN before any data, after invalid input, where the
        result is NaN, and where no threshold meets the constraint. A
        scalar for the binary task and `average="micro"`, otherwise one
        threshold per class `(K,)`. Among equally good thresholds: the one
        with the larger constrained rate, then the highest.
        """
        return self._read("threshold")

    def error_bound(self) -> Any:
        """How far below the exact value `result()` can be, from the state alone.

        The exact metric of the same float scores (scikit-learn's curves
        read at the same constraint) lies in `[result(), result() +
        error_bound()]`; 0 means `result()` is exact. Averaged as
        `result()`; NaN where it is NaN.
        """
        return self._read("bound")


# Text shared by the docstrings (`_docs.fill`).
_ARGS = """\
task: `"auto"` (binary when `y_pred` is 1-D or has a last axis of 1,
    else multiclass), `"binary"`, `"multiclass"` (one-vs-rest on the
    softmax probabilities) or `"multilabel"`.
num_classes: Number of classes; inferred from `y_pred` when None.
average: `"macro"`, `"weighted"` (by positive weight per class),
    `"micro"` (the classes' histograms pooled) or None (per class), as
    `AUROC`'s. The binary task returns a scalar.
num_thresholds: Number of score bins B (None: 16384), as `AUROC`'s:
    the thresholds are the `B + 1` bin edges.
from_logits: Whether `y_pred` holds logits rather than probabilities;
    `threshold()` is then a logit.
name: Name of the metric instance.
dtype: dtype of the result (float32 by default).
"""

_RETURNS = """\
Returns:
    `result()`: a scalar, or a `(K,)` vector for `average=None`; NaN
    before any data and where undefined (see above). `threshold()`: the
    threshold of that value; `error_bound()`: how far below the exact
    value it can be (module `keras_components.metrics._operating_points`).

Bad input: as `AUROC` (eager `ValueError`; traced, NaN).
"""


def _check_rate(name: str, value: Any) -> float:
    return check_float(name, value, low=0.0, high=1.0)


@export
@_docs.fill(args=_ARGS, returns=_RETURNS)
class PrecisionAtRecall(_OperatingPoint):
    """Best precision among the thresholds with recall at least `recall`.

    Formula, per class over the thresholds b of the score histograms:

    ```
    value = max_b { TP_b / (TP_b + FP_b) : TP_b / P >= recall }
    ```

    Keras's `PrecisionAtRecall` at the bin edges rather than 200 thresholds:
    `sklearn.metrics.precision_recall_curve` read at the requested recall,
    exact up to the bins (`error_bound()`). NaN without positives.

    Args:
        recall: The smallest acceptable recall, in `[0, 1]`.
        {args}

    {returns}

    Example:

    >>> import numpy as np
    >>> from keras_components.metrics import PrecisionAtRecall
    >>> metric = PrecisionAtRecall(recall=0.5)
    >>> metric.update_state([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    >>> print(np.asarray(metric.result()).round(4))
    1.0
    >>> print(np.asarray(metric.threshold()).round(3))
    0.8
    """

    default_name = "precision_at_recall"
    kind = "precision_at_recall"

    def __init__(self, recall: float, **kwargs: Any) -> None:
        self.recall = _check_rate("recall", recall)
        super().__init__(**kwargs)

    def _target(self) -> float:
        return self.recall

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "recall": self.recall}


@export
@_docs.fill(args=_ARGS, returns=_RETURNS)
class RecallAtPrecision(_OperatingPoint):
    """Best recall among the thresholds with precision at least `precision`.

    Formula, per class over the thresholds b of the score histograms:

    ```
    value = max_b { TP_b / P : TP_b / (TP_b + FP_b) >= precision }
    ```

    Keras's `RecallAtPrecision` at the bin edges: 0 when no threshold
    reaches the precision, NaN without positives. Equals
    `sklearn.metrics.precision_recall_curve` read at the requested
    precision, exact up to the bins (`error_bound()`).

    Args:
        precision: The smallest acceptable precision, in `[0, 1]`.
        {args}

    {returns}

    Example:

    >>> import numpy as np
    >>> from keras_components.metrics import RecallAtPrecision
    >>> metric = RecallAtPrecision(precision=0.6)
    >>> metric.update_state([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    >>> print(np.asarray(metric.result()).round(4))
    1.0
    """

    default_name = "recall_at_precision"
    kind = "recall_at_precision"

    def __init__(self, precision: float, **kwargs: Any) -> None:
        self.precision = _check_rate("precision", precision)
        super().__init__(**kwargs)

    def _target(self) -> float:
        return self.precision

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "precision": self.precision}


@export
@_docs.fill(args=_ARGS, returns=_RETURNS)
class SensitivityAtSpecificity(_OperatingPoint):
    """Best sensitivity among the thresholds with specificity at least `specificity`.

    Formula, per class over the thresholds b of the score histograms:

    ```
    value = max_b { TP_b / P : (N - FP_b) / N >= specificity }
    ```

    Keras's `SensitivityAtSpecificity` at the bin edges: the true positive
    rate of `sklearn.metrics.roc_curve` at false positive rate at most
    `1 - specificity`, exact up to the bins (`error_bound()`). NaN without
    positives or without negatives.

    Args:
        specificity: The smallest acceptable specificity, in `[0, 1]`.
        {args}

    {returns}

    Example:

    >>> import numpy as np
    >>> from keras_components.metrics import SensitivityAtSpecificity
    >>> metric = SensitivityAtSpecificity(specificity=0.5)
    >>> metric.update_state([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    >>> print(np.asarray(metric.result()).round(4))
    1.0
    """

    default_name = "sensitivity_at_specificity"
    kind = "sensitivity_at_specificity"

    def __init__(self, specificity: float, **kwargs: Any) -> None:
        self.specificity = _check_rate("specificity", specificity)
        super().__init__(**kwargs)

    def _target(self) -> float:
        return self.specificity

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "specificity": self.specificity}


@export
@_docs.fill(args=_ARGS, returns=_RETURNS)
class SpecificityAtSensitivity(_OperatingPoint):
    """Best specificity among the thresholds with sensitivity at least `sensitivity`.

    Formula, per class over the thresholds b of the score histograms:

    ```
    value = max_b { (N - FP_b) / N : TP_b / P >= sensitivity }
    ```

    Keras's `SpecificityAtSensitivity` at the bin edges: one minus the
    false positive rate of `sklearn.metrics.roc_curve` at true positive
    rate at least `sensitivity`, exact up to the bins (`error_bound()`).
    NaN without positives or without negatives.

    Args:
        sensitivity: The smallest acceptable sensitivity, in `[0, 1]`.
        {args}

    {returns}

    Example:

    >>> import numpy as np
    >>> from keras_components.metrics import SpecificityAtSensitivity
    >>> metric = SpecificityAtSensitivity(sensitivity=1.0)
    >>> metric.update_state([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    >>> print(np.asarray(metric.result()).round(4))
    0.5
    """

    default_name = "specificity_at_sensitivity"
    kind = "specificity_at_sensitivity"

    def __init__(self, sensitivity: float, **kwargs: Any) -> None:
        self.sensitivity = _check_rate("sensitivity", sensitivity)
        super().__init__(**kwargs)

    def _target(self) -> float:
        return self.sensitivity

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "sensitivity": self.sensitivity}


@export
class BestThreshold(_OperatingPoint):
    """The best F1, F-beta or Youden's J over all thresholds (binary).

    Formula, over the thresholds b of the score histograms (P, N: the
    positive and negative weight):

    ```
    F_beta = max_b (1 + beta**2) TP_b / (TP_b + beta**2 P + FP_b)
    ```

    ```
    J = max_b (TP_b / P - FP_b / N)
    ```

    `result()` is that best value, a scalar, so `fit` logs it (Keras logs
    scalars; its name is `best_f1`, `best_fbeta` or `best_youden` unless
    `name` is given); `threshold()` returns the threshold that reaches it
    (the highest of equally good ones), a probability in `[0, 1]`, or a
    logit with `from_logits=True` (`+inf`: predict nothing). Equals the
    maximum over `sklearn.metrics.precision_recall_curve` (F-beta) or
    `sklearn.metrics.roc_curve` (J) points, exact up to the bins: never
    above the exact value, and at most `error_bound()` below it. NaN
    without positives (and for J without negatives). Read the threshold
    after `fit` / `evaluate` (`metric.threshold()`; eager or traced).

    Args:
        metric: `"f1"`, `"fbeta"` (with `beta`) or `"youden"` (`tpr - fpr`).
        beta: The F-beta weight of recall, > 0; only with `metric="fbeta"`
            (`"f1"` is `beta=1`).
        task: `"binary"` (the only task: one score per sample).
        num_thresholds: Number of score bins B (None: 16384), as `AUROC`'s.
        from_logits: Whether `y_pred` holds logits; `threshold()` is then a
            logit.
        name: Name of the metric instance (default `"best_" + metric`).
        dtype: dtype of the result (float32 by default).

    Example:

    >>> import numpy as np
    >>> from keras_components.metrics import BestThreshold
    >>> metric = BestThreshold("f1")
    >>> metric.update_state([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    >>> print(np.asarray(metric.result()).round(4))
    0.8
    >>> print(np.asarray(metric.threshold()).round(3))
    0.35
    """

    default_name = None  # "best_" + metric

    def __init__(
        self,
        metric: str = "f1",
        beta: float = 1.0,
        *,
        task: str = "binary",
        **kwargs: Any,
    ) -> None:
        self.metric = check_choice("metric", metric, BEST_METRICS)
        self.beta = check_float("beta", beta, low=0.0, low_inclusive=False)
        if self.metric != "fbeta" and self.beta != 1.0:
            raise invalid_value(
                "beta",
                f"1.0 with metric={self.metric!r} (pass metric='fbeta' for "
                "another beta)",
                beta,
            )
        check_choice("task", task, ("binary",))
        kwargs["name"] = kwargs.get("name") or f"best_{self.metric}"
        super().__init__(task=task, **kwargs)

    @property
    def kind(self) -> str:  # type: ignore[override]
        return self.metric

    def _beta(self) -> float:
        return self.beta

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "metric": self.metric, "beta": self.beta}
