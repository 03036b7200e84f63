"""TensorFlow Addons (tfa 0.23) compatibility: load old models, port old scripts.

Importing this module registers TensorFlow Addons' saved names, so a model
trained and saved with tensorflow-addons loads in Keras 3, compiled::

    import keras
    import keras_components.compat.tfa  # noqa: F401  (registers Addons>...)

    model = keras.models.load_model("old_tfa_model.h5")  # compile=True

Every class keeps tfa's constructor arguments, defaults and numerics (tested
against values written by the real tensorflow-addons 0.23), including where
they differ from keras-components' own components: `F1Score` / `FBetaScore`
threshold with `>` and `threshold=None` as "the row maximum (ties included)
is 1", any finite score allowed, so logits with a threshold are compared
raw; `SigmoidFocalCrossEntropy` *sums* over the last axis (ours averages),
defaults `alpha=0.25, gamma=2, reduction="none"` and treats `alpha=0` as "no
alpha weighting", as tfa did; `gelu` defaults to `approximate=True`.

Inputs tfa accepted silently and turned into a finite wrong number are
checked by the package's shared input checks (`keras_components._inputs`,
the ones its own metrics and losses use), with the package's contract:
eagerly a `ValueError` naming the values and the fix; traced (`tf.function`,
`fit` / `evaluate`, `jit_compile=True`) a NaN result, never a finite number,
and for the metrics a count of the invalid entries by reason, which an
eager `result()` reports in one `UserWarning` per reason. Checked: NaN or
infinite scores (`y_pred`) and `sample_weight` everywhere; targets other
than 0 and 1 (soft targets from label smoothing included) in the counting
metrics (`F1Score`, `FBetaScore`, `CohenKappa`,
`MatthewsCorrelationCoefficient`, `HammingLoss`,
`MultiLabelConfusionMatrix`); class labels and predicted classes outside
`[0, num_classes)` or fractional in `CohenKappa` (and a 1-D `y_true` with
`sparse_labels=False` is a shape error suggesting `sparse_labels=True`);
targets outside `[0, 1]` (soft ones are valid) and, without `from_logits`,
probabilities outside `[0, 1]` in `SigmoidFocalCrossEntropy`. Valid data
gives tfa's numbers exactly; each class's docstring says what it checks.

Names registered, and what a loaded model holds (so what a re-save as
`.keras` stores):

- `Addons>GELU` loads as `keras_components.layers.GELU` (same
  `approximate`): re-saved as `keras_components>GELU`.
- `Addons>mish` loads as `keras_components.activations.mish`: re-saved as
  `keras_components>mish`.
- `Addons>WeightedKappaLoss` loads as
  `keras_components.losses.WeightedKappaLoss`: re-saved as
  `keras_components>WeightedKappaLoss`.
- Keras 2's `MeanMetricWrapper` with a string `fn` (`"binary_accuracy"`)
  loads as Keras's own `MeanMetricWrapper`: re-saved as Keras's.
- `Addons>gelu`, `Addons>SigmoidFocalCrossEntropy`,
  `Addons>sigmoid_focal_crossentropy`, `Addons>F1Score`,
  `Addons>FBetaScore`, `Addons>CohenKappa`,
  `Addons>MatthewsCorrelationCoefficient`, `Addons>RSquare`,
  `Addons>HammingLoss` (also bare `HammingLoss`) and
  `Addons>MultiLabelConfusionMatrix` (also bare `MultiLabelConfusionMatrix`)
  load as the classes of this module and are re-saved under their
  `Addons>` names.

tfa never registered `HammingLoss` and `MultiLabelConfusionMatrix`, so real
files name them bare; both spellings load. Activation *functions* were saved
by TF 2.15 under Keras's own names (`"gelu"`, `"mish"`), which Keras 3
resolves itself (`"gelu"` is Keras's exact-erf gelu, as it was when such a
file was reloaded with tfa installed). Only the mapped rows are stored as our
native classes: the other tfa objects compute something ours do not (sums,
tfa's input conventions, tie handling), so a re-saved model keeps their
`Addons>` names and needs this module to load again.

Keras 2 files may name their loss or metrics by Keras's short aliases
(`"mse"`, `"mae"`, `"mape"`, `"msle"`, `"kld"`, `"bce"`): Keras 3.15 cannot
deserialize those (`Could not deserialize 'keras.metrics.mse' because it is
not a KerasSaveable subclass`). For each alias that Keras's own
`keras.losses.deserialize` refuses, the training config of a legacy `.h5`
file is read with the alias replaced by the name of the function
`keras.losses.get(alias)` returns (the object Keras itself means); nothing
else is touched (no global registration of the aliases).

Any other tfa name (`Addons>LAMB`, `Addons>GroupNormalization`, ...) raises a
`ValueError` naming it and pointing to docs/migration.md; a saved config
argument these classes cannot honour raises a `ValueError` naming it (never
silently ignored).
"""

from __future__ import annotations

import warnings
from typing import Any

import keras
from keras import ops
from typing_extensions import override

from keras_components import _inputs
from keras_components import activations as _activations
from keras_components import layers as _layers
from keras_components import losses as _losses
from keras_components._keras_compat import wrap_legacy_training_config
from keras_components._validation import (
    check_bool,
    check_choice,
    check_float,
    check_int,
    invalid_value,
)
from keras_components.losses._base import nan_where
from keras_components.metrics._base import INVALID_TEXT, guarded, warn_invalid

__all__ = [
    "GELU",
    "CohenKappa",
    "F1Score",
    "FBetaScore",
    "HammingLoss",
    "MatthewsCorrelationCoefficient",
    "MultiLabelConfusionMatrix",
    "RSquare",
    "SigmoidFocalCrossEntropy",
    "WeightedKappaLoss",
    "gelu",
    "mish",
    "sigmoid_focal_crossentropy",
]

PACKAGE = "Addons"
MIGRATION = "docs/migration.md"
STATE_DTYPE = "float32"  # tfa kept every state in float32

# tfa 0.23's other registered names (read from its source): loading one is an
# error that says so, instead of Keras's "could not locate class".
UNSUPPORTED = [
    "AdaBelief",
    "AdamW",
    "AdaptiveAveragePooling1D",
    "AdaptiveAveragePooling2D",
    "AdaptiveAveragePooling3D",
    "AdaptiveMaxPooling1D",
    "AdaptiveMaxPooling2D",
    "AdaptiveMaxPooling3D",
    "COCOB",
    "CRF",
    "CRFModelWrapper",
    "ConditionalGradient",
    "ContrastiveLoss",
    "CorrelationCost",
    "CyclicalLearningRate",
    "ESN",
    "ESNCell",
    "EmbeddingBag",
    "ExponentialCyclicalLearningRate",
    "FilterResponseNormalization",
    "GIoULoss",
    "GeometricMean",
    "GroupNormalization",
    "HarmonicMean",
    "InstanceNormalization",
    "KendallsTauB",
    "KendallsTauC",
    "LAMB",
    "LayerNormLSTMCell",
    "LayerNormSimpleRNNCell",
    "LazyAdam",
    "LiftedStructLoss",
    "Lookahead",
    "MaxUnpooling2D",
    "MaxUnpooling2DV2",
    "Maxout",
    "MovingAverage",
    "MultiHeadAttention",
    "MultiOptimizer",
    "NASCell",
    "NetVLAD",
    "NoisyDense",
    "NovoGrad",
    "NpairsLoss",
    "NpairsMultilabelLoss",
    "PearsonsCorrelation",
    "PeepholeLSTMCell",
    "PinballLoss",
    "PoincareNormalize",
    "PolynomialCrossing",
    "ProximalAdagrad",
    "RectifiedAdam",
    "SGDW",
    "SWA",
    "Snake",
    "Sparsemax",
    "SparsemaxLoss",
    "SpatialPyramidPooling2D",
    "SpearmansRank",
    "SpectralNormalization",
    "StochasticDepth",
    "TLU",
    "TQDMProgressBar",
    "TimeStopping",
    "Triangular2CyclicalLearningRate",
    "TriangularCyclicalLearningRate",
    "TripletHardLoss",
    "TripletSemiHardLoss",
    "WeightNormalization",
    "Yogi",
]
UNSUPPORTED_FUNCTIONS = [
    "contrastive_loss",
    "giou_loss",
    "hardshrink",
    "lifted_struct_loss",
    "lisht",
    "npairs_loss",
    "npairs_multilabel_loss",
    "pinball_loss",
    "rrelu",
    "snake",
    "softshrink",
    "sparsemax",
    "sparsemax_loss",
    "sparsemax_loss_from_logits",
    "tanhshrink",
    "triplet_hard_loss",
    "triplet_semihard_loss",
]


