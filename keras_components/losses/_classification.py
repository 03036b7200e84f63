"""Focal loss: `focal_loss` (per-sample values) and `FocalLoss`."""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import keras
from keras import ops

from keras_components import _backend
from keras_components._export import export
from keras_components._inputs import (
    binary_targets,
    check_loss_predictions,
    dense_targets,
    invalid_distribution_rows,
    invalid_probabilities,
    is_sparse,
    real_tensor,
    resolve_task,
    row_sum_tolerance,
    shape_error,
    static_shape,
)
from keras_components._validation import (
    check_bool,
    check_choice,
    check_float,
    check_float_sequence,
    check_optional_int,
    invalid_type,
    invalid_value,
)
from keras_components.losses._base import (
    Loss,
    as_compute_tensor,
    nan_where,
    power,
    with_mask,
)

__all__ = ["FocalLoss", "focal_loss"]

FOCAL_MODES = ("auto", "binary", "categorical")


def _check_focal_arguments(
    gamma, alpha, mode, from_logits, label_smoothing, ignore_index
):
    gamma = check_float("gamma", gamma, low=0.0)
    mode = check_choice("mode", mode, FOCAL_MODES)
    if alpha is None:
        pass
    elif isinstance(alpha, numbers.Real) and not isinstance(alpha, bool):
        if mode == "categorical":
            raise invalid_value(
                "alpha",
                "None or a sequence of per-class floats >= 0 in categorical "
                "mode (a scalar alpha is for binary mode)",
                alpha,
            )
        alpha = check_float("alpha", alpha, low=0.0, high=1.0)
    elif isinstance(alpha, (str, bytes)) or not (
        isinstance(alpha, Sequence) or hasattr(alpha, "tolist")
    ):
        raise invalid_type(
            "alpha", "None, a float, or a sequence of per-class floats", alpha
        )
    else:
        if mode == "binary":
            raise invalid_value(
                "alpha",
                "None or a float in [0, 1] in binary mode (a per-class "
                "sequence is for categorical mode)",
                alpha,
            )
        alpha = check_float_sequence("alpha", alpha, low=0.0)
    return (
        gamma,
        alpha,
        mode,
        check_bool("from_logits", from_logits),
        check_float("label_smoothing", label_smoothing, low=0.0, high=1.0),
        check_optional_int("ignore_index", ignore_index),
    )


def _resolve_mode(mode: str, y_pred: Any) -> str:
    """`"auto"` follows `_inputs.resolve_task` (without targets).

    binary for a 1-D `y_pred` or a class axis of 1, else categorical.
    """
    if mode != "auto":
        return mode
    return "binary" if resolve_task("auto", y_pred) == "binary" else "categorical"


# The fix named in the eager errors: binary mode takes independent sigmoids.
_BINARY_PREDICTIONS = 'For independent sigmoid outputs use mode="binary".'
_BINARY_TARGETS = (
    'For multi-hot targets (several classes per sample) use mode="binary".'
)


def _focal_from_logits(gamma: float, alpha: tuple[float, ...] | None):
    """Categorical focal loss from logits, with its closed-form gradient.

    Built once per backend, `gamma` and `alpha` (`_build_focal_from_logits`;
    `FocalLoss` builds it at construction): on PyTorch `custom_vjp` defines
    an autograd `Function` class, and a class defined inside a
    `torch.compile`d step breaks its graph (the loss then ran eagerly inside
    the compiled step). A plain dict, not `functools.lru_cache`, which
    `torch.compile` traces through.
    """
    key = (keras.backend.backend(), gamma, alpha)
    fn = _FOCAL_FROM_LOGITS.get(key)
    if fn is None:
        fn = _FOCAL_FROM_LOGITS[key] = _build_focal_from_logits(gamma, alpha)
    return fn


_FOCAL_FROM_LOGITS: dict[tuple[Any, ...], Any] = {}


