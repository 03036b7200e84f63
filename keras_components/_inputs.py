"""The one input normalisation shared by every loss and metric.

Vocabulary used throughout the package:

- `y_pred` is class-last: `(N, *spatial, C)`. Its *positions* are
  `y_pred.shape[:-1]`; every position is one sample (pixel-wise for masks).
  A binary output may also come without a class axis (`(N, *spatial)`), in
  which case every element is a position.
- `y_true` is *sparse* (integer labels at each position: shape `positions` or
  `positions + (1,)`) or *dense* (one-hot / multi-hot / soft, the shape of
  `y_pred`).
- `ignore_index` marks positions (or, for multilabel, cells) to drop.
- A label outside `[0, C)` that is not `ignore_index` is *invalid*: eager
  callers get a `ValueError` naming the offending values; traced callers
  (inside `tf.function`, `jit`, `fit`) cannot raise, so every consumer turns
  invalid entries into a NaN result instead of silently miscounting them.

Everything here decides from static shapes (known at trace time) and computes
with `keras.ops` only, so it runs under any backend, `jit_compile=True` and
`tf.distribute`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import keras
import numpy as np
from keras import ops

from keras_components._keras_compat import in_symbolic_scope

TASKS = ("binary", "multiclass", "multilabel")
TASK_CHOICES = ("auto", *TASKS)

# Why an entry could not be counted, in the order of every metric's `invalid`
# state (one count per reason). An entry with several faults counts once,
# under the first of them.
INVALID_REASONS = ("targets", "soft_targets", "predictions", "weights")
NUM_REASONS = len(INVALID_REASONS)


def reason_codes(
    *, targets: Any, soft: Any = None, predictions: Any = None, weights: Any = None
) -> tuple[Any, Any]:
    """`(bad, code)`.

    whether each entry is invalid, and the index of its reason in `INVALID_REASONS`
    (meaningful where `bad`).

    Each argument is a bool mask of entries invalid for that reason (None:
    impossible); `soft` is a subset of `targets` and names it more precisely.
    """
    bad, code = targets, ops.zeros_like(targets, dtype="int32")
    for index, mask in ((2, predictions), (3, weights)):
        if mask is None:
            continue
        first = ops.logical_and(mask, ops.logical_not(bad))
        code = ops.where(first, index, code)
        bad = ops.logical_or(bad, mask)
    if soft is not None:
        code = ops.where(soft, 1, code)
    return bad, code


# --------------------------------------------------------------------------
# Static shapes
# --------------------------------------------------------------------------
def static_shape(x: Any) -> tuple[int | None, ...]:
    return tuple(None if d is None else int(d) for d in x.shape)


def shapes_compatible(a: Sequence[int | None], b: Sequence[int | None]) -> bool:
    """Equal rank and equal dimensions wherever both are known."""
    return len(a) == len(b) and all(
        x is None or y is None or x == y for x, y in zip(a, b, strict=True)
    )


def _shape_text(shape: Sequence[int | None]) -> str:
    return (
        "("
        + ", ".join("None" if d is None else str(d) for d in shape)
        + (",)" if len(shape) == 1 else ")")
    )


def shape_error(expected: str, **shapes: Sequence[int | None]) -> ValueError:
    received = ", ".join(f"{k}.shape={_shape_text(v)}" for k, v in shapes.items())
    return ValueError(f"Incompatible shapes: expected {expected}. Received: {received}")


# --------------------------------------------------------------------------
# Task and classes
# --------------------------------------------------------------------------
def resolve_task(task: str, y_pred: Any, y_true: Any = None) -> str:
    """The task `"auto"` stands for, decided from static shapes only.

    - binary: `y_pred` is 1-D or has a last axis of 1, or `y_true` is
      `y_pred.shape + (1,)` (a mask with a channel axis scored against a
      prediction without one);
    - multiclass: any other `y_pred` with sparse labels (`y_true` of shape
      `y_pred.shape[:-1]`, or `+ (1,)`), or `(N, C)` one-hot rows.

    `y_true` and `y_pred` of the same shape of rank >= 3 are ambiguous: binary
    masks without a channel axis (`(N, H, W)`) and one-hot masks
    (`(N, H, W, C)`) look alike, and reading W as classes would score
    nonsense. That is a `ValueError` asking for an explicit `task`, never a
    guess. Multilabel is never inferred: it must be asked for.
    """
    if task != "auto":
        return task
    p = static_shape(y_pred)
    if len(p) <= 1 or p[-1] == 1:
        return "binary"
    if y_true is not None:
        t = static_shape(y_true)
        if len(t) == len(p) + 1 and t[-1] == 1 and shapes_compatible(t[:-1], p):
            return "binary"
        if len(p) >= 3 and shapes_compatible(t, p):
            raise ValueError(
                "Ambiguous inputs for task='auto': y_true and y_pred have the "
                f"same shape {_shape_text(p)}, which may be binary masks "
                "without a channel axis or one-hot masks with a class axis of "
                f"{p[-1]}. Pass task='binary' (every element is one position "
                "with a 0/1 label), task='multiclass' (one-hot rows over the "
                "last axis) or task='multilabel'. Received: "
                f"y_true.shape={_shape_text(t)}, y_pred.shape={_shape_text(p)}"
            )
    return "multiclass"


def binary_scores(y_pred: Any) -> Any:
    """A binary output as one score per position (drops a class axis of 1)."""
    shape = static_shape(y_pred)
    if len(shape) >= 2 and shape[-1] == 1:
        return ops.squeeze(y_pred, axis=-1)
    return y_pred


def binary_alignment(y_true: Any, y_pred: Any) -> tuple[Any, Any]:
    """`(y_true, scores)` of a binary output, aligned on the same positions.

    `scores` is `binary_scores(y_pred)`; a trailing axis of 1 on `y_true` is
    dropped to match. Other shapes are an error naming both.
    """
    scores = binary_scores(y_pred)
    t_shape, s_shape = static_shape(y_true), static_shape(scores)
    if len(t_shape) == len(s_shape) + 1 and t_shape[-1] == 1:
        y_true = ops.squeeze(y_true, axis=-1)
        t_shape = t_shape[:-1]
    if not shapes_compatible(t_shape, s_shape):
        raise shape_error(
            "y_true with the positions of y_pred (a trailing axis of 1 on "
            "either is allowed) for the binary task",
            y_true=static_shape(y_true),
            y_pred=static_shape(y_pred),
        )
    return y_true, scores


def class_count(y_pred: Any, task: str, num_classes: int | None = None) -> int:
    """Number of classes C: 2 for binary, else the class axis of `y_pred`.

    Raises if `num_classes` disagrees with `y_pred` or the axis is unknown.
    """
    shape = static_shape(y_pred)
    if task == "binary":
        # The argument check of an inferred binary task (1 or 2 classes);
        # imported here: `_validation` imports this module's `TASKS`.
        from keras_components._validation import check_num_classes

        check_num_classes(num_classes, task)
        return 2
    if len(shape) < 2:
        raise shape_error(
            f"y_pred of rank >= 2 (..., C) for the {task} task", y_pred=shape
        )
    c = shape[-1]
    if num_classes is not None and c is not None and c != num_classes:
        raise ValueError(
            f"Invalid value for argument `num_classes`. Expected it to match "
            f"y_pred.shape[-1]={c}. Received: num_classes={num_classes!r}"
        )
    if c is None:
        if num_classes is None:
            raise shape_error(
                "a known class axis y_pred.shape[-1] (or pass `num_classes`)",
                y_pred=shape,
            )
        return num_classes
    return c


# --------------------------------------------------------------------------
# Targets
# --------------------------------------------------------------------------
def is_sparse(y_true: Any, y_pred: Any) -> bool:
    """Whether `y_true` holds sparse labels for class-last `y_pred` (..., C).

    Sparse: `y_true.shape == y_pred.shape[:-1]`, or `y_pred.shape[:-1] + (1,)`
    when C != 1. Dense: `y_true.shape == y_pred.shape`. Anything else is an
    error naming both shapes.
    """
    t, p = static_shape(y_true), static_shape(y_pred)
    if len(t) == len(p) - 1 and shapes_compatible(t, p[:-1]):
        return True
    if len(t) == len(p) and len(p) >= 1:
        if t[-1] == 1 and p[-1] != 1 and shapes_compatible(t[:-1], p[:-1]):
            return True
        if shapes_compatible(t, p):
            return False
    raise shape_error(
        "y_true of shape y_pred.shape[:-1] or y_pred.shape[:-1] + (1,) (sparse "
        "labels), or of shape y_pred.shape (one-hot / multi-hot)",
        y_true=t,
        y_pred=p,
    )


# Up to this many classes, reductions over the last (class) axis are unrolled
# into column operations: elementwise ops that XLA fuses into one vectorised
# pass over the rows, with each other and with what consumes them, where its
# argmax reduction runs a scalar loop per row in a pass of its own.
UNROLL_MAX_CLASSES = 16


def argmax_last(x: Any) -> Any:
    """int32 index of the first maximum along the last axis, as `ops.argmax`.

    Rows holding NaN have an unspecified index (as with `ops.argmax`, whose
    treatment of NaN differs between backends); callers flag such rows.
    """
    num_classes = static_shape(x)[-1]
    if num_classes is None or num_classes > UNROLL_MAX_CLASSES:
        return ops.cast(ops.argmax(x, axis=-1), "int32")
    if keras.backend.standardize_dtype(x.dtype) == "bool":
        x = ops.cast(x, "int32")
    best = x[..., 0]
    index = ops.zeros(ops.shape(best), "int32")
    for j in range(1, num_classes):
        column = x[..., j]
        better = column > best  # strict: ties keep the first index
        best = ops.where(better, column, best)
        index = ops.where(better, ops.full_like(index, j), index)
    return index


def finite_rows(x: Any) -> Any:
    """bool, True where every entry along the last axis is finite.

    Unrolled like `argmax_last`, so both fuse into one pass over `x`.
    """
    num_classes = static_shape(x)[-1]
    if num_classes is None or num_classes > UNROLL_MAX_CLASSES:
        return ops.all(ops.isfinite(x), axis=-1)
    finite = ops.isfinite(x[..., 0])
    for j in range(1, num_classes):
        finite = ops.logical_and(finite, ops.isfinite(x[..., j]))
    return finite


def sparse_labels(y_true: Any, positions_rank: int) -> Any:
    """Sparse labels of rank `positions_rank` (squeezes a trailing 1).

    The dtype is kept: float labels (Keras losses convert `y_true` to float)
    are checked for integral values by `label_masks`, so 1.5 is invalid
    rather than silently cast to 1.
    """
    if len(static_shape(y_true)) == positions_rank + 1:
        y_true = ops.squeeze(y_true, axis=-1)
    if keras.backend.standardize_dtype(y_true.dtype) == "bool":
        y_true = ops.cast(y_true, "int32")
    return y_true


def label_masks(labels: Any, num_classes: int, ignore_index: int | None):
    """`(keep, invalid)`: labels in `[0, C)` to count, and invalid ones.

    `labels` may be float (integral values) or int; `ignore_index` entries are
    neither kept nor invalid.
    """
    in_range = ops.logical_and(labels >= 0, labels < num_classes)
    if not keras.backend.is_int_dtype(labels.dtype):
        from keras_components import _backend  # (imports this module)

        # NaN fails both comparisons above; fractional values fail this one.
        floor = _backend.floor(labels)
        in_range = ops.logical_and(in_range, ops.equal(labels, floor))
    if ignore_index is None:
        return in_range, ops.logical_not(in_range)
    ignored = ops.equal(labels, ignore_index)
    keep = ops.logical_and(in_range, ops.logical_not(ignored))
    invalid = ops.logical_and(ops.logical_not(in_range), ops.logical_not(ignored))
    return keep, invalid


def safe_labels(labels: Any, keep: Any) -> Any:
    """int32 labels with dropped entries replaced by 0 (safe to index with)."""
    labels = ops.where(keep, labels, ops.zeros_like(labels))
    return ops.cast(labels, "int32")


class ClassTargets(NamedTuple):
    """Targets normalised to positions (or, multilabel, cells).

    Attributes:
        labels: int32. Binary / multiclass: the class at each position,
            shape `positions`. Multilabel: 0/1 per cell, shape
            `positions + (C,)`. Dropped entries hold 0.
        keep: bool, same shape: entries to count.
        invalid: bool, same shape: entries that cannot be counted (neither a
            valid label nor `ignore_index`), soft targets included.
        soft: bool, same shape, or None when none can occur (integer
            targets): the part of `invalid` that is a soft target (a value
            strictly between 0 and 1, or a dense row of such values), told
            apart so the warning can name label smoothing and mix-up.
    """

    labels: Any
    keep: Any
    invalid: Any
    soft: Any = None


def hard_binary_labels(y_true: Any, ignore_index: int | None = None) -> ClassTargets:
    """0/1 targets of the binary and multilabel metrics, validated per entry.

    Exactly 0 and 1 count; `ignore_index` entries are dropped; everything else
    (NaN, 2, -1, and soft targets such as 0.9 from label smoothing) is
    invalid, with soft values also marked `soft`.
    """
    if keras.backend.standardize_dtype(y_true.dtype) == "bool":
        y_true = ops.cast(y_true, "int32")
    is_one = ops.equal(y_true, 1)
    valid = ops.logical_or(ops.equal(y_true, 0), is_one)
    soft = None
    if not keras.backend.is_int_dtype(y_true.dtype):
        soft = ops.logical_and(y_true > 0, y_true < 1)
    if ignore_index is None:
        keep, invalid = valid, ops.logical_not(valid)
    else:
        kept = ops.not_equal(y_true, ignore_index)
        keep = ops.logical_and(valid, kept)
        invalid = ops.logical_and(ops.logical_not(valid), kept)
        if soft is not None:
            soft = ops.logical_and(soft, kept)
    labels = ops.cast(ops.logical_and(is_one, keep), "int32")
    return ClassTargets(labels, keep, invalid, soft)


def one_hot_rows(y_true: Any, ignore_index: int | None = None) -> ClassTargets:
    """Class labels of dense multiclass targets, validated per row.

    A row counts only when it is exactly one-hot (a single 1, zeros
    elsewhere); its label is the position of the 1, dropped when it equals
    `ignore_index`. All-zero, multi-hot, NaN and out-of-range rows are
    invalid; rows of values in [0, 1] that are not 0/1 (label smoothing,
    mix-up) are invalid and `soft`. Unrolled over the class axis like
    `argmax_last`, so the checks fuse with the argmax into one pass.
    """
    if keras.backend.standardize_dtype(y_true.dtype) == "bool":
        y_true = ops.cast(y_true, "int32")
    num_classes = static_shape(y_true)[-1]
    labels = argmax_last(y_true)
    if num_classes is None or num_classes > UNROLL_MAX_CLASSES:
        total = ops.sum(y_true, axis=-1)
        binary = ops.all(
            ops.logical_or(ops.equal(y_true, 0), ops.equal(y_true, 1)), axis=-1
        )
        unit = ops.all(ops.logical_and(y_true >= 0, y_true <= 1), axis=-1)
    else:
        total, binary, unit = None, None, None
        for j in range(num_classes):
            column = y_true[..., j]
            is_binary = ops.logical_or(ops.equal(column, 0), ops.equal(column, 1))
            in_unit = ops.logical_and(column >= 0, column <= 1)
            if j == 0:
                total, binary, unit = column, is_binary, in_unit
            else:
                total = total + column
                binary = ops.logical_and(binary, is_binary)
                unit = ops.logical_and(unit, in_unit)
    valid = ops.logical_and(binary, ops.equal(total, 1))
    invalid = ops.logical_not(valid)
    soft = None
    if not keras.backend.is_int_dtype(y_true.dtype):
        soft = ops.logical_and(ops.logical_not(binary), unit)
    keep = valid
    if ignore_index is not None:
        keep = ops.logical_and(valid, ops.not_equal(labels, ignore_index))
    return ClassTargets(safe_labels(labels, keep), keep, invalid, soft)


# --------------------------------------------------------------------------
# Sample weights
# --------------------------------------------------------------------------
def broadcast_weights(sample_weight: Any, target: Any, dtype: str) -> Any:
    """`sample_weight` broadcast to `target`'s shape, as `dtype`.

    Accepted: a scalar, or any shape that becomes broadcastable to the target
    after right-padding with 1-sized axes (so `(N,)` weighs every position of
    sample n, `(N, H, W)` weighs pixels); a trailing axis of 1 beyond the
    target's rank is dropped. Anything else is a `ValueError` naming shapes.
    """
    target_shape = static_shape(target)
    if sample_weight is None:
        return ops.ones(ops.shape(target), dtype=dtype)
    sample_weight = ops.cast(ops.convert_to_tensor(sample_weight), dtype)
    w_shape = static_shape(sample_weight)
    while len(w_shape) > len(target_shape) and w_shape[-1] == 1:
        sample_weight = ops.squeeze(sample_weight, axis=-1)
        w_shape = w_shape[:-1]
    padded = w_shape + (1,) * (len(target_shape) - len(w_shape))
    if len(w_shape) > len(target_shape) or not all(
        w in (1, None) or t is None or w == t
        for w, t in zip(padded, target_shape, strict=True)
    ):
        raise shape_error(
            "sample_weight broadcastable to the positions of y_true after adding "
            "trailing axes (e.g. (N,) or the full position shape)",
            sample_weight=w_shape,
            positions=target_shape,
        )
    if len(padded) != len(w_shape):
        sample_weight = ops.reshape(
            sample_weight,
            tuple(ops.shape(sample_weight)) + (1,) * (len(padded) - len(w_shape)),
        )
    return ops.broadcast_to(sample_weight, ops.shape(target))


# --------------------------------------------------------------------------
# Eager checks (skipped while tracing)
# --------------------------------------------------------------------------
def is_eager(x: Any) -> bool:
    """Whether `x` is a concrete tensor (eager), not a symbolic or traced one."""
    if isinstance(x, keras.KerasTensor):
        return False
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        return tf.executing_eagerly() and not tf.is_symbolic_tensor(x)
    if backend == "jax":
        import jax

        return not isinstance(x, jax.core.Tracer)
    if backend == "torch":
        import torch

        return not (
            torch.compiler.is_compiling()
            or in_symbolic_scope()
            or getattr(x, "is_meta", False)
        )
    return True


def concrete_value(x: Any) -> np.ndarray | None:
    """`x` as NumPy when its value exists now (eager), else None (traced)."""
    if isinstance(x, (np.ndarray, np.generic, int, float, bool, list, tuple)):
        return np.asarray(x)
    if isinstance(x, keras.KerasTensor):
        return None
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        if tf.is_symbolic_tensor(x) or not tf.executing_eagerly():
            return None
    elif backend == "jax":
        import jax

        if isinstance(x, jax.core.Tracer):
            return None
    elif backend == "torch":
        import torch

        if (
            torch.compiler.is_compiling()
            or in_symbolic_scope()
            or getattr(x, "is_meta", False)
        ):
            return None
    try:
        return np.asarray(keras.ops.convert_to_numpy(x))
    except Exception:  # a symbolic tensor of some other kind
        return None


def shown_values(values: np.ndarray, limit: int = 10) -> list:
    """Up to `limit` distinct values for a message, whole numbers as ints."""
    shown = np.unique(values)[:limit].tolist()
    return [
        int(v) if isinstance(v, float) and np.isfinite(v) and v == int(v) else v
        for v in shown
    ]


def check_labels(
    labels: Any,
    num_classes: int,
    ignore_index: int | None,
    *,
    name: str = "y_true",
    binary_values: bool = False,
    hint: str | None = None,
) -> None:
    """Raises, in eager mode, on labels outside `[0, C)` other than `ignore_index`.

    While tracing this does nothing; consumers then report invalid entries as
    NaN (see the module docstring). `hint`, when given, is the fix the message
    ends with (instead of the `ignore_index` suggestion, for callers that
    have no `ignore_index`).
    """
    values = concrete_value(labels)
    if values is None:
        return
    values = np.asarray(values, dtype=np.float64)
    bad = ~np.isfinite(values) | (values != np.floor(values))
    bad |= (values < 0) | (values >= num_classes)
    if ignore_index is not None:
        bad &= values != ignore_index
    if not np.any(bad):
        return
    shown = shown_values(values[bad])
    if binary_values:
        soft = (values[bad] > 0) & (values[bad] < 1)
        if np.any(soft):
            raise ValueError(soft_targets_message(name, int(np.sum(soft))))
        allowed = "0 or 1"
    else:
        allowed = f"integers in [0, {num_classes})"
    if ignore_index is None:
        fix = (
            " Labels that mark positions to skip (such as 255 for void pixels) "
            "need `ignore_index`, e.g. ignore_index=255."
        )
        expected = allowed
    else:
        fix = ""
        expected = f"{allowed} or ignore_index={ignore_index}"
    if hint is not None:
        fix = f" {hint}"
    raise ValueError(
        f"Invalid values in `{name}`. Expected {expected}. "
        f"Received values: {shown}.{fix}"
    )


def soft_targets_message(name: str, count: int) -> str:
    return (
        f"Invalid values in `{name}`: {count} soft target(s) (values strictly "
        "between 0 and 1, as label smoothing or mix-up produce). Metrics that "
        "count classes need hard 0/1 labels: pass the labels before smoothing "
        "or mixing (e.g. `y_true > 0.5`); losses accept soft targets."
    )


def check_finite(x: Any, *, name: str) -> None:
    """Raises, in eager mode, if `x` holds NaN or infinity."""
    values = concrete_value(x)
    if values is None:
        return
    values = np.asarray(values)
    if values.dtype.kind == "f" and not np.all(np.isfinite(values)):
        count = int(np.sum(~np.isfinite(values)))
        raise ValueError(
            f"Invalid values in `{name}`. Expected finite numbers. Received "
            f"{count} NaN or infinite value(s)."
        )


def check_predictions(y_pred: Any, *, probabilities: bool) -> None:
    """Raises eagerly on invalid predictions.

    Raises, in eager mode, on non-finite `y_pred` and, with
    `probabilities`, on values outside `[0, 1]` (`check_probabilities`).
    """
    check_finite(y_pred, name="y_pred")
    if probabilities:
        check_probabilities(y_pred)


def check_class_inputs(
    y_true: Any,
    y_pred: Any,
    sample_weight: Any = None,
    *,
    task: str,
    num_classes: int,
    ignore_index: int | None = None,
    from_logits: bool = False,
) -> None:
    """Eager-only checks of a classification batch (no-ops while tracing).

    Raises on non-finite `y_pred`, on probabilities outside `[0, 1]` for the
    binary / multilabel task (without `from_logits`), on invalid targets
    (`class_targets`) and on non-finite `sample_weight`. Lets compiled
    kernels, which cannot raise, name what was wrong.
    """
    check_predictions(y_pred, probabilities=task != "multiclass" and not from_logits)
    if concrete_value(y_true) is not None:
        class_targets(
            y_true,
            y_pred,
            task=task,
            num_classes=num_classes,
            ignore_index=ignore_index,
        )
    if sample_weight is not None:
        check_finite(sample_weight, name="sample_weight")


def check_score_inputs(
    y_true: Any,
    y_pred: Any,
    sample_weight: Any = None,
    *,
    task: str,
    num_classes: int,
    from_logits: bool = False,
) -> None:
    """Eager-only checks of a score batch (ranking, log loss), in order.

    non-finite `y_pred`, probabilities outside `[0, 1]` (without `from_logits`), non-
    finite `sample_weight`, invalid targets (`score_targets`).
    """
    check_predictions(y_pred, probabilities=not from_logits)
    if sample_weight is not None:
        check_finite(sample_weight, name="sample_weight")
    score_targets(y_true, y_pred, sample_weight, task=task, num_classes=num_classes)


def check_probabilities(y_pred: Any, *, name: str = "y_pred") -> None:
    """Raises eagerly on probabilities outside `[0, 1]`.

    Raises, in eager mode, on probabilities outside `[0, 1]`, suggesting
    `from_logits=True` (the usual cause: logits passed as probabilities).
    """
    values = concrete_value(y_pred)
    if values is None:
        return
    values = np.asarray(values, np.float64)
    bad = (values < 0) | (values > 1)
    if np.any(bad):
        raise ValueError(
            f"Invalid values in `{name}`. Expected probabilities in [0, 1]; "
            f"received {int(np.sum(bad))} value(s) outside, e.g. "
            f"{shown_values(values[bad], 5)}. If `{name}` holds logits, pass "
            "from_logits=True."
        )


def check_bounds(
    x: Any, *, name: str, low: float | None = None, high: float | None = None
) -> None:
    """Raises, in eager mode, if `x` has values outside `[low, high]`.

    Used where a formula is undefined outside a range (probabilities in
    `[0, 1]`, logarithmic errors on values >= 0). While tracing this does
    nothing; consumers count such entries as invalid and report NaN.
    """
    values = concrete_value(x)
    if values is None:
        return
    values = np.asarray(values, np.float64)
    bad = np.zeros(values.shape, bool)
    if low is not None:
        bad |= values < low
    if high is not None:
        bad |= values > high
    if np.any(bad):
        bounds = " and ".join(
            text
            for text in (
                None if low is None else f">= {low:g}",
                None if high is None else f"<= {high:g}",
            )
            if text
        )
        shown = np.unique(values[bad])[:10].tolist()
        raise ValueError(
            f"Invalid values in `{name}`. Expected values {bounds}. Received "
            f"{int(np.sum(bad))} value(s) outside, e.g. {shown}"
        )


# --------------------------------------------------------------------------
# The canonical classification form
# --------------------------------------------------------------------------
def check_multilabel_shapes(y_true: Any, y_pred: Any) -> None:
    """Multilabel `y_true` is multi-hot of `y_pred`'s shape."""
    if not shapes_compatible(static_shape(y_true), static_shape(y_pred)):
        raise shape_error(
            "y_true of the same shape as y_pred (multi-hot) for the multilabel task",
            y_true=static_shape(y_true),
            y_pred=static_shape(y_pred),
        )


