"""Region losses for segmentation: Dice, Jaccard (IoU) and Tversky.

All three share one core: per sample n and class c, over the spatial
positions, `I = sum(y * p)`, `T = sum(y)` and `P = sum(p)`; the per-class
loss is a function of (I, T, P); the per-sample loss is the class-weighted
mean of the per-class losses (shape `(N,)`). The gradient of `(I, T, P)` is
written in closed form (`_sums_backward`, one multiply-add per input).

MONAI's options change the statistics (`squared_pred`: `T = sum(y ** 2)`,
`P = sum(p ** 2)`; `soft_label`: `I = sum(min(y, p))`, each with its own
closed-form gradient), where they are summed (`batch=True`: over the batch
too, one loss for the batch) and the smoothing (`smooth_nr`, `smooth_dr`);
`classes` averages over a subset of the classes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import keras
from keras import ops

from keras_components import _backend, _docs
from keras_components._export import export
from keras_components._inputs import (
    TASK_CHOICES,
    binary_targets,
    check_loss_predictions,
    dense_targets,
    invalid_probabilities,
    invalid_row_sums,
    is_sparse,
    out_of_unit_samples,
    real_tensor,
    resolve_task,
    row_sum_tolerance,
    shape_error,
    static_shape,
)
from keras_components._math import divide
from keras_components._validation import (
    CLASS_INDICES_EXPECTED,
    check_bool,
    check_choice,
    check_class_indices,
    check_float,
    check_float_sequence,
    check_optional_int,
    invalid_value,
)
from keras_components.losses._base import Loss, as_compute_tensor, nan_where, power

__all__ = [
    "DiceLoss",
    "JaccardLoss",
    "TverskyLoss",
    "dice_loss",
    "jaccard_loss",
    "tversky_loss",
]


# Documentation shared by the functions and classes below (`_docs.fill`).
_DOCS = {
    "inputs": """
Inputs: `y_pred` of shape `(N, *spatial, C)` (any spatial rank, including
none): probabilities in `[0, 1]`, or finite logits with
`from_logits=True`. `y_true`: sparse integer labels `(N, *spatial)` /
`(N, *spatial, 1)`, or dense targets `(N, *spatial, C)`. Dense
multiclass targets hold one class distribution per position (one-hot,
or soft as from label smoothing: values in `[0, 1]` summing to 1 within
`_inputs.row_sum_tolerance` of their dtype: 1e-3 for float32 / float64,
3.9e-3 for float16, 1.6e-2 for bfloat16); binary and multilabel targets
are values in `[0, 1]` per cell (multi-hot). Probabilities need not sum
to 1 over classes: the formula is per class, so from probabilities a
multiclass call on sigmoid outputs gives exactly the multilabel loss
(`mode` picks the activation for logits and decides which targets are
accepted).
""",
    "invalid": """
Invalid input (labels outside `[0, C)` other than `ignore_index`; dense
multiclass rows that are multi-hot, all zero or outside `[0, 1]`; NaN or
infinite values; probabilities outside `[0, 1]`, e.g. logits passed
without `from_logits=True`) is never scored: eagerly it raises a
`ValueError` naming the values and the fix, and while traced
(`tf.function`, `jit_compile`, `fit`) the loss of each affected sample
is NaN. Predictions are checked at every position, ignored ones
included. Complex inputs are a `TypeError`. Half-precision inputs are
computed in float32.
""",
    "invalid_short": """
Invalid input (see `dice_loss`: bad labels or dense targets, NaN,
probabilities outside `[0, 1]` such as logits without
`from_logits=True`) raises a `ValueError` when called eagerly and gives
the affected samples a NaN loss inside `fit` or `tf.function`.
""",
    "tversky_relations": """
`alpha` weighs false positives (P - I) and `beta` false negatives
(T - I), as in Salehi et al. (Keras 3.15's `keras.losses.Tversky` applies
them the other way round). `alpha = beta = 0.5, gamma = 1` is the Dice
loss: exactly Dice with smoothing `2 s` (the formulas add `s` to `I` here
and to `2 I` in Dice), and within about `s / (T + P)` of Dice with the
same `s` (below 1e-6 on 8x8 masks at the default `s`). `gamma != 1` is
the focal Tversky loss of Abraham and Khan.
""",
    "options": """
Smoothing `s_nr = s_dr = smooth` unless `smooth_nr` / `smooth_dr` are
given; the mean runs over `classes` when given. MONAI's options change
the statistics: `squared_pred=True` takes `T = sum(y ** 2)` and
`P = sum(p ** 2)`, `soft_label=True` takes `I = sum(min(y, p))`, and
`batch=True` sums over the samples too (one loss for the batch).
""",
    "y_true": "Targets (see Inputs above).",
    "y_pred": "Predictions `(N, *spatial, C)`.",
    "alpha": "Weight of false positives, a float >= 0.",
    "beta": "Weight of false negatives, a float >= 0 (alpha + beta > 0).",
    "gamma": "Focal exponent, a float > 0 (1: plain Tversky).",
    "mode": """
`"auto"` (binary when `y_pred.shape[-1] == 1`, else
multiclass), `"binary"` (one sigmoid channel), `"multiclass"`
(softmax, one class per position) or `"multilabel"` (a sigmoid
per channel).
""",
    "from_logits": """
Whether `y_pred` holds logits (sigmoid or softmax is
applied according to the mode).
""",
    "smooth": """
Additive smoothing `s >= 0` of numerator and denominator. An
empty truth predicted empty scores 1 (loss 0) for every `s`,
including 0.
""",
    "class_weights": """
None (uniform) or one float >= 0 per class (length C,
background included); the per-sample loss is
`sum_c(w_c * L_nc) / sum_c(w_c)`.
""",
    "include_background": """
If False, class 0 is dropped (multiclass mode
only; an error in the other modes, whose channels are all
foreground).
""",
    "ignore_index": """
Sparse label (or binary / multilabel target value)
whose positions (cells) are removed from I, T and P (one-hot /
soft multiclass targets hold no label and are never dropped). A
sample whose positions are all ignored has loss 0.
""",
    "classes": """