def unsupported_error(name: str) -> ValueError:
    return ValueError(
        f"TensorFlow Addons' `{PACKAGE}>{name}` is not supported by "
        "keras_components.compat.tfa. See "
        f"{MIGRATION} for its replacement, or rebuild that part of the model "
        "with Keras core or keras_components components."
    )


def _check_config(cls_name: str, config: dict[str, Any], allowed: set[str]) -> None:
    """Refuses saved config keys this class cannot honour (naming them)."""
    unknown = sorted(set(config) - allowed)
    if unknown:
        raise ValueError(
            f"Cannot honour the saved `{PACKAGE}>{cls_name}` config argument(s) "
            f"{', '.join(repr(k) for k in unknown)} "
            f"(values: {', '.join(repr(config[k]) for k in unknown)}): "
            "keras_components.compat.tfa supports "
            f"{', '.join(sorted(allowed))}. See {MIGRATION}."
        )


def _tfa_reduction(reduction: Any) -> Any:
    # tf.keras's "auto" is "sum_over_batch_size" outside a distribution scope
    # (Keras 3 has no "auto").
    return "sum_over_batch_size" if reduction == "auto" else reduction


def _register(name: str):
    return keras.saving.register_keras_serializable(package=PACKAGE, name=name)


# --------------------------------------------------------------------------
# Activations and layers
# --------------------------------------------------------------------------
@_register("gelu")
def gelu(x: Any, approximate: bool = True):
    """Tfa's `gelu`: the tanh approximation by default (Keras's is exact).

    `0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x**3)))`, or
    `x Phi(x)` with `approximate=False`.

    Example:

    >>> import numpy as np
    >>> from keras_components.compat import tfa
    >>> print(np.asarray(tfa.gelu(np.array([-1.0, 1.0]))).round(4))
    [-0.1588  0.8412]
    """
    return _activations.gelu(x, approximate=approximate)


mish = _activations.mish  # the same function: `Addons>mish` loads as ours
"""tfa's `mish`: `keras_components.activations.mish` itself."""


class GELU(_layers.GELU):
    """tfa's `GELU` layer: `approximate=True` by default.

    A saved `Addons>GELU` loads as `keras_components.layers.GELU` with the
    saved `approximate` (the same computation), so a re-save stores ours.
    """

    def __init__(self, approximate: bool = True, **kwargs: Any) -> None:
        super().__init__(approximate=approximate, **kwargs)

    @classmethod
    @override
    def from_config(cls, config: dict[str, Any]) -> _layers.GELU:
        config = dict(config)
        config.setdefault("approximate", True)  # tfa's default
        return _layers.GELU.from_config(config)


# --------------------------------------------------------------------------
# Losses
# --------------------------------------------------------------------------
@_register("sigmoid_focal_crossentropy")
def sigmoid_focal_crossentropy(
    y_true: Any,
    y_pred: Any,
    alpha: float = 0.25,
    gamma: float = 2.0,
    from_logits: bool = False,
):
    """Tfa's sigmoid focal cross-entropy, *summed* over the last axis.

    `sum_c a_c (1 - p_t)**gamma * bce(y_c, p_c)` with
    `a_c = alpha y + (1 - alpha)(1 - y)`; as in tfa, `alpha=0` (or None) means
    no alpha factor and `gamma=0` no modulating factor. Probabilities are
    clipped to `[eps, 1 - eps]` inside the log (Keras 2's
    `binary_crossentropy`); `p_t` uses the unclipped values.

    Inputs are checked by the package's shared input checks, as for
    `keras_components.losses.FocalLoss` in binary mode: `y_true` must lie in
    `[0, 1]` (soft targets, e.g. from label smoothing, are valid) and have
    `y_pred`'s shape; `y_pred` must be finite, and without `from_logits`
    probabilities in `[0, 1]` (tfa computed a finite, meaningless value
    there, e.g. a negative loss for a target of -1). Eagerly an invalid
    input is a `ValueError` naming the values and the fix; traced (in
    `tf.function`, `fit`) the affected samples are NaN.

    Returns:
        Per-sample values, shape `y_pred.shape[:-1]`.
    """
    if gamma is not None and gamma < 0:
        raise invalid_value("gamma", "a float >= 0", gamma)
    y_pred = _inputs.real_tensor(y_pred, name="y_pred")
    if not keras.backend.is_float_dtype(y_pred.dtype):
        y_pred = ops.cast(y_pred, "float32")
    targets = _inputs.binary_targets(y_true, y_pred, dtype=y_pred.dtype)
    _inputs.check_loss_predictions(y_pred, from_logits=from_logits)
    if from_logits:
        bad_pred = ops.logical_not(ops.isfinite(y_pred))
    else:
        bad_pred = _inputs.invalid_probabilities(y_pred)
    invalid = ops.any(ops.logical_or(targets.invalid, bad_pred), axis=-1)
    y_true = targets.values
    if from_logits:
        ce = (
            ops.maximum(y_pred, 0.0)
            - y_pred * y_true
            + ops.log1p(ops.exp(-ops.abs(y_pred)))
        )
        prob = ops.sigmoid(y_pred)
    else:
        eps = keras.config.epsilon()
        clipped = ops.clip(y_pred, eps, 1.0 - eps)
        ce = -(
            y_true * ops.log(clipped + eps)
            + (1.0 - y_true) * ops.log(1.0 - clipped + eps)
        )
        prob = y_pred
    factor = ops.ones_like(ce)
    if alpha:
        factor = factor * (y_true * alpha + (1.0 - y_true) * (1.0 - alpha))
    if gamma:
        p_t = y_true * prob + (1.0 - y_true) * (1.0 - prob)
        factor = factor * ops.power(1.0 - p_t, gamma)
    return nan_where(invalid, ops.sum(factor * ce, axis=-1))


