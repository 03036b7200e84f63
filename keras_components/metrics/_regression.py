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
from keras.backend import standardize_dtype

from keras_components import _backend, _docs, _inputs, _math
from keras_components._backend import LOW_SUFFIX
from keras_components._export import export
from keras_components._validation import check_int, check_multioutput
from keras_components.metrics._base import StreamingMetric, invalid_counts

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


# --------------------------------------------------------------------------
# Classes
# --------------------------------------------------------------------------
def _nan_divide(numerator: Any, denominator: Any) -> Any:
    """`numerator / denominator`, NaN where the denominator is 0."""
    return _math.divide(numerator, denominator, float("nan"))


def _batch_weight(found: _inputs.RegressionTargets, outputs: int) -> Any:
    """Per-output total weight of the batch, `(D,)`."""
    if found.weights is None:
        rows = ops.cast(ops.shape(found.y_true)[1], _backend.state_dtype())
        return rows * ops.ones((outputs,), _backend.state_dtype())
    return ops.sum(found.weights, axis=-1)


def _invalid_outputs(
    found: _inputs.RegressionTargets, sums: Sequence[Any], nonnegative: bool
) -> Any:
    """Invalid counts per output, from the batch sums.

    `invalid` counts of the outputs whose batch had NaN / inf (or, with
    `nonnegative`, negative values).

    A NaN or infinity anywhere in an output's data (or weights) makes its
    `(D,)` batch sums non-finite, so checking those finds every invalid input
    without another pass over the data. Counted per output, under
    `"weights"` when the weights are to blame and under `"predictions"` (the
    values) otherwise.
    """
    total = sums[0]
    for other in sums[1:]:
        total = total + other  # non-finite iff one of them is
    invalid = ops.logical_not(ops.isfinite(total))
    if nonnegative:
        smallest = _backend.minimum(
            ops.min(found.y_true, axis=-1), ops.min(found.y_pred, axis=-1)
        )
        invalid = ops.logical_or(invalid, smallest < 0)
    bad_weights = None
    if found.weights is not None:
        bad_weights = ops.logical_not(ops.isfinite(ops.sum(found.weights, axis=-1)))
        invalid = ops.logical_and(invalid, ops.logical_not(bad_weights))
    return invalid_counts(predictions=invalid, weights=bad_weights)


class _RegressionMetric(StreamingMetric):
    """Shared argument handling, input checks and aggregation.

    Declarations: `multioutput_choices` (the named `multioutput` modes) and
    `nonnegative_inputs` (values below 0 are invalid, as for MSLE).
    """

    multioutput_choices: tuple[str, ...] = ("raw_values", "uniform_average")
    nonnegative_inputs = False

    def __init__(
        self, *, multioutput: str | Sequence[float] = "uniform_average", **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.multioutput = check_multioutput(multioutput, self.multioutput_choices)
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

    def update_options(self) -> dict[str, Any]:
        return {"outputs": self._spec, "nonnegative": self.nonnegative_inputs}

    def score_options(self) -> dict[str, Any]:
        multioutput = self.multioutput
        return {
            "multioutput": multioutput
            if isinstance(multioutput, str)
            else tuple(multioutput)
        }

    def explain_invalid(self, y_true: Any, y_pred: Any, sample_weight: Any) -> None:
        """The eager checks naming the values; always raises."""
        _inputs.check_finite(y_true, name="y_true")
        _inputs.check_finite(y_pred, name="y_pred")
        if self.nonnegative_inputs:
            _inputs.check_bounds(y_true, name="y_true", low=0.0)
            _inputs.check_bounds(y_pred, name="y_pred", low=0.0)
        if sample_weight is not None:
            _inputs.check_finite(sample_weight, name="sample_weight")
        increments = self.increments(
            y_true, y_pred, sample_weight, **self.update_options()
        )
        count = _inputs.concrete_value(increments["invalid"])
        total = 0 if count is None else int(np.sum(count))
        raise ValueError(
            f"Invalid values in the inputs of {type(self).__name__}: the "
            f"batch sums of {total} output(s) are not finite "
            "(values too large for float64). Expected inputs whose squares "
            "are finite in float64."
        )

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "multioutput": self.multioutput}