def _build_focal_from_logits(gamma: float, alpha: tuple[float, ...] | None):
    """`_focal_from_logits`, built anew.

    `(y, z) -> (loss,)` per sample,
    `-sum_c a_c * q_c**gamma * l_c` with `a = y * alpha`, `l = log_softmax(z)`,
    `p = exp(l)`, `q = 1 - p`, and its closed-form gradient.

    With `h = a * (gamma * p * l * q**(gamma - 1) - q**gamma)` (the
    derivative in `l`), the gradient in `z` is `g * (h - p * sum_c h_c)` and
    in `y` it is `-g * alpha * q**gamma * l`. `l`, `p` and the powers of `q`
    are saved by the forward pass. Below `gamma = 1`, `q**(gamma - 1)` is
    infinite at `q = 0` (where `l = 0`); as in `_base.power`, the gradient
    term is 0 there, never NaN.
    """

    def weights(y):
        if alpha is None:
            return y
        return y * ops.convert_to_tensor(alpha, dtype=y.dtype)

    def forward(y, z):
        log_p = ops.log_softmax(z, axis=-1)
        a = weights(y)
        if not gamma:
            return (-ops.sum(a * log_p, axis=-1),), (a, log_p)
        p = ops.exp(log_p)
        # 1 - p from log p. Its absolute error (~2e-7) is set by the rounding
        # of the softmax normaliser that log p already carries, so
        # -expm1(log p) is no more accurate (measured on 2e6 probabilities,
        # logit gaps up to 200).
        q = 1.0 - p
        if gamma == 1.0:
            q_less = ops.ones_like(q)  # q ** (gamma - 1)
        elif gamma == 2.0:
            q_less = q
        elif gamma > 1.0:
            q_less = ops.power(q, gamma - 1.0)
        else:  # q ** (gamma - 1) is infinite at q = 0: take 0 there
            positive = q > 0
            safe = ops.where(positive, q, ops.ones_like(q))
            q_less = ops.where(
                positive, ops.power(safe, gamma - 1.0), ops.zeros_like(q)
            )
        # q ** gamma (0 at q = 0 in every branch)
        q_gamma = q if gamma == 1.0 else q * q_less
        weighted_log_p = q_gamma * log_p
        values = -ops.sum(a * weighted_log_p, axis=-1)
        return (values,), (a, log_p, p, q_less, q_gamma, weighted_log_p)

    def backward(saved, upstream):
        g = ops.expand_dims(upstream[0], -1)
        if not gamma:
            a, log_p = saved
            h = -a
            minus_grad_y = log_p
            p = ops.exp(log_p)
        else:
            a, log_p, p, q_less, q_gamma, weighted_log_p = saved
            h = a * (gamma * p * log_p * q_less - q_gamma)
            minus_grad_y = weighted_log_p
        grad_z = g * (h - p * ops.sum(h, axis=-1, keepdims=True))
        grad_y = -weights(g * minus_grad_y)
        return grad_y, grad_z

    return _backend.custom_vjp(forward, backward, residuals=True)


def _categorical(
    y_true,
    y_pred,
    *,
    gamma,
    alpha,
    from_logits,
    label_smoothing,
    ignore_index,
    tolerance,
):
    shape = static_shape(y_pred)
    if len(shape) < 2 or shape[-1] is None:
        raise shape_error(
            "y_pred of rank >= 2 with a known class axis (..., C) in categorical mode",
            y_pred=shape,
        )
    num_classes = shape[-1]
    if isinstance(alpha, float):
        raise invalid_value(
            "alpha",
            f"None or a sequence of {num_classes} per-class floats in categorical "
            f"mode (y_pred.shape[-1]={num_classes}); a scalar alpha is for "
            "binary mode",
            alpha,
        )
    if alpha is not None and len(alpha) != num_classes:
        raise invalid_value(
            "alpha",
            f"a sequence of {num_classes} per-class floats "
            f"(y_pred.shape[-1]={num_classes})",
            alpha,
        )
    dtype = keras.backend.standardize_dtype(y_pred.dtype)
    sparse = is_sparse(y_true, y_pred)
    targets = dense_targets(
        y_true, y_pred, ignore_index=ignore_index, dtype=dtype, hint=_BINARY_TARGETS
    )
    check_loss_predictions(
        y_pred,
        from_logits=from_logits,
        rows=True,
        tolerance=tolerance,
        rows_hint=_BINARY_PREDICTIONS,
    )
    y = targets.values
    if label_smoothing:
        y = y * (1.0 - label_smoothing) + label_smoothing / num_classes
        if sparse:  # dropped rows stay all-zero
            y = y * ops.cast(ops.expand_dims(targets.keep, -1), dtype)

    if from_logits:
        values = _focal_from_logits(gamma, alpha)(y, y_pred)[0]
        bad_pred = None  # non-finite logits make the value non-finite (below)
    else:
        # Keras's handling of probabilities: renormalise, clip, log. Rows
        # must already sum to 1 (within the tolerance), so renormalising
        # only removes rounding; other rows are invalid, not rescaled.
        epsilon = keras.config.epsilon()
        total = ops.sum(y_pred, axis=-1, keepdims=True)
        bad_pred = invalid_distribution_rows(
            y_pred, tolerance, total=ops.squeeze(total, axis=-1)
        )
        p = y_pred / total
        p = ops.clip(p, epsilon, 1.0 - epsilon)
        log_p = ops.log(p)
        one_minus_p = 1.0 - p if gamma else None
        weight = y
        if gamma:
            weight = weight * power(one_minus_p, gamma)
        if alpha is not None:
            weight = weight * ops.convert_to_tensor(alpha, dtype=dtype)
        values = -ops.sum(weight * log_p, axis=-1)
    invalid = targets.invalid
    if bad_pred is None:  # from logits: +-inf logits give NaN or inf, make it NaN
        bad_pred = ops.logical_not(ops.isfinite(values))
    values = nan_where(ops.logical_or(invalid, bad_pred), values)
    keep = targets.keep if sparse and ignore_index is not None else None
    return values, keep


