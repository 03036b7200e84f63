"""The Lovász loss: a convex surrogate of the Jaccard (IoU) loss.

Berman, Rannen Triki and Blaschko (CVPR 2018) optimise the Jaccard loss
through its Lovász extension: for a vector of per-position errors `e`
sorted in decreasing order, with `g` the ground truth in that order,

    J_i  = 1 - (G - cumsum(g)_i) / (G + cumsum(1 - g)_i)
    loss = sum_i e_i * (J_i - J_(i-1)),   J_0 = 0

with `G = sum(g)`: `J_i` is the Jaccard loss once the first i positions
are errors. Binary masks use the hinge errors of logits
(`max(0, 1 - z * (2 y - 1))`, the Lovász hinge); multiclass probabilities
the errors `|y_c - p_c|` of each class (the Lovász-softmax), averaged over
classes. Sorting is `ops.argsort` over the positions, so the loss runs under
`jit_compile` on every backend; the gradient reaches the errors through
the gather of the sort, the weights `w` depend on the targets only.
"""

from __future__ import annotations

import math
from typing import Any

import keras
from keras import ops

from keras_components import _backend, _docs
from keras_components._export import export
from keras_components._inputs import (
    binary_targets,
    check_loss_predictions,
    dense_targets,
    out_of_unit_samples,
    real_tensor,
    resolve_task,
    shape_error,
    static_shape,
)
from keras_components._validation import (
    check_bool,
    check_choice,
    check_optional_int,
    invalid_value,
)
from keras_components.losses._base import Loss, as_compute_tensor, nan_where

__all__ = ["LovaszLoss", "lovasz_loss"]

MODES = ("auto", "binary", "multiclass")
CLASSES = ("present", "all")

_DOCS = {
    "formula": """
Per group of positions (one image with `per_image=True`, the whole batch
otherwise), with the errors `e` of a class sorted in decreasing order and
the targets `g` in that order (`G = sum(g)`):

    J_i    = 1 - (G - cumsum(g)_i) / (G + cumsum(1 - g)_i)
    L      = sum_i e_i * (J_i - J_(i-1)),   J_0 = 0
    binary:     e = max(0, 1 - z * (2 y - 1))  (z logits; Lovász hinge)
    multiclass: e_c = |y_c - p_c|, loss = mean over classes of L_c
""",
    "inputs": """
Inputs: `y_pred` of shape `(N, *spatial, C)` (any spatial rank; none
only with `per_image=False`). Binary mode (`C == 1`): logits, with
`from_logits=True` (the hinge is defined on logits, so probabilities
are an error). Multiclass mode: probabilities (softmax outputs; rows
need not sum to 1, as for `dice_loss`) or logits with
`from_logits=True`. `y_true`: sparse integer labels `(N, *spatial)` /
`(N, *spatial, 1)`, or dense targets `(N, *spatial, C)`: one class
distribution per position in multiclass mode (one-hot, or soft as
from label smoothing, summing to 1 within
`_inputs.row_sum_tolerance`), values in `[0, 1]` in binary mode. Soft
targets enter the same formulas in place of 0/1 (`g = y`, sign
`2 y - 1`); with hard targets the loss is the paper's.
""",
    "invalid": """
Invalid input (labels outside `[0, C)` other than `ignore_index`; dense
multiclass rows that are multi-hot, all zero or outside `[0, 1]`; NaN or
infinite values; probabilities outside `[0, 1]`, e.g. logits passed
without `from_logits=True`) is never scored: eagerly it raises a
`ValueError` naming the values and the fix, and while traced
(`tf.function`, `jit_compile`, `fit`) the loss of each affected image is
NaN (with `per_image=False`, the batch's loss). Predictions are checked
at every position, ignored ones included. Complex inputs are a
`TypeError`. Half-precision inputs are computed in float32.
""",
    "y_true": "Targets (see Inputs above).",
    "y_pred": "Predictions `(N, *spatial, C)`.",
    "mode": """
`"auto"` (binary when `y_pred.shape[-1] == 1`, else multiclass),
`"binary"` (one logit channel: the Lovász hinge) or `"multiclass"`
(softmax over classes: the Lovász-softmax).
""",
    "from_logits": """
Whether `y_pred` holds logits (softmax is applied in multiclass mode).
Binary mode needs True.
""",
    "per_image": """
True: one loss per image (sample), over its positions; the mean over
images is the `"sum_over_batch_size"` reduction. False: one loss over
every position of the batch (per replica under `tf.distribute`), a
scalar; `sample_weight` is then an error.
""",
    "classes": """
Multiclass mode: `"present"` averages over the classes present in the
targets of the group (at least one kept position; a group with none has
loss 0), `"all"` over every class. Binary mode has one class and ignores
it.
""",
    "ignore_index": """
Sparse label (or binary target value) whose positions are left out:
they are neither errors nor targets (one-hot / soft multiclass targets
hold no label and are never dropped). A group whose positions are all
ignored has loss 0.
""",
    "reduction": "Keras reduction of the per-image values.",
    "name": "Loss name.",
    "dtype": """
Dtype or policy of the computation (None: floatx); half precision
computes in float32. An integer, bool or complex dtype is a
`ValueError`.
""",
}