def check_one_hot_rows(y_true: Any, *, name: str = "y_true") -> None:
    """Raises eagerly unless every dense multiclass target row is one-hot.

    Raises, in eager mode, unless every row of dense multiclass targets is
    one-hot, naming what the bad rows are and the fix.
    """
    values = concrete_value(y_true)
    if values is None:
        return
    values = np.asarray(values, dtype=np.float64)
    binary = np.all((values == 0) | (values == 1), axis=-1)
    ones = np.sum(values == 1, axis=-1)
    bad = ~(binary & (ones == 1))
    if not np.any(bad):
        return
    count = int(np.sum(bad))
    if np.any(bad & binary & (ones > 1)):
        what, fix = (
            "multi-hot rows (several 1s)",
            " Pass task='multilabel' to score every class independently (where "
            "a metric has no multilabel task, as LogLoss, score each class as "
            "a binary task).",
        )
    elif np.any(bad & binary):
        what, fix = (
            "all-zero rows (no class)",
            " Give every position a class, or use sparse labels with "
            "`ignore_index` for positions to skip.",
        )
    elif np.any(bad & np.all((values >= 0) & (values <= 1), axis=-1)):
        raise ValueError(soft_targets_message(name, count))
    else:
        what, fix = "rows with NaN or values other than 0 and 1", ""
    raise ValueError(
        f"Invalid values in `{name}`. Expected one-hot rows (a single 1, zeros "
        f"elsewhere) for the multiclass task. Received {count} {what}.{fix}"
    )


