"""Weighted kappa loss: `weighted_kappa_loss` (one value per batch), the class."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from keras_components._export import export
from keras_components._inputs import (
    check_loss_predictions,
    dense_targets,
    invalid_distribution_rows,
    real_tensor,
    row_sum_tolerance,
    shape_error,
    static_shape,
)
from keras_components._validation import check_choice, check_float, check_int
from keras_components.losses._base import Loss, as_compute_tensor

__all__ = ["WeightedKappaLoss", "weighted_kappa_loss"]

KAPPA_WEIGHTAGES = ("linear", "quadratic")


def _check_kappa_arguments(
    num_classes: Any, weightage: Any, epsilon: Any
) -> tuple[int, str, float]:
    num_classes = check_int("num_classes", num_classes, low=2)
    weightage = check_choice("weightage", weightage, KAPPA_WEIGHTAGES)
    epsilon = check_float("epsilon", epsilon, low=0.0, low_inclusive=False)
    return num_classes, weightage, epsilon


def _kappa_value(y, p, labels, weights, *, num_classes, weightage, epsilon):
    """`log(num / den + epsilon)`; `y`, `p` are `(N, C)`, `weights` `(N,)` or None."""
    dtype = keras.backend.standardize_dtype(p.dtype)
    classes = ops.arange(num_classes, dtype=dtype)
    # Expected label of each row (its class for one-hot rows), as TFA does.
    expected = ops.sum(y * classes, axis=-1)
    diff = ops.expand_dims(expected, -1) - classes  # (N, C)
    cell = ops.abs(diff) if weightage == "linear" else ops.square(diff)
    grid = ops.expand_dims(classes, -1) - classes  # (C, C)
    grid = ops.abs(grid) if weightage == "linear" else ops.square(grid)
    if weights is None:
        row_num = ops.sum(cell * p, axis=-1)
        total = ops.cast(ops.shape(p)[0], dtype)
        numerator = ops.sum(row_num)
        label_dist = ops.sum(y, axis=0)
        pred_dist = ops.sum(p, axis=0)
    else:
        w = ops.expand_dims(weights, -1)
        numerator = ops.sum(cell * p * w)
        total = ops.sum(weights)
        label_dist = ops.sum(y * w, axis=0)
        pred_dist = ops.sum(p * w, axis=0)
    expected_disagreement = ops.sum(
        ops.expand_dims(label_dist, -1) * grid * pred_dist
    ) / ops.where(total > 0, total, ops.ones_like(total))
    ratio = ops.where(
        expected_disagreement > 0,
        numerator
        / ops.where(
            expected_disagreement > 0,
            expected_disagreement,
            ops.ones_like(expected_disagreement),
        ),
        ops.zeros_like(numerator),
    )
    return ops.log(ratio + epsilon)


@export
def weighted_kappa_loss(
    y_true: Any,
    y_pred: Any,
    *,
    num_classes: int,
    weightage: str = "quadratic",
    epsilon: float = 1e-6,
    sample_weight: Any = None,
):
    """Differentiable weighted kappa loss of a batch (ordinal classes).

    With class indices `c = 0..C-1`, the weight of a disagreement
    `W[i, j] = |i - j|` (linear) or `(i - j)**2` (quadratic), the expected
    label of each target row `t_n = sum_c c * y_nc` (its class for one-hot
    rows) and soft predictions `p_nc`, the loss of a batch of `N` rows is

        num  = sum_n sum_c w_n * W(t_n, c) * p_nc
        den  = (sum_ij a_i * W[i, j] * b_j) / sum_n w_n
        loss = log(num / den + epsilon)

    with `a = sum_n w_n * y_n` (label histogram), `b = sum_n w_n * p_n`
    (predicted histogram) and row weights `w_n` (`sample_weight`, default 1).
    `num / den` is `1 - kappa` of the soft confusion matrix, so this is
    `log(1 - kappa + epsilon)`: about `log 1 = 0` for chance-level
    predictions, decreasing without bound (to `log(epsilon)`) as agreement
    becomes perfect (`den == 0`, a batch with one class only, counts as
    `num / den = 0`). This is TensorFlow Addons' `WeightedKappaLoss`
    (Fleiss's weighted kappa made differentiable, de la Torre et al. 2018),
    which this function reproduces exactly with unit weights.

    The value is one number for the batch, not per-sample values: kappa
    compares histograms over the batch. `sample_weight` therefore weighs
    rows inside the statistic (a weight of 2 counts a row twice), never
    the result.

    Args:
        y_true: One-hot or soft targets `(N, C)` (each row a distribution),
            or sparse integer labels `(N,)` / `(N, 1)` in `[0, C)`.
        y_pred: Class probabilities `(N, C)` (softmax outputs: rows sum to 1).
        num_classes: Number of ordinal classes C, an integer >= 2; must
            equal `y_pred.shape[-1]`.
        weightage: `"linear"` or `"quadratic"` disagreement weights.
        epsilon: Float > 0 added before the log.
        sample_weight: Optional row weights `(N,)` (or `(N, 1)`), >= 0.

    Returns:
        A scalar tensor (float32 for half-precision inputs).

    Raises:
        ValueError: on invalid arguments, shapes that are not `(N, C)` with
            `C == num_classes`, or (eagerly) labels outside `[0, C)`, target
            rows that are not distributions, probabilities outside `[0, 1]`
            or rows not summing to 1. While traced such inputs make the loss
            NaN, never a finite number.

    Example:

    >>> import numpy as np
    >>> from keras_components.losses import weighted_kappa_loss
    >>> y_true = np.array([2, 1, 0, 3])
    >>> y_pred = np.array([[0.1, 0.2, 0.6, 0.1], [0.1, 0.5, 0.3, 0.1],
    ...                    [0.8, 0.05, 0.05, 0.1], [0.01, 0.09, 0.1, 0.8]])
    >>> loss = weighted_kappa_loss(y_true, y_pred, num_classes=4)
    >>> print(round(float(loss), 4))
    -1.1612

    Reference:
        de la Torre, Puig and Valls, 2018, "Weighted kappa loss function for
        multi-class classification of ordinal data in deep learning",
        Pattern Recognition Letters 105, https://doi.org/10.1016/j.patrec.2017.05.018
    """
    num_classes, weightage, epsilon = _check_kappa_arguments(
        num_classes, weightage, epsilon
    )
    y_pred = real_tensor(y_pred, name="y_pred")
    tolerance = row_sum_tolerance(y_pred.dtype)
    y_pred = as_compute_tensor(y_pred)
    shape = static_shape(y_pred)
    if len(shape) != 2 or shape[-1] != num_classes:
        raise shape_error(
            f"y_pred of shape (N, num_classes) with num_classes={num_classes}",
            y_pred=shape,
        )
    dtype = keras.backend.standardize_dtype(y_pred.dtype)
    targets = dense_targets(y_true, y_pred, dtype=dtype, per_sample=True)
    check_loss_predictions(y_pred, from_logits=False, rows=True, tolerance=tolerance)
    weights = None
    if sample_weight is not None:
        weights = ops.cast(ops.convert_to_tensor(sample_weight), dtype)
        w_shape = static_shape(weights)
        if w_shape not in ((shape[0],), (shape[0], 1)) and not (
            len(w_shape) in (1, 2)
            and (shape[0] is None or w_shape[0] is None)
            and (len(w_shape) == 1 or w_shape[1] == 1)
        ):
            raise shape_error(
                "sample_weight of shape (N,) or (N, 1)",
                sample_weight=w_shape,
                y_pred=shape,
            )
        weights = ops.reshape(weights, (-1,))
    value = _kappa_value(
        targets.values,
        y_pred,
        None,
        weights,
        num_classes=num_classes,
        weightage=weightage,
        epsilon=epsilon,
    )
    invalid = ops.any(
        ops.logical_or(targets.invalid, invalid_distribution_rows(y_pred, tolerance))
    )
    if weights is not None:
        # Not `logical_not(weights >= 0)`: TensorFlow's graph optimizer
        # rewrites that as `weights < 0`, which is False for NaN.
        bad_weights = ops.logical_or(
            weights < 0, ops.logical_not(ops.isfinite(weights))
        )
        invalid = ops.logical_or(invalid, ops.any(bad_weights))
    return ops.where(invalid, ops.full_like(value, float("nan")), value)


@export
class WeightedKappaLoss(Loss):
    """Weighted kappa loss for ordinal classes, as a `keras.losses.Loss`.

    `log(1 - kappa + epsilon)` of the batch's soft confusion matrix, with
    linear `|i - j|` or quadratic `(i - j)**2` disagreement weights; see
    `weighted_kappa_loss` for the formula, inputs and numerics. It equals
    TensorFlow Addons' `WeightedKappaLoss` (same `num_classes`, `weightage`
    and `epsilon`) and also accepts sparse labels.

    The loss of a batch is one number (kappa compares the batch's label and
    prediction histograms), so `reduction` leaves it unchanged and a
    `sample_weight` weighs rows inside the statistic rather than the result.

    Args:
        num_classes: Number of ordinal classes, an integer >= 2.
        weightage: `"linear"` or `"quadratic"`.
        epsilon: Float > 0 added before the log.
        reduction: Keras reduction (accepted for the common contract; the
            value is already one number per batch).
        name: Loss name.
        dtype: Dtype or policy of the computation (None: floatx); half
            precision computes in float32.

    Example:

    >>> import numpy as np
    >>> from keras_components.losses import WeightedKappaLoss
    >>> y_true = np.eye(4)[[2, 1, 0, 3]]
    >>> y_pred = np.array([[0.1, 0.2, 0.6, 0.1], [0.1, 0.5, 0.3, 0.1],
    ...                    [0.8, 0.05, 0.05, 0.1], [0.01, 0.09, 0.1, 0.8]])
    >>> print(round(float(WeightedKappaLoss(4)(y_true, y_pred)), 4))
    -1.1612

    Reference:
        de la Torre, Puig and Valls, 2018, "Weighted kappa loss function for
        multi-class classification of ordinal data in deep learning",
        Pattern Recognition Letters 105, https://doi.org/10.1016/j.patrec.2017.05.018
    """

    def __init__(
        self,
        num_classes: int,
        *,
        weightage: str = "quadratic",
        epsilon: float = 1e-6,
        reduction: str | None = "sum_over_batch_size",
        name: str = "weighted_kappa_loss",
        dtype: Any = None,
    ) -> None:
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.num_classes, self.weightage, self.epsilon = _check_kappa_arguments(
            num_classes, weightage, epsilon
        )

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> Any:
        with keras.name_scope(self.name):
            y_true, y_pred = self.convert_inputs(y_true, y_pred)
            return weighted_kappa_loss(
                y_true,
                y_pred,
                num_classes=self.num_classes,
                weightage=self.weightage,
                epsilon=self.epsilon,
                sample_weight=sample_weight,
            )

    def call(self, y_true, y_pred):
        return weighted_kappa_loss(
            y_true,
            y_pred,
            num_classes=self.num_classes,
            weightage=self.weightage,
            epsilon=self.epsilon,
        )

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "num_classes": self.num_classes,
                "weightage": self.weightage,
                "epsilon": self.epsilon,
            }
        )
        return config