@_register("SigmoidFocalCrossEntropy")
class SigmoidFocalCrossEntropy(keras.losses.Loss):
    """tfa's `SigmoidFocalCrossEntropy`: see `sigmoid_focal_crossentropy`.

    Defaults as tfa: `alpha=0.25, gamma=2.0, reduction="none"` (per-sample
    values). tf.keras's `reduction="auto"` is `"sum_over_batch_size"`.
    Invalid inputs (targets outside `[0, 1]`, non-finite scores,
    probabilities outside `[0, 1]` without `from_logits`, see
    `sigmoid_focal_crossentropy`; and non-finite `sample_weight`) raise a
    `ValueError` eagerly and give NaN when traced, where tfa returned a
    finite number.

    Example:

    >>> import numpy as np
    >>> from keras_components.compat import tfa
    >>> loss = tfa.SigmoidFocalCrossEntropy()
    >>> y_true = np.array([[1.0], [0.0]])
    >>> y_pred = np.array([[0.97], [0.91]])
    >>> print(np.asarray(loss(y_true, y_pred)).round(6))
    [7.000000e-06 1.495514e+00]
    """

    def __init__(
        self,
        from_logits: bool = False,
        alpha: float = 0.25,
        gamma: float = 2.0,
        reduction: str | None = "none",
        name: str = "sigmoid_focal_crossentropy",
        dtype: Any = None,
    ) -> None:
        super().__init__(name=name, reduction=_tfa_reduction(reduction), dtype=dtype)
        self.from_logits = check_bool("from_logits", from_logits)
        self.alpha = check_float("alpha", alpha)
        self.gamma = check_float("gamma", gamma, low=0.0)

    @override
    def __call__(self, y_true, y_pred, sample_weight=None):
        if sample_weight is not None:
            # Traced, a NaN weight makes the (reduced) loss NaN by itself.
            _inputs.check_finite(sample_weight, name="sample_weight")
        return super().__call__(y_true, y_pred, sample_weight=sample_weight)

    @override
    def call(self, y_true, y_pred):
        return sigmoid_focal_crossentropy(
            y_true,
            y_pred,
            alpha=self.alpha,
            gamma=self.gamma,
            from_logits=self.from_logits,
        )

    @override
    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {"from_logits": self.from_logits, "alpha": self.alpha, "gamma": self.gamma}
        )
        return config

    @classmethod
    @override
    def from_config(cls, config: dict[str, Any]):
        _check_config(
            "SigmoidFocalCrossEntropy",
            config,
            {"from_logits", "alpha", "gamma", "reduction", "name", "dtype"},
        )
        return cls(**config)


class WeightedKappaLoss(_losses.WeightedKappaLoss):
    """tfa's `WeightedKappaLoss` signature over ours (the same computation).

    `WeightedKappaLoss(num_classes, weightage="quadratic",
    name="cohen_kappa_loss", epsilon=1e-6, reduction="none")`;
    `epsilon=None` is Keras's epsilon, as in tfa. A saved
    `Addons>WeightedKappaLoss` loads as
    `keras_components.losses.WeightedKappaLoss`.
    """

    def __init__(
        self,
        num_classes: int,
        weightage: str = "quadratic",
        name: str = "cohen_kappa_loss",
        epsilon: float | None = 1e-6,
        reduction: str | None = "none",
        dtype: Any = None,
    ) -> None:
        super().__init__(
            num_classes,
            weightage=weightage,
            epsilon=epsilon or keras.config.epsilon(),
            reduction=_tfa_reduction(reduction),
            name=name,
            dtype=dtype,
        )

    @classmethod
    @override
    def from_config(cls, config: dict[str, Any]) -> _losses.WeightedKappaLoss:
        _check_config(
            "WeightedKappaLoss",
            config,
            {"num_classes", "weightage", "epsilon", "reduction", "name", "dtype"},
        )
        config = dict(config)
        return _losses.WeightedKappaLoss(
            config.pop("num_classes"),
            weightage=config.get("weightage", "quadratic"),
            epsilon=config.get("epsilon") or keras.config.epsilon(),
            reduction=_tfa_reduction(config.get("reduction", "none")),
            name=config.get("name", "cohen_kappa_loss"),
            dtype=config.get("dtype"),
        )


# --------------------------------------------------------------------------
# Metrics
# --------------------------------------------------------------------------
# What each reason of the `invalid` state means for these metrics, and its
# fix (the warning an eager `result()` gives after invalid input was counted
# while traced): the package's texts, refined where tfa's inputs differ.
_INVALID_TEXT = {
    **INVALID_TEXT,
    "targets": (
        "invalid targets (values other than 0 and 1; CohenKappa labels outside "
        "[0, num_classes) or fractional; NaN or infinite RSquare targets)",
        "pass 0/1 (one-hot or multi-hot) targets, or whole-number labels in "
        "range with CohenKappa(sparse_labels=True)",
    ),
    "predictions": (
        "invalid predictions (NaN or infinite scores; predicted classes outside "
        "[0, num_classes) or fractional for CohenKappa; MultiLabelConfusionMatrix "
        "predictions whose integer part is not 0 or 1)",
        "check the model's outputs for NaN, and `num_classes`",
    ),
}


def _invalid_counts(
    cells: Any,
    *,
    targets: Any = None,
    soft: Any = None,
    predictions: Any = None,
    weights: Any = None,
) -> Any:
    """`(NUM_REASONS,)` counts of one batch's invalid entries, by reason.

    Each mask (None: impossible) broadcasts to `cells`' shape; an entry with
    several faults counts once, under the first (`_inputs.reason_codes`).
    """
    shape = ops.shape(cells)

    def full(mask: Any) -> Any:
        return None if mask is None else ops.broadcast_to(mask, shape)

    base = full(targets)
    if base is None:
        base = ops.zeros(shape, dtype="bool")
    bad, code = _inputs.reason_codes(
        targets=base,
        soft=full(soft),
        predictions=full(predictions),
        weights=full(weights),
    )
    hot = ops.one_hot(ops.reshape(code, (-1,)), _inputs.NUM_REASONS, dtype=STATE_DTYPE)
    return ops.sum(hot * ops.reshape(ops.cast(bad, STATE_DTYPE), (-1, 1)), axis=0)


def _not_finite(x: Any) -> Any:
    return ops.logical_not(ops.isfinite(ops.convert_to_tensor(x)))


_HARD_HINT = (
    "Pass 0/1 targets (one-hot or multi-hot rows, as TensorFlow Addons expected)."
)


def _hard_targets(y_true: Any, *, name: str = "y_true") -> _inputs.ClassTargets:
    """0/1 targets of the counting metrics, checked per cell.

    Eagerly a value other than 0 and 1 (a soft target from label smoothing
    included) is a `ValueError`; the masks mark them for traced callers.
    """
    _inputs.check_labels(
        y_true, 2, None, name=name, binary_values=True, hint=_HARD_HINT
    )
    return _inputs.hard_binary_labels(y_true)


def _check_scores_and_weights(y_pred: Any, sample_weight: Any) -> None:
    """Eager checks (no-ops while traced): finite `y_pred` and `sample_weight`."""
    _inputs.check_finite(y_pred, name="y_pred")
    if sample_weight is not None:
        _inputs.check_finite(sample_weight, name="sample_weight")


class _Metric(keras.metrics.Metric):
    """Shared by the tfa metrics: config checking, float32 zero states, checks.

    Besides tfa's own states, every metric has an `invalid` state: the
    counts, by reason (`_inputs.INVALID_REASONS`), of entries seen while
    traced that could not be counted (eager updates raise instead, leaving
    the state as it was). The result is NaN when any is non-zero, and an
    eager `result()` then warns once per reason, as the package's own
    metrics do.
    """

    _tfa_name = ""
    _config_keys: frozenset[str] = frozenset()

    def __init__(self, name: str, dtype: Any = None) -> None:
        super().__init__(name=name, dtype=dtype)
        self.invalid = self._state("invalid", (_inputs.NUM_REASONS,))

    def _count_invalid(self, cells: Any, **masks: Any) -> None:
        self.invalid.assign_add(_invalid_counts(cells, **masks))

    def _score(self) -> Any:
        """The value TensorFlow Addons computed from the state."""
        raise NotImplementedError

    @override
    def result(self):
        value = guarded(self._score(), self.invalid, STATE_DTYPE)
        counts = _inputs.concrete_value(ops.convert_to_tensor(self.invalid.value))
        if counts is not None:
            warn_invalid(self, counts, _INVALID_TEXT, stacklevel=3)
        return value

    def _state(self, name: str, shape: tuple[int, ...] = ()) -> keras.Variable:
        return self.add_variable(
            shape=shape,
            initializer="zeros",
            dtype=STATE_DTYPE,
            aggregation="sum",
            name=name,
        )

    @classmethod
    @override
    def from_config(cls, config: dict[str, Any]):
        _check_config(cls._tfa_name, config, set(cls._config_keys) | {"name", "dtype"})
        return cls(**config)

    def _merge_key(self) -> dict[str, Any]:
        return {k: v for k, v in self.get_config().items() if k != "name"}

    def _prepare_merge(self, other: _Metric) -> bool:
        """Makes this state match `other`'s; False when `other` has none."""
        return True

    def merge_state(self, metrics) -> None:
        """Merges the state of `metrics` (same class and configuration) into this one.

        Every state of these metrics is a sum over the rows seen, so a metric
        merged from metrics updated on disjoint shards equals one metric
        updated on all the data (as for the native metrics).
        """
        for other in metrics:
            if type(other) is not type(self) or (
                other._merge_key() != self._merge_key()
            ):
                raise ValueError(
                    "Invalid value for argument `metrics`. Expected metrics of "
                    f"class {type(self).__name__} with configuration "
                    f"{self._merge_key()}. Received: {other!r} with configuration "
                    f"{other._merge_key() if isinstance(other, _Metric) else None}"
                )
            if not self._prepare_merge(other):
                continue
            theirs = {v.path.split("/")[-1]: v for v in other.variables}
            for mine in self.variables:
                other_value = theirs[mine.path.split("/")[-1]].value
                mine.assign_add(ops.cast(other_value, mine.dtype))