def class_targets(
    y_true: Any,
    y_pred: Any,
    *,
    task: str,
    num_classes: int,
    ignore_index: int | None = None,
) -> ClassTargets:
    """Normalises `y_true` for `y_pred` under a resolved task.

    - binary: `y_true` has `y_pred`'s positions (a trailing axis of 1 on
      either is allowed); values exactly 0 or 1 (`hard_binary_labels`).
    - multiclass: sparse integer labels in `[0, C)`, or exactly one-hot rows
      (`one_hot_rows`), see `is_sparse`.
    - multilabel: 0/1 of `y_pred`'s shape; `ignore_index` drops cells.

    Anything else is never guessed: eagerly it raises a `ValueError` naming
    the values and the fix; traced, the entries are marked `invalid`.
    """
    y_true = ops.convert_to_tensor(y_true)
    if task == "binary":
        y_true, scores = binary_alignment(y_true, y_pred)
        labels = sparse_labels(y_true, len(static_shape(scores)))
        check_labels(labels, 2, ignore_index, binary_values=True)
        return hard_binary_labels(labels, ignore_index)
    if task == "multilabel":
        check_multilabel_shapes(y_true, y_pred)
        check_labels(y_true, 2, ignore_index, binary_values=True)
        return hard_binary_labels(y_true, ignore_index)
    if task != "multiclass":
        raise ValueError(
            f"Invalid value for argument `task`. Expected one of {TASKS}. "
            f"Received: task={task!r}"
        )
    if not is_sparse(y_true, y_pred):
        check_one_hot_rows(y_true)
        return one_hot_rows(y_true, ignore_index)
    labels = sparse_labels(y_true, len(static_shape(y_pred)) - 1)
    check_labels(labels, num_classes, ignore_index)
    keep, invalid = label_masks(labels, num_classes, ignore_index)
    return ClassTargets(safe_labels(labels, keep), keep, invalid)


