"""Regression metrics: `R2`, `RMSE`, `MAE`, `MSLE`, with scikit-learn's `multioutput`.

Inputs are `(N,)` (one output) or `(N, ..., D)` (D outputs; every leading
position is one sample), `y_true` and `y_pred` of the same shape (a trailing
axis of 1 on one side is allowed); `sample_weight` weighs samples (`(N,)`)
or cells (the full shape). Every value is cast to float64 before any
arithmetic, so float32 inputs are represented exactly and the float64
state accumulates without the float32 cancellation that breaks Keras's
`R2Score` on large targets.

`multioutput` (as scikit-learn): `"raw_values"` (one value per output),
`"uniform_average"`, a sequence of D non-negative output weights, and for
`R2` also `"variance_weighted"` (weights = each output's total sum of
squares).

Bad input: NaN or infinity in `y_true` / `y_pred` / `sample_weight` (and,
for `MSLE`, negative values) raise a `ValueError` in eager calls, before any
state changes; while traced they are counted and the result is NaN, never a
finite wrong number.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from keras import ops

from keras_components import _inputs
from keras_components._export import export
from keras_components._validation import (
    check_float_sequence,
    check_int,
    invalid_type,
    invalid_value,
)
from keras_components.metrics._base import STATE_DTYPE, StreamingMetric

__all__ = [
    "MAE",
    "MSLE",
    "R2",
    "RMSE",
    "average_outputs",
    "r2_from_moments",
]

_EPS64 = float(2.0**-52)


# --------------------------------------------------------------------------
# Pure functions
# --------------------------------------------------------------------------
def _safe_divide(numerator: Any, denominator: Any) -> Any:
    """`numerator / denominator`, NaN where the denominator is 0."""
    # Tensors, not variables: `ones_like` / `full_like` of a JAX-backed
    # `keras.Variable` fail.
    numerator = ops.convert_to_tensor(numerator)
    denominator = ops.convert_to_tensor(denominator)
    ok = denominator != 0
    value = numerator / ops.where(ok, denominator, ops.ones_like(denominator))
    return ops.where(ok, value, ops.full_like(value, float("nan")))


def _output_sum(x: Any, weights: Any) -> Any:
    """`sum(w * x)` over samples of output-major `(D, M)` data, `(D,)`."""
    return ops.sum(x if weights is None else weights * x, axis=-1)


def average_outputs(
    values: Any, multioutput: str | Sequence[float], *, variance: Any = None
) -> Any:
    """Combines per-output values `(D,)` as scikit-learn's `multioutput`.

    `"variance_weighted"` needs `variance` (each output's total sum of
    squares) and falls back to the uniform mean when every output is
    constant, as scikit-learn does.
    """
    if isinstance(multioutput, str):
        if multioutput == "raw_values":
            return values
        if multioutput == "uniform_average":
            return ops.mean(values, axis=-1)
        # variance_weighted
        total = ops.sum(variance, axis=-1)
        weighted = ops.sum(values * variance, axis=-1) / ops.where(
            total > 0, total, ops.ones_like(total)
        )
        return ops.where(total > 0, weighted, ops.mean(values, axis=-1))
    weights = ops.convert_to_tensor(list(multioutput), dtype=values.dtype)
    return ops.sum(values * weights, axis=-1) / ops.sum(weights)


def r2_from_moments(residual: Any, total: Any) -> Any:
    """`1 - SSE / SST` with scikit-learn's `force_finite=True` conventions.

    Perfect predictions (SSE = 0) score 1, also on constant targets; imperfect
    predictions of constant targets (SST = 0) score 0.
    """
    raw = 1.0 - residual / ops.where(total != 0, total, ops.ones_like(total))
    one = ops.ones_like(raw)
    return ops.where(residual == 0, one, ops.where(total == 0, 0.0 * one, raw))


def _check_multioutput(multioutput: Any, choices: tuple[str, ...]) -> Any:
    if isinstance(multioutput, str):
        if multioutput not in choices:
            shown = ", ".join(repr(c) for c in choices)
            raise invalid_value(
                "multioutput",
                f"one of {{{shown}}} or a sequence of output weights",
                multioutput,
            )
        return multioutput
    if multioutput is None or isinstance(multioutput, (bytes, bool)):
        raise invalid_type(
            "multioutput", f"one of {choices} or a sequence of floats", multioutput
        )
    weights = check_float_sequence("multioutput", multioutput, low=0.0)
    if sum(weights) <= 0:
        raise invalid_value(
            "multioutput", "output weights with a positive sum", multioutput
        )
    return list(weights)


# --------------------------------------------------------------------------
# Classes
# --------------------------------------------------------------------------
class _RegressionMetric(StreamingMetric):
    """Shared argument handling, input normalisation and aggregation."""

    multioutput_choices: tuple[str, ...] = ("raw_values", "uniform_average")
    nonnegative_inputs = False

    def __init__(
        self,
        *,
        multioutput: str | Sequence[float] = "uniform_average",
        name: str | None = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(name=name, dtype=dtype)
        self.multioutput = _check_multioutput(multioutput, self.multioutput_choices)
        if not isinstance(self.multioutput, str):
            self.build_from_spec(len(self.multioutput), fixed=True)

    def state_spec(self, y_true: Any, y_pred: Any) -> int:
        outputs = _inputs.output_count(y_true, y_pred)
        if not isinstance(self.multioutput, str) and outputs != len(self.multioutput):
            raise ValueError(
                f"Invalid value for argument `multioutput`. Expected {outputs} "
                f"output weights (y_pred has {outputs} outputs). Received: "
                f"multioutput={self.multioutput!r}"
            )
        return outputs

    def normalized(self, y_true: Any, y_pred: Any, sample_weight: Any):
        """`(y_true, y_pred, weights)`, float64 output-major `(D, M)`."""
        y_true, y_pred, sample_weight = self.batch_inputs(y_true, y_pred, sample_weight)
        _inputs.check_finite(y_true, name="y_true")
        _inputs.check_finite(y_pred, name="y_pred")
        if self.nonnegative_inputs:
            _inputs.check_bounds(y_true, name="y_true", low=0.0)
            _inputs.check_bounds(y_pred, name="y_pred", low=0.0)
        if sample_weight is not None:
            _inputs.check_finite(sample_weight, name="sample_weight")
        return _inputs.regression_targets(
            y_true, y_pred, sample_weight, dtype=STATE_DTYPE
        )

    def batch_weight(self, found: _inputs.RegressionTargets) -> Any:
        """Per-output total weight of the batch, `(D,)`."""
        if found.weights is None:
            rows = ops.cast(ops.shape(found.y_true)[1], STATE_DTYPE)
            return rows * ops.ones((self._spec,), STATE_DTYPE)
        return ops.sum(found.weights, axis=-1)

    def count_invalid_outputs(
        self, found: _inputs.RegressionTargets, *sums: Any
    ) -> None:
        """Counts outputs whose batch had NaN / inf (or, for MSLE, negatives).

        A NaN or infinity anywhere in an output's data (or weights) makes its
        `(D,)` batch sums non-finite, so checking those finds every invalid
        input without another pass over the data. Called before any state is
        assigned: an eager batch with invalid input raises here and leaves the
        state exactly as it was. A traced one cannot raise: it may leave
        non-finite values in the state, and `result()` is NaN (the `invalid`
        counter) until `reset_state`.
        """
        total = sums[0]
        for other in sums[1:]:
            total = total + other  # non-finite iff one of them is
        invalid = ops.logical_not(ops.isfinite(total))
        if self.nonnegative_inputs:
            smallest = ops.minimum(
                ops.min(found.y_true, axis=-1), ops.min(found.y_pred, axis=-1)
            )
            invalid = ops.logical_or(invalid, smallest < 0)
        # Counted per output, under "weights" when the weights are to blame
        # and under "predictions" (the values) otherwise.
        bad_weights = None
        if found.weights is not None:
            bad_weights = ops.logical_not(ops.isfinite(ops.sum(found.weights, axis=-1)))
        count = _inputs.concrete_value(
            ops.logical_or(invalid, bad_weights) if bad_weights is not None else invalid
        )
        if count is not None and np.any(count):
            # y_true / y_pred were checked already (`normalized`).
            if found.weights is not None:
                _inputs.check_finite(found.weights, name="sample_weight")
            raise ValueError(
                f"Invalid values in the inputs of {type(self).__name__}: the "
                f"batch sums of {int(np.sum(count))} output(s) are not finite "
                "(values too large for float64). Expected inputs whose squares "
                "are finite in float64."
            )
        if bad_weights is not None:
            invalid = ops.logical_and(invalid, ops.logical_not(bad_weights))
        self.count_invalid(predictions=invalid, weights=bad_weights)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "multioutput": self.multioutput}


class _MeanErrorMetric(_RegressionMetric):
    """`finish(sum(w * term(y, y_hat)) / sum(w))` per output, then averaged."""

    direction = "down"

    def build_state(self, spec: int) -> None:
        self.total_weight = self.add_state("total_weight", (spec,))
        self.total = self.add_state("total", (spec,))

    def term(self, y_true: Any, y_pred: Any) -> Any:
        raise NotImplementedError

    def finish(self, mean: Any) -> Any:
        return mean

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None):
        found = self.normalized(y_true, y_pred, sample_weight)
        weight = self.batch_weight(found)
        total = _output_sum(self.term(found.y_true, found.y_pred), found.weights)
        self.count_invalid_outputs(found, total)
        self.add_to(self.total_weight, weight)
        self.add_to(self.total, total)

    def compute_result(self):
        if not self.state_built:
            return ops.cast(float("nan"), self.dtype)
        per_output = self.finish(_safe_divide(self.total, self.total_weight))
        return self.guard(average_outputs(per_output, self.multioutput))


_SHARED_ARGS = """
    Args:
        multioutput: `"uniform_average"` (default), `"raw_values"` (a `(D,)`
            vector) or a sequence of D non-negative output weights, as in
            scikit-learn.
        name: Name of the metric instance.
        dtype: dtype of the result (float32 by default).