def _binary(
    y_true,
    y_pred,
    *,
    gamma,
    alpha,
    from_logits,
    label_smoothing,
    ignore_index,
):
    if isinstance(alpha, tuple):
        raise invalid_value(
            "alpha",
            "None or a float in [0, 1] in binary mode (a per-class sequence is "
            "for categorical mode)",
            alpha,
        )
    if len(static_shape(y_pred)) == 1:  # one score per sample
        y_pred = ops.expand_dims(y_pred, -1)
    dtype = keras.backend.standardize_dtype(y_pred.dtype)
    targets = binary_targets(y_true, y_pred, ignore_index=ignore_index, dtype=dtype)
    check_loss_predictions(y_pred, from_logits=from_logits)
    y = targets.values
    masked = ignore_index is not None
    keep = ops.cast(targets.keep, dtype) if masked else None
    if label_smoothing:
        y = y * (1.0 - label_smoothing) + 0.5 * label_smoothing
        if masked:
            y = y * keep
    # Weight of the negative term: (1 - y), 0 on dropped cells.
    y_neg = (keep - y) if masked else (1.0 - y)

    if from_logits:
        log_p = ops.log_sigmoid(y_pred)  # log p
        log_q = ops.log_sigmoid(-y_pred)  # log (1 - p)
        if gamma:
            pos_factor = ops.exp(gamma * log_q)  # (1 - p) ** gamma
            neg_factor = ops.exp(gamma * log_p)  # p ** gamma
    else:
        epsilon = keras.config.epsilon()
        p = ops.clip(y_pred, epsilon, 1.0 - epsilon)
        log_p = ops.log(p)
        log_q = ops.log(1.0 - p)
        if gamma:
            pos_factor = power(1.0 - p, gamma)
            neg_factor = power(p, gamma)

    pos = y * log_p
    neg = y_neg * log_q
    if gamma:
        pos = pos * pos_factor
        neg = neg * neg_factor
    if alpha is not None:
        pos = alpha * pos
        neg = (1.0 - alpha) * neg
    cells = -(pos + neg)

    if masked:  # mean over the kept cells of the last axis
        count = ops.sum(keep, axis=-1)
        values = ops.sum(cells, axis=-1) / ops.maximum(count, 1.0)
        sample_keep = count > 0
    else:
        values = ops.mean(cells, axis=-1)
        sample_keep = None
    if from_logits:  # +-inf logits give NaN or inf values: make them NaN
        bad = targets.invalid
        invalid = ops.logical_or(
            ops.any(bad, axis=-1), ops.logical_not(ops.isfinite(values))
        )
    else:
        bad = ops.logical_or(targets.invalid, invalid_probabilities(y_pred))
        invalid = ops.any(bad, axis=-1)
    values = nan_where(invalid, values)
    return values, sample_keep