class DenseTargets(NamedTuple):
    """Class-last targets for losses: one-hot / soft values at each position.

    Attributes:
        values: float, shape `y_pred.shape`: one-hot rows for sparse labels
            (all-zero at dropped positions), `y_true` itself when dense.
        keep: bool, shape `positions`: positions to count.
        invalid: bool, shape `positions` (`(N,)` with `per_sample`): sparse
            labels outside `[0, C)` that are not `ignore_index`, or dense
            rows that are not a distribution (`invalid_distribution_rows`).
    """

    values: Any
    keep: Any
    invalid: Any


def dense_targets(
    y_true: Any,
    y_pred: Any,
    *,
    ignore_index: int | None = None,
    dtype: str,
    hint: str = "",
    per_sample: bool = False,
) -> DenseTargets:
    """Sparse labels become masked one-hot rows; dense targets are validated.

    A dense row is one class distribution: one-hot or soft (label smoothing,
    mix-up), every value in `[0, 1]` and the row summing to 1 within
    `row_sum_tolerance` of `y_true`'s dtype. Multi-hot, all-zero, negative
    or NaN rows are invalid. `ignore_index` applies to sparse labels (a dense
    row has no label to compare). Eagerly raises on invalid labels or rows
    (`check_labels`, `check_probability_values`, whose message ends with
    `hint`, e.g. which mode takes multi-hot targets); while traced such
    positions are marked `invalid`. A complex `y_true` is a `TypeError`.

    `per_sample=True` returns `invalid` per sample, shape `(N,)` (all a
    per-sample loss needs, computed with fewer passes over dense targets).
    """
    y_true = real_tensor(y_true, name="y_true")
    shape = static_shape(y_pred)
    num_classes = shape[-1]
    if is_sparse(y_true, y_pred):
        if num_classes is None:
            raise shape_error("a known class axis y_pred.shape[-1]", y_pred=shape)
        labels = sparse_labels(y_true, len(shape) - 1)
        check_labels(labels, num_classes, ignore_index)
        keep, invalid = label_masks(labels, num_classes, ignore_index)
        values = ops.one_hot(safe_labels(labels, keep), num_classes, dtype=dtype)
        values = values * ops.cast(ops.expand_dims(keep, -1), dtype)
        if per_sample and len(shape) > 2:
            invalid = ops.any(invalid, axis=tuple(range(1, len(shape) - 1)))
        return DenseTargets(values, keep, invalid)
    tolerance = row_sum_tolerance(y_true.dtype)
    check_probability_values(
        y_true,
        name="y_true",
        expected="one-hot or soft class targets",
        rows=True,
        tolerance=tolerance,
        rows_hint=hint,
    )
    values = ops.cast(y_true, dtype)
    if per_sample:
        invalid = invalid_distribution_samples(values, tolerance)
        keep = ops.ones(ops.shape(y_pred)[:-1], dtype="bool")
        return DenseTargets(values, keep, invalid)
    invalid = invalid_distribution_rows(values, tolerance)
    return DenseTargets(values, ops.logical_not(invalid), invalid)