"""


@export
class RMSE(_MeanErrorMetric):
    __doc__ = (
        """Root mean squared error, per output, then averaged.

    Formula, per output: `sqrt(sum(w * (y - y_hat)**2) / sum(w))`; equals
    `sklearn.metrics.root_mean_squared_error` (the average of per-output
    RMSEs). State: float64 weight total and weighted sum of squared
    residuals per output (residuals are exact for float32 inputs even at
    large offsets). No data: NaN.
"""
        + _SHARED_ARGS
        + """
    Returns:
        `result()`: a scalar, or `(D,)` for `multioutput="raw_values"`.

    Example:

    >>> import numpy as np
    >>> from keras_components.metrics import RMSE
    >>> metric = RMSE()
    >>> metric.update_state([3.0, -0.5, 2.0, 7.0], [2.5, 0.0, 2.0, 8.0])
    >>> print(np.asarray(metric.result()).round(4))
    0.6124

    Reference:
        scikit-learn, `sklearn.metrics.root_mean_squared_error`.
    """
    )

    def __init__(
        self,
        *,
        multioutput: str | Sequence[float] = "uniform_average",
        name: str | None = "rmse",
        dtype: Any = None,
    ) -> None:
        super().__init__(multioutput=multioutput, name=name, dtype=dtype)

    def term(self, y_true: Any, y_pred: Any) -> Any:
        return ops.square(y_true - y_pred)

    def finish(self, mean: Any) -> Any:
        return ops.sqrt(mean)


@export
class MAE(_MeanErrorMetric):
    __doc__ = (
        """Mean absolute error, per output, then averaged.

    Formula, per output: `sum(w * |y - y_hat|) / sum(w)`; equals
    `sklearn.metrics.mean_absolute_error`. No data: NaN.
