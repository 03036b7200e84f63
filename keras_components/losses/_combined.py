"""`CombinedLoss`: a weighted sum of losses, serializable with its children."""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

import keras
from keras import ops

from keras_components._export import export
from keras_components._inputs import shape_error, shapes_compatible, static_shape
from keras_components._keras_compat import is_keras_metric_function
from keras_components._validation import (
    check_float_sequence,
    invalid_type,
    invalid_value,
)
from keras_components.losses._base import Loss, get_keras_mask, with_mask

__all__ = ["CombinedLoss"]


_CHILD_FORMS = (
    "a keras.losses.Loss object, a loss function f(y_true, y_pred), or the "
    "name / serialized config of a Keras loss"
)


def _not_a_loss(index: int, loss: Any, what: str) -> TypeError:
    return invalid_type(f"losses[{index}]", f"{_CHILD_FORMS}; {what}", loss)


def _check_child(index: int, loss: Any) -> Any:
    """`loss` if it can be a loss; a `TypeError` naming `losses[index]` if not.

    Refused: classes, layers and models, metrics (objects and Keras's metric
    functions), built-in / C functions such as `print`, and callables that
    cannot be called as `f(y_true, y_pred)`.
    """
    if isinstance(loss, keras.losses.Loss):
        return loss
    if isinstance(loss, type):
        raise _not_a_loss(index, loss, "got a class (pass an instance)")
    if isinstance(loss, keras.layers.Layer):
        raise _not_a_loss(index, loss, "got a layer or model, not a loss")
    if isinstance(loss, keras.metrics.Metric):
        raise _not_a_loss(
            index,
            loss,
            "got a metric: metrics judge a model, losses train it (use the "
            "matching loss, e.g. DiceLoss for Dice)",
        )
    if not callable(loss):
        raise _not_a_loss(index, loss, "got an object that is not callable")
    if is_keras_metric_function(loss):
        raise _not_a_loss(index, loss, "got a Keras metric function, not a loss")
    if inspect.isbuiltin(loss):
        raise _not_a_loss(index, loss, "got a built-in function, not a loss")
    try:
        inspect.signature(loss).bind(None, None)
    except ValueError:  # no signature to read: not a Python loss function
        raise _not_a_loss(
            index, loss, "got a callable without a Python signature"
        ) from None
    except TypeError:
        raise _not_a_loss(
            index, loss, "got a callable that cannot be called as f(y_true, y_pred)"
        ) from None
    return loss


def _resolve_child(index: int, loss: Any) -> Any:
    """A `keras.losses.Loss` or a loss function, from any accepted form."""
    if isinstance(loss, (str, dict)):
        try:
            resolved = keras.losses.get(loss)
        except (ValueError, TypeError) as error:
            raise invalid_value(
                f"losses[{index}]",
                f"the name of a loss Keras can deserialize ({error})",
                loss,
            ) from None
        if resolved is None:
            raise invalid_value(f"losses[{index}]", "the name of a loss", loss)
        return _check_child(index, resolved)
    return _check_child(index, loss)


def _check_losses(losses: Any) -> list[Any]:
    if isinstance(losses, (str, dict, keras.losses.Loss)) or not isinstance(
        losses, Sequence
    ):
        raise invalid_type(
            "losses",
            "a non-empty sequence (list or tuple) of losses",
            losses,
        )
    if not losses:
        raise invalid_value("losses", "a non-empty sequence of losses", losses)
    return [_resolve_child(i, loss) for i, loss in enumerate(losses)]


def _per_sample(values: Any, mask: Any, rank: int) -> tuple[Any, Any]:
    """Averages `values` over its axes beyond `rank` (kept positions only)."""
    axes = tuple(range(rank, len(static_shape(values))))
    if not axes:
        return values, mask
    if mask is None:
        return ops.mean(values, axis=axes), None
    kept = ops.cast(mask, values.dtype)
    count = ops.sum(kept, axis=axes)
    total = ops.sum(values * kept, axis=axes)
    return total / ops.maximum(count, 1.0), count > 0