# --------------------------------------------------------------------------
# Binary / multilabel targets (values in [0, 1])
# --------------------------------------------------------------------------
def check_binary_targets(
    y_true: Any, ignore_index: int | None = None, *, name: str = "y_true"
) -> None:
    """Raises, in eager mode, on targets outside `[0, 1]` other than `ignore_index`.

    Binary and multilabel targets may be soft (any value in `[0, 1]`), unlike
    class labels (`check_labels`). While tracing this does nothing; consumers
    turn invalid entries into NaN.
    """
    values = concrete_value(y_true)
    if values is None:
        return
    values = np.asarray(values, dtype=np.float64)
    bad = ~np.isfinite(values) | (values < 0) | (values > 1)
    if ignore_index is not None:
        bad &= values != ignore_index
    if np.any(bad):
        shown = np.unique(values[bad])[:10].tolist()
        ignore = "" if ignore_index is None else f" or ignore_index={ignore_index}"
        raise ValueError(
            f"Invalid values in `{name}`. Expected values in [0, 1]{ignore}. "
            f"Received values: {shown}"
        )


class BinaryTargets(NamedTuple):
    """Per-cell targets for sigmoid outputs (binary and multilabel).

    Attributes:
        values: float, shape `y_pred.shape`: the targets, 0 where dropped.
        keep: bool, same shape: cells to count (in `[0, 1]`, not
            `ignore_index`).
        invalid: bool, same shape: cells outside `[0, 1]` that are not
            `ignore_index` (NaN counts as invalid).
    """

    values: Any
    keep: Any
    invalid: Any