class _MeanErrorMetric(_RegressionMetric):
    """`finish(sum(w * term(y, y_hat)) / sum(w))` per output, then averaged."""

    direction = "down"

    def state_shapes(self, spec: int) -> dict[str, tuple[int, ...]]:
        return {"total_weight": (spec,), "total": (spec,)}

    @staticmethod
    def term(y_true: Any, y_pred: Any) -> Any:
        raise NotImplementedError

    @staticmethod
    def finish(mean: Any) -> Any:
        return mean

    @classmethod
    def increments(cls, y_true, y_pred, sample_weight, *, outputs, nonnegative):
        found = _inputs.regression_targets(
            y_true, y_pred, sample_weight, dtype=_backend.state_dtype()
        )
        total = _output_sum(cls.term(found.y_true, found.y_pred), found.weights)
        return {
            "total_weight": _batch_weight(found, outputs),
            "total": total,
            "invalid": _invalid_outputs(found, [total], nonnegative),
        }

    @classmethod
    def score(cls, state, *, multioutput):
        per_output = cls.finish(_nan_divide(state["total"], state["total_weight"]))
        return average_outputs(per_output, multioutput)


# Argument texts shared by the mean-error metrics' docstrings (`_docs.fill`).
_DOCS = {
    "multioutput": """\
`"uniform_average"` (default), `"raw_values"` (a `(D,)` vector) or a
sequence of D non-negative output weights, as in scikit-learn.
""",
}


@export
@_docs.fill(**_DOCS)
class RMSE(_MeanErrorMetric):
    """Root mean squared error, per output, then averaged.

    Formula, per output: `sqrt(sum(w * (y - y_hat)**2) / sum(w))`; equals
    `sklearn.metrics.root_mean_squared_error` (the average of per-output
    RMSEs). State: float64 weight total and weighted sum of squared
    residuals per output (residuals are exact for float32 inputs even at
    large offsets). No data: NaN.

    Args:
        multioutput: {multioutput}
        name: Name of the metric instance.
        dtype: dtype of the result (float32 by default).

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

    default_name = "rmse"

    @staticmethod
    def term(y_true: Any, y_pred: Any) -> Any:
        return ops.square(y_true - y_pred)

    @staticmethod
    def finish(mean: Any) -> Any:
        return ops.sqrt(mean)


@export
@_docs.fill(**_DOCS)
class MAE(_MeanErrorMetric):
    """Mean absolute error, per output, then averaged.

    Formula, per output: `sum(w * |y - y_hat|) / sum(w)`; equals
    `sklearn.metrics.mean_absolute_error`. No data: NaN.

    Args:
        multioutput: {multioutput}
        name: Name of the metric instance.
        dtype: dtype of the result (float32 by default).

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

    default_name = "mae"

    @staticmethod
    def term(y_true: Any, y_pred: Any) -> Any:
        return ops.abs(y_true - y_pred)


