"""The confusion-statistics core shared by every classification metric.

One batch becomes one weighted confusion tensor:

- binary: `(2, 2)`, rows = true class, columns = predicted class;
- multiclass: `(C, C)`, same layout (scikit-learn's `confusion_matrix`);
- multilabel: `(C, 2, 2)`, one `[[tn, fp], [fn, tp]]` block per label
  (scikit-learn's `multilabel_confusion_matrix`).

It is computed with a single segment sum (a weighted bincount) over the
flattened index
`true * K + pred`, in float64 so weighted counts are exact to 2**53. Every
score below (F-beta, precision, recall, IoU, accuracy, balanced accuracy, MCC,
Cohen's kappa) is a pure function of the accumulated tensor, mirroring
scikit-learn's definitions, including `zero_division` and how averages treat
undefined (NaN) per-class values.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from keras import ops

from keras_components import _backend, _inputs, _math
from keras_components.metrics._base import average_classes

AVERAGES = ("micro", "macro", "weighted", None)


def confusion_shape(task: str, num_classes: int) -> tuple[int, ...]:
    if task == "multilabel":
        return (num_classes, 2, 2)
    return (2, 2) if task == "binary" else (num_classes, num_classes)


def predicted_labels(y_pred: Any, *, task: str, threshold: float, from_logits: bool):
    """Hard predictions.

    the argmax (multiclass, the same for logits and probabilities) or `p > threshold` on
    probabilities (binary / multilabel; logits go through a sigmoid first). Strictly
    greater, as Keras, torchmetrics and TensorFlow Addons decide.
    """
    if task == "multiclass":
        return _inputs.argmax_last(y_pred)
    scores = _inputs.binary_scores(y_pred) if task == "binary" else y_pred
    probabilities = ops.sigmoid(scores) if from_logits else scores
    return ops.cast(probabilities > threshold, "int32")


def invalid_predictions(y_pred: Any, *, task: str, from_logits: bool) -> Any:
    """Bool per position (multilabel.

    per cell): predictions that cannot be scored. NaN / inf anywhere; for binary /
    multilabel probabilities (`from_logits=False`) also values outside `[0, 1]`, usually
    logits passed without `from_logits=True`. (Multiclass takes the argmax, which is the
    same for logits and probabilities.)
    """
    if task == "multiclass":
        return ops.logical_not(_inputs.finite_rows(y_pred))
    scores = _inputs.binary_scores(y_pred) if task == "binary" else y_pred
    if from_logits:
        return ops.logical_not(ops.isfinite(scores))
    return ops.logical_not(ops.logical_and(scores >= 0, scores <= 1))  # NaN too


class BatchCounts(NamedTuple):
    """Sufficient statistics of one batch.

    Attributes:
        confusion: float64 tensor of `confusion_shape(task, C)`, weighted.
        invalid: float64 `(NUM_REASONS,)`: how many entries could not be
            counted, by reason (`_inputs.INVALID_REASONS`): positions
            (multilabel: cells) with an invalid or soft target, an invalid
            prediction, or a non-finite sample weight.
        exact: multilabel only: weight of positions whose every counted label
            is right (subset accuracy's numerator), else None.
        positions: multilabel only: weight of positions with a counted label.
    """

    confusion: Any
    invalid: Any
    exact: Any = None
    positions: Any = None


class Entries(NamedTuple):
    """One batch's entries, ready for a segment sum (`_entries`).

    Attributes:
        targets: `_inputs.class_targets` of the batch.
        predicted: the hard predictions (`predicted_labels`).
        index: int32, the confusion cell of each entry (position; multilabel:
            cell) in `[0, length)`, or `length + reason` for an entry that
            cannot be counted (`_inputs.reason_codes`).
        length: the number of confusion cells, `prod(confusion_shape)`.
        weights: the state-dtype weight each entry adds to its cell: its
            position's weight where counted, 0 where dropped by
            `ignore_index`, 1 where it cannot be counted.
        position_weights: the broadcast `sample_weight` (multilabel: with a
            trailing axis of 1), or None without one.
    """

    targets: Any
    predicted: Any
    index: Any
    length: int
    weights: Any
    position_weights: Any


def _entries(
    y_true: Any,
    y_pred: Any,
    sample_weight: Any,
    *,
    task: str,
    num_classes: int,
    threshold: float,
    from_logits: bool,
    ignore_index: int | None,
) -> Entries:
    """The front end shared by `batch_confusion` and `image_confusion`."""
    y_pred = ops.convert_to_tensor(y_pred)
    targets = _inputs.class_targets(
        y_true, y_pred, task=task, num_classes=num_classes, ignore_index=ignore_index
    )
    predicted = predicted_labels(
        y_pred, task=task, threshold=threshold, from_logits=from_logits
    )
    if task == "multilabel":
        # Cell (n, c) goes to block c: index = 4 c + 2 true + pred.
        offsets = ops.arange(num_classes, dtype="int32") * 4
        index = offsets + 2 * targets.labels + predicted
        length = 4 * num_classes
    else:
        k = 2 if task == "binary" else num_classes
        index = targets.labels * k + predicted
        length = k * k
    position_weights = None
    bad_weights = None
    if sample_weight is not None:
        positions = predicted if task != "multilabel" else predicted[..., 0]
        position_weights = _inputs.broadcast_weights(
            sample_weight, positions, _backend.state_dtype()
        )
        if task == "multilabel":
            position_weights = ops.expand_dims(position_weights, -1)
        bad_weights = ops.logical_not(ops.isfinite(position_weights))
        if task == "multilabel":
            bad_weights = ops.broadcast_to(bad_weights, ops.shape(predicted))
    # Entries that cannot be counted go, with weight 1, to one extra cell per
    # reason that counts them: the whole batch is a single elementwise pass
    # over the inputs and one segment sum, which XLA fuses without re-reading
    # the inputs.
    bad, code = _inputs.reason_codes(
        targets=targets.invalid,
        soft=targets.soft,
        predictions=invalid_predictions(y_pred, task=task, from_logits=from_logits),
        weights=bad_weights,
    )
    index = ops.where(bad, length + code, index)
    # (Written so that with every label kept and no sample_weight the weights
    # are a constant 1, which compilers fold away.)
    weights = ops.cast(ops.logical_or(targets.keep, bad), _backend.state_dtype())
    if position_weights is not None:
        weights = ops.where(bad, weights, weights * position_weights)
    return Entries(targets, predicted, index, length, weights, position_weights)


def batch_confusion(
    y_true: Any,
    y_pred: Any,
    sample_weight: Any,
    *,
    task: str,
    num_classes: int,
    threshold: float = 0.5,
    from_logits: bool = False,
    ignore_index: int | None = None,
    subset_counts: bool = False,
) -> BatchCounts:
    """The confusion tensor of one batch (see `BatchCounts`).

    Pure and traceable: invalid entries are never counted, only counted by
    reason in `invalid` (the metric raises on them eagerly and turns its
    result NaN when traced). `subset_counts` adds the multilabel exact-match
    counts.
    """
    entries = _entries(
        y_true,
        y_pred,
        sample_weight,
        task=task,
        num_classes=num_classes,
        threshold=threshold,
        from_logits=from_logits,
        ignore_index=ignore_index,
    )
    length = entries.length
    # A segment sum over a static number of cells (a bincount whose length
    # XLA can see at compile time).
    counts = _backend.segment_sum(
        ops.reshape(entries.weights, (-1,)),
        ops.reshape(entries.index, (-1,)),
        num_segments=length + _inputs.NUM_REASONS,
    )
    n_invalid = counts[length:]
    counts = counts[:length]
    confusion = ops.reshape(counts, confusion_shape(task, num_classes))
    if not (subset_counts and task == "multilabel"):
        return BatchCounts(confusion, n_invalid)
    exact, positions = _subset_weights(entries)
    return BatchCounts(confusion, n_invalid, ops.sum(exact), ops.sum(positions))


def _subset_weights(entries: Entries) -> tuple[Any, Any]:
    """Multilabel: the weight of each exactly matched and each counted position.

    A position counts when any of its labels does; it is an exact match
    when every counted label is right.
    """
    predicted, targets = entries.predicted, entries.targets
    position_weights = entries.position_weights
    if position_weights is None:
        position_weights = ops.ones(
            ops.shape(predicted[..., 0]), _backend.state_dtype()
        )
    else:
        position_weights = position_weights[..., 0]
    keep = targets.keep
    counted = ops.any(keep, axis=-1)
    right = ops.logical_or(ops.equal(predicted, targets.labels), ops.logical_not(keep))
    exact = ops.logical_and(counted, ops.all(right, axis=-1))
    zero = ops.zeros_like(position_weights)
    return (
        ops.where(exact, position_weights, zero),
        ops.where(counted, position_weights, zero),
    )


# --------------------------------------------------------------------------
# Scores from an accumulated confusion tensor
# --------------------------------------------------------------------------
class ClassCounts(NamedTuple):
    """Per-class counts; for the binary task, the positive class only."""

    tp: Any
    fp: Any
    fn: Any
    tn: Any


def class_counts(confusion: Any, task: str) -> ClassCounts:
    """The counts of a confusion tensor, or of a stack of them (leading axes)."""
    if task == "multilabel":
        return ClassCounts(
            confusion[..., 1, 1],
            confusion[..., 0, 1],
            confusion[..., 1, 0],
            confusion[..., 0, 0],
        )
    tp = ops.diagonal(confusion, axis1=-2, axis2=-1)
    fp = ops.sum(confusion, axis=-2) - tp
    fn = ops.sum(confusion, axis=-1) - tp
    tn = ops.sum(confusion, axis=(-2, -1))[..., None] - tp - fp - fn
    counts = ClassCounts(tp, fp, fn, tn)
    if task == "binary":  # scikit-learn's average="binary": the positive class
        return ClassCounts(*(c[..., 1:] for c in counts))
    return counts


def divide(numerator: Any, denominator: Any, zero_division: float) -> Any:
    """`numerator / denominator`, or `zero_division`.

    `numerator / denominator`, `zero_division` where the denominator is not
    positive (weighted counts: a total <= 0 holds nothing).
    """
    return _math.divide(numerator, _backend.maximum(denominator, 0.0), zero_division)


def average_scores(
    numerator: Any,
    denominator: Any,
    support: Any,
    *,
    average: str | None,
    zero_division: float,
    nan_aware: bool = True,
    axis: int | None = None,
) -> Any:
    """Per-class `numerator / denominator`, averaged as scikit-learn does.

    micro: divide the class sums. macro: mean over classes. weighted: mean
    weighted by `support` (true count). None: the per-class vector.
    `nan_aware` follows precision/recall/F-beta, whose averages skip classes
    that are undefined under `zero_division=nan`; `jaccard_score` does not.
    (`_base.average_classes` is the one rule for the last two.) `axis`:
    the class axis micro sums over (None: every axis; `-1` for per-image
    `(N, K)` counts, the other averages always average the last axis).
    """
    if average == "micro":
        return divide(
            ops.sum(numerator, axis=axis),
            ops.sum(denominator, axis=axis),
            zero_division,
        )
    per_class = divide(numerator, denominator, zero_division)
    return average_classes(per_class, support, average=average, skip_nan=nan_aware)


def select_classes(counts: ClassCounts, classes: tuple[int, ...] | None):
    """The counts of the class subset `classes` (last axis), in that order."""
    if classes is None:
        return counts
    index = list(classes)
    return ClassCounts(*(ops.take(c, index, axis=-1) for c in counts))


def fbeta_parts(counts: ClassCounts, beta: float) -> tuple[Any, Any]:
    """F-beta `(1 + b^2) tp / ((1 + b^2) tp + b^2 fn + fp)`, as (num, den)."""
    b2 = beta * beta
    return (1.0 + b2) * counts.tp, (1.0 + b2) * counts.tp + b2 * counts.fn + counts.fp


# The scores below take one (C, C) matrix or a stack of them (leading axes,
# one score each: `per_image=True` scores each image's matrix).
_CELLS = (-2, -1)


def accuracy(confusion: Any, zero_division: float) -> Any:
    """Fraction on the diagonal of a (C, C) confusion matrix."""
    return divide(
        ops.trace(confusion, axis1=-2, axis2=-1),
        ops.sum(confusion, axis=_CELLS),
        zero_division,
    )


def balanced_accuracy(confusion: Any, zero_division: float) -> Any:
    """Mean recall over the classes present in `y_true` (scikit-learn's rule)."""
    support = ops.sum(confusion, axis=-1)
    present = support > 0
    diagonal = ops.diagonal(confusion, axis1=-2, axis2=-1)
    recall = diagonal / ops.where(present, support, 1.0)
    n_present = ops.sum(ops.cast(present, confusion.dtype), axis=-1)
    mean = ops.sum(ops.where(present, recall, 0.0), axis=-1) / ops.where(
        n_present > 0, n_present, 1.0
    )
    return ops.where(n_present > 0, mean, zero_division)


def matthews_corrcoef(confusion: Any, zero_division: float) -> Any:
    """Multiclass MCC (Gorodkin's R_K) from a (C, C) confusion matrix.

    `(c s - t.p) / sqrt((s^2 - p.p)(s^2 - t.t))` with `c` the trace, `s` the
    total, `t`/`p` the true/predicted class totals; `zero_division` (scikit-
    learn: 0) when the denominator is 0.
    """
    t = ops.sum(confusion, axis=-1)
    p = ops.sum(confusion, axis=-2)
    correct = ops.trace(confusion, axis1=-2, axis2=-1)
    total = ops.sum(t, axis=-1)
    cov_tp = correct * total - ops.sum(t * p, axis=-1)
    cov_pp = total * total - ops.sum(p * p, axis=-1)
    cov_tt = total * total - ops.sum(t * t, axis=-1)
    product = cov_pp * cov_tt
    safe = ops.where(product > 0, product, 1.0)
    return ops.where(product > 0, cov_tp / ops.sqrt(safe), zero_division)


def cohen_kappa(confusion: Any, weights: str | None, zero_division: float) -> Any:
    """Cohen's kappa `1 - sum(w * O) / sum(w * E)` (scikit-learn's definition).

    `E` is the outer product of the marginals over the total; `w` is 0 on the
    diagonal and 1 off it (`None`), `|i - j|` (`"linear"`) or `(i - j)^2`
    (`"quadratic"`). Undefined (a zero denominator): `zero_division`.
    """
    k = confusion.shape[-1]
    index = ops.arange(k, dtype=confusion.dtype)
    distance = ops.abs(index[:, None] - index[None, :])
    if weights is None:
        w = ops.cast(distance > 0, confusion.dtype)
    elif weights == "linear":
        w = distance
    else:
        w = distance * distance
    total = ops.sum(confusion, axis=_CELLS)
    safe_total = ops.where(total > 0, total, 1.0)
    expected = (
        ops.sum(confusion, axis=-2)[..., None, :]
        * ops.sum(confusion, axis=-1)[..., :, None]
    )
    expected = expected / safe_total[..., None, None]
    observed_cost = ops.sum(w * confusion, axis=_CELLS)
    expected_cost = ops.sum(w * expected, axis=_CELLS)
    defined = ops.logical_and(total > 0, expected_cost > 0)
    safe = ops.where(defined, expected_cost, 1.0)
    return ops.where(defined, 1.0 - observed_cost / safe, zero_division)


def hamming_loss(confusion: Any, task: str, zero_division: float) -> Any:
    """The fraction of wrong labels: off the diagonal (multilabel: fp + fn)."""
    if task == "multilabel":
        total = ops.sum(confusion, axis=(-3, -2, -1))
        wrong = ops.sum(confusion[..., 0, 1] + confusion[..., 1, 0], axis=-1)
    else:
        total = ops.sum(confusion, axis=_CELLS)
        wrong = total - ops.trace(confusion, axis1=-2, axis2=-1)
    return divide(wrong, total, zero_division)


def normalize_confusion(confusion: Any, normalize: str | None) -> Any:
    """scikit-learn's `normalize` (0/0 -> 0); per 2x2 block for multilabel."""
    if normalize is None:
        return confusion
    axis = {"true": -1, "pred": -2, "all": (-2, -1)}[normalize]
    totals = ops.sum(confusion, axis=axis, keepdims=True)
    return ops.where(totals > 0, confusion / ops.where(totals > 0, totals, 1.0), 0.0)


# --------------------------------------------------------------------------
# Per-image counts (`per_image=True`)
# --------------------------------------------------------------------------
class ImageCounts(NamedTuple):
    """Per-image confusion tensors of one batch (`per_image=True`).

    Attributes:
        confusion: `(N, *confusion_shape(task, C))` weighted counts, one
            confusion tensor per image (`class_counts` reads it per image).
        counted: `(N,)` bool: images with a counted position of positive
            total weight (an image whose every position is `ignore_index`,
            invalid or weighted 0 has no score; multilabel: some label of
            positive total weight).
        invalid: `(NUM_REASONS,)` counts of entries that could not be
            counted, by reason (as `BatchCounts.invalid`).
        exact, positions: multilabel with `subset_counts` only: `(N,)`, each
            image's `BatchCounts.exact` and `BatchCounts.positions`.
    """

    confusion: Any
    counted: Any
    invalid: Any
    exact: Any = None
    positions: Any = None


def image_confusion(
    y_true: Any,
    y_pred: Any,
    sample_weight: Any,
    *,
    task: str,
    num_classes: int,
    threshold: float = 0.5,
    from_logits: bool = False,
    ignore_index: int | None = None,
    subset_counts: bool = False,
) -> ImageCounts:
    """Each image's confusion tensor (see `ImageCounts`).

    Axis 0 of the positions is the image, the others (at least one) are
    spatial. The same entries as `batch_confusion` (`ignore_index`,
    `sample_weight` weighing positions, invalid entries never counted but
    counted by reason), in one segment sum whose segment of an entry is
    `image * cells + cell`: the per_image=False kernel with N times the
    cells. The number of segments is static where the batch size is; an
    unknown batch size while tracing (TensorFlow graphs) gives a dynamic one.
    """
    entries = _entries(
        y_true,
        y_pred,
        sample_weight,
        task=task,
        num_classes=num_classes,
        threshold=threshold,
        from_logits=from_logits,
        ignore_index=ignore_index,
    )
    length = entries.length
    cells = length + _inputs.NUM_REASONS
    index = entries.index
    rank = len(_inputs.static_shape(index))
    n = ops.shape(index)[0]
    image = ops.reshape(ops.arange(n, dtype="int32"), (-1,) + (1,) * (rank - 1))
    counts = _backend.segment_sum(
        ops.reshape(entries.weights, (-1,)),
        ops.reshape(image * cells + index, (-1,)),
        num_segments=n * cells,
    )
    counts = ops.reshape(counts, (-1, cells))
    invalid = ops.sum(counts[:, length:], axis=0)
    shape = confusion_shape(task, num_classes)
    confusion = ops.reshape(counts[:, :length], (-1, *shape))
    if task == "multilabel":
        counted = ops.any(ops.sum(confusion, axis=(-2, -1)) > 0, axis=-1)
    else:
        counted = ops.sum(counts[:, :length], axis=-1) > 0
    if not (subset_counts and task == "multilabel"):
        return ImageCounts(confusion, counted, invalid)
    spatial = tuple(range(1, rank - 1))
    exact, positions = (ops.sum(w, axis=spatial) for w in _subset_weights(entries))
    return ImageCounts(confusion, counted, invalid, exact, positions)