def binary_targets(
    y_true: Any, y_pred: Any, *, ignore_index: int | None = None, dtype: str
) -> BinaryTargets:
    """Targets for class-last sigmoid outputs `y_pred` of shape `(..., K)`.

    `y_true` has `y_pred`'s shape, or `y_pred.shape[:-1]` when `K == 1` (the
    class axis is added). Values are soft targets in `[0, 1]`; `ignore_index`
    cells are dropped. Eagerly raises on anything else
    (`check_binary_targets`); a complex `y_true` is a `TypeError`.
    """
    y_true = real_tensor(y_true, name="y_true")
    t, p = static_shape(y_true), static_shape(y_pred)
    if (
        len(p) >= 1
        and p[-1] == 1
        and len(t) == len(p) - 1
        and shapes_compatible(t, p[:-1])
    ):
        y_true = ops.expand_dims(y_true, -1)
        t = (*t, 1)
    if not shapes_compatible(t, p):
        raise shape_error(
            "y_true of shape y_pred.shape (or y_pred.shape[:-1] when "
            "y_pred.shape[-1] == 1) for sigmoid outputs",
            y_true=t,
            y_pred=p,
        )
    check_binary_targets(y_true, ignore_index)
    y_true = ops.cast(y_true, dtype)
    in_range = ops.logical_and(y_true >= 0, y_true <= 1)  # False for NaN
    if ignore_index is None:
        keep, invalid = in_range, ops.logical_not(in_range)
    else:
        ignored = ops.equal(y_true, ignore_index)
        keep = ops.logical_and(in_range, ops.logical_not(ignored))
        invalid = ops.logical_and(ops.logical_not(in_range), ops.logical_not(ignored))
    values = ops.where(keep, y_true, ops.zeros_like(y_true))
    return BinaryTargets(values, keep, invalid)


# --------------------------------------------------------------------------
# Loss inputs: real values, probabilities, distribution rows
# --------------------------------------------------------------------------
def real_tensor(x: Any, *, name: str) -> Any:
    """`x` as a tensor of real numbers (bool, integer or float), else `TypeError`.

    Casting a complex tensor to float silently drops its imaginary part, and
    strings have no numeric value, so no loss or metric accepts them: the
    caller says which real quantity it means.
    """
    try:
        x = ops.convert_to_tensor(x)
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"Invalid type for argument `{name}`. Expected a numeric array or "
            f"tensor. Received: {name} of type {type(x).__name__} ({error})"
        ) from None
    dtype = keras.backend.standardize_dtype(x.dtype)
    if dtype.startswith("complex"):
        raise TypeError(
            f"Invalid dtype for `{name}`. Expected real values (floating-point, "
            f"integer or bool). Received: {name}.dtype={dtype}. Pass the real "
            f"quantity you mean, e.g. keras.ops.real({name}) or "
            f"keras.ops.abs({name})."
        )
    if not (
        dtype == "bool"
        or keras.backend.is_int_dtype(dtype)
        or keras.backend.is_float_dtype(dtype)
    ):
        raise TypeError(
            f"Invalid dtype for `{name}`. Expected real values (floating-point, "
            f"integer or bool). Received: {name}.dtype={dtype}"
        )
    return x


# Largest |sum - 1| accepted for a row that must be a probability distribution
# (a softmax output, a one-hot or soft target) held in float32 or float64.
ROW_SUM_TOLERANCE = 1e-3
# Tolerances of the half-precision types, in units of their roundoff (half
# a unit in the last place at 1): float16 8 * 2**-11 = 3.9e-3, bfloat16
# 4 * 2**-8 = 1.6e-2. Measured maxima of |sum - 1| over softmax rows
# (2 to 20000 classes, logits N(0, s^2) for s from 0.5 to 20): TensorFlow's
# float16 kernel 5.3 roundoffs (2.6e-3, at 1000 classes), JAX's 1.9,
# PyTorch's 0.9; bfloat16 1.5 (JAX), 0.8 (TensorFlow, PyTorch).
_HALF_PRECISION_TOLERANCE = {"float16": 8 * 2.0**-11, "bfloat16": 4 * 2.0**-8}


def row_sum_tolerance(dtype: Any) -> float:
    """Largest `|sum - 1|` accepted for a distribution row held in `dtype`.

    float32 / float64: `ROW_SUM_TOLERANCE` (1e-3). A float32 softmax sums to 1
    within about 1e-6; independent sigmoid outputs and logits almost never
    come this close. Half precision: a softmax computed in it is off by
    several unit roundoffs (the rounding of the entries, of the normaliser
    and of the kernel's own steps; TensorFlow's float16 kernel was measured
    up to 5.3 of them, 2.6e-3), so the tolerance is 8 unit roundoffs for
    float16 (3.9e-3) and 4 for bfloat16 (1.6e-2), and `mixed_float16` /
    `mixed_bfloat16` softmax outputs pass.
    """
    tolerance = _HALF_PRECISION_TOLERANCE.get(keras.backend.standardize_dtype(dtype))
    return ROW_SUM_TOLERANCE if tolerance is None else max(ROW_SUM_TOLERANCE, tolerance)


def _row_sum_and_min(x: Any) -> tuple[Any, Any]:
    """Sum and minimum along the last axis, unrolled like `finite_rows`.

    Up to `UNROLL_MAX_CLASSES` columns both are elementwise column
    operations, which XLA fuses into one pass over `x`; its reductions over
    a short last axis run far slower.
    """
    num_classes = static_shape(x)[-1]
    if num_classes is None or num_classes > UNROLL_MAX_CLASSES:
        return ops.sum(x, axis=-1), ops.min(x, axis=-1)
    from keras_components import _backend  # (imports this module)

    total = low = x[..., 0]
    for j in range(1, num_classes):
        column = x[..., j]
        total = total + column
        low = _backend.minimum(low, column)
    return total, low


def invalid_row_sums(x: Any, tolerance: float) -> Any:
    """bool, shape `x.shape[:-1]`: rows not summing to 1 within `tolerance`.

    NaN or infinite entries count as invalid. With entries `< 0` flagged
    elementwise, this is `invalid_distribution_rows` in a form that fuses
    into an elementwise pass (the sum unrolled like `_row_sum_and_min`, no
    minimum): the region losses' check of dense targets under XLA.
    """
    num_classes = static_shape(x)[-1]
    if num_classes is None or num_classes > UNROLL_MAX_CLASSES:
        total = ops.sum(x, axis=-1)
    else:
        total = x[..., 0]
        for j in range(1, num_classes):
            total = total + x[..., j]
    return ops.logical_not(ops.abs(total - 1.0) <= tolerance)


def invalid_distribution_rows(x: Any, tolerance: float, *, total: Any = None) -> Any:
    """bool, shape `x.shape[:-1]`: rows that are not a probability distribution.

    A row is valid when no entry is negative and the entries sum to 1 within
    `tolerance` (so none exceeds `1 + tolerance`). NaN or infinite entries
    make the sum non-finite, hence the row invalid (the sum is what catches
    NaN: XLA's `min` skips it). `total` is the row sum when the caller has
    it already (`ops.sum(x, axis=-1)`).
    """
    if total is None:
        total, low = _row_sum_and_min(x)
    else:
        low = ops.min(x, axis=-1)
    valid = ops.logical_and(low >= 0, ops.abs(total - 1.0) <= tolerance)
    return ops.logical_not(valid)