def _row_weights(sample_weight: Any, dtype: str = STATE_DTYPE) -> Any:
    """`sample_weight` as a column `(N, 1)` (tfa's `expand_dims(w, 1)`)."""
    w = ops.cast(ops.convert_to_tensor(sample_weight), dtype)
    if len(w.shape) == 1:
        w = ops.expand_dims(w, 1)
    return w


class FBetaScore(_Metric):
    """tfa's `FBetaScore`: per-class counts of thresholded predictions.

    Predictions are `y_pred > threshold`, or with `threshold=None` the row
    maximum (every tied maximum, and never a zero) is 1. Per class,
    `F = (1 + b**2) P R / (b**2 P + R)` with 0 for 0/0; `average`: None (per
    class), `"micro"` (global counts), `"macro"` (mean), `"weighted"` (by
    the number of true instances).

    Inputs are checked (tfa checked none): `y_true` must be 0/1 per cell
    (a soft target such as 0.7 from label smoothing is refused: tfa counted
    it as a fraction of a true positive), `y_pred` and `sample_weight`
    finite. Any finite score is allowed, as in tfa: logits compared raw
    against `threshold` stay valid. Eagerly an invalid input is a
    `ValueError` naming the values and the fix; traced (`fit`, `evaluate`,
    `tf.function`) it is counted and the result is NaN, with a warning when
    read eagerly.

    Example:

    >>> import numpy as np
    >>> from keras_components.compat import tfa
    >>> metric = tfa.FBetaScore(num_classes=3, beta=2.0, threshold=0.5)
    >>> metric.update_state(np.array([[1, 1, 0], [0, 0, 1]]),
    ...                     np.array([[0.9, 0.4, 0.2], [0.1, 0.2, 0.8]]))
    >>> print(np.asarray(metric.result()).round(4))
    [1. 0. 1.]
    """

    _tfa_name = "FBetaScore"
    _config_keys = frozenset({"num_classes", "average", "beta", "threshold"})

    def __init__(
        self,
        num_classes: int,
        average: str | None = None,
        beta: float = 1.0,
        threshold: float | None = None,
        name: str = "fbeta_score",
        dtype: Any = None,
    ) -> None:
        super().__init__(name=name, dtype=dtype)
        self.num_classes = check_int("num_classes", num_classes, low=1)
        self.average = check_choice(
            "average", average, (None, "micro", "macro", "weighted")
        )
        self.beta = check_float("beta", beta, low=0.0, low_inclusive=False)
        self.threshold = (
            None
            if threshold is None
            else check_float(
                "threshold", threshold, low=0.0, high=1.0, low_inclusive=False
            )
        )
        shape = () if self.average == "micro" else (self.num_classes,)
        self.true_positives = self._state("true_positives", shape)
        self.false_positives = self._state("false_positives", shape)
        self.false_negatives = self._state("false_negatives", shape)
        self.weights_intermediate = self._state("weights_intermediate", shape)

    @override
    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = ops.convert_to_tensor(y_pred)
        _check_scores_and_weights(y_pred, sample_weight)
        targets = _hard_targets(ops.convert_to_tensor(y_true))
        w = None if sample_weight is None else _row_weights(sample_weight)
        self._count_invalid(
            y_pred,
            targets=targets.invalid,
            soft=targets.soft,
            predictions=_not_finite(y_pred),
            weights=None if w is None else _not_finite(w),
        )
        y_pred = ops.cast(y_pred, STATE_DTYPE)
        if self.threshold is None:
            top = ops.max(y_pred, axis=-1, keepdims=True)
            pred = ops.logical_and(y_pred >= top, ops.abs(y_pred) > 1e-12)
        else:
            pred = y_pred > self.threshold
        pred = ops.cast(pred, STATE_DTYPE)
        y_true = ops.cast(y_true, STATE_DTYPE)
        axis = None if self.average == "micro" else 0

        def total(values):
            if w is not None:
                values = values * w
            return ops.sum(values, axis=axis)

        self.true_positives.assign_add(total(pred * y_true))
        self.false_positives.assign_add(total(pred * (1.0 - y_true)))
        self.false_negatives.assign_add(total((1.0 - pred) * y_true))
        self.weights_intermediate.assign_add(total(y_true))

    @override
    def _score(self):
        tp = self.true_positives
        precision = _divide_no_nan(tp, tp + self.false_positives)
        recall = _divide_no_nan(tp, tp + self.false_negatives)
        b2 = self.beta**2
        score = _divide_no_nan(precision * recall, b2 * precision + recall) * (1.0 + b2)
        if self.average == "weighted":
            support = self.weights_intermediate
            return ops.sum(score * _divide_no_nan(support, ops.sum(support)))
        if self.average is not None:
            return ops.mean(score)
        return score

    @override
    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "num_classes": self.num_classes,
                "average": self.average,
                "beta": self.beta,
                "threshold": self.threshold,
            }
        )
        return config


class F1Score(FBetaScore):
    """tfa's `F1Score`: `FBetaScore` with `beta=1` (see there).

    Example:

    >>> import numpy as np
    >>> from keras_components.compat import tfa
    >>> metric = tfa.F1Score(num_classes=3, threshold=0.5)
    >>> metric.update_state(np.array([[1, 1, 0], [0, 0, 1]]),
    ...                     np.array([[0.9, 0.4, 0.2], [0.1, 0.2, 0.8]]))
    >>> print(np.asarray(metric.result()).round(4))
    [1. 0. 1.]
    """

    _tfa_name = "F1Score"
    _config_keys = frozenset({"num_classes", "average", "threshold"})

    def __init__(
        self,
        num_classes: int,
        average: str | None = None,
        threshold: float | None = None,
        name: str = "f1_score",
        dtype: Any = None,
    ) -> None:
        super().__init__(
            num_classes,
            average=average,
            beta=1.0,
            threshold=threshold,
            name=name,
            dtype=dtype,
        )

    @override
    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        del config["beta"]
        return config


def _divide_no_nan(a, b):
    # Tensors, not variables: JAX's `ones_like` cannot take a Keras variable.
    a, b = ops.convert_to_tensor(a), ops.convert_to_tensor(b)
    safe = ops.where(b == 0, ops.ones_like(b), b)
    return ops.where(b == 0, ops.zeros_like(a * b), a / safe)