None (every class) or a non-empty sequence of distinct class
indices `>= 0` (segmentation_models' `class_indexes`): the loss is
the (class-weighted) mean over those classes only, each `< C`
(checked at the first call). Multiclass and multilabel modes (the
binary mode has one class: an error). `class_weights` stays one
weight per class of `y_pred` (length C), of which the listed ones
are used; with `include_background=False` the list cannot hold 0.
""",
    "batch": """
If True, I, T and P are summed over the batch axis too before the
ratio (MONAI's `batch=True`): the loss is one value for the batch
(a scalar; per replica under `tf.distribute`), NaN if any sample
holds invalid input, and a `sample_weight` is an error.
""",
    "squared_pred": """
If True, the denominator takes sums of squares (MONAI's
`squared_pred=True`): `T = sum(y ** 2)`, `P = sum(p ** 2)` (I stays
`sum(y * p)`; with `soft_label=True` too this is the same form, as
in MONAI).
""",
    "smooth_nr": """
Numerator smoothing, a float >= 0; None: `smooth`.
""",
    "smooth_dr": """
Denominator smoothing, a float >= 0; None: `smooth`. With
`smooth_nr != smooth_dr` the loss of an empty truth predicted empty
is `(smooth_dr - smooth_nr) / smooth_dr` (MONAI's value), and 0
when `smooth_dr = 0` (MONAI: -inf or NaN); `smooth_nr > smooth_dr`
makes the loss negative on near-empty classes (the focal Tversky
form clamps `1 - Tversky` at 0).
""",
    "soft_label": """
If True, MONAI's soft-label form `I = sum(min(y, p))`
(`(sum(p) + sum(y) - sum(|p - y|)) / 2`): the loss is 0 only where
`p == y`, also for soft targets. Equal to `sum(y * p)` for hard
(0 / 1) targets.
""",
    "reduction": "Keras reduction of the per-sample values.",
    "name": "Loss name.",
    "dtype": """
Dtype or policy of the computation (None: floatx); half
precision computes in float32. An integer, bool or complex
dtype is a `ValueError`.
""",
}


class RegionArguments(NamedTuple):
    mode: str
    from_logits: bool
    smooth: float
    class_weights: tuple[float, ...] | None
    include_background: bool
    ignore_index: int | None
    classes: tuple[int, ...] | None = None
    batch: bool = False
    squared_pred: bool = False
    smooth_nr: float | None = None  # as passed (None: `smooth`)
    smooth_dr: float | None = None
    soft_label: bool = False

    @property
    def smoothing(self) -> tuple[float, float]:
        """`(numerator, denominator)` smoothing, resolved."""
        nr = self.smooth if self.smooth_nr is None else self.smooth_nr
        dr = self.smooth if self.smooth_dr is None else self.smooth_dr
        return nr, dr

    @property
    def form(self) -> str:
        """The statistics: `"plain"`, `"squared"` or `"soft"` (`_region_sums`)."""
        if self.squared_pred:
            return "squared"
        return "soft" if self.soft_label else "plain"


def _binary_classes_error(classes: tuple[int, ...]) -> ValueError:
    return ValueError(
        "Invalid value for argument `classes`. It selects among the C "
        "classes of the multiclass and multilabel modes; the binary mode "
        "scores its one channel only. Received: "
        f"classes={list(classes)!r} in binary mode"
    )


def _check_region_arguments(
    mode,
    from_logits,
    smooth,
    class_weights,
    include_background,
    ignore_index,
    classes=None,
    batch=False,
    squared_pred=False,
    smooth_nr=None,
    smooth_dr=None,
    soft_label=False,
) -> RegionArguments:
    mode = check_choice("mode", mode, TASK_CHOICES)
    include_background = check_bool("include_background", include_background)
    if not include_background and mode in ("binary", "multilabel"):
        raise invalid_value(
            "include_background",
            f"True in {mode} mode (every channel is a foreground class; "
            "include_background=False drops class 0 in multiclass mode)",
            include_background,
        )
    if class_weights is not None:
        class_weights = check_float_sequence("class_weights", class_weights, low=0.0)
        if not any(class_weights):
            raise invalid_value(
                "class_weights", "floats >= 0 with at least one > 0", class_weights
            )
    classes = check_class_indices("classes", classes)
    if classes is not None:
        if mode == "binary":
            raise _binary_classes_error(classes)
        if not include_background and 0 in classes:
            raise invalid_value(
                "classes",
                f"{CLASS_INDICES_EXPECTED} without 0 with include_background=False "
                "(class 0 is the background it drops)",
                classes,
            )
    return RegionArguments(
        mode,
        check_bool("from_logits", from_logits),
        check_float("smooth", smooth, low=0.0),
        class_weights,
        include_background,
        check_optional_int("ignore_index", ignore_index),
        classes,
        check_bool("batch", batch),
        check_bool("squared_pred", squared_pred),
        None if smooth_nr is None else check_float("smooth_nr", smooth_nr, low=0.0),
        None if smooth_dr is None else check_float("smooth_dr", smooth_dr, low=0.0),
        check_bool("soft_label", soft_label),
    )


class RegionStatistics(NamedTuple):
    """Per sample and class, shape `(N, C)`: intersection, truth, prediction."""

    intersection: Any
    truth: Any
    prediction: Any
    invalid: Any  # (N,) bool: the sample holds an invalid target or prediction


def _resolve_mode(mode: str, y_pred: Any) -> str:
    """The mode `mode` stands for (`"auto"`.

    `_inputs.resolve_task`'s rule without targets), checked against the class axis.
    """
    shape = static_shape(y_pred)
    num_classes = shape[-1]
    mode = resolve_task(mode, y_pred)
    if mode == "binary" and num_classes != 1:
        raise shape_error(
            "y_pred.shape[-1] == 1 in binary mode (use mode='multilabel' for "
            "several sigmoid channels)",
            y_pred=shape,
        )
    if mode == "multiclass" and num_classes < 2:
        raise shape_error(
            "y_pred.shape[-1] >= 2 in multiclass mode (softmax over classes)",
            y_pred=shape,
        )
    return mode


# Rows of at least this many values broadcast at full speed (see below).
_MIN_BROADCAST_ROW = 256


def _grouping(shape: tuple[int | None, ...], min_row: int) -> int | None:
    """How many positions to group per row for the region sums.

    The largest power of two `k <= min_row / C` dividing the positions
    (`(N, S, C)` viewed as `(N, S / k, k * C)`), None without static shapes.
    """
    spatial = shape[1:-1]
    if any(d is None for d in (*spatial, shape[-1])):
        return None
    positions, num_classes = math.prod(spatial), shape[-1]
    k = 1
    while k * num_classes < min_row and positions % (2 * k) == 0:
        k *= 2
    return k


# Rows of at least this many values reduce at full speed (see below).
_MIN_ROW = 16


def sum_over_positions(x: Any) -> Any:
    """`(N, *spatial, C) -> (N, C)`: the sum over all spatial positions.

    Reduced in two steps, `(N, S / k, k * C) -> (N, k * C) -> (N, k, C) ->
    (N, C)`, with `k` a power of two dividing S such that `k * C >= 16`: the
    same sums, but each reduced row holds `k * C` values instead of C. Rows
    of a few values reduce slowly (TensorFlow's CPU kernel takes twice the
    time of a full reduction for C = 4); this form runs at full speed on
    every backend and needs nothing but static shapes.
    """
    shape = static_shape(x)
    spatial = shape[1:-1]
    if not spatial:
        return x
    k = _grouping(shape, _MIN_ROW)
    if k is None:
        return ops.sum(x, axis=tuple(range(1, len(shape) - 1)))
    positions, num_classes = math.prod(spatial), shape[-1]
    rows = ops.sum(ops.reshape(x, (-1, positions // k, k * num_classes)), axis=1)
    if k == 1:
        return rows
    return ops.sum(ops.reshape(rows, (-1, k, num_classes)), axis=1)


def _sums_forward(y: Any, probs: Any) -> tuple[Any, Any, Any]:
    return (
        sum_over_positions(y * probs),
        sum_over_positions(y),
        sum_over_positions(probs),
    )


def _entry_terms(form: str, y: Any, probs: Any) -> tuple[Any, Any, Any]:
    """The entries summed into `(I, T, P)` by the statistics `form`.

    `"plain"`: `(y * p, y, p)`; `"squared"` (`squared_pred`):
    `(y * p, y ** 2, p ** 2)`; `"soft"` (`soft_label`): `(min(y, p), y, p)`.
    """
    if form == "squared":
        return y * probs, ops.square(y), ops.square(probs)
    if form == "soft":
        return ops.minimum(y, probs), y, probs
    return y * probs, y, probs


def _plain_gradient(y, probs, g_i, g_t, g_p):
    return g_i * probs + g_t, g_i * y + g_p


def _squared_gradient(y, probs, g_i, g_t, g_p):
    # d(y p)/dy = p, d(y^2)/dy = 2 y; likewise in p.
    return g_i * probs + (2.0 * g_t) * y, g_i * y + (2.0 * g_p) * probs


def _soft_gradient(y, probs, g_i, g_t, g_p):
    # d min(y, p)/dp = 1 where p < y, 0 where p > y and 1/2 at a tie (the
    # subgradient MONAI's autodiff of (p + y - |p - y|) / 2 takes); dy: the rest.
    to_pred = 0.5 + 0.5 * ops.sign(y - probs)
    overlap_pred = g_i * to_pred
    return (g_i - overlap_pred) + g_t, overlap_pred + g_p


def _sums_backward(args: tuple[Any, Any], upstream: tuple[Any, Any, Any]):
    return _broadcast_gradient(_plain_gradient, args, upstream)


def _backward_of(form: str):
    if form == "squared":
        return lambda args, upstream: _broadcast_gradient(
            _squared_gradient, args, upstream
        )
    if form == "soft":
        return lambda args, upstream: _broadcast_gradient(
            _soft_gradient, args, upstream
        )
    return _sums_backward


def _broadcast_gradient(
    entry_gradient: Callable[..., tuple[Any, Any]],
    args: tuple[Any, Any],
    upstream: tuple[Any, Any, Any],
):
    """The closed-form gradient of `(I, T, P)`: one multiply-add per input.

    `entry_gradient(y, p, gI, gT, gP)` gives `(d/dy, d/dp)` entrywise from
    the upstream broadcast over the positions; below for the plain form.

    `dI/dp = y`, `dI/dy = p`, `dT/dy = dP/dp = 1`, so with upstream
    `(gI, gT, gP)` per sample and class, broadcast over the positions:
    `d/dp = gI * y + gP` and `d/dy = gI * p + gT`. Autodiff of the sums
    instead materialises each upstream at full size (Tile) and adds the
    terms afterwards (AddN): twice the memory traffic. The broadcast runs
    over `(N, S / k, k * C)` with the upstream tiled to `k * C` values
    (`_MIN_BROADCAST_ROW`): TensorFlow's broadcasting kernels are slow on
    short rows (C = 4: 1.6x a full-size tile and multiply).
    """
    y, probs = args
    shape = static_shape(y)
    k = _grouping(shape, _MIN_BROADCAST_ROW)
    if k is None:  # unknown spatial shape: broadcast (N, 1, ..., 1, C)
        axes = tuple(range(1, len(shape) - 1))
        g_i, g_t, g_p = (ops.expand_dims(g, axes) for g in upstream)
        return entry_gradient(y, probs, g_i, g_t, g_p)
    row = k * shape[-1]
    g_i, g_t, g_p = (ops.reshape(ops.tile(g, (1, k)), (-1, 1, row)) for g in upstream)
    y3, p3 = (ops.reshape(x, (-1, math.prod(shape[1:-1]) // k, row)) for x in args)
    full = ops.shape(y)
    d_y, d_p = entry_gradient(y3, p3, g_i, g_t, g_p)
    return ops.reshape(d_y, full), ops.reshape(d_p, full)


def _region_sums(
    y: Any,
    probs: Any,
    invalid_entries: Callable[[Any, Any], Any] | None = None,
    *,
    nested: bool = False,
    form: str = "plain",
) -> tuple[Any, Any, Any]:
    """The region sums `(I, T, P)`, with a closed-form gradient.

    `(I, T, P) = (sum(y * p), sum(y), sum(p))` over positions, `(N, C)` each,
    with the closed-form gradient `_sums_backward` in both `y` and `p`;
    `form` names other statistics (`_entry_terms`), each with its own
    closed-form gradient (`_backward_of`).

    `invalid_entries(y, probs)`, when given, is a bool broadcasting to `y`'s
    shape: the entries that make their sample invalid. Each adds `+inf` to
    I, so the sample's statistics are not finite. Under XLA the check then
    fuses into the pass computing `y * p` (no pass or reduction of its own),
    and it runs in the forward pass only (the gradient does not repeat it).
    `nested=True` (a TensorFlow graph outside XLA) compiles that forward pass
    into one XLA kernel nested in the graph (`_backend.fused_elementwise`);
    the gradient stays graph kernels.
    """
    forward = _sums_forward
    if form != "plain":

        def forward(y: Any, probs: Any) -> tuple[Any, Any, Any]:
            return tuple(sum_over_positions(t) for t in _entry_terms(form, y, probs))

    if invalid_entries is not None:

        def forward(y: Any, probs: Any) -> tuple[Any, Any, Any]:
            overlap, truth, prediction = _entry_terms(form, y, probs)
            overlap = ops.where(
                invalid_entries(y, probs),
                ops.full_like(overlap, float("inf")),
                overlap,
            )
            return (
                sum_over_positions(overlap),
                sum_over_positions(truth),
                sum_over_positions(prediction),
            )

    if nested:
        forward = _backend.fused_elementwise(forward)
    return _backend.custom_vjp(forward, _backward_of(form))(y, probs)


def _negative(y: Any, _: Any) -> Any:
    return y < 0


def _outside_unit(_: Any, p: Any) -> Any:
    return invalid_probabilities(p)


def _any_of(checks: list[Callable[[Any, Any], Any]]) -> Callable[[Any, Any], Any]:
    """`(y, p) -> bool`: where any of `checks` holds (they broadcast).

    `y < 0` together with `p` outside `[0, 1]` is `min(y, p) < 0 or p > 1`
    (one comparison fewer per entry; NaN reaches the sums).
    """
    if _negative in checks and _outside_unit in checks:
        checks = [c for c in checks if c not in (_negative, _outside_unit)]
        checks.append(lambda y, p: ops.logical_or(ops.minimum(y, p) < 0, p > 1))

    def invalid(y: Any, p: Any) -> Any:
        result = checks[0](y, p)
        for check in checks[1:]:
            result = ops.logical_or(result, check(y, p))
        return result

    return invalid


# The fix named in the eager errors: which mode takes what was passed.
_MULTILABEL_TARGETS = (
    'For multi-hot targets (several classes per position) use mode="multilabel". '
    "Binary masks without a channel axis ((N, H, W) targets and predictions) "
    "read as rows over W: add the channel axis (`y[..., None]`) to both."
)


def region_statistics(
    y_true: Any, y_pred: Any, args: RegionArguments
) -> RegionStatistics:
    """`(I, T, P, invalid)` per sample and class; see the module docstring.

    `invalid` flags samples holding any invalid input (see `dice_loss`):
    a label or target outside what the mode accepts, or a prediction that is
    not finite (logits) / not a probability (a softmax row in multiclass
    mode, a value in `[0, 1]` otherwise), at any position, ignored ones
    included.
    """
    y_pred = as_compute_tensor(y_pred)
    shape = static_shape(y_pred)
    if len(shape) < 2 or shape[-1] is None:
        raise shape_error(
            "y_pred of shape (N, *spatial, C) with a known class axis C",
            y_pred=shape,
        )
    num_classes = shape[-1]
    mode = _resolve_mode(args.mode, y_pred)
    if not args.include_background and mode != "multiclass":
        raise invalid_value(
            "include_background",
            f"True in {mode} mode (y_pred.shape[-1]={num_classes}); class 0 is "
            "dropped only in multiclass mode",
            args.include_background,
        )
    if args.class_weights is not None and len(args.class_weights) != num_classes:
        raise invalid_value(
            "class_weights",
            f"a sequence of {num_classes} floats, one per class "
            f"(y_pred.shape[-1]={num_classes})",
            args.class_weights,
        )
    if args.classes is not None:
        if mode == "binary":
            raise _binary_classes_error(args.classes)
        out = [c for c in args.classes if c >= num_classes]
        if out:
            raise ValueError(
                "Invalid value for argument `classes`. Expected class indices in "
                f"[0, {num_classes}) (y_pred.shape[-1]={num_classes}); out of "
                f"range: {out}. Received: classes={list(args.classes)!r}"
            )
    dtype = keras.backend.standardize_dtype(y_pred.dtype)
    positions_axes = tuple(range(1, len(shape) - 1))
    # Eager: a ValueError naming the values and the fix. Traced: the sample
    # is flagged (below) and its loss is NaN.
    check_loss_predictions(y_pred, from_logits=args.from_logits)
    # Under XLA, entrywise checks go into the pass computing the region sums
    # (`_region_sums`'s `invalid_entries`) instead of reductions of their
    # own: XLA on CPU does not fuse a reduction into another. In a TensorFlow
    # graph outside XLA, that forward pass (checks and sums) runs as one
    # nested XLA kernel (`_backend.fused_elementwise`): as graph kernels each
    # check would be a pass of its own.
    nested = _backend.graph_without_xla()
    fused = nested or _backend.compiled_by_xla()
    entry_checks: list[Callable[[Any, Any], Any]] = []
    invalid = None

    masked = args.ignore_index is not None
    if mode == "multiclass":
        y_true = real_tensor(y_true, name="y_true")
        sparse = is_sparse(y_true, y_pred)
        targets = dense_targets(
            y_true,
            y_pred,
            ignore_index=args.ignore_index,
            dtype=dtype,
            hint=_MULTILABEL_TARGETS,
            per_sample=True,
        )
        if sparse or not fused:
            invalid = targets.invalid
        else:  # the rows `targets.invalid` flags (XLA drops that one)
            tolerance = row_sum_tolerance(y_true.dtype)
            entry_checks.append(
                lambda y, _: ops.expand_dims(invalid_row_sums(y, tolerance), -1)
            )
            entry_checks.append(_negative)
        probs = ops.softmax(y_pred, axis=-1) if args.from_logits else y_pred
        masked = masked and sparse
        if masked:
            probs = probs * ops.cast(ops.expand_dims(targets.keep, -1), dtype)
    else:
        targets = binary_targets(
            y_true, y_pred, ignore_index=args.ignore_index, dtype=dtype
        )
        invalid = ops.any(targets.invalid, axis=(*positions_axes, len(shape) - 1))
        probs = ops.sigmoid(y_pred) if args.from_logits else y_pred
        if masked:
            probs = probs * ops.cast(targets.keep, dtype)
    y = targets.values
    # Predictions, per sample with one or two reductions: infinite logits
    # (their sum is not finite; softmax / sigmoid would saturate them into
    # valid-looking probabilities), probabilities outside [0, 1] (under XLA
    # entrywise in the sums' pass when `probs` is `y_pred` itself). NaN
    # reaches P (a sum over every position, ignored ones included) and is
    # caught with the statistics below.
    every_axis = tuple(range(1, len(shape)))
    bad_pred = None
    if args.from_logits:
        bad_pred = ops.logical_not(ops.isfinite(ops.sum(y_pred, axis=every_axis)))
    elif fused and not masked:
        entry_checks.append(_outside_unit)
    else:
        bad_pred = out_of_unit_samples(y_pred)
    if bad_pred is not None:
        invalid = bad_pred if invalid is None else ops.logical_or(invalid, bad_pred)

    # NaN * 0 at ignored positions: NaN (prediction sums every position).
    intersection, truth, prediction = _region_sums(
        y,
        probs,
        _any_of(entry_checks) if entry_checks else None,
        nested=nested,
        form=args.form,
    )
    finite = ops.all(ops.isfinite(intersection + truth + prediction), axis=-1)
    not_finite = ops.logical_not(finite)
    invalid = not_finite if invalid is None else ops.logical_or(invalid, not_finite)
    if entry_checks:  # +inf marks invalid entries: the gradient stays as it was
        intersection = ops.where(
            intersection == float("inf"), ops.zeros_like(intersection), intersection
        )
    return RegionStatistics(intersection, truth, prediction, invalid)


def _ratio(numerator, denominator):
    """`numerator / denominator`, 0 where the denominator is 0 (empty vs empty).

    Only `smooth=0` can give a zero denominator: truth and prediction both
    empty, which scores perfectly (loss 0). A NaN denominator (invalid
    input) stays NaN: it is never taken for "empty" (`_math.divide`).
    """
    return divide(numerator, denominator, 0.0)


def _reduce_classes(per_class, stats, args):
    """Class-weighted mean over classes, `(N, C) -> (N,)`, NaN for invalid."""
    num_classes = static_shape(per_class)[-1]
    weights = args.class_weights
    if not args.include_background:  # multiclass only (checked)
        foreground = (1.0,) * (num_classes - 1) if weights is None else weights[1:]
        weights = (0.0, *foreground)
        if not any(weights):
            raise invalid_value(
                "class_weights",
                "at least one weight > 0 among the classes other than the "
                "background (include_background=False)",
                args.class_weights,
            )
    if args.classes is not None:  # the listed classes only (each < C, checked)
        listed = set(args.classes)
        base = (1.0,) * num_classes if weights is None else weights
        weights = tuple(w if c in listed else 0.0 for c, w in enumerate(base))
        if not any(weights):
            raise invalid_value(
                "class_weights",
                f"at least one weight > 0 among classes={list(args.classes)!r}",
                args.class_weights,
            )
    if weights is None:
        values = ops.mean(per_class, axis=-1)
    else:
        w = ops.convert_to_tensor(weights, dtype=per_class.dtype)
        values = ops.sum(per_class * w, axis=-1) / sum(weights)
    return nan_where(stats.invalid, values)


def _over_batch(stats: RegionStatistics) -> RegionStatistics:
    """The statistics summed over the batch axis, `(1, C)` (`batch=True`)."""
    return RegionStatistics(
        ops.sum(stats.intersection, axis=0, keepdims=True),
        ops.sum(stats.truth, axis=0, keepdims=True),
        ops.sum(stats.prediction, axis=0, keepdims=True),
        ops.any(stats.invalid, axis=0, keepdims=True),
    )


def _region_loss(y_true, y_pred, args, per_class_loss):
    stats = region_statistics(y_true, y_pred, args)
    if args.batch:
        stats = _over_batch(stats)
    per_class = per_class_loss(stats, *args.smoothing)
    values = _reduce_classes(per_class, stats, args)
    return values[0] if args.batch else values


def _smoothed(errors, smooth_nr, smooth_dr):
    """`errors + smooth_dr - smooth_nr` (nothing added when they are equal).

    `1 - (x + s_nr) / (d + s_dr)` is `(d - x + s_dr - s_nr) / (d + s_dr)`.
    """
    if smooth_nr == smooth_dr:
        return errors
    return errors + (smooth_dr - smooth_nr)


def _dice_per_class(stats, smooth_nr, smooth_dr):
    # 1 - (2I + s) / (T + P + s) = (T + P - 2I) / (T + P + s): exact 0 for a
    # perfect prediction, no 1 - x cancellation.
    total = stats.truth + stats.prediction
    errors = ops.maximum(total - 2.0 * stats.intersection, 0.0)
    return _ratio(_smoothed(errors, smooth_nr, smooth_dr), total + smooth_dr)


def _jaccard_per_class(stats, smooth_nr, smooth_dr):
    # 1 - (I + s) / (T + P - I + s) = (T + P - 2I) / (T + P - I + s).
    total = stats.truth + stats.prediction
    errors = ops.maximum(total - 2.0 * stats.intersection, 0.0)
    return _ratio(
        _smoothed(errors, smooth_nr, smooth_dr),
        total - stats.intersection + smooth_dr,
    )


@export
@_docs.fill(**_DOCS)
def dice_loss(
    y_true: Any,
    y_pred: Any,
    *,
    mode: str = "auto",
    from_logits: bool = False,
    smooth: float = 1e-5,
    class_weights: Sequence[float] | None = None,
    include_background: bool = True,
    ignore_index: int | None = None,
    classes: Sequence[int] | None = None,
    batch: bool = False,
    squared_pred: bool = False,
    smooth_nr: float | None = None,
    smooth_dr: float | None = None,
    soft_label: bool = False,
):
    """Soft Dice loss per sample.

    Per sample n and class c, summing over spatial positions,
    `I = sum(y * p)`, `T = sum(y)`, `P = sum(p)`:

        Dice_nc = (2 I + s_nr) / (T + P + s_dr),   L_nc = 1 - Dice_nc
        loss_n  = sum_c(w_c * L_nc) / sum_c(w_c)

    {options}
    With the same arguments this is MONAI's `DiceLoss` (`sigmoid=True` for
    `from_logits` in binary / multilabel mode, `softmax=True` in multiclass
    mode) averaged over the classes.

    Unlike `keras.losses.Dice`, the score is per sample and per class, and an
    empty truth predicted empty gives 0 (Keras gives 1.0).

    {inputs}

    {invalid}

    Args:
        y_true: {y_true}
        y_pred: {y_pred}
        mode: {mode}
        from_logits: {from_logits}
        smooth: {smooth}
        class_weights: {class_weights}
        include_background: {include_background}
        ignore_index: {ignore_index}
        classes: {classes}
        batch: {batch}
        squared_pred: {squared_pred}
        smooth_nr: {smooth_nr}
        smooth_dr: {smooth_dr}
        soft_label: {soft_label}

    Returns:
        Per-sample losses, shape `(N,)` (a scalar with `batch=True`).

    Example:

    >>> import numpy as np
    >>> from keras_components.losses import dice_loss
    >>> y_true = np.array([[[0, 1], [1, 1]]])            # (1, 2, 2) labels
    >>> y_pred = np.array([[[[0.9, 0.1], [0.2, 0.8]],
    ...                     [[0.4, 0.6], [0.0, 1.0]]]])  # (1, 2, 2, 2) probs
    >>> print(np.asarray(dice_loss(y_true, y_pred)).round(4))
    [0.2036]
    >>> print(np.asarray(dice_loss(y_true, y_pred, squared_pred=True)).round(4))
    [0.0732]
    >>> print(np.asarray(dice_loss(y_true, y_pred, classes=[1])).round(4))
    [0.1273]

    Reference:
        Milletari et al., 2016, "V-Net: Fully Convolutional Neural Networks
        for Volumetric Medical Image Segmentation",
        https://arxiv.org/abs/1606.04797
    """
    args = _check_region_arguments(
        mode,
        from_logits,
        smooth,
        class_weights,
        include_background,
        ignore_index,
        classes,
        batch,
        squared_pred,
        smooth_nr,
        smooth_dr,
        soft_label,
    )
    return _region_loss(y_true, y_pred, args, _dice_per_class)


@export
@_docs.fill(**_DOCS)
def jaccard_loss(
    y_true: Any,
    y_pred: Any,
    *,
    mode: str = "auto",
    from_logits: bool = False,
    smooth: float = 1e-5,
    class_weights: Sequence[float] | None = None,
    include_background: bool = True,
    ignore_index: int | None = None,
    classes: Sequence[int] | None = None,
    batch: bool = False,
    squared_pred: bool = False,
    smooth_nr: float | None = None,
    smooth_dr: float | None = None,
    soft_label: bool = False,
):
    """Soft Jaccard (IoU) loss per sample.

    Per sample n and class c, summing over spatial positions,
    `I = sum(y * p)`, `T = sum(y)`, `P = sum(p)`:

        Jaccard_nc = (I + s_nr) / (T + P - I + s_dr),   L_nc = 1 - Jaccard_nc
        loss_n     = sum_c(w_c * L_nc) / sum_c(w_c)

    {options}
    MONAI's `DiceLoss(jaccard=True)` computes `(2 I + s_nr) / (2 (T + P - I)
    + s_dr)`: this loss with `smooth_nr = s_nr / 2`, `smooth_dr = s_dr / 2`.

    {inputs}

    {invalid}

    Args:
        y_true: {y_true}
        y_pred: {y_pred}
        mode: {mode}
        from_logits: {from_logits}
        smooth: {smooth}
        class_weights: {class_weights}
        include_background: {include_background}
        ignore_index: {ignore_index}
        classes: {classes}
        batch: {batch}
        squared_pred: {squared_pred}
        smooth_nr: {smooth_nr}
        smooth_dr: {smooth_dr}
        soft_label: {soft_label}

    Returns:
        Per-sample losses, shape `(N,)` (a scalar with `batch=True`).

    Example:

    >>> import numpy as np
    >>> from keras_components.losses import jaccard_loss
    >>> y_true = np.array([[[0, 1], [1, 1]]])
    >>> y_pred = np.array([[[[0.9, 0.1], [0.2, 0.8]],
    ...                     [[0.4, 0.6], [0.0, 1.0]]]])
    >>> print(np.asarray(jaccard_loss(y_true, y_pred)).round(4))
    [0.3317]

    Reference:
        Rahman and Wang, 2016, "Optimizing Intersection-Over-Union in Deep
        Neural Networks for Image Segmentation",
        https://doi.org/10.1007/978-3-319-50835-1_22
    """
    args = _check_region_arguments(
        mode,
        from_logits,
        smooth,
        class_weights,
        include_background,
        ignore_index,
        classes,
        batch,
        squared_pred,
        smooth_nr,
        smooth_dr,
        soft_label,
    )
    return _region_loss(y_true, y_pred, args, _jaccard_per_class)


def _check_tversky_arguments(alpha, beta, gamma):
    alpha = check_float("alpha", alpha, low=0.0)
    beta = check_float("beta", beta, low=0.0)
    if alpha == 0.0 and beta == 0.0:
        raise invalid_value(
            "alpha", "alpha + beta > 0 (with both 0 the loss is constant)", alpha
        )
    return alpha, beta, check_float("gamma", gamma, low=0.0, low_inclusive=False)


def _tversky_per_class(alpha, beta, gamma):
    def per_class(stats, smooth_nr, smooth_dr):
        i = stats.intersection
        false_pos = ops.maximum(stats.prediction - i, 0.0)
        false_neg = ops.maximum(stats.truth - i, 0.0)
        # 1 - (I + s) / (I + a FP + b FN + s) = (a FP + b FN) / (same).
        errors = alpha * false_pos + beta * false_neg
        ratio = _ratio(_smoothed(errors, smooth_nr, smooth_dr), i + errors + smooth_dr)
        if gamma != 1.0 and smooth_nr > smooth_dr:  # 1 - Tversky may be < 0
            ratio = ops.maximum(ratio, 0.0)
        return power(ratio, gamma)

    return per_class


@export
@_docs.fill(**_DOCS)
def tversky_loss(
    y_true: Any,
    y_pred: Any,
    *,
    alpha: float = 0.5,
    beta: float = 0.5,
    gamma: float = 1.0,
    mode: str = "auto",
    from_logits: bool = False,
    smooth: float = 1e-5,
    class_weights: Sequence[float] | None = None,
    include_background: bool = True,
    ignore_index: int | None = None,
    classes: Sequence[int] | None = None,
    batch: bool = False,
    smooth_nr: float | None = None,
    smooth_dr: float | None = None,
    soft_label: bool = False,
):
    """(Focal) Tversky loss per sample.

    Per sample n and class c, summing over spatial positions,
    `I = sum(y * p)`, `T = sum(y)`, `P = sum(p)`:

        Tversky_nc = (I + s_nr) / (I + alpha (P - I) + beta (T - I) + s_dr)
        L_nc       = (1 - Tversky_nc) ** gamma
        loss_n     = sum_c(w_c * L_nc) / sum_c(w_c)

    Smoothing `s_nr = s_dr = smooth` unless `smooth_nr` / `smooth_dr` are
    given; the mean runs over `classes` when given; `soft_label=True` takes
    `I = sum(min(y, p))` and `batch=True` sums over the samples too, as
    MONAI's `TverskyLoss` (equal to it with `gamma = 1`). MONAI's Tversky
    loss has no `squared_pred`, nor has this one (`P - I` would not be a
    count of false positives with squares).

    {tversky_relations}

    {inputs}

    {invalid}

    Args:
        y_true: {y_true}
        y_pred: {y_pred}
        alpha: {alpha}
        beta: {beta}
        gamma: {gamma}
        mode: {mode}
        from_logits: {from_logits}
        smooth: {smooth}
        class_weights: {class_weights}
        include_background: {include_background}
        ignore_index: {ignore_index}
        classes: {classes}
        batch: {batch}
        smooth_nr: {smooth_nr}
        smooth_dr: {smooth_dr}
        soft_label: {soft_label}

    Returns:
        Per-sample losses, shape `(N,)` (a scalar with `batch=True`).

    Example:

    >>> import numpy as np
    >>> from keras_components.losses import tversky_loss
    >>> y_true = np.array([[[0, 1], [1, 1]]])
    >>> y_pred = np.array([[[[0.9, 0.1], [0.2, 0.8]],
    ...                     [[0.4, 0.6], [0.0, 1.0]]]])
    >>> print(np.asarray(tversky_loss(y_true, y_pred, alpha=0.3, beta=0.7)).round(4))
    [0.1876]

    Reference:
        Salehi et al., 2017, "Tversky loss function for image segmentation
        using 3D fully convolutional deep networks",
        https://arxiv.org/abs/1706.05721; Abraham and Khan, 2019, "A Novel
        Focal Tversky loss function", https://arxiv.org/abs/1810.07842
    """
    alpha, beta, gamma = _check_tversky_arguments(alpha, beta, gamma)
    args = _check_region_arguments(
        mode,
        from_logits,
        smooth,
        class_weights,
        include_background,
        ignore_index,
        classes,
        batch,
        False,
        smooth_nr,
        smooth_dr,
        soft_label,
    )
    return _region_loss(y_true, y_pred, args, _tversky_per_class(alpha, beta, gamma))


class _RegionLoss(Loss):
    """Shared constructor, config and call of the region losses.

    A subclass sets `default_name` (the name when `name` is None) and
    `_per_class`; it restates the constructor only to add arguments (or,
    like `TverskyLoss`, to leave out `squared_pred`: `squared_options`).
    """

    default_name: str
    squared_options = True  # whether `squared_pred` is an argument

    def __init__(
        self,
        *,
        mode: str = "auto",
        from_logits: bool = False,
        smooth: float = 1e-5,
        class_weights: Sequence[float] | None = None,
        include_background: bool = True,
        ignore_index: int | None = None,
        classes: Sequence[int] | None = None,
        batch: bool = False,
        squared_pred: bool = False,
        smooth_nr: float | None = None,
        smooth_dr: float | None = None,
        soft_label: bool = False,
        reduction: str | None = "sum_over_batch_size",
        name: str | None = None,
        dtype: Any = None,
    ) -> None:
        name = self.default_name if name is None else name
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self._args = _check_region_arguments(
            mode,
            from_logits,
            smooth,
            class_weights,
            include_background,
            ignore_index,
            classes,
            batch,
            squared_pred,
            smooth_nr,
            smooth_dr,
            soft_label,
        )
        self.mode = self._args.mode
        self.from_logits = self._args.from_logits
        self.smooth = self._args.smooth
        self.class_weights = self._args.class_weights
        self.include_background = self._args.include_background
        self.ignore_index = self._args.ignore_index
        self.classes = self._args.classes
        self.batch = self._args.batch
        self.squared_pred = self._args.squared_pred
        self.smooth_nr = self._args.smooth_nr
        self.smooth_dr = self._args.smooth_dr
        self.soft_label = self._args.soft_label

    def _per_class(self):
        raise NotImplementedError

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> Any:
        if sample_weight is not None and self.batch:
            raise ValueError(
                "Invalid value for argument `sample_weight`. Expected None with "
                "batch=True (the loss is one value for the whole batch; pass "
                "batch=False to weigh samples). Received: sample_weight "
                f"of shape {static_shape(ops.convert_to_tensor(sample_weight))}"
            )
        return super().__call__(y_true, y_pred, sample_weight=sample_weight)

    def call(self, y_true, y_pred):
        return _region_loss(y_true, y_pred, self._args, self._per_class())

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "mode": self.mode,
                "from_logits": self.from_logits,
                "smooth": self.smooth,
                "class_weights": None
                if self.class_weights is None
                else list(self.class_weights),
                "include_background": self.include_background,
                "ignore_index": self.ignore_index,
                "classes": None if self.classes is None else list(self.classes),
                "batch": self.batch,
                "smooth_nr": self.smooth_nr,
                "smooth_dr": self.smooth_dr,
                "soft_label": self.soft_label,
            }
        )
        if self.squared_options:
            config["squared_pred"] = self.squared_pred
        return config


@export
@_docs.fill(**_DOCS)
class DiceLoss(_RegionLoss):
    """Soft Dice loss for segmentation, per sample and class.

    `loss_n = sum_c(w_c * (1 - Dice_nc)) / sum_c(w_c)` with
    `Dice_nc = (2 I + s) / (T + P + s)` over the spatial positions of sample
    n; see `dice_loss` for the inputs and for `classes` and MONAI's options
    (`batch`, `squared_pred`, `smooth_nr` / `smooth_dr`, `soft_label`).
    Empty truth predicted empty gives 0 (Keras's `keras.losses.Dice` gives
    1.0).

    {invalid_short}
    A `(N,)` `sample_weight` weighs samples (an error with `batch=True`).

    Args:
        mode: {mode}
        from_logits: {from_logits}
        smooth: {smooth}
        class_weights: {class_weights}
        include_background: {include_background}
        ignore_index: {ignore_index}
        classes: {classes}
        batch: {batch}
        squared_pred: {squared_pred}
        smooth_nr: {smooth_nr}
        smooth_dr: {smooth_dr}
        soft_label: {soft_label}
        reduction: {reduction}
        name: {name}
        dtype: {dtype}

    Example:

    >>> import numpy as np
    >>> from keras_components import DiceLoss
    >>> y_true = np.zeros((2, 4, 4))                    # empty masks
    >>> y_pred = np.zeros((2, 4, 4, 1))                 # predicted empty
    >>> print(float(DiceLoss()(y_true, y_pred)))
    0.0

    Reference:
        Milletari et al., 2016, https://arxiv.org/abs/1606.04797
    """

    default_name = "dice_loss"

    def _per_class(self):
        return _dice_per_class


@export
@_docs.fill(**_DOCS)
class JaccardLoss(_RegionLoss):
    """Soft Jaccard (IoU) loss for segmentation, per sample and class.

    `loss_n = sum_c(w_c * (1 - Jaccard_nc)) / sum_c(w_c)` with
    `Jaccard_nc = (I + s) / (T + P - I + s)`; see `jaccard_loss` for the
    inputs and the options.

    {invalid_short}
    A `(N,)` `sample_weight` weighs samples (an error with `batch=True`).

    Args:
        mode: {mode}
        from_logits: {from_logits}
        smooth: {smooth}
        class_weights: {class_weights}
        include_background: {include_background}
        ignore_index: {ignore_index}
        classes: {classes}
        batch: {batch}
        squared_pred: {squared_pred}
        smooth_nr: {smooth_nr}
        smooth_dr: {smooth_dr}
        soft_label: {soft_label}
        reduction: {reduction}
        name: {name}
        dtype: {dtype}

    Example:

    >>> import numpy as np
    >>> from keras_components import JaccardLoss
    >>> y_true = np.array([[0, 1], [1, 1]])             # (N=2, 2 positions)
    >>> y_pred = np.array([[[0.8], [0.6]], [[0.0], [1.0]]])
    >>> print(np.asarray(JaccardLoss(reduction=None)(y_true, y_pred)).round(4))
    [0.6667 0.5   ]

    Reference:
        Rahman and Wang, 2016,
        https://doi.org/10.1007/978-3-319-50835-1_22
    """

    default_name = "jaccard_loss"

    def _per_class(self):
        return _jaccard_per_class


@export
@_docs.fill(**_DOCS)
class TverskyLoss(_RegionLoss):
    """(Focal) Tversky loss for segmentation, per sample and class.

    `L_nc = (1 - Tversky_nc) ** gamma` with
    `Tversky_nc = (I + s) / (I + alpha (P - I) + beta (T - I) + s)`; see
    `tversky_loss` for the inputs and the options (no `squared_pred`).

    {tversky_relations}

    {invalid_short}
    A `(N,)` `sample_weight` weighs samples (an error with `batch=True`).

    Args:
        alpha: {alpha}
        beta: {beta}
        gamma: {gamma}
        mode: {mode}
        from_logits: {from_logits}
        smooth: {smooth}
        class_weights: {class_weights}
        include_background: {include_background}
        ignore_index: {ignore_index}
        classes: {classes}
        batch: {batch}
        smooth_nr: {smooth_nr}
        smooth_dr: {smooth_dr}
        soft_label: {soft_label}
        reduction: {reduction}
        name: {name}
        dtype: {dtype}

    Example:

    >>> import numpy as np
    >>> from keras_components import TverskyLoss
    >>> y_true = np.array([[[1], [1], [0], [0]]])       # (1, 4, 1) binary
    >>> y_pred = np.array([[[0.9], [0.2], [0.6], [0.1]]])
    >>> print(np.asarray(TverskyLoss(0.3, 0.7)(y_true, y_pred)).round(4))
    0.433

    Reference:
        Salehi et al., 2017, https://arxiv.org/abs/1706.05721
    """

    default_name = "tversky_loss"
    squared_options = False

    def __init__(
        self,
        alpha: float = 0.5,
        beta: float = 0.5,
        gamma: float = 1.0,
        *,
        mode: str = "auto",
        from_logits: bool = False,
        smooth: float = 1e-5,
        class_weights: Sequence[float] | None = None,
        include_background: bool = True,
        ignore_index: int | None = None,
        classes: Sequence[int] | None = None,
        batch: bool = False,
        smooth_nr: float | None = None,
        smooth_dr: float | None = None,
        soft_label: bool = False,
        reduction: str | None = "sum_over_batch_size",
        name: str = "tversky_loss",
        dtype: Any = None,
    ) -> None:
        super().__init__(
            mode=mode,
            from_logits=from_logits,
            smooth=smooth,
            class_weights=class_weights,
            include_background=include_background,
            ignore_index=ignore_index,
            classes=classes,
            batch=batch,
            smooth_nr=smooth_nr,
            smooth_dr=smooth_dr,
            soft_label=soft_label,
            reduction=reduction,
            name=name,
            dtype=dtype,
        )
        self.alpha, self.beta, self.gamma = _check_tversky_arguments(alpha, beta, gamma)

    def _per_class(self):
        return _tversky_per_class(self.alpha, self.beta, self.gamma)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"alpha": self.alpha, "beta": self.beta, "gamma": self.gamma})
        return config