def invalid_distribution_samples(x: Any, tolerance: float) -> Any:
    """Bool `(N,)`: samples of `x (N, ..., C)` holding a row that is not a distribution.

    `invalid_distribution_rows`, reduced over each sample's positions. Under
    XLA the unrolled row checks fuse into one pass; elsewhere the row sums
    are a matrix product with a vector of ones, checked through their
    minimum and maximum per sample (every sum lies between them, and
    `|sum - 1| <= tolerance` holds on an interval, rounding included: no
    elementwise pass over the sums), and negative entries one minimum per
    sample (a sum over a short last axis, and slicing its columns, are slow
    kernels outside XLA). Those backends' `min` and `max` (TensorFlow's
    kernels, PyTorch) propagate NaN, so a NaN or infinite row makes the
    sample invalid.
    """
    shape = static_shape(x)
    num_classes = shape[-1]
    from keras_components import _backend  # (imports this module)

    if (
        num_classes is None
        or num_classes > UNROLL_MAX_CLASSES
        or _backend.compiled_by_xla()
    ):
        invalid = invalid_distribution_rows(x, tolerance)
        rank = len(shape) - 1
        return ops.any(invalid, axis=tuple(range(1, rank))) if rank > 1 else invalid
    ones = ops.ones((num_classes, 1), dtype=x.dtype)
    totals = _backend.matmul(ops.reshape(x, (-1, num_classes)), ones)
    totals = ops.reshape(totals, (ops.shape(x)[0], -1))
    low, high = ops.min(totals, axis=1), ops.max(totals, axis=1)
    good_rows = ops.logical_and(  # NaN: bad
        ops.abs(low - 1.0) <= tolerance, ops.abs(high - 1.0) <= tolerance
    )
    negative = ops.min(x, axis=tuple(range(1, len(shape)))) < 0
    return ops.logical_or(ops.logical_not(good_rows), negative)


def invalid_probabilities(x: Any) -> Any:
    """bool, `x`'s shape: entries outside `[0, 1]` (NaN included)."""
    return ops.logical_not(ops.logical_and(x >= 0, x <= 1))


def out_of_unit_samples(x: Any) -> Any:
    """Bool `(N,)`: samples of `x` with an entry below 0 or above 1 (or infinite).

    Two reductions (minimum and maximum per sample) instead of a mask of
    `x`'s size. NaN is *not* reliably caught (XLA's `min` and `max` skip
    it): callers catch NaN through a sum over the same entries, which it
    always reaches.
    """
    axes = tuple(range(1, len(static_shape(x))))
    # `initial` (0 and 1: the comparisons are unchanged) makes an empty batch
    # give an empty result instead of an eager "empty tensor" error.
    low = ops.min(x, axis=axes, initial=0.0)
    high = ops.max(x, axis=axes, initial=1.0)
    return ops.logical_or(low < 0, high > 1)


def check_probability_values(
    x: Any,
    *,
    name: str,
    expected: str = "probabilities",
    rows: bool = False,
    tolerance: float = ROW_SUM_TOLERANCE,
    range_hint: str = "",
    rows_hint: str = "",
) -> None:
    """Raises, in eager mode, on values that are not probabilities.

    In order: NaN or infinite values, values outside `[0, 1]` (the message
    ends with `range_hint`, the fix), and (`rows`) rows of the last axis
    whose sum is not 1 within `tolerance` (ending with `rows_hint`). While
    tracing this does nothing; consumers mark such entries
    (`invalid_probabilities`, `invalid_distribution_rows`) and report NaN.
    """
    values = concrete_value(x)
    if values is None:
        return
    values = np.asarray(values, np.float64)
    finite = np.isfinite(values)
    if not finite.all():
        raise ValueError(
            f"Invalid values in `{name}`. Expected finite {expected}. Received "
            f"{int(np.sum(~finite))} NaN or infinite value(s)."
        )
    outside = (values < 0) | (values > 1)
    if outside.any():
        shown = np.unique(values[outside])[:10].tolist()
        hint = f" {range_hint}" if range_hint else ""
        raise ValueError(
            f"Invalid values in `{name}`. Expected {expected} in [0, 1]. "
            f"Received {int(np.sum(outside))} value(s) outside, e.g. {shown}."
            f"{hint}"
        )
    if not rows or values.ndim == 0:
        return
    sums = values.sum(axis=-1)
    bad = np.abs(sums - 1.0) > tolerance
    if bad.any():
        shown = [round(v, 6) for v in np.unique(sums[bad])[:10].tolist()]
        empty = (
            " An all-zero row is not a target: leave positions out with sparse "
            "labels and `ignore_index`."
            if np.any(sums[bad] == 0)
            else ""
        )
        raise ValueError(
            f"Invalid values in `{name}`. Expected {expected} whose rows (the "
            f"last axis, {values.shape[-1]} classes) each sum to 1 "
            f"(|sum - 1| <= {tolerance:g}). Received {int(np.sum(bad))} row(s) "
            f"summing to e.g. {shown}.{empty}{f' {rows_hint}' if rows_hint else ''}"
        )


def check_loss_predictions(
    y_pred: Any,
    *,
    from_logits: bool,
    rows: bool = False,
    tolerance: float = ROW_SUM_TOLERANCE,
    rows_hint: str = "",
) -> None:
    """Raises, in eager mode, on a loss's invalid `y_pred` (no-op while traced).

    Logits (`from_logits=True`) must be finite. Probabilities must lie in
    `[0, 1]` (values outside suggest from_logits=True) and, with `rows`
    (softmax outputs), each row of the last axis must sum to 1 within
    `tolerance` (`row_sum_tolerance` of the dtype the predictions arrived
    in); that message ends with `rows_hint` (the mode for independent
    sigmoid outputs). Traced consumers mark the same entries with
    `invalid_distribution_rows`, `invalid_probabilities` or
    `out_of_unit_samples`, and report NaN.
    """
    if from_logits:
        check_finite(y_pred, name="y_pred")
        return
    logits_hint = "If `y_pred` holds logits, pass from_logits=True."
    check_probability_values(
        y_pred,
        name="y_pred",
        rows=rows,
        tolerance=tolerance,
        range_hint=logits_hint,
        rows_hint=f"{rows_hint} {logits_hint}" if rows_hint else logits_hint,
    )


