"""Calibration: `CalibrationError` (expected / RMS / maximum calibration error).

Top-label calibration error over uniform confidence bins, as torchmetrics'
`calibration_error` defines it. The state is sums per bin (weight and
weighted confidence, for incorrect and correct samples apart), so the value
streams exactly: batches, replicas and merged shards add.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from keras import ops

from keras_components import _backend, _inputs, _math
from keras_components._export import export
from keras_components._validation import check_choice, check_int
from keras_components.metrics._probabilistic import ProbabilityMetric, checked_scores

__all__ = [
    "CalibrationBins",
    "CalibrationError",
    "bin_edges",
    "bin_index",
    "bin_totals",
    "calibration_error",
]

NORMS = ("l1", "l2", "max")
# `bin_index` counts the edges below a confidence, under XLA, up to this many.
COUNTED_BINS = 32


def bin_edges(num_bins: int, dtype: str = "float64") -> np.ndarray:
    """The `num_bins + 1` bin edges `j / num_bins`, rounded once to `dtype`.

    Bin `j < num_bins` holds the confidences `c` with `edge[j] <= c <
    edge[j + 1]`; a confidence of exactly 1 has a bin of its own (index
    `num_bins`), as `torch.bucketize(c, linspace(0, 1, n + 1), right=True) - 1`
    gives in torchmetrics.
    """
    return (np.arange(num_bins + 1, dtype=np.float64) / num_bins).astype(dtype)


def bin_index(confidence: Any, num_bins: int) -> Any:
    """int32 bin of each confidence in `[0, 1]` (`bin_edges`), pure `keras.ops`.

    Exactly the bin the rounded edges define, with one gather and one
    comparison: `g = floor(c * s)` with `s = n * (1 - 2 eps)` rounded (eps
    of `c`'s dtype) is the bin `t` or the one below it, never above (the
    shrink outweighs the three roundings of the edge, `s` and the product,
    at most ~3 units of roundoff; below, `t * 7u < 1` for `n < 1 / (8 u)`),
    so `g + (c >= edge[g + 1])` is `t`. For more bins than that (2 million
    in float32) the guess `floor(c * n)` is corrected against both
    neighbouring edges. Under XLA, for up to `COUNTED_BINS` bins, `t` is
    counted instead, `sum_j (c >= edge[j])` over `j = 1..n`: the
    comparisons fuse into one pass, which costs less than the gather
    (65536 float32 confidences, 15 bins, one CPU thread: about 0.17 ms
    against 0.29 ms).
    """
    dtype = _math.compute_dtype(confidence)
    confidence = ops.cast(confidence, dtype)
    if num_bins <= COUNTED_BINS and _backend.compiled_by_xla():
        index = ops.zeros_like(confidence, dtype="int32")
        for edge in bin_edges(num_bins, dtype)[1:]:
            index = index + ops.cast(confidence >= edge, "int32")
        return index
    edges = ops.convert_to_tensor(
        np.append(bin_edges(num_bins, dtype), np.inf).astype(dtype)
    )
    eps = float(np.finfo(dtype).eps)
    if num_bins * 4.0 * eps <= 0.5:
        scale = ops.convert_to_tensor(
            np.asarray(num_bins, dtype) * np.asarray(1.0 - 2.0 * eps, dtype), dtype
        )
        guess = _backend.floor(confidence * scale)
        # c in [0, 1] gives g in [0, n - 1]; the clip only keeps the gather
        # in range.
        guess = ops.cast(ops.clip(guess, 0.0, float(num_bins - 1)), "int32")
        return guess + ops.cast(confidence >= ops.take(edges, guess + 1), "int32")
    guess = _backend.floor(confidence * float(num_bins))
    guess = ops.cast(ops.clip(guess, 0.0, float(num_bins)), "int32")
    low = ops.take(edges, guess)
    high = ops.take(edges, guess + 1)
    index = (
        guess
        - ops.cast(confidence < low, "int32")
        + ops.cast(confidence >= high, "int32")
    )
    return ops.clip(index, 0, num_bins)


class CalibrationBins(NamedTuple):
    """The reliability diagram's data: one entry per bin (NumPy float64).

    Attributes:
        lower: Each bin's lower edge `j / n`; the last bin (confidence
            exactly 1) has lower = upper = 1.
        upper: Each bin's upper edge (excluded, except for the last bin).
        weight: The (weighted) number of samples in the bin.
        accuracy: Mean correctness in the bin (binary: the fraction of
            positives); 0 for an empty bin, as torchmetrics.
        confidence: Mean confidence in the bin; 0 for an empty bin.
    """

    lower: np.ndarray
    upper: np.ndarray
    weight: np.ndarray
    accuracy: np.ndarray
    confidence: np.ndarray


def bin_totals(sums: Any) -> tuple[Any, Any, Any]:
    """Per-bin sums `(weight, weight * correct, weight * confidence)`.

    `sums` is the state `bin_sums`, `(2 * bins, 2)`: the rows of the
    incorrect samples' bins, then the correct ones', each holding the sums of
    `(weight, weight * confidence)`. Tensors or NumPy arrays alike.
    """
    reshape = np.reshape if isinstance(sums, np.ndarray) else ops.reshape
    halves = reshape(sums, (2, -1, 2))  # a traced shape may be unknown
    wrong, right = halves[0], halves[1]
    return wrong[:, 0] + right[:, 0], right[:, 0], wrong[:, 1] + right[:, 1]


def _per_bin(sums: Any) -> tuple[Any, Any, Any]:
    """`(weight, accuracy, confidence)` per bin of `bin_sums`; empty bins 0."""
    count, correct, confidence = bin_totals(ops.convert_to_tensor(sums))
    filled = count > 0
    safe = ops.where(filled, count, ops.ones_like(count))
    zero = ops.zeros_like(count)
    accuracy = ops.where(filled, correct / safe, zero)
    confidence = ops.where(filled, confidence / safe, zero)
    return count, accuracy, confidence


def calibration_error(state: dict[str, Any], *, norm: str) -> Any:
    """`CalibrationError`'s value from its state (pure `keras.ops`).

    In a TensorFlow graph outside XLA (`fit`'s default on a CPU, an eager
    `result()`) it runs as one nested XLA kernel (`_backend.graph_kernel`):
    its ~20 operations on a few bins would each be a graph kernel of its
    own, which together cost more than LogLoss's whole `result()`.
    """
    return _backend.graph_kernel(
        _calibration_error, {"bin_sums": state["bin_sums"]}, norm=norm
    )


def _calibration_error(state: dict[str, Any], *, norm: str) -> Any:
    count, accuracy, confidence = _per_bin(state["bin_sums"])
    total = ops.sum(count)
    # A total weight <= 0 holds nothing (negative sample weights).
    share = _math.divide(count, _backend.maximum(total, 0.0), 0.0)
    gap = ops.abs(accuracy - confidence)
    if norm == "l1":
        value = ops.sum(share * gap)
    elif norm == "l2":
        value = ops.sqrt(_backend.maximum(ops.sum(share * gap * gap), 0.0))
    else:
        value = ops.max(gap)
    return ops.where(total > 0, value, float("nan"))


@export
class CalibrationError(ProbabilityMetric):
    """Top-label calibration error (ECE, RMSCE or MCE) over uniform bins.

    Every sample gets a confidence `c` and a correctness `a`: binary, `c`
    is the predicted probability of class 1 and `a` the label (so a bin's
    accuracy is its fraction of positives); multiclass, `c` is the largest
    probability and `a` is 1 when its class (the first argmax) is the label.
    The confidences fall in `num_bins` uniform bins `[j / n, (j + 1) / n)`
    and one more for `c = 1` exactly; bin b holds the weight `n_b`, the
    mean correctness `acc_b` and the mean confidence `conf_b`
    (`sample_weight`-weighted; an empty bin counts 0). With `N = sum_b n_b`,
    for `norm="l1"`, `"l2"` and `"max"`:

        ECE = sum_b (n_b / N) * |acc_b - conf_b|
        RMSCE = sqrt(sum_b (n_b / N) * (acc_b - conf_b)^2)
        MCE = max_b |acc_b - conf_b|

    This is torchmetrics'
    `calibration_error` (`binary_calibration_error` /
    `multiclass_calibration_error` with `n_bins=num_bins`), which this
    metric equals to float32 rounding, plus sample weights (torchmetrics has
    none). The edges are `j / n` rounded once to the scores' dtype
    (`bin_edges`); torch's `linspace` may be one ulp off some of them, so a
    confidence lying exactly on such an edge can fall in the neighbouring
    bin there. Scikit-learn has no calibration error; its
    `calibration_curve(strategy="uniform")` closes bins on the right instead.
    State: float64 per-bin sums of weight and weighted confidence, kept
    apart for incorrect and correct samples (`bin_totals`).
    No data (or a total weight <= 0): NaN.

    Args:
        num_bins: Number of uniform bins over `[0, 1]` (>= 1).
        norm: `"l1"` (expected calibration error, the default), `"l2"`
            (root-mean-square calibration error) or `"max"` (maximum
            calibration error).
        task: `"auto"` (binary when `y_pred` is 1-D or has a last axis of 1,
            else multiclass), `"binary"` (`y_pred` the probability or logit
            of class 1) or `"multiclass"` (`y_pred` `(N, C)` probabilities or
            logits; `y_true` sparse labels or one-hot rows).
        from_logits: Whether `y_pred` holds logits (binary: sigmoid,
            multiclass: softmax, computed in float32 or wider). Without it
            probabilities must lie in `[0, 1]`, and multiclass rows must sum
            to 1 (they are not renormalised, as in torchmetrics; a row that
            does not, e.g. independent sigmoid outputs, is invalid input).
        name: Name of the metric instance.
        dtype: dtype of the result (float32 by default).

    Inputs of any rank: every position of `y_pred.shape[:-1]` (binary: of
    `y_pred`'s positions) is one sample; `sample_weight` per position.

    Bad input: NaN or infinite `y_pred`, probabilities outside `[0, 1]`
    or multiclass rows not summing to 1 (without `from_logits`), labels
    that are not whole numbers in range, NaN weights: `ValueError` when
    eager, NaN result when traced.

    Returns:
        `result()`: a scalar (lower is better; 0 is perfectly calibrated).
        `bins()`: the per-bin data of the reliability diagram
        (`keras_components.plots.plot_reliability` draws it).

    Example:

    >>> import numpy as np
    >>> from keras_components.metrics import CalibrationError
    >>> metric = CalibrationError(num_bins=2)
    >>> metric.update_state([0, 0, 1, 1, 1], [0.25, 0.25, 0.55, 0.75, 0.75])
    >>> print(np.asarray(metric.result()).round(4))
    0.29
    >>> print(np.asarray(CalibrationError(num_bins=2, norm="max")(
    ...     [0, 0, 1, 1, 1], [0.25, 0.25, 0.55, 0.75, 0.75])).round(4))
    0.3167

    Reference:
        Guo et al., 2017, "On Calibration of Modern Neural Networks", ICML;
        Naeini et al., 2015, "Obtaining Well Calibrated Probabilities Using
        Bayesian Binning", AAAI; torchmetrics, `calibration_error`.
    """

    default_name = "calibration_error"
    direction = "down"

    def __init__(self, num_bins: int = 15, norm: str = "l1", **kwargs: Any) -> None:
        # Before the base's `__init__`: a fixed binary task builds the
        # state there, and the bins' shape depends on `num_bins`.
        self.num_bins = check_int("num_bins", num_bins, low=1)
        self.norm = check_choice("norm", norm, NORMS)
        super().__init__(**kwargs)

    def state_shapes(self, spec: Any) -> dict[str, tuple[int, ...]]:
        bins = self.num_bins + 1  # the last one: confidence exactly 1
        return {"bin_sums": (2 * bins, 2)}  # see `bin_totals`

    def update_options(self) -> dict[str, Any]:
        return {**super().update_options(), "num_bins": self.num_bins}

    def score_options(self) -> dict[str, Any]:
        return {"norm": self.norm}

    @staticmethod
    def increments(
        y_true, y_pred, sample_weight, *, task, num_classes, from_logits, num_bins
    ):
        checked = checked_scores(
            y_true,
            y_pred,
            sample_weight,
            task=task,
            num_classes=num_classes,
            from_logits=from_logits,
        )
        scores, targets = checked.scores, checked.targets
        if task == "binary":
            probabilities = _backend.sigmoid(scores) if from_logits else scores
            confidence = probabilities[:, 0]
            correct = targets[:, 0]
        else:
            probabilities = ops.softmax(scores, axis=-1) if from_logits else scores
            confidence = ops.max(probabilities, axis=-1)
            predicted = _inputs.argmax_last(probabilities)
            correct = ops.take_along_axis(
                targets, ops.expand_dims(predicted, -1), axis=-1
            )[:, 0]
        index = bin_index(confidence, num_bins)
        # Bad positions weigh 0 (and their confidence is finite), so they
        # add nothing; only their correctness, unspecified there, is set to
        # 0 to keep the segment ids in range.
        weights = checked.weights
        correct = ops.where(checked.bad, 0, ops.cast(correct, "int32"))
        weighted = ops.stack(
            [weights, weights * ops.cast(confidence, weights.dtype)], axis=1
        )
        # One scatter of (weight, weight * confidence) rows into the bins
        # of the incorrect samples, then those of the correct ones
        # (`bin_totals` reads the per-bin sums off them). Under XLA on a CPU
        # one scatter of (N, 2) rows costs less than three of (N,) (weight,
        # confidence, correctness; 65536 binary scores, one thread: the
        # update now costs about what LogLoss's does, before 1.1-1.2x).
        bins = num_bins + 1
        sums = _backend.segment_sum(
            weighted, index + bins * correct, num_segments=2 * bins
        )
        return {"bin_sums": sums, "invalid": checked.invalid}

    score = staticmethod(calibration_error)

    def bins(self) -> CalibrationBins:
        """The per-bin weight, accuracy and confidence, read eagerly (NumPy).

        `num_bins + 1` entries: the uniform bins, then the bin of confidence
        exactly 1 (torchmetrics' extra bin). This is the data of the
        reliability diagram (`plots.plot_reliability`).

        Raises:
            RuntimeError: Called while traced.
            ValueError: No data yet, or the state counted invalid inputs.
        """
        if not self.state_built:
            raise ValueError(
                f"{type(self).__name__}(name={self.name!r}) has seen no data: "
                "call `update_state` (or `evaluate`) first."
            )
        read = {
            k: _inputs.concrete_value(ops.convert_to_tensor(v))
            for k, v in self.state_tensors().items()
        }
        if any(v is None for v in read.values()):
            raise RuntimeError(
                f"{type(self).__name__}.bins() reads the state eagerly; it "
                "cannot run while traced."
            )
        state: dict[str, np.ndarray] = {
            k: np.asarray(v) for k, v in read.items() if v is not None
        }
        if np.any(state["invalid"] > 0):
            raise ValueError(
                f"{type(self).__name__}(name={self.name!r}) counted invalid "
                "inputs (its result is NaN): `reset_state()` and feed valid "
                "ones."
            )
        state = {k: np.asarray(v, np.float64) for k, v in state.items()}
        count, correct, confidence = bin_totals(state["bin_sums"])
        filled = count > 0
        safe = np.where(filled, count, 1.0)
        edges = bin_edges(self.num_bins)
        return CalibrationBins(
            lower=edges.copy(),
            upper=np.append(edges[1:], 1.0),
            weight=count,
            accuracy=np.where(filled, correct / safe, 0.0),
            confidence=np.where(filled, confidence / safe, 0.0),
        )

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "num_bins": self.num_bins, "norm": self.norm}
