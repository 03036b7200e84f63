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
    keep = targets.keep
    index = ops.where(bad, length + code, index)
    # (Written so that with every label kept and no sample_weight the weights
    # are a constant 1, which compilers fold away.)
    weights = ops.cast(ops.logical_or(keep, bad), _backend.state_dtype())
    if position_weights is not None:
        weights = ops.where(bad, weights, weights * position_weights)
    # A segment sum over a static number of cells (a bincount whose length
    # XLA can see at compile time).
    counts = _backend.segment_sum(
        ops.reshape(weights, (-1,)),
        ops.reshape(index, (-1,)),
        num_segments=length + _inputs.NUM_REASONS,
    )
    n_invalid = counts[length:]
    counts = counts[:length]
    confusion = ops.reshape(counts, confusion_shape(task, num_classes))
    if not (subset_counts and task == "multilabel"):
        return BatchCounts(confusion, n_invalid)
    # A position counts when any of its labels does; it is an exact match
    # when every counted label is right.
    if position_weights is None:
        position_weights = ops.ones(
            ops.shape(predicted[..., 0]), _backend.state_dtype()
        )
    else:
        position_weights = position_weights[..., 0]
    counted = ops.any(keep, axis=-1)
    right = ops.logical_or(ops.equal(predicted, targets.labels), ops.logical_not(keep))
    exact = ops.logical_and(counted, ops.all(right, axis=-1))
    zero = ops.zeros_like(position_weights)
    return BatchCounts(
        confusion,
        n_invalid,
        ops.sum(ops.where(exact, position_weights, zero)),
        ops.sum(ops.where(counted, position_weights, zero)),
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
    if task == "multilabel":
        return ClassCounts(
            confusion[:, 1, 1],
            confusion[:, 0, 1],
            confusion[:, 1, 0],
            confusion[:, 0, 0],
        )
    tp = ops.diagonal(confusion)
    fp = ops.sum(confusion, axis=0) - tp
    fn = ops.sum(confusion, axis=1) - tp
    tn = ops.sum(confusion) - tp - fp - fn
    counts = ClassCounts(tp, fp, fn, tn)
    if task == "binary":  # scikit-learn's average="binary": the positive class
        return ClassCounts(*(c[1:] for c in counts))
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


def accuracy(confusion: Any, zero_division: float) -> Any:
    """Fraction on the diagonal of a (C, C) confusion matrix."""
    return divide(ops.trace(confusion), ops.sum(confusion), zero_division)


def balanced_accuracy(confusion: Any, zero_division: float) -> Any:
    """Mean recall over the classes present in `y_true` (scikit-learn's rule)."""
    support = ops.sum(confusion, axis=1)
    present = support > 0
    recall = ops.diagonal(confusion) / ops.where(present, support, 1.0)
    n_present = ops.sum(ops.cast(present, confusion.dtype))
    mean = ops.sum(ops.where(present, recall, 0.0)) / ops.where(
        n_present > 0, n_present, 1.0
    )
    return ops.where(n_present > 0, mean, zero_division)


def matthews_corrcoef(confusion: Any, zero_division: float) -> Any:
    """Multiclass MCC (Gorodkin's R_K) from a (C, C) confusion matrix.

    `(c s - t.p) / sqrt((s^2 - p.p)(s^2 - t.t))` with `c` the trace, `s` the
    total, `t`/`p` the true/predicted class totals; `zero_division` (scikit-
    learn: 0) when the denominator is 0.
    """
    t = ops.sum(confusion, axis=1)
    p = ops.sum(confusion, axis=0)
    correct = ops.trace(confusion)
    total = ops.sum(t)
    cov_tp = correct * total - ops.sum(t * p)
    cov_pp = total * total - ops.sum(p * p)
    cov_tt = total * total - ops.sum(t * t)
    product = cov_pp * cov_tt
    safe = ops.where(product > 0, product, 1.0)
    return ops.where(product > 0, cov_tp / ops.sqrt(safe), zero_division)


def cohen_kappa(confusion: Any, weights: str | None, zero_division: float) -> Any:
    """Cohen's kappa `1 - sum(w * O) / sum(w * E)` (scikit-learn's definition).

    `E` is the outer product of the marginals over the total; `w` is 0 on the
    diagonal and 1 off it (`None`), `|i - j|` (`"linear"`) or `(i - j)^2`
    (`"quadratic"`). Undefined (a zero denominator): `zero_division`.
    """
    k = confusion.shape[0]
    index = ops.arange(k, dtype=confusion.dtype)
    distance = ops.abs(index[:, None] - index[None, :])
    if weights is None:
        w = ops.cast(distance > 0, confusion.dtype)
    elif weights == "linear":
        w = distance
    else:
        w = distance * distance
    total = ops.sum(confusion)
    safe_total = ops.where(total > 0, total, 1.0)
    expected = ops.sum(confusion, axis=0)[None, :] * ops.sum(confusion, axis=1)[:, None]
    expected = expected / safe_total
    observed_cost = ops.sum(w * confusion)
    expected_cost = ops.sum(w * expected)
    defined = ops.logical_and(total > 0, expected_cost > 0)
    safe = ops.where(defined, expected_cost, 1.0)
    return ops.where(defined, 1.0 - observed_cost / safe, zero_division)


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
    """Per-image, per-class counts of one batch (`per_image=True`).

    Attributes:
        counts: `ClassCounts` of `(N, K)` weighted counts: K = C classes
            (multiclass one-vs-rest, multilabel per label) or K = 1, the
            positive class (binary).
        counted: `(N,)` bool: images with a counted position of positive
            total weight (an image whose every position is `ignore_index`,
            invalid or weighted 0 has no score).
        invalid: `(NUM_REASONS,)` counts of entries that could not be
            counted, by reason (as `BatchCounts.invalid`).
    """

    counts: ClassCounts
    counted: Any
    invalid: Any


def image_class_counts(
    y_true: Any,
    y_pred: Any,
    sample_weight: Any,
    *,
    task: str,
    num_classes: int,
    threshold: float = 0.5,
    from_logits: bool = False,
    ignore_index: int | None = None,
) -> ImageCounts:
    """Each image's `tp`, `fp`, `fn`, `tn` per class (see `ImageCounts`).

    Axis 0 of the positions is the image, the others (at least one) are
    spatial and summed over. Pure and traceable like `batch_confusion`, with
    the same rules for `ignore_index`, `sample_weight` (weighing positions)
    and invalid entries (never counted, counted by reason). The batch size
    may be unknown while tracing: the sums run over the spatial axes, with
    no segment count that depends on it.
    """
    dtype = _backend.state_dtype()
    y_pred = ops.convert_to_tensor(y_pred)
    targets = _inputs.class_targets(
        y_true, y_pred, task=task, num_classes=num_classes, ignore_index=ignore_index
    )
    predicted = predicted_labels(
        y_pred, task=task, threshold=threshold, from_logits=from_logits
    )
    positions = predicted if task != "multilabel" else predicted[..., 0]
    weights = _inputs.broadcast_weights(sample_weight, positions, dtype)
    if task == "multilabel":
        weights = ops.broadcast_to(ops.expand_dims(weights, -1), ops.shape(predicted))
    bad_weights = (
        None if sample_weight is None else ops.logical_not(ops.isfinite(weights))
    )
    bad, code = _inputs.reason_codes(
        targets=targets.invalid,
        soft=targets.soft,
        predictions=invalid_predictions(y_pred, task=task, from_logits=from_logits),
        weights=bad_weights,
    )
    by_reason = ops.one_hot(code, _inputs.NUM_REASONS, dtype=dtype)
    by_reason = by_reason * ops.expand_dims(ops.cast(bad, dtype), -1)
    invalid = ops.sum(ops.reshape(by_reason, (-1, _inputs.NUM_REASONS)), axis=0)
    keep = ops.logical_and(targets.keep, ops.logical_not(bad))
    # The weight of each counted entry, 0 elsewhere (NaN weights are bad).
    entry = ops.where(keep, weights, ops.zeros_like(weights))
    if task == "multiclass":
        true_hot = ops.one_hot(targets.labels, num_classes, dtype=dtype)
        pred_hot = ops.one_hot(predicted, num_classes, dtype=dtype)
    else:  # multilabel: one cell per label; binary: the positive class, K = 1
        true_hot = ops.cast(targets.labels, dtype)
        pred_hot = ops.cast(predicted, dtype)
        if task == "binary":
            true_hot, pred_hot = true_hot[..., None], pred_hot[..., None]
    spatial = tuple(range(1, len(_inputs.static_shape(true_hot)) - 1))
    if task == "multilabel":
        image_total = ops.sum(entry, axis=spatial)  # (N, C): per label
        counted = ops.any(image_total > 0, axis=-1)
    else:
        image_total = ops.sum(entry, axis=spatial)[:, None]  # (N, 1)
        counted = image_total[:, 0] > 0
        entry = ops.expand_dims(entry, -1)
    tp = ops.sum(entry * true_hot * pred_hot, axis=spatial)
    fp = ops.sum(entry * pred_hot, axis=spatial) - tp
    fn = ops.sum(entry * true_hot, axis=spatial) - tp
    tn = image_total - tp - fp - fn
    return ImageCounts(ClassCounts(tp, fp, fn, tn), counted, invalid)