@export
@_docs.fill(**_DOCS)
class MSLE(_MeanErrorMetric):
    """Mean squared logarithmic error, per output, then averaged.

    Formula, per output: `sum(w * (log1p(y) - log1p(y_hat))**2) / sum(w)`;
    equals `sklearn.metrics.mean_squared_log_error` on non-negative data.
    Negative `y_true` or `y_pred` are rejected (`ValueError` when eager,
    NaN result when traced): the error is meant for non-negative targets
    (counts, prices). scikit-learn 1.9 accepts values in (-1, 0); we do
    not, so a sign error upstream is never scored silently.

    Args:
        multioutput: {multioutput}
        name: Name of the metric instance.
        dtype: dtype of the result (float32 by default).

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

    nonnegative_inputs = True

    default_name = "msle"

    @staticmethod
    def term(y_true: Any, y_pred: Any) -> Any:
        # log1p(y) - log1p(y_hat) as one log1p of their ratio minus 1, so
        # that near-equal values at a large offset keep their difference
        # (two float32 log1p values ~11.5 at 1e5 would cancel it away).
        return ops.square(ops.log1p((y_true - y_pred) / (1.0 + y_pred)))


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

    default_name = "r2"
    multioutput_choices = ("raw_values", "uniform_average", "variance_weighted")
    additive = ("invalid", "count", "residual_sum", "weight_sum", "target_sum")

    def __init__(self, *, num_regressors: int = 0, **kwargs: Any) -> None:
        self.num_regressors = check_int("num_regressors", num_regressors, low=0)
        super().__init__(**kwargs)

    def state_shapes(self, spec: int) -> dict[str, tuple[int, ...]]:
        names = ("count", "weight_sum", "target_sum", "m2", "mean_square_term")
        return dict.fromkeys((*names, "residual_sum"), (spec,))

    @staticmethod
    def increments(y_true, y_pred, sample_weight, *, outputs, nonnegative):
        """The batch as a state of its own.

        its sums, `M2` centred on the batch mean and `P = S1**2 / n` (merged into the
        metric by `merge`). The sums are taken relative to a pivot (the
        batch's smallest target per output: `y - pivot` is exact near it), so
        that in float32 (JAX without x64) `S1` is accurate as two words
        (`target_sum` and its low word) and `M2` sums small deviations.
        """
        found = _inputs.regression_targets(
            y_true, y_pred, sample_weight, dtype=_backend.state_dtype()
        )
        y, weights = found.y_true, found.weights
        batch_n = _batch_weight(found, outputs)
        pivot = ops.min(y, axis=-1) if y.shape[-1] != 0 else ops.zeros((outputs,))
        pivot = ops.where(ops.isfinite(pivot), pivot, ops.zeros_like(pivot))
        offset = y - ops.expand_dims(pivot, -1)
        offset_sum = _output_sum(offset, weights)
        safe_n = ops.where(batch_n > 0, batch_n, 1.0)
        centred = offset - ops.expand_dims(offset_sum / safe_n, -1)
        product, product_error = _two_product(pivot, batch_n)
        batch_sum = product + offset_sum
        sum_error = (product - (batch_sum - (batch_sum - product))) + (
            offset_sum - (batch_sum - product)
        )
        residual = _output_sum(ops.square(y - found.y_pred), weights)
        if weights is None:
            batch_count = batch_n
        else:
            batch_count = ops.sum(
                ops.cast(weights != 0, _backend.state_dtype()), axis=-1
            )
        return {
            "count": batch_count,
            "weight_sum": batch_n,
            "target_sum": batch_sum,
            "target_sum" + LOW_SUFFIX: product_error + sum_error,
            "m2": _output_sum(ops.square(centred), weights),
            "mean_square_term": ops.square(batch_sum) / safe_n,
            "residual_sum": residual,
            "invalid": _invalid_outputs(found, [batch_sum, residual], nonnegative),
        }

    @staticmethod
    def merge(state: dict[str, Any], other: dict[str, Any]) -> dict[str, Any]:
        """Chan et al.'s merge of `(n, mean, SST)`; every other state adds.

        Each side's SST is folded from its (possibly replica-summed) state
        (`total_sum_of_squares`); for a batch or a single-device state that
        is exactly its `m2`.
        """
        n_a, n_b = state["weight_sum"], other["weight_sum"]
        s_a, s_b = state["target_sum"], other["target_sum"]
        sst_a, sst_b = total_sum_of_squares(state), total_sum_of_squares(other)
        safe_a = ops.where(n_a > 0, n_a, 1.0)
        safe_b = ops.where(n_b > 0, n_b, 1.0)
        # The means' difference from the sums relative to a common pivot
        # (one side's mean), each `S - pivot * n` with the low words of
        # two-word state (float32): accurate at any offset of the targets.
        pivot = ops.where(n_b > 0, s_b / safe_b, s_a / safe_a)
        pivot = ops.where(ops.isfinite(pivot), pivot, ops.zeros_like(pivot))
        delta = _offset_sum(other, pivot) / safe_b - _offset_sum(state, pivot) / safe_a
        new_n, new_total = n_a + n_b, s_a + s_b
        safe_n = ops.where(new_n > 0, new_n, 1.0)
        m2 = sst_a + sst_b + ops.square(delta) * (n_a * n_b / safe_n)
        merged = {
            name: state[name] + other[name]
            for name in ("invalid", "count", "residual_sum")
        }
        return {
            **merged,
            "m2": m2,
            "weight_sum": new_n,
            "target_sum": new_total,
            "mean_square_term": ops.square(new_total) / safe_n,
        }

    def score_options(self) -> dict[str, Any]:
        return {**super().score_options(), "num_regressors": self.num_regressors}

    @staticmethod
    def score(state, *, multioutput, num_regressors):
        sst = total_sum_of_squares(state)
        scores = r2_from_moments(state["residual_sum"], sst)
        count = state["count"]
        nan = ops.full_like(scores, float("nan"))
        scores = ops.where(count >= 2, scores, nan)
        if num_regressors:
            dof = count - num_regressors - 1.0
            adjusted = 1.0 - (1.0 - scores) * (count - 1.0) / ops.where(
                dof > 0, dof, 1.0
            )
            scores = ops.where(dof > 0, adjusted, nan)
        return average_outputs(scores, multioutput, variance=sst)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "num_regressors": self.num_regressors}


def _two_product(a: Any, b: Any) -> tuple[Any, Any]:
    """`a * b` and its rounding error (Dekker's product, no FMA needed)."""
    bits = 53 if standardize_dtype(a.dtype) == "float64" else 24
    split = float(2 ** ((bits + 1) // 2) + 1)

    def halves(x):
        c = split * x
        high = c - (c - x)
        return high, x - high

    product = a * b
    a_hi, a_lo = halves(a)
    b_hi, b_lo = halves(b)
    error = ((a_hi * b_hi - product) + a_hi * b_lo + a_lo * b_hi) + a_lo * b_lo
    finite = ops.isfinite(product)
    return product, ops.where(finite, error, ops.zeros_like(error))


def _offset_sum(state: dict[str, Any], pivot: Any) -> Any:
    """`S1 - pivot * n` of an R2 state, with the low words of two-word state."""
    n, total = state["weight_sum"], state["target_sum"]
    zero = ops.zeros_like(total)
    total_lo = state.get("target_sum" + LOW_SUFFIX, zero)
    n_lo = state.get("weight_sum" + LOW_SUFFIX, zero)
    product, error = _two_product(pivot, n)
    return (total - product) + (total_lo - error - pivot * n_lo)


def total_sum_of_squares(state: dict[str, Any]) -> Any:
    """Per-output SST from an R2 state (replica-summed or not).

    `SST = M2 + (P - S1**2 / n)`: the bracket is the between-replica sum of
    squares, exactly 0 on one device; values below float64 rounding
    (16 eps * P) count as 0, so constant targets stay exactly constant.
    """
    n, total = state["weight_sum"], state["target_sum"]
    mean_square = state["mean_square_term"]
    between = mean_square - ops.square(total) / ops.where(n > 0, n, 1.0)
    # Rounding of the state's own dtype: float32 two-word state (JAX without
    # x64) reads P and S1 rounded to float32, not bit-identical float64 ops.
    eps = _EPS64 if standardize_dtype(mean_square.dtype) == "float64" else 2.0**-23
    between = ops.where(between > 16 * eps * mean_square, between, 0.0)
    return state["m2"] + between