# The fix named in the eager errors about dense multiclass targets.
_TARGETS_HINT = (
    "The Lovász-softmax takes one class per position: score a binary mask with "
    "one logit channel (mode='binary', from_logits=True). Binary masks without "
    "a channel axis ((N, H, W) targets and logits) read as rows over W: add "
    "the channel axis (`y[..., None]`) to both."
)


def _check_arguments(mode, from_logits, per_image, classes, ignore_index):
    mode = check_choice("mode", mode, MODES)
    from_logits = check_bool("from_logits", from_logits)
    _check_binary_logits(mode, from_logits)
    return (
        mode,
        from_logits,
        check_bool("per_image", per_image),
        check_choice("classes", classes, CLASSES),
        check_optional_int("ignore_index", ignore_index),
    )


def _check_binary_logits(mode: str, from_logits: bool) -> None:
    if mode == "binary" and not from_logits:
        raise invalid_value(
            "from_logits",
            "True in binary mode (the Lovász hinge is defined on logits: pass "
            "the model's output before the sigmoid, with from_logits=True)",
            from_logits,
        )


def _resolve_mode(mode: str, y_pred: Any, from_logits: bool) -> str:
    shape = static_shape(y_pred)
    mode = resolve_task(mode, y_pred)
    if mode == "binary" and shape[-1] != 1:
        raise shape_error(
            "y_pred.shape[-1] == 1 in binary mode (one logit per position)",
            y_pred=shape,
        )
    if mode == "multiclass" and (shape[-1] or 0) < 2:
        raise shape_error(
            "y_pred.shape[-1] >= 2 in multiclass mode (softmax over classes)",
            y_pred=shape,
        )
    _check_binary_logits(mode, from_logits)
    return mode


def lovasz_weights(targets_sorted: Any) -> Any:
    """The Lovász extension's gradient of the Jaccard loss, per sorted position.

    `targets_sorted` `(..., P)`: the targets in the order of decreasing
    errors. `J_i = 1 - (G - cumsum(g)_i) / (G + cumsum(1 - g)_i)` is the
    Jaccard loss once the first i positions are errors, and the weight of
    position i is `J_i - J_(i-1)` (`J_0 = 0`). The union is at least 1 for
    targets in `[0, 1]`, so no division is by zero.
    """
    total = ops.sum(targets_sorted, axis=-1, keepdims=True)
    intersection = total - _backend.cumsum(targets_sorted, axis=-1)
    union = total + _backend.cumsum(1.0 - targets_sorted, axis=-1)
    jaccard = 1.0 - intersection / union
    previous = ops.concatenate(
        [ops.zeros_like(jaccard[..., :1]), jaccard[..., :-1]], axis=-1
    )
    return jaccard - previous


def lovasz_extension(errors: Any, targets: Any) -> Any:
    """`sum_i e_i w_i` over the last axis, errors sorted in decreasing order.

    `errors` (`>= 0`) and `targets` of shape `(..., P)`. Left-out positions
    hold error 0 and target 0: sorted after every positive error, they
    change no weight of one (the weights are prefix sums), and add 0.
    """
    order = ops.argsort(ops.negative(ops.stop_gradient(errors)), axis=-1)
    errors_sorted = ops.take_along_axis(errors, order, axis=-1)
    targets_sorted = ops.take_along_axis(ops.stop_gradient(targets), order, axis=-1)
    return ops.sum(errors_sorted * lovasz_weights(targets_sorted), axis=-1)