@export
def focal_loss(
    y_true: Any,
    y_pred: Any,
    *,
    gamma: float = 2.0,
    alpha: float | Sequence[float] | None = None,
    mode: str = "auto",
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    ignore_index: int | None = None,
):
    """Focal loss per sample (binary / multilabel or categorical).

    Binary mode (sigmoid per element; also multilabel), with `p = sigmoid(z)`
    and soft targets `y` in `[0, 1]`:

        loss = -[alpha * y * (1 - p)**gamma * log(p)
                 + (1 - alpha) * (1 - y) * p**gamma * log(1 - p)]

    which for hard labels is `-alpha_t * (1 - p_t)**gamma * log(p_t)`
    (`alpha=None` weighs both terms 1). The per-sample value is the mean over
    the last axis, as in `keras.losses.binary_crossentropy`.

    Categorical mode (softmax over the last axis):

        loss = -sum_c alpha_c * y_c * (1 - p_c)**gamma * log(p_c)

    From logits everything is computed in log space: `log p` is
    `log_sigmoid` / `log_softmax`, `1 - p_c = 1 - exp(log p_c)` and
    `(1 - p)**gamma = exp(gamma * log_sigmoid(-z))`, never by clipping, so
    the value is exact and the gradient finite and non-zero even at saturated
    logits (tested up to `abs(z) = 1e4`); in categorical mode its gradient
    is written in closed form (`h - p * sum(h)` with `h` the derivative in
    `log p`, reusing the forward pass's values; binary mode and
    probabilities use autodiff). From probabilities it follows
    Keras: rows are renormalised (categorical) and clipped to
    `[epsilon, 1 - epsilon]` before the log; but only valid probabilities
    are accepted (see Raises), so renormalising removes rounding, never a
    mistake. With `gamma=0, alpha=None` it
    equals Keras's `BinaryCrossentropy` / `CategoricalCrossentropy` /
    `SparseCategoricalCrossentropy` (same `label_smoothing`; `ignore_index`
    as `ignore_class`).

    Args:
        y_true: Categorical: sparse integer labels of shape
            `y_pred.shape[:-1]` (or `[..., 1]`), or one-hot / soft targets of
            `y_pred`'s shape, each row a class distribution (values in
            `[0, 1]` summing to 1; multi-hot targets are for binary mode).
            Binary: targets in `[0, 1]` (soft targets from label smoothing or
            mix-up are valid) of `y_pred`'s shape (or `y_pred.shape[:-1]`
            when `y_pred.shape[-1] == 1`).
        y_pred: Probabilities, or finite logits when `from_logits=True`;
            class axis last. Categorical probabilities are softmax outputs:
            each row sums to 1 within 1e-3 for float32 / float64 input
            (`_inputs.row_sum_tolerance`: 3.9e-3 for float16, 1.6e-2 for
            bfloat16, so `mixed_float16` / `mixed_bfloat16` softmax outputs
            pass); binary probabilities lie in `[0, 1]`. A 1-D `y_pred` is
            one binary score per sample.
        gamma: Focusing parameter, a float >= 0 (0: cross-entropy).
        alpha: Balancing weights. Binary: None or a float in `[0, 1]`
            (`alpha` on the positive term, `1 - alpha` on the negative).
            Categorical: None or one float >= 0 per class.
        mode: `"auto"` (binary when `y_pred.shape[-1] == 1` or `y_pred` is
            1-D, else categorical), `"binary"` or `"categorical"`.
        from_logits: Whether `y_pred` holds logits.
        label_smoothing: In `[0, 1]`. Categorical targets become
            `y * (1 - s) + s / C`; binary targets `y * (1 - s) + s / 2`.
        ignore_index: Label (categorical, sparse labels) or target value
            (binary) whose positions are dropped (one-hot / soft categorical
            rows hold no label and are never dropped). Their values are 0 and a
            Keras mask of kept positions is attached to the result, so a
            `Loss` reduction such as `"sum_over_batch_size"` averages over
            kept positions only (as `ignore_class` does in Keras).

    Returns:
        Per-sample losses (float32 for half-precision inputs): shape
        `y_pred.shape[:-1]` (`(N,)` for a 1-D `y_pred`).

    Raises:
        ValueError: on invalid arguments, incompatible shapes, or (eagerly)
            invalid inputs, each named with the fix: labels outside `[0, C)`
            other than `ignore_index`; binary targets outside `[0, 1]`;
            categorical dense targets that are not distributions (negative,
            multi-hot or all-zero rows); NaN or infinite values; probabilities
            outside `[0, 1]` (logits without `from_logits=True`); categorical
            probability rows not summing to 1 (independent sigmoid outputs:
            use `mode="binary"`). While traced (`tf.function`, `jit_compile`,
            `fit`) such inputs cannot raise: the loss of the affected samples
            (positions) is NaN, never a finite number. Predictions are
            checked at every position, `ignore_index` ones included.
        TypeError: complex `y_true` or `y_pred`.

    Example:

    >>> import numpy as np
    >>> from keras_components.losses import focal_loss
    >>> logits = np.array([[2.0, 0.0, -1.0], [0.0, 3.0, 0.0]])
    >>> loss = focal_loss(np.array([0, 2]), logits, from_logits=True)
    >>> print(np.asarray(loss).round(4))
    [0.0041 2.821 ]

    Reference:
        Lin et al., 2017, "Focal Loss for Dense Object Detection",
        https://arxiv.org/abs/1708.02002
    """
    gamma, alpha, mode, from_logits, label_smoothing, ignore_index = (
        _check_focal_arguments(
            gamma, alpha, mode, from_logits, label_smoothing, ignore_index
        )
    )
    y_pred = real_tensor(y_pred, name="y_pred")
    # Softmax rows are checked against the precision they arrived in.
    tolerance = row_sum_tolerance(y_pred.dtype)
    y_pred = as_compute_tensor(y_pred)
    kwargs = {
        "gamma": gamma,
        "alpha": alpha,
        "from_logits": from_logits,
        "label_smoothing": label_smoothing,
        "ignore_index": ignore_index,
    }
    if _resolve_mode(mode, y_pred) == "binary":
        values, keep = _binary(y_true, y_pred, **kwargs)
    else:
        values, keep = _categorical(y_true, y_pred, tolerance=tolerance, **kwargs)
    return with_mask(values, keep)