@export
class CombinedLoss(Loss):
    """Weighted sum of losses, e.g. Dice + Focal for segmentation.

    Per-sample value: `sum_k weights[k] * v_k`, where `v_k` are child k's
    per-sample values (its `call`, not its reduced `__call__`). This loss's
    own `reduction` and `sample_weight` then apply to that sum, exactly as
    for any other loss; the children's `reduction` settings are not used.

    Children whose per-sample values have more axes than the others (e.g.
    `FocalLoss` gives one value per pixel, `(N, H, W)`, where `DiceLoss`
    gives `(N,)`) are first averaged over the extra trailing axes, so every
    child contributes a value of the common shape. With the default
    `"sum_over_batch_size"` reduction and no `ignore_index`, the result is
    therefore `sum_k weights[k] * child_k(y_true, y_pred)`. A child that
    drops positions (`ignore_index`, Keras's `ignore_class`) is averaged over
    its kept positions only; a position dropped by every child is dropped
    from the combined reduction (with a single child the combined loss
    equals that child under every reduction). Values whose leading shapes
    disagree, or a child that returns a scalar (e.g. `keras.losses.Dice()`
    with its default `axis=None`), raise a `ValueError` naming the shapes.

    Args:
        losses: Non-empty sequence of children: `keras.losses.Loss` objects
            (ours or Keras's), loss functions `f(y_true, y_pred)`, or names /
            configs Keras can deserialize (`"mse"`, `"binary_crossentropy"`).
        weights: None (every weight 1) or one finite float >= 0 per child,
            at least one of them > 0.
        reduction: Keras reduction of the weighted per-sample sum.
        name: Loss name.
        dtype: Dtype or policy of the computation (None: floatx); half
            precision computes in float32. An integer, bool or complex
            dtype is a `ValueError`.

    Raises:
        TypeError: at construction, for a child that is not a loss, naming
            `losses[i]`: a class, a layer or model, a metric (a
            `keras.metrics.Metric` or one of Keras's metric functions), a
            built-in such as `print`, or a callable that cannot be called as
            `f(y_true, y_pred)`.
        ValueError: at construction, for a name Keras cannot resolve to a
            loss (the type is right, the value is not), weights of the
            wrong length, negative, or all zero (the loss would be
            constantly 0).

    Example:

    >>> import numpy as np
    >>> from keras_components import CombinedLoss, DiceLoss, FocalLoss
    >>> y_true = np.array([[[0, 1], [1, 1]]])            # (1, 2, 2) labels
    >>> y_pred = np.array([[[[0.9, 0.1], [0.2, 0.8]],
    ...                     [[0.4, 0.6], [0.0, 1.0]]]])
    >>> loss = CombinedLoss([DiceLoss(), FocalLoss()], weights=[1.0, 0.5])
    >>> dice, focal = DiceLoss()(y_true, y_pred), FocalLoss()(y_true, y_pred)
    >>> print(np.asarray(loss(y_true, y_pred)).round(4))
    0.2151
    >>> print(np.asarray(dice + 0.5 * focal).round(4))
    0.2151
    """

    def __init__(
        self,
        losses: Sequence[Any],
        weights: Sequence[float] | None = None,
        *,
        reduction: str | None = "sum_over_batch_size",
        name: str = "combined_loss",
        dtype: Any = None,
    ) -> None:
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.losses = _check_losses(losses)
        self.weights = (
            None
            if weights is None
            else check_float_sequence(
                "weights", weights, length=len(self.losses), low=0.0
            )
        )
        if self.weights is not None and not any(self.weights):
            raise invalid_value(
                "weights",
                "floats >= 0 with at least one > 0 (with every weight 0 the "
                "loss is constantly 0 and nothing trains)",
                weights,
            )

    def call(self, y_true, y_pred):
        parts = []
        for child in self.losses:
            if isinstance(child, Loss):
                # Ours: converted as its own __call__ would (half-precision
                # y_pred kept, so its checks see the precision it came in).
                values = child.call(*child.convert_inputs(y_true, y_pred))
            elif isinstance(child, keras.losses.Loss):
                # The child's per-sample values, in its own dtype.
                child_true, child_pred = y_true, y_pred
                if child.dtype != y_pred.dtype:
                    child_true = ops.cast(y_true, child.dtype)
                    child_pred = ops.cast(y_pred, child.dtype)
                values = child.call(child_true, child_pred)
            else:  # a function: y_pred in this loss's dtype, as Keras gives it
                child_pred = y_pred
                if keras.backend.standardize_dtype(y_pred.dtype) != self.dtype:
                    child_pred = ops.cast(y_pred, self.dtype)
                values = child(y_true, child_pred)
            mask = get_keras_mask(values)
            values = ops.cast(ops.convert_to_tensor(values), self.dtype)
            if mask is not None:
                values = ops.where(mask, values, ops.zeros_like(values))
            parts.append((values, mask))

        shapes = {f"losses[{i}]": static_shape(v) for i, (v, _) in enumerate(parts)}
        rank = min(len(s) for s in shapes.values())
        leading = [s[:rank] for s in shapes.values()]
        if rank == 0 or not all(shapes_compatible(leading[0], s) for s in leading):
            raise shape_error(
                "per-sample values (rank >= 1) from every child loss, with the "
                "same leading shape (extra trailing axes are averaged)",
                **shapes,
            )
        total, masks = None, []
        weights = self.weights or (1.0,) * len(parts)
        for (values, mask), weight in zip(parts, weights, strict=True):
            values, mask = _per_sample(values, mask, rank)
            masks.append(mask)
            term = values if weight == 1.0 else weight * values
            total = term if total is None else total + term
        keep = None
        if all(m is not None for m in masks):  # dropped only if every child drops
            keep = masks[0]
            for m in masks[1:]:
                keep = ops.logical_or(keep, m)
        return with_mask(total, keep)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "losses": [
                    keras.saving.serialize_keras_object(loss) for loss in self.losses
                ],
                "weights": None if self.weights is None else list(self.weights),
            }
        )
        return config