def _confusion(labels, predictions, num_classes, weights):
    """Weighted confusion matrix `(C, C)` (rows true) of in-range class indices."""
    labels = ops.reshape(labels, (-1,))
    predictions = ops.reshape(predictions, (-1,))
    t = ops.one_hot(labels, num_classes, dtype=STATE_DTYPE)
    p = ops.one_hot(predictions, num_classes, dtype=STATE_DTYPE)
    if weights is not None:
        p = p * ops.reshape(ops.cast(weights, STATE_DTYPE), (-1, 1))
    return ops.matmul(ops.transpose(t), p)


def _class_indices(x: Any, num_classes: int, *, name: str, hint: str):
    """`(indices, invalid)`: int32 class indices, 0 where invalid, and the mask.

    Whole numbers in `[0, num_classes)` count; anything else (fractional,
    out of range, NaN) is invalid: eagerly a `ValueError` ending with
    `hint`, traced a mask.
    """
    x = ops.reshape(x, (-1,))
    _inputs.check_labels(x, num_classes, None, name=name, hint=hint)
    keep, invalid = _inputs.label_masks(x, num_classes, None)
    return _inputs.safe_labels(x, keep), invalid


_NUM_CLASSES_HINT = "Check `num_classes` against the class axis of the inputs."
_SPARSE_HINT = (
    "With sparse_labels=True, `y_true` holds whole-number class labels in "
    "[0, num_classes); pass one-hot rows with sparse_labels=False."
)
_REGRESSION_HINT = (
    "CohenKappa(regression=True) rounds |y_pred| to the nearest class, as "
    "TensorFlow Addons did: clip the outputs to [0, num_classes - 1]."
)
_LABELS_HINT = (
    "A rank-1 `y_pred` holds class labels (TensorFlow Addons truncated "
    "fractional values); for real-valued outputs pass shape (N, 1) with "
    "regression=True."
)


class CohenKappa(_Metric):
    """tfa's `CohenKappa(num_classes, weightage, sparse_labels, regression)`.

    Binary (`num_classes == 2`): labels as given, predictions `y_pred > 0.5`.
    Otherwise `y_true` is one-hot (argmax) unless `sparse_labels`; `y_pred`
    of rank > 1 is argmax-ed, or with `regression=True` rounded (half to
    even) from its absolute value; a rank-1 `y_pred` is cast to integers
    (truncated, as tfa). Then `kappa = 1 - sum(W O) / sum(W E)` over the
    normalised confusion matrix `O` and outer product of its marginals `E`,
    `W` 0/1 (`weightage=None`), `|i - j|` or `(i - j)**2`; 0 when empty.

    Checked (eagerly a `ValueError`, traced a NaN result): one-hot `y_true`
    must be 0/1 and of rank 2 (a 1-D `y_true` with `sparse_labels=False` is
    a shape error suggesting `sparse_labels=True`; tfa died in `ArgMax`);
    sparse labels, a rank-1 `y_pred` and the predicted classes must be whole
    numbers in `[0, num_classes)` (tfa truncated 1.5 to 1); scores and
    `sample_weight` must be finite. With `regression=True` any real
    prediction is valid, rounded from its absolute value as tfa did, unless
    it rounds outside `[0, num_classes)`. The binary case thresholds any
    finite score at 0.5, as tfa.

    Example:

    >>> import numpy as np
    >>> from keras_components.compat import tfa
    >>> metric = tfa.CohenKappa(num_classes=5, sparse_labels=True)
    >>> metric.update_state(np.array([4, 4, 3, 4, 2, 4, 1, 1]),
    ...                     np.array([4, 4, 3, 4, 4, 2, 1, 1]))
    >>> print(round(float(metric.result()), 5))
    0.61905
    """

    _tfa_name = "CohenKappa"
    _config_keys = frozenset(
        {"num_classes", "weightage", "sparse_labels", "regression"}
    )

    def __init__(
        self,
        num_classes: int,
        name: str = "cohen_kappa",
        weightage: str | None = None,
        sparse_labels: bool = False,
        regression: bool = False,
        dtype: Any = None,
    ) -> None:
        super().__init__(name=name, dtype=dtype)
        self.num_classes = check_int("num_classes", num_classes, low=2)
        self.weightage = check_choice(
            "weightage", weightage, (None, "linear", "quadratic")
        )
        self.sparse_labels = check_bool("sparse_labels", sparse_labels)
        self.regression = check_bool("regression", regression)
        self.conf_mtx = self._state("conf_mtx", (self.num_classes, self.num_classes))

    @override
    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = ops.convert_to_tensor(y_pred)
        y_true = ops.convert_to_tensor(y_true)
        c = self.num_classes
        soft = None
        if c == 2:
            for name, x in (("y_true", y_true), ("y_pred", y_pred)):
                if len(x.shape) > 1 and x.shape[-1] not in (1, None):
                    # tfa paired the flattened elements of such inputs into a
                    # meaningless matrix; refuse instead of reproducing it.
                    raise ValueError(
                        "CohenKappa(num_classes=2) takes one label and one "
                        f"score per sample, (N,) or (N, 1); received {name} of "
                        f"shape {tuple(x.shape)}. Pass class-1 columns, or use "
                        "num_classes > 2 semantics with argmax."
                    )
            _check_scores_and_weights(y_pred, sample_weight)
            targets = _hard_targets(ops.reshape(y_true, (-1,)))
            labels, bad_labels, soft = targets.labels, targets.invalid, targets.soft
            predictions = ops.cast(ops.cast(y_pred, STATE_DTYPE) > 0.5, "int32")
            predictions = ops.reshape(predictions, (-1,))
            bad_pred = ops.reshape(_not_finite(y_pred), (-1,))
        else:
            if self.sparse_labels:
                labels, bad_labels = _class_indices(
                    y_true, c, name="y_true", hint=_SPARSE_HINT
                )
            else:
                if len(y_true.shape) != 2:
                    raise _inputs.shape_error(
                        "one-hot y_true of shape (N, num_classes) for "
                        "CohenKappa(sparse_labels=False); for integer class "
                        "labels of shape (N,) pass sparse_labels=True",
                        y_true=_inputs.static_shape(y_true),
                        y_pred=_inputs.static_shape(y_pred),
                    )
                targets = _hard_targets(y_true)
                labels, bad_labels = _class_indices(
                    ops.argmax(y_true, axis=1),
                    c,
                    name="argmax(y_true)",
                    hint=_NUM_CLASSES_HINT,
                )
                bad_labels = ops.logical_or(
                    bad_labels, ops.any(targets.invalid, axis=1)
                )
                if targets.soft is not None:
                    soft = ops.any(targets.soft, axis=1)
            bad_scores = None
            if len(y_pred.shape) > 1:
                _inputs.check_finite(y_pred, name="y_pred")
                bad_scores = ops.reshape(ops.any(_not_finite(y_pred), axis=-1), (-1,))
                if self.regression:
                    predictions = ops.round(ops.abs(ops.cast(y_pred, STATE_DTYPE)))
                    name, hint = "round(abs(y_pred))", _REGRESSION_HINT
                else:
                    predictions = ops.argmax(y_pred, axis=-1)
                    name, hint = "argmax(y_pred)", _NUM_CLASSES_HINT
            else:
                predictions, name, hint = y_pred, "y_pred", _LABELS_HINT
            predictions, bad_pred = _class_indices(predictions, c, name=name, hint=hint)
            if bad_scores is not None:
                bad_pred = ops.logical_or(bad_pred, bad_scores)
            if sample_weight is not None:
                _inputs.check_finite(sample_weight, name="sample_weight")
        self._count_invalid(
            labels,
            targets=bad_labels,
            soft=soft,
            predictions=bad_pred,
            weights=None
            if sample_weight is None
            else ops.reshape(_not_finite(sample_weight), (-1,)),
        )
        matrix = _confusion(labels, predictions, c, sample_weight)
        self.conf_mtx.assign_add(matrix)

    @override
    def _score(self):
        c = self.num_classes
        idx = ops.arange(c, dtype=STATE_DTYPE)
        diff = ops.expand_dims(idx, -1) - idx
        if self.weightage is None:
            weight = ops.cast(diff != 0, STATE_DTYPE)
        elif self.weightage == "linear":
            weight = ops.abs(diff)
        else:
            weight = ops.square(diff)
        conf = self.conf_mtx
        actual = ops.sum(conf, axis=1)
        predicted = ops.sum(conf, axis=0)
        outer = ops.expand_dims(predicted, -1) * actual
        conf = conf / ops.sum(conf)
        outer = outer / ops.sum(outer)
        numerator = ops.sum(conf * weight)
        denominator = ops.sum(outer * weight)
        return ops.where(
            ops.isnan(denominator),
            ops.zeros_like(denominator),
            1.0 - numerator / denominator,
        )

    @override
    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "num_classes": self.num_classes,
                "weightage": self.weightage,
                "sparse_labels": self.sparse_labels,
                "regression": self.regression,
            }
        )
        return config


