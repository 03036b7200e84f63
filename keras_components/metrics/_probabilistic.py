"""Probabilistic metrics: `LogLoss` (cross-entropy of predicted probabilities)."""

from __future__ import annotations

from typing import Any, NamedTuple

import keras
import numpy as np
from keras import ops

from keras_components import _backend, _inputs, _math
from keras_components._export import export
from keras_components._validation import check_bool, check_choice
from keras_components.metrics._base import StreamingMetric

__all__ = [
    "CheckedScores",
    "LogLoss",
    "ProbabilityMetric",
    "checked_scores",
    "log_loss_per_sample",
]


def log_loss_per_sample(
    targets: Any,
    scores: Any,
    *,
    task: str,
    from_logits: bool = False,
    eps: float | None = None,
) -> Any:
    """Negative log-likelihood of the true class at each position, `(M,)`.

    Args:
        targets: int `(M, K)` 0/1: binary K = 1 (the label), multiclass one-hot.
        scores: `(M, K)`: the probability of class 1 (binary) or of each class,
            or logits when `from_logits`.
        task: `"binary"` or `"multiclass"`.
        from_logits: Logits are handled in log space (`log_sigmoid`,
            `log_softmax`), exactly. Probabilities are clipped to
            `[eps, 1 - eps]` with `eps` the machine epsilon of their dtype
            (float32 for half precision), as `sklearn.metrics.log_loss` does.
        eps: The clipping bound when not the scores' own (the float64 eps of
            float64 probabilities that reached this function as float32,
            on JAX without x64). `eps` and `log(eps)` are normal float32
            numbers, so `-log` of a clipped certain mistake is exact.

    Returns:
        Float32 (float64 for float64 scores) losses per position.
    """
    scores = ops.convert_to_tensor(scores)
    dtype = _math.compute_dtype(scores)
    scores = ops.cast(scores, dtype)
    targets = ops.cast(targets, dtype)
    if task == "binary":
        scores, targets = scores[:, 0], targets[:, 0]
        if from_logits:
            positive, negative = ops.log_sigmoid(scores), ops.log_sigmoid(-scores)
        else:
            eps = float(np.finfo(dtype).eps) if eps is None else eps
            positive = ops.log(ops.clip(scores, eps, 1.0 - eps))
            negative = ops.log(ops.clip(1.0 - scores, eps, 1.0 - eps))
        return -ops.where(targets > 0, positive, negative)
    if from_logits:
        log_p = ops.log_softmax(scores, axis=-1)
    else:
        eps = float(np.finfo(dtype).eps) if eps is None else eps
        log_p = ops.log(ops.clip(scores, eps, 1.0 - eps))
    return -ops.sum(ops.where(targets > 0, log_p, ops.zeros_like(log_p)), axis=-1)


def _is_float64(x: Any) -> bool:
    """Whether `x` has a float64 dtype (a host array, before any conversion)."""
    dtype = getattr(x, "dtype", None)
    try:
        return dtype is not None and keras.backend.standardize_dtype(dtype) == "float64"
    except ValueError:
        return False


# Largest |sum - 1| of a multiclass probability row, whatever its dtype. A
# half-precision softmax may reach the metric cast to float32, its origin
# unknown: TensorFlow's float16 kernel is off by up to ~2.1e-3 at 1000
# classes, a bfloat16 one by up to four units of 2**-8 (XLA's are closer).
# Independent sigmoid outputs and logits are far off; a row this close to 1
# changes log(p) by at most 1.6e-2.
DISTRIBUTION_TOLERANCE = _inputs.row_sum_tolerance("bfloat16")

# The fix named when multiclass probabilities are not a distribution per row.
ROWS_HINT = (
    "A multiclass metric reads softmax outputs: for independent (sigmoid) "
    "outputs, score each class as a binary task. If `y_pred` holds logits, "
    "pass from_logits=True."
)


class CheckedScores(NamedTuple):
    """One batch of a probability metric, checked (`checked_scores`).

    Attributes:
        targets: int `(M, K)` 0/1 (binary K = 1: the label; multiclass
            one-hot), meaningless where `bad`.
        scores: `(M, K)` in float32 or wider, zero where `bad`.
        weights: `(M,)` in the state dtype, zero where `bad` (1 per valid
            position without `sample_weight`).
        bad: bool `(M,)`, positions that cannot be counted.
        invalid: the counts of `bad` by reason (`_inputs.INVALID_REASONS`).
    """

    targets: Any
    scores: Any
    weights: Any
    bad: Any
    invalid: Any


