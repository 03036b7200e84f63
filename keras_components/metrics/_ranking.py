"""Ranking metrics: `AUROC` and `AUPRC` (average precision), streamed in bins.

Exact ranking metrics need every score; a streaming metric cannot keep them.
These keep, per class, the weighted number of positives and negatives whose
score falls in each of `B` bins, and compute the metric from those
histograms in `result()`.

Bins (`bin_edges(B)` lists them)
--------------------------------
Every score is binned by its **logit** z: probabilities by
`log(p / (1 - p))`, multiclass logits by the one-vs-rest logit of the
softmax, `z_k - logsumexp_{j != k} z_j`. `B = 16384` by default
(`DEFAULT_NUM_THRESHOLDS`, 82x Keras's 200 thresholds), laid out so that
every logit up to float32's largest value has bins of its own:

- 70% of the bins are uniform on `|z| <= 6` (`CORE_LOGIT`; probabilities
  0.0025 to 0.9975): 1.05e-3 wide at the default B.
- 27% are uniform in `log|z|` for `6 < |z| <= 4096` (`TAIL_LOGIT`), 0.22% to
  0.43% of |z| wide: 40 and 50 are 73 bins apart, and a model whose logits
  reach 1e3 keeps its ranking. (The previous layout, uniform on |z| <= 24,
  put every larger logit into the two end bins: an overconfident model
  scored AUROC 0.56 for a true 0.93, and logits [40, 50] scored 0.5.)
- 3% are uniform in `log|z|` up to float32's largest, 3.4e38
  (`MAX_LOGIT`), 23% to 45% of |z| wide; +-inf and anything beyond share the
  end bins.

"Uniform in `log|z|`" uses float32's bit pattern, which reads `e + f` for
`|z| = 2**e (1 + f)` (within 0.086 of `log2|z|`): exact, monotone and cheaper
than a logarithm. The logits of probabilities strictly between 0 and 1 lie
in `[-745, 37]` (float64), far inside, so with `B >= 64` the two end bins
hold exactly the probabilities 0 and 1: ties, which need no resolving.
Probabilities below `2**-64` take their
logit `log(p)` from their bits too, so subnormal ones (the float32 sigmoid
of logits below -87.3, which CPUs that flush subnormals read as 0) stay
above 0 on every backend, in the few bins between logits -88.03 and -87.34.

The histograms are filled with one bucket index and one bincount per batch:
O(N + K B) per update, never an N x T comparison. (The tails cost 2-5% per
update against uniform bins, measured on 65536 scores.)

Result and exactness
--------------------
ROC AUC is the exact trapezoid (Mann-Whitney) over the bin thresholds,
counting a positive / negative pair in the same bin as 1/2; average
precision is scikit-learn's step-wise `sum_k (R_k - R_{k+1}) P_k` over the
bin thresholds, not interpolated. Each is the exact metric of the scores
replaced by their bin, so the only error is what happens inside a bin,
and the histograms bound it (`error_bound()`; `roc_auc_error_bound`,
`average_precision_error_bound`):

- AUROC: a pair inside one bin counts 1/2 where the exact value counts 1, 1/2
  or 0, so `|AUROC - exact| <= sum_b pos_b neg_b / (2 P N)`. Exact when no
  bin holds both a positive and a negative.
- AP: inside a bin, both the order of positives against negatives and the
  spread of the bin's positives among themselves are lost. The bound is
  derived in `average_precision_error_bound`; it is 0 (and AP exact) when
  no bin holds a positive together with a negative or another positive.
  AUPRC keeps one more number per class for it, `square_excess`,
  `sum (w**2 - w)` over the positives (0 without weights; batches of more
  than `SQUARES_MAX_CELLS` weighted cells skip it, and the bound is then
  looser for that class).

Both bounds are reached by some arrangement of scores inside the bins (for
near-ties on small data, the error does reach them), and they count exact
ties in a bin as unresolved, although ties are counted exactly. Measured
errors against scikit-learn on the same float32 scores, with the bound
after the slash, at the default bins (200000 samples unless said):

| scores                              | AUROC             | AP                |
|-------------------------------------|-------------------|-------------------|
| sigmoid(3 z + 4 y - 2) (saturated)  | 4.3e-8 / 3.4e-5   | 2.9e-5 / 1.1e-4   |
| calibrated uniform                  | 1.3e-7 / 7.0e-5   | 4.3e-5 / 1.4e-4   |
| weak model, N(0, 1) + 0.3 y         | 4.8e-7 / 1.4e-4   | 2.4e-5 / 2.7e-4   |
| overconfident: those logits x 40    | 6.3e-7 / 1.6e-4   | 1.3e-4 / 4.7e-4   |
| 1% positives                        | 4.3e-7 / 3.4e-5   | 8.1e-5 / 5.7e-4   |
| untrained, all logits within +-0.03 | 5.2e-5 / 1.5e-2   | 7.4e-4 / 2.5e-2   |
| 2-40 scores 1e-4 apart (near-ties)  | up to 0.5 / 0.5   | up to 0.31        |

So the documented tolerances (1e-4 AUROC, 1e-3 AP) hold wherever
`error_bound()` is within them; otherwise `result()` read eagerly (as Keras
does at the end of each epoch) emits one `UserWarning` per metric naming
the bound and the fix (more `num_thresholds`). On large, smoothly spread
scores the AUROC bound is 100-1000x its actual error (the AP bound 3-10x),
so a weak or overconfident model can draw the AUROC warning although its
result is within 1e-6 of scikit-learn's.

State
-----
`histogram` of shape `(K, 2, B)` (negatives, positives) in float64 (float32
on JAX without x64) with
`aggregation="sum"` (AUPRC also `square_excess`, `(K,)`), so it is exact for
integer weights up to 2**53, additive across batches, replicas and
`merge_state`, and never grows with the number of samples. K is 1 (binary)
or the number of classes.

AUROC also keeps `blocks`, `(K, 2, G)`: the histogram summed over blocks of
about 32 bins (`block_layout`; 512 blocks at the default B), and `wins`,
`(K,)`: the Mann-Whitney count `roc_numerator` of the histogram. Every
update (eager or traced, one compiled kernel in any mode: `rank_update`)
scatters the batch's cells into the histogram and grows `wins` by the pairs
they add, each found by one prefix sum over the blocks plus one block of
bins, and `merge_state` adds the pairs across the two states (`cross_wins`),
so `wins` is always the histogram's count (exact for integer weights to
2**53) and `result()` read in a traced step (Keras's `fit` reads it every
step) is `wins / (P N)`, O(K), instead of a prefix sum over all K x B bins.
The update reads the histogram only after the additions it must see, so XLA
updates it in place: a step costs O(cells x 32 + K G), never a pass over the
K x B bins (`_backend.state_replacer`). The update reads each cell
through one int32 (its histogram index, or its invalid reason) computed
once (`_packed_cells`): XLA on CPU otherwise fuses the input checks and the
binning into each consumer and recomputes them there, which cost more than
the rest of the update. `average="micro"`, eager
`result()`, `error_bound()` and a traced read of the sum across replicas
(each replica counts only its own pairs) use the histogram.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any

import keras
import numpy as np
from keras import ops

from keras_components import _backend, _docs, _inputs, _math
from keras_components._export import export
from keras_components._validation import (
    check_bool,
    check_choice,
    check_int,
    check_num_classes,
)
from keras_components.metrics._base import (
    StreamingMetric,
    average_classes,
)

__all__ = [
    "AUPRC",
    "AUROC",
    "CORE_LOGIT",
    "DEFAULT_NUM_THRESHOLDS",
    "MAX_LOGIT",
    "TAIL_LOGIT",
    "average_precision_error_bound",
    "average_precision_from_histograms",
    "batch_histogram",
    "batch_statistics",
    "bin_edges",
    "bin_index",
    "one_vs_rest_logits",
    "roc_auc_error_bound",
    "roc_auc_from_histograms",
    "weighted_bincount",
]

# Bin layout (see the module docstring): uniform bins for |logit| <= CORE_LOGIT,
# bins uniform in log|logit| up to TAIL_LOGIT, coarser ones up to MAX_LOGIT.
CORE_LOGIT = 6.0
TAIL_LOGIT = 4096.0
MAX_LOGIT = float(np.finfo(np.float32).max)
CORE_FRACTION = 0.7  # of the bins, both signs together
FAR_FRACTION = 1.0 / 32.0  # of the bins beyond TAIL_LOGIT, both signs
# The logit of a float64 probability strictly between 0 and 1 lies in
# [-744.5, 36.8]; 0 and 1 map to -inf and +inf.
PROBABILITY_LOGIT_BOUND = 745.0
# AUPRC's weighted batches of at most this many cells keep the squared
# weights its error bound needs (`_square_excess`).
SQUARES_MAX_CELLS = 16384
_CORE_BITS = int(np.float32(CORE_LOGIT).view(np.int32))
DEFAULT_NUM_THRESHOLDS = 16384
AVERAGES = ("macro", "weighted", "micro", None)


# --------------------------------------------------------------------------
# Pure functions
# --------------------------------------------------------------------------
def _softmax_one_vs_rest_logits(z: Any) -> Any:
    """`logit(softmax(z)_k) = z_k - logsumexp_{j != k} z_j`, stably."""
    num_classes = z.shape[-1]
    log_p = ops.log_softmax(z, axis=-1)
    # Every class but the arg max has p_k <= 1/2, where log(1 - p_k) =
    # log1p(-exp(log p_k)) is accurate. The arg max gets log-sum-exp over
    # the other classes directly (no 1 - p cancellation when p ~ 1).
    is_top = ops.equal(
        ops.arange(num_classes, dtype="int32"),
        ops.expand_dims(ops.cast(ops.argmax(z, axis=-1), "int32"), -1),
    )
    rest = ops.where(is_top, ops.full_like(z, float("-inf")), z)
    top_logit = z - ops.logsumexp(rest, axis=-1, keepdims=True)
    other_logit = log_p - ops.log1p(-ops.exp(log_p))
    return ops.where(is_top, top_logit, other_logit)


def one_vs_rest_logits(scores: Any, *, task: str, from_logits: bool) -> Any:
    """The logit of each class's one-vs-rest probability, `(M, K)`.

    Args:
        scores: `(M, K)` probabilities (`from_logits=False`) or logits.
        task: `"binary"`, `"multiclass"` or `"multilabel"`. Multiclass logits
            are softmax logits: class k's one-vs-rest logit is
            `z_k - logsumexp_{j != k} z_j`.
        from_logits: Whether `scores` are logits.

    Returns:
        Logits in float32 (float64 for float64 scores). Probabilities 0 and 1
        map to -inf and +inf; values outside `[0, 1]` (and NaN) map to NaN.
        Probabilities below `2**-64` get `log(p)` read off their bits
        (`_tiny_logits`): monotone, and subnormal ones stay above 0's -inf
        on every backend.
    """
    scores = ops.convert_to_tensor(scores)
    scores = ops.cast(scores, _math.compute_dtype(scores))
    if from_logits:
        if task == "multiclass":
            return _softmax_one_vs_rest_logits(scores)
        return scores
    # log(p / (1 - p)) is as accurate as log(p) - log1p(-p) here, with one
    # transcendental instead of two: 1 - p is exact for p >= 1/2 (Sterbenz)
    # and off by at most one rounding below, so the logit is within a few
    # 1e-7 (float32) everywhere, against bins 1e-3 wide.
    return _tiny_logits(scores, ops.log(scores / (1.0 - scores)))


def _tiny_logits(scores: Any, logits: Any) -> Any:
    """`logits`, with `log(p)` from the bits of `p` where `0 < p < 2**-64`.

    Subnormal probabilities (float32 below 1.2e-38: the sigmoid of a logit
    below -87) are read as 0 by arithmetic on CPUs that flush them
    (TensorFlow, XLA, JAX: `log` gives -inf), which would tie them with
    exact zeros. Their bit pattern still orders them: for `p = 2**e (1 + f)`
    it reads `e + f`, within 0.086 of `log2(p)`, equal to it at powers of 2
    (so it joins `log(p) = logit(p)` continuously at `2**-64`, where `1 - p`
    is 1), and increasing in `p` through the subnormals down to 0.
    """
    if keras.backend.standardize_dtype(scores.dtype) == "float64":
        bits = ops.view(scores, "int64")
        mantissa, bias = 52, 1023
    else:
        bits = ops.view(scores, "int32")
        mantissa, bias = 23, 127
    ln2 = float(np.log(2.0))
    approximate = ops.cast(bits, logits.dtype) * (ln2 * 0.5**mantissa) - bias * ln2
    # 0 (and -0.0) keep log(0) = -inf; negative values keep their NaN.
    tiny = ops.logical_and(bits > 0, bits < (bias - 64) << mantissa)
    return ops.where(tiny, approximate, logits)


def _pseudo_log2(a: Any) -> np.ndarray:
    """`e + f` for float32 `a = 2**e * (1 + f)`: its bits / 2**23 - 127 (NumPy)."""
    bits = np.asarray(a, np.float32).view(np.int32).astype(np.float64)
    return bits / 2.0**23 - 127.0


def _pseudo_exp2(t: np.ndarray) -> np.ndarray:
    """The inverse of `_pseudo_log2`: `2**floor(t) * (1 + t - floor(t))`."""
    t = np.asarray(t, np.float64)
    whole = np.floor(t)
    with np.errstate(over="ignore"):
        return np.ldexp(1.0 + t - whole, whole.astype(np.int64))


class _Layout:
    """The bin layout for `num_bins` bins, as positions in `[0, num_bins]`.

    Bin b holds the logits whose position `B/2 + sign(z) * pos(|z|)` lies in
    `[b, b + 1)`, where `pos` is continuous and increasing:

    - `pos(a) = a * core_scale` for `a <= CORE_LOGIT` (uniform bins);
    - beyond, linear in `lg(a)`: with slope `mid_scale` up to `TAIL_LOGIT`,
      then `far_scale`, reaching `B/2` at `MAX_LOGIT`. `lg(a) = e + f` for
      `a = 2**e * (1 + f)` is float32's bit pattern read as an integer and
      scaled (exact, monotone, no transcendental): within 0.086 of `log2(a)`,
      so tail bins are uniform in `log|z|` to within a factor 2 of width.
    """

    def __init__(self, num_bins: int) -> None:
        half = num_bins / 2.0
        core = CORE_FRACTION * half
        far = FAR_FRACTION * half
        mid = half - core - far
        lg_core, lg_tail, lg_max = _pseudo_log2([CORE_LOGIT, TAIL_LOGIT, MAX_LOGIT])
        self.num_bins = num_bins
        self.half = half
        self.core = core
        self.mid_end = core + mid
        self.core_scale = core / CORE_LOGIT
        self.mid_scale = mid / (lg_tail - lg_core)
        self.mid_offset = core - self.mid_scale * lg_core
        self.far_scale = far / (lg_max - lg_tail)
        self.far_offset = self.mid_end - self.far_scale * lg_tail

    def inverse(self, pos: np.ndarray) -> np.ndarray:
        """The `a >= 0` with `pos(a) = pos` (float64 NumPy)."""
        pos = np.asarray(pos, np.float64)
        mid = _pseudo_exp2((pos - self.mid_offset) / self.mid_scale)
        far = _pseudo_exp2((pos - self.far_offset) / self.far_scale)
        a = np.where(
            pos <= self.core,
            pos / self.core_scale,
            np.where(pos <= self.mid_end, mid, far),
        )
        return np.where(pos >= self.half, np.inf, a)


def bin_edges(num_bins: int = DEFAULT_NUM_THRESHOLDS) -> np.ndarray:
    """The `num_bins + 1` bin edges in logit space, ascending (NumPy float64).

    Bin b holds the logits in `[edges[b], edges[b + 1])` (up to the float32
    rounding of the position); `edges[0] = -inf`, `edges[-1] = +inf`, and the
    two end bins also hold everything beyond `+-MAX_LOGIT` (float32's
    largest value). For probabilities, the logit is `log(p / (1 - p))`.
    """
    layout = _Layout(check_int("num_bins", num_bins, low=2))
    offsets = np.arange(num_bins + 1, dtype=np.float64) - layout.half
    edges = np.sign(offsets) * layout.inverse(np.abs(offsets))
    edges[0], edges[-1] = -np.inf, np.inf
    return edges


@functools.cache
def ends_hold_only_infinities(num_bins: int) -> bool:
    """Whether the end bins hold no finite logit of a probability.

    Then, for probabilities, the first bin holds exactly the scores 0 and the
    last exactly the scores 1: ties, which the histograms count exactly.
    """
    edges = bin_edges(num_bins)
    return bool(
        edges[1] < -PROBABILITY_LOGIT_BOUND < PROBABILITY_LOGIT_BOUND < edges[-2]
    )


def bin_index(logits: Any, num_bins: int) -> Any:
    """int32 bin of each logit, in the layout of `bin_edges(num_bins)`.

    Branch-free and cheap: the tail position reads `log2|z|` off float32's
    bit pattern (`ops.view`) instead of computing a logarithm, so every
    finite logit up to float32's largest has its own range of bins; +-inf
    and values beyond +-`MAX_LOGIT` fall into the end bins. NaN gives an
    arbitrary index: mask it.
    """
    layout = _Layout(num_bins)
    logits = ops.convert_to_tensor(logits)
    dtype = keras.backend.standardize_dtype(logits.dtype)
    # |z|'s float32 bits (the sign bit cleared) order |z| as integers.
    bits = ops.view(ops.cast(logits, "float32"), "int32")
    magnitude_bits = ops.bitwise_and(bits, 0x7FFFFFFF)
    # The tail lines in lg = bits / 2**23 - 127, folded into one multiply-add.
    scaled = ops.cast(magnitude_bits, "float32")
    tail = ops.minimum(
        scaled * (layout.mid_scale * 0.5**23)
        + (layout.mid_offset - 127.0 * layout.mid_scale),
        scaled * (layout.far_scale * 0.5**23)
        + (layout.far_offset - 127.0 * layout.far_scale),
    )
    if dtype != "float32":
        tail = ops.cast(tail, dtype)
    in_core = magnitude_bits <= _CORE_BITS
    offset = ops.where(
        in_core, logits * layout.core_scale, ops.where(bits < 0, -tail, tail)
    )
    position = ops.clip(offset + layout.half, 0.0, num_bins - 1.0)
    return ops.cast(position, "int32")  # truncation is floor for values >= 0


def weighted_bincount(index: Any, weights: Any, length: int) -> Any:
    """`out[i] = sum(weights[index == i])` for `i < length`, in the state dtype.

    `index` is int32 in `[0, length)`; `weights` None counts (exactly, in
    int32 per batch). A segment sum with a static number of segments: the
    bincount whose length XLA can see at compile time.
    """
    if weights is None:
        weights = ops.ones(ops.shape(index), "int32")
    counts = _backend.segment_sum(weights, index, length)
    return ops.cast(counts, _backend.state_dtype())


def _at_or_above(histogram: Any) -> Any:
    """`out[..., b] = sum(histogram[..., b:])`: the weight at or above bin b.

    One forward cumulative sum (`total - prefix + own`), cheaper than a
    reversed one (two flips); exact for integer weights, otherwise within
    float64 rounding of the total.
    """
    prefix = _backend.cumsum(histogram, axis=-1)
    return prefix[..., -1:] - prefix + histogram


def roc_auc_from_histograms(positives: Any, negatives: Any) -> Any:
    """ROC AUC per row from score histograms (bins in ascending score order).

    `AUC = sum_b pos_b * (neg_below_b + neg_b / 2) / (P * N)`: the trapezoid
    under the ROC curve through the bin thresholds, i.e. the Mann-Whitney
    statistic with same-bin pairs counted as ties (1/2). NaN where P or N is
    0 (undefined, as scikit-learn's NaN with `UndefinedMetricWarning`).
    """
    below_or_at = _backend.cumsum(negatives, axis=-1)
    total_neg = below_or_at[..., -1]
    total_pos = ops.sum(positives, axis=-1)
    wins = ops.sum(positives * (below_or_at - 0.5 * negatives), axis=-1)
    pairs = total_pos * total_neg
    defined = pairs > 0
    return ops.where(
        defined,
        wins / ops.where(defined, pairs, ops.ones_like(pairs)),
        ops.full_like(pairs, float("nan")),
    )


def average_precision_from_histograms(positives: Any, negatives: Any) -> Any:
    """Step-wise average precision per row from score histograms.

    `AP = sum_b (pos_b / P) * TP_b / (TP_b + FP_b)`, where `TP_b`, `FP_b`
    count the weight at or above bin b: scikit-learn's
    `sum_k (R_k - R_{k+1}) P_k` over the bin thresholds. With no positives
    it is 0 (scikit-learn 1.9's value, which warns); with no data, NaN.
    """
    tp = _at_or_above(positives)
    predicted = tp + _at_or_above(negatives)
    precision = tp / ops.where(predicted > 0, predicted, ops.ones_like(predicted))
    total_pos = tp[..., 0]
    total = predicted[..., 0]
    summed = ops.sum(positives * precision, axis=-1)
    value = summed / ops.where(total_pos > 0, total_pos, ops.ones_like(total_pos))
    nan = ops.full_like(total, float("nan"))
    return ops.where(total > 0, value, nan)


def _above(histogram: Any) -> Any:
    """`out[..., b] = sum(histogram[..., b + 1:])`: the weight above bin b."""
    prefix = _backend.cumsum(histogram, axis=-1)
    return prefix[..., -1:] - prefix


def _average(per_class: Any, support: Any, average: str | None) -> Any:
    """Averages per-class scores as scikit-learn's `_average_binary_score`.

    `"weighted"` weighs by the positive weight per class; a class without
    support counts 0 at weight 0, and no support at all gives 0.
    """
    return average_classes(
        per_class, support, average=average, drop_unsupported=True, no_support=0.0
    )


def _safe_divide(numerator: Any, denominator: Any) -> Any:
    """`numerator / denominator`, 0 where the denominator is not positive."""
    return _math.divide(numerator, _backend.maximum(denominator, 0.0), 0.0)


def _inner_bins(values: Any, ties_at_ends: bool) -> Any:
    """`values` with the two end bins zeroed when they hold only ties."""
    if not ties_at_ends:
        return values
    index = ops.arange(values.shape[-1])
    inner = ops.logical_and(index > 0, index < values.shape[-1] - 1)
    return ops.where(inner, values, ops.zeros_like(values))


def roc_auc_error_bound(
    positives: Any, negatives: Any, *, ties_at_ends: bool = False
) -> Any:
    """The largest possible `|binned AUROC - exact AUROC|`, per row.

    The binned value counts each positive / negative pair in the same bin
    as 1/2; the exact value counts it 1, 1/2 or 0 by the scores inside the
    bin, which the histograms do not keep. Every other pair is counted
    exactly, so the error is at most `sum_b pos_b * neg_b / (2 P N)`: zero
    when no bin holds both a positive and a negative, and reached when every
    mixed bin is ordered the same way. `ties_at_ends`: the two end bins hold
    only equal scores (probabilities exactly 0 and 1), whose pairs are ties,
    counted exactly. NaN where AUROC is undefined.
    """
    unresolved = ops.sum(_inner_bins(positives * negatives, ties_at_ends), axis=-1)
    pairs = ops.sum(positives, axis=-1) * ops.sum(negatives, axis=-1)
    defined = pairs > 0
    return ops.where(
        defined,
        0.5 * unresolved / ops.where(defined, pairs, ops.ones_like(pairs)),
        ops.full_like(pairs, float("nan")),
    )


def _ap_bin_terms(positives: Any, negatives: Any, ties_at_ends: bool):
    """Per bin: the largest excess, the continuum deficit, the deficit per pair."""
    a = _above(positives)  # TP strictly above the bin
    c = _above(negatives)  # FP strictly above the bin
    w, n = positives, negatives
    precision = _safe_divide(a + w, a + w + c + n)  # the binned precision
    # Excess: every positive of the bin above its negatives and at the bin's
    # full TP, precision (a + w) / (a + w + c).
    excess = w * (_safe_divide(a + w, a + w + c) - precision)
    # Deficit: the bin's negatives above its positives, whose precisions
    # (a + t) / (a + t + g), g = c + n, climb with t, the positive weight at
    # or above each. Their least weighted sum over any split of w is the
    # integral of that over t in [0, w], so the deficit is at most
    # w * precision - integral = g * (log1p(x) - x / (1 + x)), x = w / (a + g).
    g = c + n
    base = a + g
    x = _safe_divide(w, base)
    continuum = ops.where(g > 0, g * (ops.log1p(x) - x / (1.0 + x)), 0.0)
    # The precision's slope in t is at most g / (a + g)**2, so the deficit of
    # a split is also at most that slope times sum_{i<j} w_i w_j, the weight
    # of the positive pairs inside the bin: 0 for a single sample.
    per_pair = _safe_divide(g, base * base)
    return (
        _inner_bins(_backend.maximum(excess, 0.0), ties_at_ends),
        _inner_bins(_backend.maximum(continuum, 0.0), ties_at_ends),
        _inner_bins(per_pair, ties_at_ends),
    )


def average_precision_error_bound(
    positives: Any,
    negatives: Any,
    square_excess: Any = None,
    *,
    ties_at_ends: bool = False,
) -> Any:
    """The largest possible `|binned AP - exact AP|`, per row.

    Inside a bin the histograms lose two things: the order of its positives
    against its negatives, and the spread of its positives among themselves
    (an exact precision counts only the positives at or above it). With `a`,
    `c` the positive and negative weight above a bin and `w`, `n` its own,
    the exact contribution of the bin lies between the binned one plus
    `excess = w ((a + w) / (a + w + c) - (a + w) / (a + w + c + n))` and the
    binned one minus `deficit = min(continuum, slope * pairs)`:
    `continuum = g (log1p(x) - x / (1 + x))` with `g = c + n`,
    `x = w / (a + g)` is the worst case over any split of `w`,
    `slope = g / (a + g)**2`, and `pairs = sum_{i<j in bin} w_i w_j`. The
    bound is `max(sum excess, max sum deficit) / P`.

    Per-bin pairs are not kept, only their total,
    `(sum_b w_b**2 - sum_i w_i**2) / 2`, from `square_excess` (per row,
    `sum_i (w_i**2 - w_i)` over the positives, 0 when every weight is 1):
    the deficit takes its worst placement (pairs first where the slope is
    largest, one sort). Without `square_excess` (None, or +inf where it
    was not kept), every bin may take its continuum worst case: a looser
    bound, far looser on small data, where most bins hold one sample. 0
    with no positives (AP is then 0 exactly), NaN with no data.
    """
    excess, continuum, per_pair = _ap_bin_terms(positives, negatives, ties_at_ends)
    loose = ops.sum(continuum, axis=-1)
    if square_excess is None:
        deficit = loose
    else:
        squares = ops.sum(positives, axis=-1) + square_excess  # sum_i w_i**2
        pair_total = 0.5 * (ops.sum(ops.square(positives), axis=-1) - squares)
        pair_total = ops.expand_dims(_backend.maximum(pair_total, 0.0), -1)
        # A bin takes at most w**2 / 2 pairs, and none past its continuum
        # deficit; fill the steepest bins first.
        capacity = _backend.minimum(
            0.5 * ops.square(positives), _safe_divide(continuum, per_pair)
        )
        order = ops.argsort(-per_pair, axis=-1)
        slope = ops.take_along_axis(per_pair, order, axis=-1)
        capacity = ops.take_along_axis(capacity, order, axis=-1)
        before = _backend.cumsum(capacity, axis=-1) - capacity
        used = _backend.minimum(_backend.maximum(pair_total - before, 0.0), capacity)
        # An infinite excess marks squares that were not kept (large
        # weighted batches): the loose form then.
        deficit = ops.where(
            ops.isfinite(square_excess), ops.sum(slope * used, axis=-1), loose
        )
    total_pos = ops.sum(positives, axis=-1)
    total = total_pos + ops.sum(negatives, axis=-1)
    worst = _backend.maximum(ops.sum(excess, axis=-1), deficit)
    bound = _safe_divide(worst, total_pos)
    return ops.where(total > 0, bound, ops.full_like(total, float("nan")))


def batch_histogram(
    y_true: Any,
    y_pred: Any,
    sample_weight: Any,
    *,
    task: str,
    num_classes: int,
    num_bins: int,
    from_logits: bool,
) -> tuple[Any, Any]:
    """`(histogram, invalid)` of one batch (pure; run compiled by the metrics).

    `histogram` is `(K, 2, num_bins)` in the state dtype: per class, the weight of
    negatives (row 0) and positives (row 1) in each logit bin (K = 1 for the
    binary task). `invalid` counts cells that could not be binned (non-finite
    scores or logits, probabilities outside [0, 1], labels that are not 0/1).
    """
    stats = batch_statistics(
        y_true,
        y_pred,
        sample_weight,
        task=task,
        num_classes=num_classes,
        num_bins=num_bins,
        from_logits=from_logits,
    )
    return stats["histogram"], stats["invalid"]


def _batch_cells(
    y_true: Any,
    y_pred: Any,
    sample_weight: Any,
    *,
    task: str,
    num_classes: int,
    num_bins: int,
    from_logits: bool,
) -> dict[str, Any]:
    """One batch's cells: per sample and class, its bin, label and weight.

    Returns `(M, K)` tensors: `"bin"` (int32), `"label"` (int32 0/1),
    `"invalid"` (bool), `"code"` (the reason of an invalid cell, int32) and
    `"weights"` (the per-cell weights in the state dtype, None without
    `sample_weight`).
    """
    found = _inputs.score_targets(
        y_true,
        y_pred,
        sample_weight,
        task=task,
        num_classes=max(num_classes, 2),
        dtype=_backend.state_dtype(),
    )
    logits = one_vs_rest_logits(found.scores, task=task, from_logits=from_logits)
    # Probabilities outside [0, 1] (and NaN) have a NaN logit; logits must be
    # finite themselves.
    bad = ops.isnan(logits)
    if from_logits:
        bad = ops.logical_not(ops.isfinite(found.scores))
    weights = bad_weights = None
    if found.weights is not None:
        weights = ops.broadcast_to(found.weights, ops.shape(bad))
        bad_weights = ops.logical_not(ops.isfinite(weights))
    invalid, code = _inputs.reason_codes(
        targets=found.invalid,
        soft=found.soft,
        predictions=bad,
        weights=bad_weights,
    )
    return {
        "bin": bin_index(logits, num_bins),
        "label": found.targets,
        "invalid": invalid,
        "code": code,
        "weights": weights,
    }


def batch_statistics(
    y_true: Any,
    y_pred: Any,
    sample_weight: Any,
    *,
    task: str,
    num_classes: int,
    num_bins: int,
    from_logits: bool,
    squares: bool = False,
) -> dict[str, Any]:
    """One batch's state increments by state name (pure; run compiled).

    `"histogram"` and `"invalid"` as `batch_histogram`; with `squares`, also
    `"square_excess"`, `(K,)`: per class, `sum (w**2 - w)` over its
    positives, which `average_precision_error_bound` needs (0 without
    `sample_weight`, at no cost).
    """
    cells = _batch_cells(
        y_true,
        y_pred,
        sample_weight,
        task=task,
        num_classes=num_classes,
        num_bins=num_bins,
        from_logits=from_logits,
    )
    return _cell_histogram(cells, num_classes, num_bins, squares=squares)


def _cell_histogram(
    cells: dict[str, Any], k: int, num_bins: int, *, squares: bool = False
) -> dict[str, Any]:
    """`batch_statistics` of `_batch_cells`."""
    invalid = cells["invalid"]
    # One bincount over (class, label, bin) cells fills every histogram;
    # invalid cells go to one extra cell per reason, which counts them.
    cell = cells["bin"] + num_bins * cells["label"]
    if k > 1:
        cell = cell + ops.arange(k, dtype="int32") * (2 * num_bins)
    size = k * 2 * num_bins
    cell = ops.reshape(ops.where(invalid, size + cells["code"], cell), (-1,))
    weights = None
    if cells["weights"] is not None:
        weights = ops.reshape(ops.where(invalid, 1.0, cells["weights"]), (-1,))
    counts = weighted_bincount(cell, weights, size + _inputs.NUM_REASONS)
    histogram = ops.reshape(counts[:size], (k, 2, num_bins))
    stats = {"histogram": histogram, "invalid": counts[size:]}
    if squares:
        flags = ops.reshape(cells["label"], (-1,))
        stats["square_excess"] = _square_excess(weights, flags, k)
    return stats


def _square_excess(weights: Any, targets: Any, k: int) -> Any:
    """Per class, `sum (w**2 - w)` over the batch's positives, `(K,)`.

    0 without weights. The sum is one more pass over the batch, which costs
    about 1 ns per cell: batches of more than `SQUARES_MAX_CELLS` cells skip
    it and add +inf instead ("unknown", which stays +inf in sums, so the AP
    bound falls back to its looser form for that class, fine on large data).
    `weights` is the flat weight per cell, 1 on invalid cells (excess 0).
    """
    if weights is None:  # every weight is 1
        return ops.zeros((k,), _backend.state_dtype())

    def exact():
        flags = ops.reshape(ops.cast(targets, _backend.state_dtype()), (-1,))
        excess = weights * (weights - 1.0) * flags
        return ops.sum(ops.reshape(excess, (-1, k)), axis=0)

    def skipped():
        return ops.full((k,), float("inf"), _backend.state_dtype())

    cells = weights.shape[0]
    if cells is not None:
        return exact() if cells <= SQUARES_MAX_CELLS else skipped()
    return ops.cond(ops.shape(weights)[0] <= SQUARES_MAX_CELLS, exact, skipped)


# Bins per block of AUROC's `blocks` state: `block_layout` picks the divisor
# of the number of bins nearest to this.
BLOCK_BINS = 32


@functools.cache
def block_layout(num_bins: int) -> tuple[int, int]:
    """`(groups, size)`: AUROC's blocks of bins, `groups * size == num_bins`.

    `size` is the divisor of `num_bins` nearest to `BLOCK_BINS` (the smaller
    on a tie): 512 blocks of 32 bins at the default 16384. A traced update
    reads one block of bins per cell and a prefix sum over the blocks, so a
    prime number of bins (blocks of one bin) makes it cost as much as the
    full histogram.
    """
    divisors = [d for d in range(1, num_bins + 1) if num_bins % d == 0]
    size = min(divisors, key=lambda d: (abs(d - BLOCK_BINS), d))
    return num_bins // size, size


def roc_numerator(positives: Any, negatives: Any) -> Any:
    """`sum_b pos_b * (neg_below_b + neg_b / 2)` per row.

    the Mann-Whitney count of ordered positive / negative pairs, same-bin pairs as 1/2
    (`roc_auc_from_histograms` divides it by `P * N`).
    """
    below_or_at = _backend.cumsum(negatives, axis=-1)
    return ops.sum(positives * (below_or_at - 0.5 * negatives), axis=-1)


def _ratio_or_nan(numerator: Any, denominator: Any) -> Any:
    defined = denominator > 0
    return ops.where(
        defined,
        numerator / ops.where(defined, denominator, ops.ones_like(denominator)),
        ops.full_like(denominator, float("nan")),
    )


def _many_cells(invalid: Any, block_size: int, num_bins: int) -> bool:
    """Whether a batch's cells (static count) query more bins than there are.

    `invalid` is the `(M, K)` per-cell mask; an unknown `M` counts as few
    (the per-cell path, which suits the batches `fit` runs).
    """
    rows = invalid.shape[0]
    return rows is not None and rows * block_size > num_bins


def _sum_by_index(weights: Any, index: Any, length: int, unit: bool) -> Any:
    """`weighted_bincount` of `weights` (state dtype); in int32 when `unit` (0 / 1).

    A scatter of int32 counts is about half the cost of a float64 one under
    XLA, and exact for fewer than 2**31 cells per batch.
    """
    if unit:
        return weighted_bincount(index, ops.cast(weights, "int32"), length)
    return weighted_bincount(index, weights, length)


def rank_update(
    state: dict[str, Any],
    y_true: Any,
    y_pred: Any,
    sample_weight: Any,
    *,
    gate: bool,
    task: str,
    num_classes: int,
    num_bins: int,
    from_logits: bool,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """AUROC's state after one batch, and the batch's invalid counts (pure).

    `state` holds the old `"histogram"` `(K, 2, B)`, `"blocks"` `(K, 2, G)`
    (the histogram summed over blocks of `block_layout(B)` bins), `"wins"`
    `(K,)` (`roc_numerator` of the histogram) and `"invalid"`. Returns
    `(new_state, {"invalid": counts})`: the new value of each, and the
    batch's counts of invalid cells by reason. With `gate` (eager updates)
    a batch with any invalid cell leaves every value exactly as it was (its
    weights are zeroed), so that the caller can raise; without it (traced)
    the valid cells are added and the counts too, which makes the result
    NaN.

    The pairs the batch adds to `wins` are those within the batch plus those
    of a batch cell and the old state. The batch's negatives go into the
    histogram first; then each positive cell counts the negatives (old and
    new) at `neg_below + neg_in_bin / 2` of its bin, each negative cell the
    old positives at `pos_above + pos_in_bin / 2`, so every pair is counted
    once; then the batch's positives go in. Each query is one prefix sum over
    the blocks before the cell's block plus the bins of its own block before
    it: O(cells * block size + K G), not O(K B). A batch with more cells per
    class than `B / block size` (a static count) instead takes
    `roc_numerator` of the new histogram, O(K B). With no rounding for
    integer weights (to 2**53) `wins` equals `roc_numerator(histogram)`
    after any sequence of updates, so a traced `result()` is
    `wins / (P N)`: O(K).

    Every read of the histogram follows the additions it must see, and the
    positives' addition depends on the queries that read the old positives:
    compiled by XLA, both additions then update the state's buffer in place
    (a read of the old value alongside the new one would copy all K x 2 x B
    counts in every step; `_backend.state_replacer`).
    """
    k, b = num_classes, num_bins
    groups, size = block_layout(b)
    cells = _batch_cells(
        y_true,
        y_pred,
        sample_weight,
        task=task,
        num_classes=k,
        num_bins=b,
        from_logits=from_logits,
    )
    if _many_cells(cells["invalid"], size, b):
        return _large_batch_update(state, cells, gate=gate)
    # Everything below reads each cell through one int32 per cell, computed
    # once (`_packed_cells`): its flat histogram index (class, label, bin), or
    # past the histogram, one block of `size` slots per reason of an invalid
    # cell.
    cell, weights = _packed_cells(cells, k, b, size)
    dtype = _backend.state_dtype()
    unit = weights is None  # every weight 0 or 1: counted in int32
    size_h = 2 * k * b
    slots = 2 * k * groups
    invalid = cell >= size_h
    if unit:
        weights = ops.where(invalid, 0.0, 1.0)
        weights = ops.cast(weights, dtype)
    else:
        weights = ops.where(invalid, ops.zeros_like(weights), weights)
    # One bincount gives the batch's blocks and, in one extra slot per
    # reason, its invalid cells (each counted once, whatever its weight).
    counted = _sum_by_index(
        ops.where(invalid, 1.0, weights),
        cell // size,
        slots + _inputs.NUM_REASONS,
        unit,
    )
    batch_blocks = ops.reshape(counted[:slots], (k, 2, groups))
    counts = counted[slots:]
    added_counts = counts
    if gate:  # a rejected eager batch adds nothing
        keep = ops.all(ops.equal(counts, 0))
        weights = ops.where(keep, weights, ops.zeros_like(weights))
        batch_blocks = ops.where(keep, batch_blocks, ops.zeros_like(batch_blocks))
        added_counts = ops.where(keep, counts, ops.zeros_like(counts))
    index = ops.where(invalid, 0, cell)  # invalid cells add weight 0 at 0
    row = index // b  # 2 * class + label
    is_neg = ops.equal(ops.bitwise_and(row, 1), 0)
    neg_w = ops.where(is_neg, weights, ops.zeros_like(weights))
    pos_w = weights - neg_w
    new_state = {"invalid": state["invalid"] + added_counts}
    old = ops.reshape(state["histogram"], (-1,))
    # The old histogram with the batch's negatives, and the blocks alike.
    first = old + _backend.segment_sum(neg_w, index, size_h)
    negative_rows = ops.reshape(
        ops.stack([ops.ones((k,), dtype), ops.zeros((k,), dtype)], 1),
        (k, 2, 1),
    )
    # The old blocks plus the batch's negatives, computed once, then plus its
    # positives: the old blocks are read once, so XLA updates them in place
    # (read twice, they were copied in every step: 80 KB at 10 classes).
    negatives_in = _backend.materialized(state["blocks"] + batch_blocks * negative_rows)
    new_state["blocks"] = negatives_in + batch_blocks * (1.0 - negative_rows)
    rows = ops.reshape(negatives_in, (2 * k, groups))
    # The same bin of the other label's row: one row of b up or down.
    other = index + ops.where(is_neg, b, -b)
    other_block = other // size
    before = _blocks_before(rows)
    # Each row's total from its last prefix: XLA would fuse a sum over the
    # row into every cell's read of it.
    row_total = before[:, -1] + rows[:, -1]
    before = ops.reshape(before, (-1,))
    in_block = ops.take(ops.reshape(first, (2 * k * groups, size)), other_block, axis=0)
    # The share of each bin of the block below the cell's bin: 1 below it,
    # 1/2 in it, 0 above, as clipped arithmetic (cheaper than selects).
    offset = ops.cast(ops.expand_dims(index % size, -1), dtype)
    position = ops.arange(size, dtype=dtype)
    share = ops.clip(offset - position + 0.5, 0.0, 1.0)
    below = ops.take(before, other_block) + ops.sum(in_block * share, axis=-1)
    above = ops.take(row_total, other // b) - below
    pairs = ops.where(is_neg, neg_w * above, pos_w * below)
    wins = ops.sum(ops.reshape(pairs, (-1, k)), axis=0)
    # The positives' weights depend on the pairs (NaN pairs would make the
    # result NaN anyway), so their addition follows the queries of the old
    # positives and can update `first` in place.
    total = ops.sum(wins)
    late = ops.where(ops.isnan(total), total, pos_w)
    new = first + _backend.segment_sum(late, index, size_h)
    new_state.update(histogram=ops.reshape(new, (k, 2, b)), wins=state["wins"] + wins)
    return new_state, {"invalid": counts}


def _large_batch_update(
    state: dict[str, Any], cells: dict[str, Any], *, gate: bool
) -> tuple[dict[str, Any], dict[str, Any]]:
    """`rank_update` for a batch of more cells x block bins than bins.

    The pairs of the whole new histogram, one prefix sum over the bins, cost
    less than querying the old state cell by cell. The batch's histogram and
    invalid counts are AUPRC's (`_cell_histogram`: one bincount of the
    cells), and its blocks that histogram summed per block: O(K B), not a
    second scatter of every cell.
    """
    k, _, b = state["histogram"].shape
    groups, size = block_layout(b)
    stats = _cell_histogram(cells, k, b)
    batch, counts = stats["histogram"], stats["invalid"]
    added_counts = counts
    if gate:  # a rejected eager batch adds nothing
        keep = ops.all(ops.equal(counts, 0))
        batch = ops.where(keep, batch, ops.zeros_like(batch))
        added_counts = ops.where(keep, counts, ops.zeros_like(counts))
    new = state["histogram"] + batch
    wins = roc_numerator(new[:, 1], new[:, 0])
    if gate:
        wins = ops.where(keep, wins, state["wins"])
    batch_blocks = ops.sum(ops.reshape(batch, (k, 2, groups, size)), axis=-1)
    new_state = {
        "histogram": new,
        "blocks": state["blocks"] + batch_blocks,
        "invalid": state["invalid"] + added_counts,
        "wins": wins,
    }
    return new_state, {"invalid": counts}


# Blocks per chunk of `_blocks_before`'s prefix: one small matmul per chunk.
PREFIX_CHUNK = 32


def _blocks_before(rows: Any) -> Any:
    """`out[r, g] = sum(rows[r, :g])`: the exclusive prefix sum along rows.

    In chunks of `PREFIX_CHUNK` blocks: within each chunk a matmul with a
    strictly upper triangular 0/1 matrix, plus a prefix sum over the chunk
    totals (16 per row at the default bins). Exact for integer counts as the
    cumulative sum is (every partial sum is an integer below 2**53), and
    about half the cost of one cumulative sum over all blocks under XLA on
    CPU, where that is a reduce-window whose cost grows with its window.
    """
    groups = rows.shape[-1]
    size = min(PREFIX_CHUNK, groups)
    chunks = -(-groups // size)
    if chunks * size != groups:
        rows = ops.pad(rows, [(0, 0), (0, chunks * size - groups)])
    lead = rows.shape[0]
    chunked = ops.reshape(rows, (lead * chunks, size))
    strictly_upper = np.triu(np.ones((size, size)), 1)
    within = _backend.matmul(
        chunked, ops.convert_to_tensor(strictly_upper, chunked.dtype)
    )
    totals = ops.reshape(ops.sum(chunked, axis=-1), (lead, chunks))
    earlier = _backend.cumsum(totals, axis=-1) - totals
    out = ops.reshape(within, (lead, chunks, size)) + ops.expand_dims(earlier, -1)
    return ops.reshape(out, (lead, chunks * size))[:, :groups]


def _packed_cells(
    cells: dict[str, Any], k: int, num_bins: int, size: int
) -> tuple[Any, Any]:
    """`(cell, weights)`: one int32 per cell of `_batch_cells`, flat.

    `cell` is the cell's index in the flat `(K, 2, B)` histogram, or, for an
    invalid cell, `K * 2 * B + reason * size` (`size` the block size, so
    that `cell // size` is the cell's block, or the reason's slot after the
    blocks). `weights` is the flat weight per cell (state dtype), None without
    `sample_weight`.

    Both are computed once (`_backend.materialized`): the per-sample checks and the
    bin of each score (a few hundred cheap operations per cell) would
    otherwise be fused by XLA into each of the update's consumers of the
    cells and recomputed there, several times the cost of the update itself.
    """
    classes = ops.arange(k, dtype="int32")
    cell = (2 * classes + cells["label"]) * num_bins + cells["bin"]
    bad = 2 * k * num_bins + cells["code"] * size
    cell = ops.reshape(ops.where(cells["invalid"], bad, cell), (-1,))
    weights = cells["weights"]
    if weights is not None:
        weights = ops.reshape(weights, (-1,))
        cell, weights = _backend.materialized(cell), _backend.materialized(weights)
    else:
        cell = _backend.materialized(cell)
    return cell, weights


@functools.cache
def _compiled_rank_update(backend: str, static: tuple) -> Callable[..., Any]:
    """`rank_update` compiled per backend and configuration (shared)."""
    del backend  # part of the cache key only
    return _backend.state_replacer(
        functools.partial(rank_update, **dict(static)), additive=RANK_ADDITIVE
    )


# The states `rank_update` (and AUROC's merge) adds a batch's own term to;
# `wins` also depends on the old histogram.
RANK_ADDITIVE = ("histogram", "blocks", "invalid")


def cross_wins(first: Any, second: Any) -> Any:
    """The pairs across two histograms.

    `(K,)` Mann-Whitney pairs of a negative in one `(K, 2, B)` histogram
    and a positive in the other (same-bin pairs 1/2): what `merge_state`
    adds to the sum of the two `wins` (pure).
    """
    return roc_numerator(first[:, 1], second[:, 0]) + roc_numerator(
        second[:, 1], first[:, 0]
    )


# --------------------------------------------------------------------------
# Classes
# --------------------------------------------------------------------------
class _BinnedRankingMetric(StreamingMetric):
    """Shared state, update, result and error bound of `AUROC` and `AUPRC`."""

    # The documented agreement with scikit-learn: an eager `result()` warns
    # once when `error_bound()` exceeds it.
    tolerance: float = 0.0
    metric_kind: str = ""  # "roc" or "ap"
    # Whether the state keeps `square_excess` (AUPRC's bound needs it).
    _keeps_squares = False
    # Whether the state keeps `blocks` and `wins`, for an O(K) traced result
    # (AUROC: `rank_update`).
    _keeps_wins = False

    def __init__(
        self,
        *,
        task: str = "auto",
        num_classes: int | None = None,
        average: str | None = "macro",
        num_thresholds: int | None = None,
        from_logits: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._warned = False
        self.task = check_choice("task", task, _inputs.TASK_CHOICES)
        self.num_classes = check_num_classes(
            num_classes,
            self.task,
            multiclass_hint=" (one class has no negatives: pass "
            'task="binary" for one score per sample)',
        )
        self.average = check_choice("average", average, AVERAGES)
        if num_thresholds is not None:
            num_thresholds = check_int("num_thresholds", num_thresholds, low=2)
        self.num_thresholds = num_thresholds
        self.from_logits = check_bool("from_logits", from_logits)
        self.num_bins = (
            DEFAULT_NUM_THRESHOLDS if num_thresholds is None else num_thresholds
        )
        # For probabilities, the end bins then hold exactly the scores 0 and
        # 1 (ties, counted exactly); logits beyond the last edges are not.
        self._ties_at_ends = not self.from_logits and ends_hold_only_infinities(
            self.num_bins
        )
        if self.task == "binary":
            self.build_from_spec(("binary", 1), fixed=True)
        elif self.task in ("multiclass", "multilabel") and self.num_classes:
            self.build_from_spec((self.task, self.num_classes), fixed=True)

    # -- the contract -----------------------------------------------------
    def state_spec(self, y_true: Any, y_pred: Any) -> tuple[str, int]:
        task = _inputs.resolve_task(self.task, y_pred, y_true)
        if task == "binary":
            _inputs.class_count(y_pred, task, self.num_classes)
            return ("binary", 1)
        k = _inputs.class_count(y_pred, task, self.num_classes)
        if task == "multiclass" and k < 2:
            raise ValueError(
                "The multiclass task needs at least 2 classes; `y_pred` has "
                f'shape {tuple(y_pred.shape)}. Pass task="binary" for one '
                "score per sample."
            )
        return (task, k)

    def state_shapes(self, spec: Any) -> dict[str, tuple[int, ...]]:
        _, k = spec
        shapes: dict[str, tuple[int, ...]] = {"histogram": (k, 2, self.num_bins)}
        if self._keeps_squares:
            shapes["square_excess"] = (k,)
        if self._keeps_wins:
            groups, _ = block_layout(self.num_bins)
            shapes.update(blocks=(k, 2, groups), wins=(k,))
        return shapes

    increments: Callable[..., dict[str, Any]] = staticmethod(batch_statistics)

    def update_options(self) -> dict[str, Any]:
        task, k = self._spec
        options: dict[str, Any] = {
            "task": task,
            "num_classes": k,
            "num_bins": self.num_bins,
            "from_logits": self.from_logits,
        }
        if not self._keeps_wins:  # AUROC's kernel has no squares to keep
            options["squares"] = self._keeps_squares
        return options

    def explain_invalid(self, y_true: Any, y_pred: Any, sample_weight: Any) -> None:
        """The eager checks that name what is wrong (they raise)."""
        task, k = self._spec
        _inputs.check_score_inputs(
            y_true,
            y_pred,
            sample_weight,
            task=task,
            num_classes=max(k, 2),
            from_logits=self.from_logits,
        )

    def score_options(self) -> dict[str, Any]:
        return {
            "metric": self.metric_kind,
            "task": self._spec[0],
            "average": self.average,
            "ties_at_ends": self._ties_at_ends,
            "dtype": self.result_dtype,
        }

    @staticmethod
    def score(state, **options):
        """The value from the state (`_ranking_outputs`).

        `compute_result` keeps its own path: eagerly it computes the error bound with
        the value, for the warning.
        """
        return _ranking_outputs(state, output="value", **options)

    # -- result -----------------------------------------------------------
    def compute_result(self):
        if not self.state_built:
            return ops.cast(float("nan"), self.result_dtype)
        state = self.state_values()
        eager = not any(isinstance(v, keras.KerasTensor) for v in state.values())
        eager = eager and _inputs.concrete_value(state["invalid"]) is not None
        if not eager:  # traced (fit, evaluate, jit): the value alone, inlined
            if self._keeps_wins and self.average != "micro":
                return self._from_wins(state)
            return self._from_state(state, "value")
        if self._warned:
            return self._compiled("value")(state)
        value, bound = self._compiled("checked")(state)
        self._warn_if_unresolved(state, bound)
        return value

    def error_bound(self):
        """The largest possible distance of `result()` from the exact value.

        Computed from the state alone (`roc_auc_error_bound`,
        `average_precision_error_bound`) and averaged as `result()` is: the
        exact metric of the same float scores (scikit-learn's) lies within
        this of `result()`, whatever the scores inside each bin were. 0
        means `result()` is exact (up to float64 rounding). Same shape as
        `result()`; NaN where it is NaN. Pure `keras.ops` on the state: works
        eagerly (compiled), traced and under XLA.
        """
        if not self.state_built:
            return ops.cast(float("nan"), self.result_dtype)
        state = self.state_values()
        if any(isinstance(v, keras.KerasTensor) for v in state.values()):
            return self._from_state(state, "bound")
        if _inputs.concrete_value(state["invalid"]) is None:
            return self._from_state(state, "bound")
        return self._compiled("bound")(state)

    def _from_wins(self, state: dict[str, Any]) -> Any:
        """AUROC from the running `wins`.

        O(K), where the histogram path takes a prefix sum over every bin.
        """
        task, _ = self._spec
        if _backend.cross_replica_read():
            # Each replica's `wins` counts its own pairs only: the sum across
            # replicas misses the pairs across them; the summed histogram
            # has them.
            return self._from_state(state, "value")
        blocks = state["blocks"]
        negatives = ops.sum(blocks[:, 0, :], axis=-1)
        positives = ops.sum(blocks[:, 1, :], axis=-1)
        per_class = _ratio_or_nan(state["wins"], positives * negatives)
        if task == "binary":
            value = per_class[0]
        else:
            value = _average(per_class, positives, self.average)
        invalid = ops.sum(state["invalid"]) > 0
        value = ops.where(invalid, ops.full_like(value, float("nan")), value)
        return ops.cast(value, self.result_dtype)

    def _from_state(self, state: dict[str, Any], output: str) -> Any:
        task, _ = self._spec
        return _ranking_outputs(
            state,
            output=output,
            metric=self.metric_kind,
            task=task,
            average=self.average,
            ties_at_ends=self._ties_at_ends,
            dtype=self.result_dtype,
        )

    def _compiled(self, output: str):
        """`_from_state(state, output)` compiled, shared by configuration."""
        task, _ = self._spec
        static = {
            "output": output,
            "metric": self.metric_kind,
            "task": task,
            "average": self.average,
            "ties_at_ends": self._ties_at_ends,
            "dtype": self.result_dtype,
        }
        # The state's shapes (classes, bins) are part of the key: one
        # function traced once per shape, never retraced.
        return _compiled_outputs(
            keras.backend.backend(),
            tuple(sorted(static.items())),
            (self._spec, self.num_bins),
        )

    def _warn_if_unresolved(self, state: dict[str, Any], bound: Any) -> None:
        """One `UserWarning` per instance when an eager result may be off.

        Keras reads `result()` eagerly at the end of each epoch. The AUPRC
        bound is tried in its cheap form first, with the sort only when that
        one exceeds the tolerance.
        """
        worst = _largest(bound)
        if worst > self.tolerance and self._keeps_squares:
            worst = _largest(self._compiled("bound")(state))
        if not worst > self.tolerance:
            return
        self._warned = True
        warnings.warn(
            f"{type(self).__name__} {self.name!r} may differ from the exact "
            f"value by up to {worst:.4g} (worst case), more than its documented "
            f"tolerance {self.tolerance:g}: some of its {self.num_bins} score "
            "bins hold positives and negatives (or several positives) whose "
            "order the bins do not keep, as with few samples or near-equal "
            "scores. On large, smoothly spread data the actual error is "
            "usually far smaller. Pass a larger `num_thresholds` to narrow the "
            "bins; `error_bound()` gives the bound at any time. Warned once "
            "per metric.",
            UserWarning,
            stacklevel=3,
        )

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "task": self.task,
            "num_classes": self.num_classes,
            "average": self.average,
            "num_thresholds": self.num_thresholds,
            "from_logits": self.from_logits,
        }


def _largest(values: Any) -> float:
    """The largest finite entry of `values` (a tensor), or 0."""
    values = np.asarray(keras.ops.convert_to_numpy(values), np.float64)
    finite = values[np.isfinite(values)]
    return float(finite.max()) if finite.size else 0.0


def _ranking_outputs(
    state: dict[str, Any],
    *,
    output: str,
    metric: str,
    task: str,
    average: str | None,
    ties_at_ends: bool,
    dtype: Any,
) -> Any:
    """The result and / or error bound from the state values (pure).

    `output`: `"value"`, `"bound"` (the full bound), or `"checked"`
    (`(value, bound)`, where AUPRC's bound is the cheap one without the
    sort: an upper bound of the full one).
    """
    histogram = state["histogram"]
    negatives, positives = histogram[:, 0, :], histogram[:, 1, :]
    squares = state.get("square_excess")

    def averaged(per_row):
        if task == "binary":
            return per_row(positives[0], negatives[0], _row(squares, 0))
        if average == "micro":
            pooled = None if squares is None else ops.sum(squares, axis=0)
            return per_row(
                ops.sum(positives, axis=0), ops.sum(negatives, axis=0), pooled
            )
        return _average(
            per_row(positives, negatives, squares),
            ops.sum(positives, axis=-1),
            average,
        )

    def score(p, n, q):
        del q
        if metric == "roc":
            return roc_auc_from_histograms(p, n)
        return average_precision_from_histograms(p, n)

    def bound(p, n, q, *, exact=True):
        if metric == "roc":
            return roc_auc_error_bound(p, n, ties_at_ends=ties_at_ends)
        return average_precision_error_bound(
            p, n, q if exact else None, ties_at_ends=ties_at_ends
        )

    def guarded(value):
        value = ops.convert_to_tensor(value)
        nan = ops.full_like(value, float("nan"))
        return ops.cast(ops.where(ops.sum(state["invalid"]) > 0, nan, value), dtype)

    if output == "value":
        return guarded(averaged(score))
    if output == "bound":
        return guarded(averaged(bound))
    cheap = averaged(lambda p, n, q: bound(p, n, q, exact=False))
    return guarded(averaged(score)), guarded(cheap)


@functools.cache
def _compiled_outputs(backend: str, static: tuple, spec: tuple) -> Any:
    """One compiled `_ranking_outputs` per backend and configuration.

    a few dozen ops on the state, which a graph runs far faster than eager dispatch. It
    takes the state values as arguments and holds no metric.
    """
    del backend, spec  # part of the cache key only
    fn = functools.partial(_ranking_outputs, **dict(static))
    return _backend.jit_on_state(fn, xla=False)


def _row(values: Any, index: int) -> Any:
    return None if values is None else values[index]


# Text shared by the AUROC and AUPRC docstrings (`_docs.fill`).
_DOCS = {
    "class_args": """\
Args:
    task: `"auto"` (binary when `y_pred` is 1-D or has a last axis of 1,
        else multiclass), `"binary"`, `"multiclass"` (one-vs-rest: class
        k's score is `y_pred[..., k]`, or its softmax probability when
        `from_logits`) or `"multilabel"` (one sigmoid score per class).
    num_classes: Number of classes; inferred from `y_pred.shape[-1]` when
        None. Given with an explicit multiclass / multilabel task, the
        state is built at construction.
    average: `"macro"`, `"weighted"` (by positive weight per class),
        `"micro"` (all class cells pooled) or None (per-class vector).
        The binary task returns the positive class's scalar.
    num_thresholds: Number of score bins B (None: 16384), laid out over
        the whole float range of logits (module docstring); with
        `B >= 64` the end bins hold exactly the probabilities 0 and 1.
        State is `K * 2 * B` float64 values (256 KiB per class by
        default): lower it for many classes; raise it to tighten
        `error_bound()`, which on large data shrinks as 1 / B.
    from_logits: Whether `y_pred` holds logits (any real scores) rather
        than probabilities in `[0, 1]`.
    name: Name of the metric instance.
    dtype: dtype of the result (float32 by default).

Inputs: `y_true` as for the classification metrics (binary 0/1 labels,
multiclass sparse labels or one-hot rows, multilabel multi-hot; any rank,
every position one sample); `sample_weight` per position.

Bad input: NaN or infinite `y_pred`, probabilities outside `[0, 1]` and
labels that are not whole numbers in range raise a `ValueError` when
called eagerly; while traced (`fit`, `evaluate`, `tf.function`, jit)
they are counted and `result()` is NaN. `task="multiclass"` needs at
least 2 classes (`num_classes=1` is a `ValueError`); the multilabel task
allows one label column.

`error_bound()` returns, from the state alone and averaged as `result()`
is, the largest possible distance of `result()` from the exact metric
of the same scores: 0 means exact. `result()` read eagerly warns once
per metric (`UserWarning`) when the bound exceeds the documented
tolerance; traced reads never compute it.
""",
}


@export
@_docs.fill(**_DOCS)
class AUROC(_BinnedRankingMetric):
    """Area under the ROC curve, streamed over score bins.

    Formula, per class from weighted positive / negative score histograms
    (see `keras_components.metrics._ranking`):

    ```
    AUROC = sum_b pos_b * (neg_below_b + neg_b / 2) / (P * N)
    ```

    the exact trapezoid (Mann-Whitney with ties as 1/2) over the bin
    thresholds. Agrees with `sklearn.metrics.roc_auc_score` (`multi_class=
    "ovr"` for multiclass) on the same scores within `error_bound()` =
    `sum_b pos_b neg_b / (2 P N)`: exactly when no bin holds both a positive
    and a negative, and within the documented 1e-4 whenever the bound is.
    At the default bins that holds on large sets of saturated sigmoid
    scores (where Keras's `AUC(num_thresholds=200)` is off by ~3e-4) and of
    logits anywhere in float32's range (measured errors <= 1e-6). Few
    samples with near-equal scores (closer than a bin, ~1e-3 in logit) can
    miss by more, up to the bound: `result()` read eagerly then warns once.

    Undefined values: a class seen with only positives or only negatives
    has AUROC NaN (scikit-learn 1.9 also returns NaN, with a warning), so
    `average="macro"` is NaN too; `average="weighted"` gives such a class
    weight 0 when it has no positives, as scikit-learn does. Before any
    update the result is NaN.

    {class_args}

    Returns:
        `result()`: a scalar, or a `(K,)` vector for `average=None`.

    Example:

    >>> import numpy as np
    >>> from keras_components.metrics import AUROC
    >>> metric = AUROC()
    >>> metric.update_state([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    >>> print(np.asarray(metric.result()).round(4))
    0.75

    Reference:
        Hanley and McNeil, 1982, "The meaning and use of the area under a
        receiver operating characteristic (ROC) curve", Radiology 143(1).
    """

    default_name = "auroc"
    tolerance = 1e-4
    metric_kind = "roc"
    _keeps_wins = True
    # The kernel reads the state to count the pairs each batch adds and
    # returns the new state (`rank_update`), which XLA updates in place: one
    # compiled call in every mode (`_backend.state_replacer`), in place of
    # the contract's additive increments.
    reads = ("histogram", "blocks", "wins", "invalid")
    additive = RANK_ADDITIVE

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        """Adds one batch into the state (`rank_update`, compiled).

        Eagerly, invalid input raises a `ValueError` and leaves the state as
        it was; traced, it is counted and `result()` is NaN.
        """
        y_true, y_pred, sample_weight = self.batch_inputs(y_true, y_pred, sample_weight)
        update = _compiled_rank_update(
            keras.backend.backend(), tuple(sorted(self.update_options().items()))
        )
        report = update(self.state_variables, y_true, y_pred, sample_weight)
        self.raise_if_invalid(report["invalid"], y_true, y_pred, sample_weight)

    @staticmethod
    def merge(state: dict[str, Any], other: dict[str, Any]) -> dict[str, Any]:
        """Merges two states exactly.

        States add, and `wins` also gains the pairs across the two states
        (`cross_wins`), which neither state's count holds.
        """
        total = {name: state[name] + other[name] for name in state}
        total["wins"] = total["wins"] + cross_wins(
            state["histogram"], other["histogram"]
        )
        return total

    def curve(self, *, drop_intermediate: bool = True):
        """The ROC curve read from the state (eager only; NumPy).

        Equals `sklearn.metrics.roc_curve` (same orientation: `fpr`, `tpr`
        increasing, `thresholds` decreasing from `+inf`) run on every score
        replaced by its bin's threshold, the probability `sigmoid` of the
        bin's lower logit edge (`keras_components.metrics._curves`). The
        bottom bin (logits down to -inf) has threshold 0.0 and the top one
        (up to +inf) 1.0; only bins holding weight give points. Its
        trapezoid area (`sklearn.metrics.auc(fpr, tpr)`) is `result()`.

        Args:
            drop_intermediate: Drop the points on straight segments, as
                scikit-learn's default (the area is unchanged).

        Returns:
            `RocCurve(fpr, tpr, thresholds)` for the binary task; for the
            multiclass (one-vs-rest) and multilabel tasks a list with one
            per class. A class without negatives (positives) has NaN false
            (true) positive rates and warns, as scikit-learn.

        Raises:
            RuntimeError: Called while traced (`tf.function`, jit).
            ValueError: No data yet, or the state counted invalid inputs.

        Example:

        >>> import numpy as np
        >>> from keras_components.metrics import AUROC
        >>> metric = AUROC()
        >>> metric.update_state([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
        >>> fpr, tpr, thresholds = metric.curve()
        >>> print(fpr, tpr)
        [0.  0.  0.5 0.5 1. ] [0.  0.5 0.5 1.  1. ]
        """
        from keras_components.metrics import _curves

        return _curves.metric_curves(
            self,
            "roc",
            drop_intermediate=check_bool("drop_intermediate", drop_intermediate),
        )


@export
@_docs.fill(**_DOCS)
class AUPRC(_BinnedRankingMetric):
    """Average precision (area under the precision-recall curve, step-wise).

    Formula, per class from weighted positive / negative score histograms
    (see `keras_components.metrics._ranking`), with `TP_b`, `FP_b` the weight
    at or above bin b and P the total positive weight:

    ```
    AP = sum_b (pos_b / P) * TP_b / (TP_b + FP_b)
    ```

    scikit-learn's `average_precision_score` (`sum_k (R_k - R_{k+1}) P_k`),
    not the interpolated area Keras's `AUC(curve="PR")` computes. Agrees
    with scikit-learn on the same scores within `error_bound()`
    (`average_precision_error_bound`): exactly when no bin holds a positive
    together with a negative or another positive, and within the documented
    1e-3 whenever the bound is. At the default bins that holds on large sets
    of saturated sigmoid scores (Keras's `AUC(curve="PR",
    num_thresholds=200)` is off by ~3e-3 there) and of logits anywhere in
    float32's range. Few samples with near-equal scores can miss by more,
    up to the bound: `result()` read eagerly then warns once.

    Undefined values: a class with no positives has AP 0 (scikit-learn
    1.9's value, with a warning); with no data at all, NaN.

    {class_args}

    Returns:
        `result()`: a scalar, or a `(K,)` vector for `average=None`.

    Example:

    >>> import numpy as np
    >>> from keras_components.metrics import AUPRC
    >>> metric = AUPRC()
    >>> metric.update_state([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    >>> print(np.asarray(metric.result()).round(4))
    0.8333

    Reference:
        Manning, Raghavan and Schuetze, 2008, "Introduction to Information
        Retrieval", section 8.4; scikit-learn `average_precision_score`.
    """

    default_name = "auprc"
    tolerance = 1e-3
    metric_kind = "ap"
    _keeps_squares = True

    def curve(self, *, drop_intermediate: bool = False):
        """The precision-recall curve read from the state (eager only; NumPy).

        Equals `sklearn.metrics.precision_recall_curve` (same orientation:
        `recall` decreasing to a final 0 with `precision` 1 there,
        `thresholds` increasing and one shorter) run on every score
        replaced by its bin's threshold, the probability `sigmoid` of the
        bin's lower logit edge (`keras_components.metrics._curves`). The
        bottom bin (logits down to -inf) has threshold 0.0 and the top one
        (up to +inf) 1.0; only bins holding weight give points.
        `-sum(diff(recall) * precision[:-1])` is `result()`.

        Args:
            drop_intermediate: Drop the points where recall does not change,
                as scikit-learn's option (default False, as scikit-learn).

        Returns:
            `PrecisionRecallCurve(precision, recall, thresholds)` for the
            binary task; for the multiclass (one-vs-rest) and multilabel
            tasks a list with one per class. A class without positives has
            recall 1 throughout and warns, as scikit-learn.

        Raises:
            RuntimeError: Called while traced (`tf.function`, jit).
            ValueError: No data yet, or the state counted invalid inputs.

        Example:

        >>> import numpy as np
        >>> from keras_components.metrics import AUPRC
        >>> metric = AUPRC()
        >>> metric.update_state([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
        >>> precision, recall, thresholds = metric.curve()
        >>> print(precision.round(4), recall)
        [0.5    0.6667 0.5    1.     1.    ] [1.  1.  0.5 0.5 0. ]
        """
        from keras_components.metrics import _curves

        return _curves.metric_curves(
            self,
            "pr",
            drop_intermediate=check_bool("drop_intermediate", drop_intermediate),
        )