class MatthewsCorrelationCoefficient(_Metric):
    """tfa's multiclass MCC from `argmax(y_true, 1)` and `argmax(y_pred, 1)`.

    `(c s - t.p) / sqrt((s**2 - p.p)(s**2 - t.t))` from the confusion
    matrix's trace `c`, total `s`, true and predicted class totals `t`, `p`;
    0 where that is NaN (as tfa). `y_true` and `y_pred` are `(N, C)`;
    `y_true` must be 0/1 (a soft row such as `[0.3, 0.7]` is refused: tfa
    took its argmax), scores and `sample_weight` finite, and the argmax
    classes below `num_classes`. Invalid inputs raise eagerly and make the
    result NaN when traced.

    Example:

    >>> import numpy as np
    >>> from keras_components.compat import tfa
    >>> metric = tfa.MatthewsCorrelationCoefficient(num_classes=2)
    >>> metric.update_state(np.eye(2)[[1, 1, 0, 0]], np.eye(2)[[1, 0, 0, 0]])
    >>> print(round(float(metric.result()), 4))
    0.5774
    """

    _tfa_name = "MatthewsCorrelationCoefficient"
    _config_keys = frozenset({"num_classes"})

    def __init__(
        self,
        num_classes: int,
        name: str = "MatthewsCorrelationCoefficient",
        dtype: Any = None,
    ) -> None:
        super().__init__(name=name, dtype=dtype)
        self.num_classes = check_int("num_classes", num_classes, low=1)
        self.conf_mtx = self._state("conf_mtx", (self.num_classes, self.num_classes))

    @override
    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = ops.convert_to_tensor(y_true)
        y_pred = ops.convert_to_tensor(y_pred)
        if len(y_true.shape) != 2 or len(y_pred.shape) != 2:
            raise _inputs.shape_error(
                "y_true and y_pred of shape (N, num_classes) (one-hot rows and "
                "scores: TensorFlow Addons took the argmax of each row)",
                y_true=_inputs.static_shape(y_true),
                y_pred=_inputs.static_shape(y_pred),
            )
        c = self.num_classes
        _check_scores_and_weights(y_pred, sample_weight)
        targets = _hard_targets(y_true)
        labels, bad_labels = _class_indices(
            ops.argmax(y_true, axis=1), c, name="argmax(y_true)", hint=_NUM_CLASSES_HINT
        )
        predictions, bad_pred = _class_indices(
            ops.argmax(y_pred, axis=1), c, name="argmax(y_pred)", hint=_NUM_CLASSES_HINT
        )
        self._count_invalid(
            labels,
            targets=ops.logical_or(bad_labels, ops.any(targets.invalid, axis=1)),
            soft=None if targets.soft is None else ops.any(targets.soft, axis=1),
            predictions=ops.logical_or(bad_pred, ops.any(_not_finite(y_pred), axis=1)),
            weights=None
            if sample_weight is None
            else ops.reshape(_not_finite(sample_weight), (-1,)),
        )
        self.conf_mtx.assign_add(_confusion(labels, predictions, c, sample_weight))

    @override
    def _score(self):
        conf = self.conf_mtx
        t = ops.sum(conf, axis=1)
        p = ops.sum(conf, axis=0)
        correct = ops.trace(conf)
        s = ops.sum(p)
        cov_tp = correct * s - ops.sum(t * p)
        cov_pp = s**2 - ops.sum(p * p)
        cov_tt = s**2 - ops.sum(t * t)
        mcc = cov_tp / ops.sqrt(cov_tt * cov_pp)
        return ops.where(ops.isnan(mcc), ops.zeros_like(mcc), mcc)

    @override
    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["num_classes"] = self.num_classes
        return config