def _groups(x: Any, shape: tuple, per_image: bool) -> Any:
    """`(N, *spatial, K)` -> `(groups, K, positions)`, the sorted axis last.

    `shape` is `y_pred`'s static shape, whose class axis is known: the
    targets' own static shape may not be (a `tf.data` pipeline of masks of
    any size), and their values have `y_pred`'s shape by then.
    """
    spatial, channels = shape[1:-1], shape[-1]
    if not per_image:
        rows = ops.reshape(x, (1, -1, channels))
    elif all(d is not None for d in spatial):
        rows = ops.reshape(x, (-1, math.prod(int(d or 0) for d in spatial), channels))
    else:
        rows = ops.reshape(x, (ops.shape(x)[0], -1, channels))
    return ops.transpose(rows, (0, 2, 1))


def _lovasz(y_true, y_pred, mode, from_logits, per_image, classes, ignore_index):
    y_pred = as_compute_tensor(y_pred)
    shape = static_shape(y_pred)
    if len(shape) < 2 or shape[-1] is None:
        raise shape_error(
            "y_pred of shape (N, *spatial, C) with a known class axis C",
            y_pred=shape,
        )
    if per_image and len(shape) < 3:
        raise shape_error(
            "y_pred of shape (N, *spatial, C) with a spatial axis for "
            "per_image=True (each image is scored over its positions); pass "
            "per_image=False to score all rows of the batch together",
            y_pred=shape,
        )
    mode = _resolve_mode(mode, y_pred, from_logits)
    dtype = keras.backend.standardize_dtype(y_pred.dtype)
    # Eager: a ValueError naming the values and the fix. Traced: the image
    # (or the batch) is flagged and its loss is NaN.
    check_loss_predictions(y_pred, from_logits=from_logits)
    every_axis = tuple(range(1, len(shape)))
    bad_pred = ops.logical_not(ops.isfinite(ops.sum(y_pred, axis=every_axis)))
    if not from_logits:
        bad_pred = ops.logical_or(bad_pred, out_of_unit_samples(y_pred))

    if mode == "multiclass":
        y_true = real_tensor(y_true, name="y_true")
        targets = dense_targets(
            y_true,
            y_pred,
            ignore_index=ignore_index,
            dtype=dtype,
            hint=_TARGETS_HINT,
            per_sample=True,
        )
        invalid = ops.logical_or(targets.invalid, bad_pred)
        probs = ops.softmax(y_pred, axis=-1) if from_logits else y_pred
        y = targets.values  # 0 at ignored positions
        keep = ops.expand_dims(targets.keep, -1)
        errors = ops.where(keep, ops.abs(y - probs), ops.zeros_like(probs))
    else:
        labels = binary_targets(y_true, y_pred, ignore_index=ignore_index, dtype=dtype)
        invalid = ops.logical_or(ops.any(labels.invalid, axis=every_axis), bad_pred)
        y = labels.values  # 0 at ignored positions
        hinge = ops.relu(1.0 - y_pred * (2.0 * y - 1.0))
        errors = ops.where(labels.keep, hinge, ops.zeros_like(hinge))

    groups = _groups(y, shape, per_image)
    # (groups, K)
    per_class = lovasz_extension(_groups(errors, shape, per_image), groups)
    if mode == "binary" or classes == "all":
        values = ops.mean(per_class, axis=-1)
    else:
        present = ops.cast(ops.sum(groups, axis=-1) > 0, dtype)
        count = ops.sum(present, axis=-1)
        values = ops.sum(per_class * present, axis=-1) / ops.maximum(count, 1.0)
    if per_image:
        return nan_where(invalid, values)
    return nan_where(ops.any(invalid), values[0])