@export
class FocalLoss(Loss):
    """Focal loss (binary / multilabel or categorical), as a `keras.losses.Loss`.

    See `focal_loss` for the formula, accepted inputs and numerics. From
    logits it is computed in log space: exact at saturated logits, where
    Keras 3.15's `CategoricalFocalCrossentropy(from_logits=True)` clips
    (at logits +-100 it returns 4.03 instead of 50 and a zero gradient).

    Invalid inputs (labels outside `[0, C)`, dense targets that are not
    class distributions, NaN, probabilities outside `[0, 1]`, categorical
    probability rows that do not sum to 1 such as sigmoid outputs; see
    `focal_loss`) raise a `ValueError` naming the values and the fix when
    called eagerly; inside `tf.function`, `jit_compile` or `fit` they cannot
    raise, so the loss of the affected samples is NaN (never a silently
    finite number). Complex inputs are a `TypeError`. With
    `ignore_index`, `"sum_over_batch_size"` averages over kept positions
    only, as Keras's `SparseCategoricalCrossentropy(ignore_class=...)` does.
    A `(N,)` `sample_weight` weighs every position of sample n. A
    half-precision `dtype` or policy is computed in float32.

    Args:
        gamma: Focusing parameter, a float >= 0.
        alpha: Binary: None or a float in `[0, 1]`. Categorical: None or a
            sequence of one float >= 0 per class (a scalar is an error).
        mode: `"auto"`, `"binary"` or `"categorical"`.
        from_logits: Whether `y_pred` holds logits.
        label_smoothing: Float in `[0, 1]`.
        ignore_index: Sparse label (or binary target value) to drop.
        reduction: Keras reduction (`"sum_over_batch_size"`, `"sum"`,
            `"mean"`, `"mean_with_sample_weight"`, `"none"` or None).
        name: Loss name.
        dtype: Dtype or policy of the computation (None: floatx); half
            precision computes in float32. An integer, bool or complex
            dtype is a `ValueError`.

    Example:

    >>> import numpy as np
    >>> from keras_components import FocalLoss
    >>> y_true = np.array([[0.0, 1.0], [1.0, 0.0]])
    >>> y_pred = np.array([[0.2, 0.8], [0.4, 0.6]])
    >>> print(np.asarray(FocalLoss(gamma=2.0)(y_true, y_pred)).round(4))
    0.1694

    Reference:
        Lin et al., 2017, "Focal Loss for Dense Object Detection",
        https://arxiv.org/abs/1708.02002
    """

    def __init__(
        self,
        gamma: float = 2.0,
        alpha: float | Sequence[float] | None = None,
        *,
        mode: str = "auto",
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        ignore_index: int | None = None,
        reduction: str | None = "sum_over_batch_size",
        name: str = "focal_loss",
        dtype: Any = None,
    ) -> None:
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        (
            self.gamma,
            self.alpha,
            self.mode,
            self.from_logits,
            self.label_smoothing,
            self.ignore_index,
        ) = _check_focal_arguments(
            gamma, alpha, mode, from_logits, label_smoothing, ignore_index
        )
        if self.from_logits and not isinstance(self.alpha, float):
            # Built here, outside any compiled step (see `_focal_from_logits`).
            _focal_from_logits(self.gamma, self.alpha)

    def call(self, y_true, y_pred):
        return focal_loss(
            y_true,
            y_pred,
            gamma=self.gamma,
            alpha=self.alpha,
            mode=self.mode,
            from_logits=self.from_logits,
            label_smoothing=self.label_smoothing,
            ignore_index=self.ignore_index,
        )

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "gamma": self.gamma,
                "alpha": list(self.alpha)
                if isinstance(self.alpha, tuple)
                else self.alpha,
                "mode": self.mode,
                "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing,
                "ignore_index": self.ignore_index,
            }
        )
        return config