class RSquare(_Metric):
    """tfa's `RSquare(multioutput, num_regressors, y_shape)`.

    Per output: `1 - SS_res / SS_tot` with `SS_tot = sum(w y**2) -
    sum(w y)**2 / sum(w)` (an infinite score is 0, as tfa); `multioutput`
    `"raw_values"`, `"uniform_average"` or `"variance_weighted"`. With
    `num_regressors = k > 0` and `n` the number of *elements* of y seen
    (all outputs, as tfa counts), the adjusted
    `1 - (1 - R2)(n - 1)/(n - k - 1)` when `k < n - 1`. `y_shape` (tfa
    derived it from the first batch) fixes the per-sample shape; a batch of
    another shape is an error. A `(N,)` `sample_weight` with `(N, D)` targets
    is an error as in tfa: pass `(N, 1)`. Any finite targets and predictions
    are valid; NaN or infinite `y_true`, `y_pred` or `sample_weight` raise
    eagerly and make the result NaN when traced (tfa turned an infinite
    score into a finite 0).

    Example:

    >>> import numpy as np
    >>> from keras_components.compat import tfa
    >>> metric = tfa.RSquare()
    >>> metric.update_state(np.array([1.0, 4.0, 3.0]), np.array([2.0, 4.0, 4.0]))
    >>> print(round(float(metric.result()), 5))
    0.57143
    """

    _tfa_name = "RSquare"
    _config_keys = frozenset({"multioutput", "num_regressors", "y_shape"})

    def __init__(
        self,
        name: str = "r_square",
        dtype: Any = None,
        multioutput: str = "uniform_average",
        num_regressors: int = 0,
        y_shape: tuple[int, ...] | list[int] | None = None,
    ) -> None:
        super().__init__(name=name, dtype=dtype)
        self.multioutput = check_choice(
            "multioutput",
            multioutput,
            ("raw_values", "uniform_average", "variance_weighted"),
        )
        self.num_regressors = check_int("num_regressors", num_regressors, low=0)
        if y_shape is not None:
            if not isinstance(y_shape, (list, tuple)) or not all(
                isinstance(d, int) and not isinstance(d, bool) and d > 0
                for d in y_shape
            ):
                raise invalid_value(
                    "y_shape",
                    "None or a tuple of positive ints (per-sample shape)",
                    y_shape,
                )
            y_shape = tuple(y_shape)
        self.y_shape = y_shape
        self.num_samples = self.add_variable(
            shape=(),
            initializer="zeros",
            dtype="int32",
            aggregation="sum",
            name="num_samples",
        )
        self._built_shape: tuple[int, ...] | None = None
        if y_shape is not None:
            self._build_state(y_shape)

    def _build_state(self, shape: tuple[int, ...]) -> None:
        self._built_shape = shape
        self.squared_sum = self._state("squared_sum", shape)
        self.sum = self._state("sum", shape)
        self.res = self._state("residual", shape)
        self.count = self._state("count", shape)

    @override
    def update_state(self, y_true, y_pred, sample_weight=None):
        _inputs.check_finite(y_true, name="y_true")
        _check_scores_and_weights(y_pred, sample_weight)
        y_true = ops.cast(y_true, STATE_DTYPE)
        y_pred = ops.cast(y_pred, STATE_DTYPE)
        shape = tuple(y_true.shape[1:])
        if self._built_shape is None:
            if any(d is None for d in shape):
                raise ValueError(
                    f"RSquare needs the per-sample shape of y_true, received {shape}: "
                    "pass `y_shape=`."
                )
            self._build_state(shape)
        elif shape != self._built_shape:
            raise ValueError(
                f"RSquare was built for per-sample shape {self._built_shape} "
                f"(y_shape={self.y_shape!r}) and received y_true of shape "
                f"{tuple(y_true.shape)}."
            )
        if sample_weight is None:
            w = ops.ones_like(y_true)
        else:
            w = ops.cast(ops.convert_to_tensor(sample_weight), STATE_DTYPE)
            if len(w.shape) not in (0, len(y_true.shape)):
                raise ValueError(
                    f"RSquare: sample_weight of shape {tuple(w.shape)} cannot be "
                    f"broadcast to y_true of shape {tuple(y_true.shape)} (tfa refuses "
                    "it too); pass weights of shape (N, 1)."
                )
            w = ops.broadcast_to(w, ops.shape(y_true))
        self._count_invalid(
            y_true,
            targets=_not_finite(y_true),
            predictions=_not_finite(y_pred),
            weights=None if sample_weight is None else _not_finite(w),
        )
        wy = y_true * w
        self.sum.assign_add(ops.sum(wy, axis=0))
        self.squared_sum.assign_add(ops.sum(y_true * wy, axis=0))
        self.res.assign_add(ops.sum(ops.square(y_true - y_pred) * w, axis=0))
        self.count.assign_add(ops.sum(w, axis=0))
        self.num_samples.assign_add(ops.cast(ops.size(y_true), "int32"))

    @override
    def _score(self):
        if self._built_shape is None:
            return ops.convert_to_tensor(0.0, STATE_DTYPE)
        mean = self.sum / self.count
        total = self.squared_sum - self.sum * mean
        raw = 1.0 - self.res / total
        raw = ops.where(ops.isinf(raw), ops.zeros_like(raw), raw)
        if self.multioutput == "raw_values":
            score = raw
        elif self.multioutput == "uniform_average":
            score = ops.mean(raw)
        else:
            score = ops.sum(raw * total) / ops.sum(total)
        k = self.num_regressors
        if k:
            n = ops.cast(self.num_samples, STATE_DTYPE)
            adjusted = 1.0 - (1.0 - score) * (n - 1.0) / ops.where(
                n - k - 1.0 > 0, n - k - 1.0, ops.ones_like(n)
            )
            score = ops.where(n - 1.0 > k, adjusted, score)
        return score

    @override
    def reset_state(self):
        for variable in self.variables:
            variable.assign(ops.zeros(variable.shape, variable.dtype))

    @override
    def _prepare_merge(self, other: _Metric) -> bool:
        if other._built_shape is None:
            return False
        if self._built_shape is None:
            self._build_state(other._built_shape)
        elif other._built_shape != self._built_shape:
            raise ValueError(
                "Invalid value for argument `metrics`. Expected RSquare metrics "
                f"built for per-sample shape {self._built_shape}. Received: "
                f"{other!r} built for {other._built_shape}"
            )
        return True

    @override
    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "multioutput": self.multioutput,
                "num_regressors": self.num_regressors,
                "y_shape": None if self.y_shape is None else list(self.y_shape),
            }
        )
        return config


class HammingLoss(_Metric):
    """tfa's `HammingLoss(mode, threshold=None)`: a mean of per-sample values.

    Predictions `y_pred > threshold`, or with `threshold=None` the row
    maximum (ties included, never a zero) is 1; `y_true` is cast to
    integers. Per sample: `"multiclass"`: 1 unless a predicted class is a
    true one; `"multilabel"`: the fraction of labels that differ. The result
    is the (weighted) mean over samples. `y_true` must be 0/1 (tfa cast a
    soft 0.7 to 0), `y_pred` and `sample_weight` finite (any finite score,
    as tfa); invalid inputs raise eagerly and make the result NaN when
    traced.

    Example:

    >>> import numpy as np
    >>> from keras_components.compat import tfa
    >>> metric = tfa.HammingLoss(mode="multilabel", threshold=0.8)
    >>> metric.update_state(np.array([[1, 0, 1, 0], [0, 1, 0, 1], [0, 0, 0, 1]]),
    ...                     np.array([[0.82, 0.5, 0.9, 0], [0, 1, 0.4, 0.98],
    ...                               [0.89, 0.79, 0, 0.3]]))
    >>> print(round(float(metric.result()), 5))
    0.16667
    """

    _tfa_name = "HammingLoss"
    _config_keys = frozenset({"mode", "threshold"})

    def __init__(
        self,
        mode: str,
        name: str = "hamming_loss",
        threshold: float | None = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(name=name, dtype=dtype)
        self.mode = check_choice("mode", mode, ("multiclass", "multilabel"))
        self.threshold = (
            None if threshold is None else check_float("threshold", threshold)
        )
        self.total = self._state("total")
        self.count = self._state("count")

    @override
    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = ops.convert_to_tensor(y_pred)
        _check_scores_and_weights(y_pred, sample_weight)
        targets = _hard_targets(ops.convert_to_tensor(y_true))
        bad_weights = None
        if sample_weight is not None:
            w = ops.cast(ops.convert_to_tensor(sample_weight), STATE_DTYPE)
            w = ops.reshape(w, ops.shape(w)[:1])
            bad_weights = ops.expand_dims(_not_finite(w), -1)
        self._count_invalid(
            y_pred,
            targets=targets.invalid,
            soft=targets.soft,
            predictions=_not_finite(y_pred),
            weights=bad_weights,
        )
        y_pred = ops.cast(y_pred, STATE_DTYPE)
        if self.threshold is None:
            top = ops.max(y_pred, axis=-1, keepdims=True)
            pred = ops.logical_and(y_pred >= top, ops.abs(y_pred) > 1e-12)
        else:
            pred = y_pred > self.threshold
        pred = ops.cast(pred, "int32")
        y_true = ops.cast(y_true, "int32")
        if self.mode == "multiclass":
            hits = ops.sum(ops.cast(y_true * pred != 0, STATE_DTYPE), axis=-1)
            values = 1.0 - hits
        else:
            differ = ops.sum(ops.cast(y_true - pred != 0, STATE_DTYPE), axis=-1)
            values = differ / y_true.shape[-1]
        if sample_weight is None:
            w = ops.ones_like(values)
        else:
            w = ops.cast(ops.convert_to_tensor(sample_weight), STATE_DTYPE)
            w = ops.broadcast_to(ops.reshape(w, ops.shape(w)[:1]), ops.shape(values))
        self.total.assign_add(ops.sum(values * w))
        self.count.assign_add(ops.sum(w))

    @override
    def _score(self):
        return _divide_no_nan(self.total, self.count)

    @override
    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"mode": self.mode, "threshold": self.threshold})
        return config


_MLCM_HINT = (
    "MultiLabelConfusionMatrix casts `y_pred` to integers as TensorFlow Addons "
    "did (probabilities below 1 count as 0): pass 0/1 predictions, e.g. "
    "`y_pred > 0.5`."
)