@export
@_docs.fill(**_DOCS)
def lovasz_loss(
    y_true: Any,
    y_pred: Any,
    *,
    mode: str = "auto",
    from_logits: bool = False,
    per_image: bool = False,
    classes: str = "present",
    ignore_index: int | None = None,
):
    """Lovász loss: the Lovász hinge (binary) or Lovász-softmax (multiclass).

    A convex surrogate of the Jaccard (IoU) loss, exact on hard predictions:

    {formula}

    {inputs}

    {invalid}

    Args:
        y_true: {y_true}
        y_pred: {y_pred}
        mode: {mode}
        from_logits: {from_logits}
        per_image: {per_image}
        classes: {classes}
        ignore_index: {ignore_index}

    Returns:
        Per-image losses, shape `(N,)`, with `per_image=True`; else the
        batch's loss, a scalar.

    Example:

    >>> import numpy as np
    >>> from keras_components.losses import lovasz_loss
    >>> y_true = np.array([[[0, 1], [1, 1]]])            # (1, 2, 2) labels
    >>> y_pred = np.array([[[[0.9, 0.1], [0.2, 0.8]],
    ...                     [[0.4, 0.6], [0.0, 1.0]]]])  # (1, 2, 2, 2) probs
    >>> print(np.asarray(lovasz_loss(y_true, y_pred, per_image=True)).round(4))
    [0.2375]

    Reference:
        Berman, Rannen Triki and Blaschko, 2018, "The Lovász-Softmax loss: A
        tractable surrogate for the optimization of the intersection-over-union
        measure in neural networks", https://arxiv.org/abs/1705.08790
    """
    args = _check_arguments(mode, from_logits, per_image, classes, ignore_index)
    return _lovasz(y_true, y_pred, *args)


@export
@_docs.fill(**_DOCS)
class LovaszLoss(Loss):
    """Lovász loss for segmentation: Lovász hinge or Lovász-softmax.

    A convex surrogate of the Jaccard (IoU) loss (Berman et al., 2018); see
    `lovasz_loss` for the inputs:

    {formula}

    {invalid}
    With `per_image=True` a `(N,)` `sample_weight` weighs images; with
    `per_image=False` (one loss for the batch) a `sample_weight` is a
    `ValueError`.

    Args:
        mode: {mode}
        from_logits: {from_logits}
        per_image: {per_image}
        classes: {classes}
        ignore_index: {ignore_index}
        reduction: {reduction}
        name: {name}
        dtype: {dtype}

    Example:

    >>> import numpy as np
    >>> from keras_components import LovaszLoss
    >>> y_true = np.array([[[1], [1], [0], [0]]])       # (1, 4, 1) binary mask
    >>> logits = np.array([[[2.0], [-0.5], [0.3], [-3.0]]])
    >>> print(round(float(LovaszLoss(from_logits=True)(y_true, logits)), 4))
    0.9667

    Reference:
        Berman, Rannen Triki and Blaschko, 2018,
        https://arxiv.org/abs/1705.08790
    """

    def __init__(
        self,
        *,
        mode: str = "auto",
        from_logits: bool = False,
        per_image: bool = False,
        classes: str = "present",
        ignore_index: int | None = None,
        reduction: str | None = "sum_over_batch_size",
        name: str = "lovasz_loss",
        dtype: Any = None,
    ) -> None:
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        (
            self.mode,
            self.from_logits,
            self.per_image,
            self.classes,
            self.ignore_index,
        ) = _check_arguments(mode, from_logits, per_image, classes, ignore_index)

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> Any:
        if sample_weight is not None:
            # The static shape: inside `fit` the batch size is symbolic.
            shape = static_shape(ops.convert_to_tensor(sample_weight))
            if not self.per_image:
                raise ValueError(
                    "Invalid value for argument `sample_weight`. Expected None "
                    "with per_image=False (the loss is one value for the whole "
                    "batch; pass per_image=True to weigh images). Received: "
                    f"sample_weight of shape {shape}"
                )
            if any(d != 1 for d in shape[1:]):
                raise ValueError(
                    "Invalid value for argument `sample_weight`. Expected one "
                    "weight per image, of shape (N,), with per_image=True (each "
                    "image's loss is one value; the Lovasz extension has no "
                    "pixel weights). Received: sample_weight of shape "
                    f"{shape} for y_pred of shape {static_shape(y_pred)}"
                )
        return super().__call__(y_true, y_pred, sample_weight=sample_weight)

    def call(self, y_true, y_pred):
        return _lovasz(
            y_true,
            y_pred,
            self.mode,
            self.from_logits,
            self.per_image,
            self.classes,
            self.ignore_index,
        )

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "mode": self.mode,
                "from_logits": self.from_logits,
                "per_image": self.per_image,
                "classes": self.classes,
                "ignore_index": self.ignore_index,
            }
        )
        return config