"""
        + _SHARED_ARGS
        + """
    Returns:
        `result()`: a scalar, or `(D,)` for `multioutput="raw_values"`.

    Example:

    >>> import numpy as np
    >>> from keras_components.metrics import MAE
    >>> metric = MAE()
    >>> metric.update_state([3.0, -0.5, 2.0, 7.0], [2.5, 0.0, 2.0, 8.0])
    >>> print(np.asarray(metric.result()).round(4))
    0.5

    Reference:
        scikit-learn, `sklearn.metrics.mean_absolute_error`.
    """
    )

    def __init__(
        self,
        *,
        multioutput: str | Sequence[float] = "uniform_average",
        name: str | None = "mae",
        dtype: Any = None,
    ) -> None:
        super().__init__(multioutput=multioutput, name=name, dtype=dtype)

    def term(self, y_true: Any, y_pred: Any) -> Any:
        return ops.abs(y_true - y_pred)


@export
class MSLE(_MeanErrorMetric):
    __doc__ = (
        """Mean squared logarithmic error, per output, then averaged.

    Formula, per output: `sum(w * (log1p(y) - log1p(y_hat))**2) / sum(w)`;
    equals `sklearn.metrics.mean_squared_log_error` on non-negative data.
    Negative `y_true` or `y_pred` are rejected (`ValueError` when eager,
    NaN result when traced): the error is meant for non-negative targets
    (counts, prices). scikit-learn 1.9 accepts values in (-1, 0); we do
    not, so a sign error upstream is never scored silently.