class MultiLabelConfusionMatrix(_Metric):
    """tfa's per-label 2x2 confusion matrices `[[tn, fp], [fn, tp]]`, `(C, 2, 2)`.

    `y_true` and `y_pred` are cast to integers as given (tfa did not
    threshold: probabilities below 1 count as 0). Like tfa, it ignores
    `sample_weight`, with a warning. Checked (tfa checked nothing): `y_true`
    must be 0/1, `y_pred` finite with an integer part of 0 or 1 (2 or -1
    would count one cell as both a false positive and a true negative), and
    a given `sample_weight` finite even though it is ignored (a NaN weight is
    a bug upstream). Invalid inputs raise eagerly and make the result NaN
    when traced.

    Example:

    >>> import numpy as np
    >>> from keras_components.compat import tfa
    >>> metric = tfa.MultiLabelConfusionMatrix(num_classes=2)
    >>> metric.update_state(np.array([[1, 0], [1, 1]]), np.array([[1, 1], [0, 1]]))
    >>> print(np.asarray(metric.result()).astype(int).tolist())
    [[[0, 0], [1, 1]], [[0, 1], [0, 1]]]
    """

    _tfa_name = "MultiLabelConfusionMatrix"
    _config_keys = frozenset({"num_classes"})

    def __init__(
        self,
        num_classes: int,
        name: str = "Multilabel_confusion_matrix",
        dtype: Any = None,
    ) -> None:
        super().__init__(name=name, dtype=dtype)
        self.num_classes = check_int("num_classes", num_classes, low=1)
        shape = (self.num_classes,)
        self.true_positives = self._state("true_positives", shape)
        self.false_positives = self._state("false_positives", shape)
        self.false_negatives = self._state("false_negatives", shape)
        self.true_negatives = self._state("true_negatives", shape)

    @override
    def update_state(self, y_true, y_pred, sample_weight=None):
        if sample_weight is not None:
            warnings.warn(
                "MultiLabelConfusionMatrix ignores `sample_weight`, as TensorFlow "
                "Addons' did.",
                stacklevel=2,
            )
        y_pred = ops.convert_to_tensor(y_pred)
        _check_scores_and_weights(y_pred, sample_weight)
        targets = _hard_targets(ops.convert_to_tensor(y_true))
        finite = ops.isfinite(y_pred)
        # NaN has no integer value: cast 0 instead (counted invalid below).
        y_pred = ops.cast(ops.where(finite, y_pred, ops.zeros_like(y_pred)), "int32")
        _inputs.check_labels(
            y_pred, 2, None, name="y_pred", binary_values=True, hint=_MLCM_HINT
        )
        bad_weights = None
        if sample_weight is not None:
            w = ops.convert_to_tensor(sample_weight)
            bad_weights = ops.reshape(_not_finite(w), (-1, 1))
        self._count_invalid(
            y_pred,
            targets=targets.invalid,
            soft=targets.soft,
            predictions=ops.logical_or(
                ops.logical_not(finite),
                ops.logical_and(y_pred != 0, y_pred != 1),
            ),
            weights=bad_weights,
        )
        y_true = ops.cast(y_true, "int32")

        def nonzero(x):
            return ops.sum(ops.cast(x, STATE_DTYPE), axis=0)

        tp = nonzero(y_true * y_pred != 0)
        self.true_positives.assign_add(tp)
        self.false_positives.assign_add(nonzero(y_pred != 0) - tp)
        self.false_negatives.assign_add(nonzero(y_true != 0) - tp)
        self.true_negatives.assign_add(
            nonzero(ops.logical_and(y_true != 1, y_pred != 1))
        )

    @override
    def _score(self):
        flat = ops.stack(
            [
                self.true_negatives,
                self.false_positives,
                self.false_negatives,
                self.true_positives,
            ],
            axis=-1,
        )
        return ops.reshape(flat, (-1, 2, 2))

    @override
    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["num_classes"] = self.num_classes
        return config


# --------------------------------------------------------------------------
# Registration
# --------------------------------------------------------------------------
for _cls in (
    GELU,
    WeightedKappaLoss,
    F1Score,
    FBetaScore,
    CohenKappa,
    MatthewsCorrelationCoefficient,
    RSquare,
    HammingLoss,
    MultiLabelConfusionMatrix,
):
    _register(_cls.__name__)(_cls)

_registry = keras.saving.get_custom_objects()
# Loads as our own function; its registered name stays keras_components>mish.
_registry[f"{PACKAGE}>mish"] = _activations.mish
# Bare names real tfa files use (tfa never registered these two).
_registry["HammingLoss"] = HammingLoss
_registry["MultiLabelConfusionMatrix"] = MultiLabelConfusionMatrix


def _unsupported_class(name: str) -> type:
    def from_config(cls, config):
        raise unsupported_error(name)

    def refuse(self, *args, **kwargs):
        raise unsupported_error(name)

    return type(
        name,
        (),
        {
            "__init__": refuse,
            "from_config": classmethod(from_config),
            "__doc__": f"Placeholder: `{PACKAGE}>{name}` is not supported.",
            "__module__": __name__,
        },
    )


def _unsupported_function(name: str):
    def unsupported(*args, **kwargs):
        raise unsupported_error(name)

    unsupported.__name__ = name
    return unsupported


for _name in UNSUPPORTED:
    _registry.setdefault(f"{PACKAGE}>{_name}", _unsupported_class(_name))
for _name in UNSUPPORTED_FUNCTIONS:
    _registry.setdefault(f"{PACKAGE}>{_name}", _unsupported_function(_name))


def _keras_loss_aliases() -> dict[str, str]:
    """Keras's short loss aliases that Keras's own deserializer refuses.

    Maps each to the name of the function `keras.losses.get(alias)` returns
    (the object Keras itself means), which Keras does deserialize.
    """
    broken = {}
    for alias in ("mse", "mae", "mape", "msle", "kld", "bce"):
        for name in (alias, alias.upper()):
            try:
                keras.losses.deserialize(name)
            except (ValueError, TypeError):
                broken[name] = keras.losses.get(name).__name__
    return broken


_ALIASES = _keras_loss_aliases()


def _canonical(value: Any) -> Any:
    if isinstance(value, str):
        return _ALIASES.get(value, value)
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    if isinstance(value, dict) and "class_name" not in value:
        return {k: _canonical(v) for k, v in value.items()}
    return value


def _rewrite_training_config(training_config: dict[str, Any]) -> dict[str, Any]:
    """Keras 2 alias strings of a legacy file's loss and metrics, canonical."""
    config = dict(training_config)
    for key in ("loss", "metrics", "weighted_metrics"):
        if config.get(key) is not None:
            config[key] = _canonical(config[key])
    return config


if _ALIASES:
    wrap_legacy_training_config(_rewrite_training_config)


class _LegacyMeanMetricWrapper(keras.metrics.MeanMetricWrapper):
    """Reads Keras 2's `MeanMetricWrapper` config, whose `fn` is a string.

    Keras 2 saved string metrics (`"binary_accuracy"`, `"mae"`, ...) as
    `{"class_name": "MeanMetricWrapper", "config": {"fn": "binary_accuracy",
    ...}}`; Keras 3.15 keeps that `fn` a string and fails when the metric is
    first updated (`'str' object is not callable`). This resolves the name
    to Keras's function of that name and returns Keras's own
    `MeanMetricWrapper` (a re-save stores Keras's class); any other config
    goes to Keras's `from_config` unchanged.
    """

    @classmethod
    @override
    def from_config(cls, config: dict[str, Any]):
        fn = config.get("fn")
        if isinstance(fn, str):
            function = getattr(keras.metrics, fn, None)
            if not callable(function) or isinstance(function, type):
                function = keras.losses.get(fn)
            config = {**config, "fn": function}
            return keras.metrics.MeanMetricWrapper(**config)
        return keras.metrics.MeanMetricWrapper.from_config(config)


_registry.setdefault("MeanMetricWrapper", _LegacyMeanMetricWrapper)