def checked_scores(
    y_true: Any,
    y_pred: Any,
    sample_weight: Any,
    *,
    task: str,
    num_classes: int,
    from_logits: bool,
) -> CheckedScores:
    """The canonical score form with every invalid position marked (pure).

    Invalid: a target that is not a hard class indicator, a non-finite
    score, a probability outside `[0, 1]` and, multiclass without
    `from_logits`, a row not summing to 1 (within `DISTRIBUTION_TOLERANCE`:
    independent sigmoid outputs are not a distribution),
    a non-finite weight.
    """
    y_pred = ops.convert_to_tensor(y_pred)
    tolerance = DISTRIBUTION_TOLERANCE
    state_dtype = _backend.state_dtype()
    found = _inputs.score_targets(
        y_true,
        y_pred,
        sample_weight,
        task=task,
        num_classes=num_classes,
        dtype=state_dtype,
    )
    scores = ops.cast(found.scores, _math.compute_dtype(found.scores))
    bad_scores = ops.logical_not(ops.isfinite(scores))
    if not from_logits:
        bad_scores = ops.logical_or(bad_scores, _inputs.invalid_probabilities(scores))
    bad_scores = ops.any(bad_scores, axis=-1)
    if task == "multiclass" and not from_logits:
        bad_scores = ops.logical_or(
            bad_scores, _inputs.invalid_row_sums(scores, tolerance)
        )
    bad_weights = None
    if found.weights is not None:
        bad_weights = ops.logical_not(ops.isfinite(found.weights[:, 0]))
    bad, code = _inputs.reason_codes(
        targets=ops.any(found.invalid, axis=-1),
        soft=None if found.soft is None else ops.any(found.soft, axis=-1),
        predictions=bad_scores,
        weights=bad_weights,
    )
    scores = ops.where(ops.expand_dims(bad, -1), ops.zeros_like(scores), scores)
    if found.weights is None:
        weights = ops.cast(ops.logical_not(bad), state_dtype)
    else:
        weights = ops.where(
            bad, ops.zeros_like(found.weights[:, 0]), found.weights[:, 0]
        )
    invalid = _backend.segment_sum(
        ops.cast(bad, state_dtype), code, num_segments=_inputs.NUM_REASONS
    )
    return CheckedScores(found.targets, scores, weights, bad, invalid)


class ProbabilityMetric(StreamingMetric):
    """Base of the metrics of predicted probabilities: `LogLoss`, `CalibrationError`.

    One task per metric, binary or multiclass (`task`, `from_logits`). The
    state does not depend on the number of classes, but a second batch (or
    a merged metric) with another task or class count is refused, as by
    every other metric: the value would mix two problems. Every batch goes
    through `checked_scores`; the eager checks (`explain_invalid`) name the
    same invalid entries.

    Args:
        task: `"auto"` (binary when `y_pred` is 1-D or has a last axis of 1,
            else multiclass), `"binary"` (`y_pred` is the probability or
            logit of class 1, shape `(N,)` or `(N, 1)`) or `"multiclass"`
            (`y_pred` `(N, C)` probabilities or logits; `y_true` sparse
            labels or one-hot rows).
        from_logits: Whether `y_pred` holds logits (binary: sigmoid,
            multiclass: softmax). Without it, probabilities must lie in
            `[0, 1]` and multiclass rows must sum to 1 (within
            `DISTRIBUTION_TOLERANCE`, 1.6e-2, which a half-precision softmax
            cast to float32 meets; they are not renormalised).
    """

    tasks = ("binary", "multiclass")

    def __init__(
        self, *, task: str = "auto", from_logits: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.task = check_choice("task", task, ("auto", *self.tasks))
        self.from_logits = check_bool("from_logits", from_logits)
        if self.task == "binary":
            self.build_from_spec(("binary", 2), fixed=True)

    def state_spec(self, y_true: Any, y_pred: Any) -> tuple[str, int]:
        task = _inputs.resolve_task(self.task, y_pred, y_true)
        return task, _inputs.class_count(y_pred, task)

    def update_options(self) -> dict[str, Any]:
        task, num_classes = self._spec
        return {
            "task": task,
            "num_classes": num_classes,
            "from_logits": self.from_logits,
        }

    def explain_invalid(self, y_true: Any, y_pred: Any, sample_weight: Any) -> None:
        task, num_classes = self._spec
        _inputs.check_score_inputs(
            y_true,
            y_pred,
            sample_weight,
            task=task,
            num_classes=num_classes,
            from_logits=self.from_logits,
        )
        if task == "multiclass" and not self.from_logits:
            y_pred = ops.convert_to_tensor(y_pred)
            _inputs.check_probability_values(
                y_pred,
                name="y_pred",
                rows=True,
                tolerance=DISTRIBUTION_TOLERANCE,
                rows_hint=ROWS_HINT,
            )

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "task": self.task,
            "from_logits": self.from_logits,
        }