"""
        + _SHARED_ARGS
        + """
    Returns:
        `result()`: a scalar, or `(D,)` for `multioutput="raw_values"`.

    Example:

    >>> import numpy as np
    >>> from keras_components.metrics import MSLE
    >>> metric = MSLE()
    >>> metric.update_state([3.0, 5.0, 2.5, 7.0], [2.5, 5.0, 4.0, 8.0])
    >>> print(np.asarray(metric.result()).round(4))
    0.0397

    Reference:
        scikit-learn, `sklearn.metrics.mean_squared_log_error`.
    """
    )

    nonnegative_inputs = True

    def __init__(
        self,
        *,
        multioutput: str | Sequence[float] = "uniform_average",
        name: str | None = "msle",
        dtype: Any = None,
    ) -> None:
        super().__init__(multioutput=multioutput, name=name, dtype=dtype)

    def term(self, y_true: Any, y_pred: Any) -> Any:
        return ops.square(ops.log1p(y_true) - ops.log1p(y_pred))


@export
class R2(_RegressionMetric):
    """Coefficient of determination R2, streamed stably at any offset.

    Formula, per output: `R2 = 1 - SSE / SST` with
    `SSE = sum(w * (y - y_hat)**2)` and `SST = sum(w * (y - mean_w(y))**2)`;
    equals `sklearn.metrics.r2_score` (`force_finite=True`: 1 for perfect
    predictions, 0 for imperfect predictions of constant targets; NaN with
    fewer than two samples). With `num_regressors=p > 0`, the adjusted
    `R2_adj = 1 - (1 - R2) (n - 1) / (n - p - 1)` (NaN when `n - p - 1 <= 0`),
    applied per output.

    Streaming without cancellation. Keras's `R2Score` keeps `sum(y**2)` and
    `sum(y)` in float32 and computes `sum(y**2) - sum(y)**2 / n`, which loses
    every significant digit once the offset dwarfs the spread (on float32
    targets around 1e4 over 100 batches it reports 1.002 where the truth is
    0.910). Here, per output and in float64:

    - `n = sum(w)`, `S1 = sum(w * y)` and `SSE` are plain sums.
    - `M2`, the sum of squared deviations, is merged batch by batch with
      Chan et al.'s parallel update: with the batch's `n_b`, `mean_b` and
      `M2_b` (centred on the batch mean) and `delta = mean_b - S1 / n` from
      the current state,
      `M2 += M2_b + delta**2 * n * n_b / (n + n_b)`.
    - `P = S1**2 / n` is re-assigned (not accumulated) after each update.

    Under `tf.distribute`, Keras sums each variable over replicas when it is
    read (`aggregation="sum"`), so `result()` sees `sum n_r`, `sum S1_r`,
    `sum M2_r` and `sum P_r = sum n_r mean_r**2`, and computes
    `SST = sum M2_r + (sum P_r - S1**2 / n)`. The bracket is the
    between-replica sum of squares; on one replica it is exactly 0 (the same
    float64 operations on the same values), so no sum-of-squares minus
    square-of-sums ever happens on a single device. Values of the bracket
    below float64 rounding (16 eps * sum P_r) count as 0, so constant targets
    stay exactly constant across replicas. `merge_state` folds each metric's
    state into its SST and applies the same Chan merge.

    `n` for the adjusted R2 is the number of samples with non-zero weight
    per output (Keras's `R2Score` uses the number of scalar values N * D,
    which overstates n for several outputs).

    Args:
        multioutput: `"uniform_average"` (default), `"raw_values"` (a `(D,)`
            vector), `"variance_weighted"` (weights = each output's SST; the
            uniform mean if all outputs are constant) or a sequence of D
            non-negative output weights, as in scikit-learn.
        num_regressors: Number of independent regressors p for the adjusted
            R2; 0 gives the plain R2.
        name: Name of the metric instance.
        dtype: dtype of the result (float32 by default).

    Returns:
        `result()`: a scalar, or `(D,)` for `multioutput="raw_values"`.

    Example:

    >>> import numpy as np
    >>> from keras_components.metrics import R2
    >>> metric = R2()
    >>> metric.update_state([3.0, -0.5, 2.0, 7.0], [2.5, 0.0, 2.0, 8.0])
    >>> print(np.asarray(metric.result()).round(4))
    0.9486

    Reference:
        Chan, Golub and LeVeque, 1979, "Updating Formulae and a Pairwise
        Algorithm for Computing Sample Variances", Stanford CS-TR-79-773;
        scikit-learn, `sklearn.metrics.r2_score`.
    """

    multioutput_choices = ("raw_values", "uniform_average", "variance_weighted")

    def __init__(
        self,
        *,
        multioutput: str | Sequence[float] = "uniform_average",
        num_regressors: int = 0,
        name: str | None = "r2",
        dtype: Any = None,
    ) -> None:
        self.num_regressors = check_int("num_regressors", num_regressors, low=0)
        super().__init__(multioutput=multioutput, name=name, dtype=dtype)

    def build_state(self, spec: int) -> None:
        shape = (spec,)
        self.count = self.add_state("count", shape)
        self.weight_sum = self.add_state("weight_sum", shape)
        self.target_sum = self.add_state("target_sum", shape)
        self.m2 = self.add_state("m2", shape)
        self.mean_square_term = self.add_state("mean_square_term", shape)
        self.residual_sum = self.add_state("residual_sum", shape)

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None):
        found = self.normalized(y_true, y_pred, sample_weight)
        y, weights = found.y_true, found.weights
        batch_n = self.batch_weight(found)
        batch_sum = _output_sum(y, weights)
        batch_mean = batch_sum / ops.where(batch_n > 0, batch_n, 1.0)
        centred = y - ops.expand_dims(batch_mean, -1)
        batch_m2 = _output_sum(ops.square(centred), weights)
        residual = _output_sum(ops.square(y - found.y_pred), weights)
        if weights is None:
            batch_count = batch_n
        else:
            batch_count = ops.sum(ops.cast(weights != 0, STATE_DTYPE), axis=-1)
        self.count_invalid_outputs(found, batch_sum, residual)

        # Chan et al.: merge (n_b, mean_b, M2_b) into the local state.
        n = ops.convert_to_tensor(self.weight_sum)
        total = ops.convert_to_tensor(self.target_sum)
        delta = batch_mean - total / ops.where(n > 0, n, 1.0)
        new_n = n + batch_n
        new_total = total + batch_sum
        safe_n = ops.where(new_n > 0, new_n, 1.0)
        self.m2.assign(self.m2 + batch_m2 + ops.square(delta) * (n * batch_n / safe_n))
        self.weight_sum.assign(new_n)
        self.target_sum.assign(new_total)
        self.mean_square_term.assign(ops.square(new_total) / safe_n)
        self.add_to(self.residual_sum, residual)
        self.add_to(self.count, batch_count)

    def total_sum_of_squares(self) -> Any:
        """Per-output SST from the (possibly replica-summed) state."""
        n = ops.convert_to_tensor(self.weight_sum)
        total = ops.convert_to_tensor(self.target_sum)
        mean_square = ops.convert_to_tensor(self.mean_square_term)
        between = mean_square - ops.square(total) / ops.where(n > 0, n, 1.0)
        between = ops.where(between > 16 * _EPS64 * mean_square, between, 0.0)
        return self.m2 + between

    def compute_result(self):
        if not self.state_built:
            return ops.cast(float("nan"), self.dtype)
        sst = self.total_sum_of_squares()
        scores = r2_from_moments(ops.convert_to_tensor(self.residual_sum), sst)
        count = ops.convert_to_tensor(self.count)
        nan = ops.full_like(scores, float("nan"))
        scores = ops.where(count >= 2, scores, nan)
        if self.num_regressors:
            dof = count - self.num_regressors - 1.0
            adjusted = 1.0 - (1.0 - scores) * (count - 1.0) / ops.where(
                dof > 0, dof, 1.0
            )
            scores = ops.where(dof > 0, adjusted, nan)
        return self.guard(average_outputs(scores, self.multioutput, variance=sst))

    def merge_built_state(self, other: StreamingMetric) -> None:
        # Chan merge of (n, mean, SST); every other state is additive. All
        # values are read before the first assignment.
        read = ops.convert_to_tensor
        n_a, n_b = read(self.weight_sum), read(other.weight_sum)
        s_a, s_b = read(self.target_sum), read(other.target_sum)
        sst_a, sst_b = self.total_sum_of_squares(), other.total_sum_of_squares()
        mean_a = s_a / ops.where(n_a > 0, n_a, 1.0)
        mean_b = s_b / ops.where(n_b > 0, n_b, 1.0)
        new_n, new_total = n_a + n_b, s_a + s_b
        safe_n = ops.where(new_n > 0, new_n, 1.0)
        m2 = sst_a + sst_b + ops.square(mean_b - mean_a) * (n_a * n_b / safe_n)
        self.m2.assign(m2)
        self.weight_sum.assign(new_n)
        self.target_sum.assign(new_total)
        self.mean_square_term.assign(ops.square(new_total) / safe_n)
        for mine, theirs in (
            (self.invalid, other.invalid),
            (self.count, other.count),
            (self.residual_sum, other.residual_sum),
        ):
            mine.assign(mine + theirs)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "num_regressors": self.num_regressors}