# --------------------------------------------------------------------------
# The canonical score form (ranking and probabilistic metrics)
# --------------------------------------------------------------------------
class ScoreTargets(NamedTuple):
    """Per-class scores with 0/1 targets, flattened to `M` positions.

    Attributes:
        scores: `y_pred` as `(M, K)`: binary K = 1 (the positive-class
            score), multiclass and multilabel K = C (one column per class).
        targets: int32 `(M, K)`, 1 where the position belongs to class k:
            binary the label, multiclass the one-vs-rest indicator,
            multilabel the multi-hot cell. Meaningless on invalid cells.
        weights: `(M, 1)` weight of each position in the requested dtype, or
            None when no `sample_weight` was given (every position weighs 1;
            skipping an all-ones tensor saves a pass over the data).
        invalid: bool `(M, K)`: cells whose label is not a valid class
            indicator, soft targets included (only possible while tracing;
            eager callers get a `ValueError`). Consumers must exclude them.
        soft: bool `(M, K)` or None: the part of `invalid` that is a soft
            target (see `ClassTargets`).
    """

    scores: Any
    targets: Any
    weights: Any
    invalid: Any
    soft: Any = None


def score_targets(
    y_true: Any,
    y_pred: Any,
    sample_weight: Any = None,
    *,
    task: str,
    num_classes: int,
    dtype: str = "float64",
) -> ScoreTargets:
    """Normalises `(y_true, y_pred, sample_weight)` to one column per class.

    Layouts (any rank; every position is one sample):

    - binary: `y_true` 0/1 with the positions of `y_pred` (a trailing axis
      of 1 on either is allowed), `y_pred` one score per position;
    - multiclass: `y_pred (..., C)`; `y_true` sparse labels or exactly
      one-hot rows;
    - multilabel: `y_true` 0/1 of `y_pred`'s shape.

    The targets follow `class_targets`' rules (hard 0/1 labels, whole labels
    in `[0, C)`, exactly one-hot rows): eager callers get a `ValueError`
    naming the values, traced callers get the cells marked `invalid`, so a
    soft or fractional target never silently becomes a class.
    `sample_weight` weighs positions (`broadcast_weights`).

    `num_classes` is the resolved class count (`class_count`); binary uses
    one column whatever it is.
    """
    y_true = ops.convert_to_tensor(y_true)
    y_pred = ops.convert_to_tensor(y_pred)
    found = class_targets(y_true, y_pred, task=task, num_classes=num_classes)
    soft = found.soft
    if task == "binary":
        k = 1
        positions = found.labels
        targets = ops.reshape(found.labels, (-1, 1))
        invalid = ops.reshape(found.invalid, (-1, 1))
        if soft is not None:
            soft = ops.reshape(soft, (-1, 1))
        scores = ops.reshape(binary_scores(y_pred), (-1, 1))
    elif task == "multilabel":
        k = num_classes
        positions = None  # y_pred[..., 0], taken only if weights need it
        targets = ops.reshape(found.labels, (-1, k))
        invalid = ops.reshape(found.invalid, (-1, k))
        if soft is not None:
            soft = ops.reshape(soft, (-1, k))
        scores = ops.reshape(y_pred, (-1, k))
    else:
        k = num_classes
        positions = found.labels

        def per_cell(mask: Any) -> Any:
            return ops.repeat(ops.reshape(mask, (-1, 1)), k, axis=1)

        targets = ops.reshape(ops.one_hot(found.labels, k, dtype="int32"), (-1, k))
        invalid = per_cell(found.invalid)
        if soft is not None:
            soft = per_cell(soft)
        scores = ops.reshape(y_pred, (-1, k))
    weights = None
    if sample_weight is not None:
        if positions is None:
            positions = ops.take(y_pred, 0, axis=-1)
        weights = ops.reshape(
            broadcast_weights(sample_weight, positions, dtype), (-1, 1)
        )
    return ScoreTargets(scores, targets, weights, invalid, soft)


# --------------------------------------------------------------------------
# The canonical regression form
# --------------------------------------------------------------------------
class RegressionTargets(NamedTuple):
    """Targets and predictions output-major, as `(D, M)`: D outputs, M samples.

    Output-major because every regression statistic is a per-output sum over
    samples: reducing along the contiguous last axis is markedly faster on
    CPU than reducing a narrow `(M, D)` array over its first axis.

    Attributes:
        y_true: `(D, M)` in the requested dtype.
        y_pred: `(D, M)` in the requested dtype.
        weights: `(D, M)`: `sample_weight` broadcast to every cell, or None
            when no `sample_weight` was given (every cell weighs 1; skipping
            the all-ones tensor saves a pass over the data).
    """

    y_true: Any
    y_pred: Any
    weights: Any


def output_count(y_true: Any, y_pred: Any) -> int:
    """Number of regression outputs D: the last axis, or 1 for 1-D inputs.

    A trailing axis of 1 on one side only is allowed (`(N,)` vs `(N, 1)`).
    """
    t, p = static_shape(y_true), static_shape(y_pred)
    if len(t) == len(p) + 1 and t and t[-1] == 1:
        t = t[:-1]
    elif len(p) == len(t) + 1 and p and p[-1] == 1:
        p = p[:-1]
    if not p or not shapes_compatible(t, p):
        raise shape_error(
            "y_true and y_pred of the same shape, (N,) or (N, ..., D) (a "
            "trailing axis of 1 on one side is allowed)",
            y_true=static_shape(y_true),
            y_pred=static_shape(y_pred),
        )
    if len(p) == 1:
        return 1
    d = p[-1] if p[-1] is not None else t[-1]
    if d is None:
        raise shape_error(
            "a known number of outputs (last axis) for y_true and y_pred",
            y_true=static_shape(y_true),
            y_pred=static_shape(y_pred),
        )
    return d


def regression_targets(
    y_true: Any, y_pred: Any, sample_weight: Any = None, *, dtype: str = "float64"
) -> RegressionTargets:
    """Normalises regression inputs to output-major `(D, M)` arrays.

    `y_true` and `y_pred` have the same shape: `(N,)` (one output) or
    `(N, ..., D)` (D outputs; every leading position is one sample); a
    trailing axis of 1 on one side only is dropped. `sample_weight` follows
    `broadcast_weights` against the full shape: `(N,)` weighs samples, the
    full shape weighs cells (None: unweighted, see `RegressionTargets`).
    Values are cast to `dtype` after the transpose (float64 by default, so
    float32 inputs are represented exactly).
    """
    y_true = ops.convert_to_tensor(y_true)
    y_pred = ops.convert_to_tensor(y_pred)
    d = output_count(y_true, y_pred)
    t, p = static_shape(y_true), static_shape(y_pred)
    if len(t) == len(p) + 1:
        y_true = ops.squeeze(y_true, axis=-1)
    elif len(p) == len(t) + 1:
        y_pred = ops.squeeze(y_pred, axis=-1)

    def output_major(x: Any) -> Any:
        if d == 1:
            return ops.cast(ops.reshape(x, (1, -1)), dtype)
        return ops.cast(ops.transpose(ops.reshape(x, (-1, d))), dtype)

    weights = None
    if sample_weight is not None:
        weights = output_major(broadcast_weights(sample_weight, y_pred, dtype))
    return RegressionTargets(output_major(y_true), output_major(y_pred), weights)