@export
class LogLoss(ProbabilityMetric):
    """Log loss (cross-entropy), the weighted mean negative log-likelihood.

    Formula, with `p_i` the predicted probability of sample i's true class:

    ```
    LogLoss = -sum_i w_i * log(p_i) / sum_i w_i
    ```

    Equals `sklearn.metrics.log_loss(y_true, y_prob, labels=range(C),
    sample_weight=w)` within 1e-5: from probabilities it clips them to
    `[eps, 1 - eps]` (eps of the input dtype, also for a float64 array on
    JAX without x64, which computes it in float32) exactly as scikit-learn does;
    from logits it is exact (`log_sigmoid` / `log_softmax`, no clipping).
    Multiclass probability rows must sum to 1 (within
    `DISTRIBUTION_TOLERANCE`, 1.6e-2, for any dtype: a half-precision softmax
    may arrive cast to float32) and are not renormalised: a row that
    does not (independent sigmoid outputs) is invalid input, where
    scikit-learn only warns and returns a number. State: float64 weighted
    loss sum and weight total. No data: NaN.

    Args:
        task: `"auto"` (binary when `y_pred` is 1-D or has a last axis of 1,
            else multiclass), `"binary"` (`y_pred` is the probability or
            logit of class 1, shape `(N,)` or `(N, 1)`) or `"multiclass"`
            (`y_pred` `(N, C)` probabilities or logits; `y_true` sparse
            labels or one-hot rows).
        from_logits: Whether `y_pred` holds logits.
        name: Name of the metric instance.
        dtype: dtype of the result (float32 by default).

    Inputs of any rank: every position of `y_pred.shape[:-1]` (binary: of
    `y_pred`'s positions) is one sample; `sample_weight` per position.

    Bad input: NaN or infinite `y_pred`, probabilities outside `[0, 1]`,
    multiclass probability rows not summing to 1, labels that are not whole
    numbers in range, NaN weights: `ValueError` when eager, NaN result when
    traced.

    Returns:
        `result()`: a scalar.

    Example:

    >>> import numpy as np
    >>> from keras_components.metrics import LogLoss
    >>> metric = LogLoss()
    >>> metric.update_state([1, 0, 0, 1], [0.9, 0.1, 0.2, 0.65])
    >>> print(np.asarray(metric.result()).round(4))
    0.2162

    Reference:
        Bishop, 2006, "Pattern Recognition and Machine Learning", p. 209;
        scikit-learn, `sklearn.metrics.log_loss`.
    """

    default_name = "log_loss"
    direction = "down"

    def state_shapes(self, spec: Any) -> dict[str, tuple[int, ...]]:
        return {"total_loss": (), "total_weight": ()}

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None):
        # scikit-learn clips to the eps of the probabilities' dtype. Without
        # float64 tensors (JAX without x64) a float64 array reaches the
        # kernel as float32: its eps is the dtype the caller passed.
        self._eps = None
        if not _backend.float64_state() and _is_float64(y_pred):
            self._eps = float(np.finfo(np.float64).eps)
        super().update_state(y_true, y_pred, sample_weight)

    def update_options(self) -> dict[str, Any]:
        return {**super().update_options(), "eps": getattr(self, "_eps", None)}

    @staticmethod
    def increments(
        y_true, y_pred, sample_weight, *, task, num_classes, from_logits, eps=None
    ):
        checked = checked_scores(
            y_true,
            y_pred,
            sample_weight,
            task=task,
            num_classes=num_classes,
            from_logits=from_logits,
        )
        losses = log_loss_per_sample(
            checked.targets, checked.scores, task=task, from_logits=from_logits, eps=eps
        )
        state_dtype = _backend.state_dtype()
        losses = ops.where(checked.bad, 0.0, ops.cast(losses, state_dtype))
        return {
            "total_loss": ops.sum(checked.weights * losses),
            "total_weight": ops.sum(checked.weights),
            "invalid": checked.invalid,
        }

    @staticmethod
    def score(state):
        # A total weight <= 0 holds nothing (negative sample weights).
        weight = _backend.maximum(state["total_weight"], 0.0)
        return _math.divide(state["total_loss"], weight, float("nan"))
