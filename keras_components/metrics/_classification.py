"""Streaming classification and segmentation metrics.

`F1`, `FBeta`, `Precision`, `Recall`, `Specificity`, `IoU`, `Dice`,
`Accuracy`, `HammingLoss`, `BalancedAccuracy`, `MCC`, `CohenKappa` and
`ConfusionMatrix`: thin classes over one input normalisation
(`keras_components._inputs`) and one confusion core
(`keras_components.metrics._confusion`). Each accumulates a weighted
confusion tensor and computes only in `result()`, so results never depend on
how the data was split into batches or replicas, and each equals the
scikit-learn function of the same name on the flattened data.

Shared keyword arguments:

- `task`: `"binary"`, `"multiclass"`, `"multilabel"` or `"auto"`: binary when
  `y_pred` is 1-D or its last axis is 1 (or `y_true` is `y_pred.shape + (1,)`),
  else multiclass; never multilabel. `y_true` and `y_pred` of the same shape
  of rank >= 3 (binary masks without a channel axis look like one-hot masks)
  are an error asking for an explicit task: W is never scored as classes.
- `num_classes`: C; inferred from `y_pred.shape[-1]` on the first batch when
  None (binary: 2).
- `threshold`: binary / multilabel decision `p > threshold` (strictly, as
  Keras, torchmetrics and TensorFlow Addons) on probabilities (logits go
  through a sigmoid first); None means 0.5. Multiclass predictions are the
  argmax, so an explicit threshold with the multiclass task (given or
  inferred) is an error that says to pass `task="multilabel"`.
- `from_logits`: whether `y_pred` holds logits.
- `ignore_index`: a label value whose positions (multilabel: cells) are
  dropped before counting.
- `zero_division`: the value of a ratio whose denominator is 0 (0, 1 or NaN,
  as scikit-learn's argument of the same name).

Inputs of any rank: `y_pred` is `(N, *spatial, C)` (or `(N, *spatial)` for a
binary output); every position is a sample, so segmentation masks are scored
pixel-wise. `y_true` holds sparse labels (`(N, *spatial)` or
`(N, *spatial, 1)`) or exactly one-hot rows; binary and multilabel targets
are exactly 0 or 1. `sample_weight` broadcasts to positions (`(N,)` weighs
each sample's pixels). Integer or bool `y_pred` (hard 0/1 predictions) is
accepted and scored as float32.

Targets and predictions are validated, never guessed: labels outside
`[0, C)` other than `ignore_index`, fractional labels, dense rows that are
not one-hot (all-zero, multi-hot, soft, NaN), soft binary targets (label
smoothing, mix-up), non-finite predictions, binary / multilabel
probabilities outside `[0, 1]` (logits without `from_logits=True`) and
non-finite `sample_weight` raise a `ValueError` naming the values and the
fix when the metric is updated eagerly, and leave the state as it was.
Under `tf.function`, `jit_compile` or `fit` they cannot raise: they are
counted by reason, `result()` is NaN from then on (until `reset_state`), and
reading `result()` eagerly (Keras does at the end of every epoch) warns once
per reason with the count and the fix.

Before any update, `result()` is the value of empty counts: `zero_division`
(the confusion matrix: zeros, or NaN while its shape is unknown).

Per-image scores and class subsets (`IoU`, `Dice`, `F1`, `FBeta`,
`Precision`, `Recall`, `Specificity`; `per_image` also on `Accuracy`,
`HammingLoss`, `BalancedAccuracy`, `MCC` and `CohenKappa`):

- `per_image=True`: axis 0 is the image and the other position axes are
  spatial. Each image's per-class counts give its score, the class ratio
  `r_ic` (`zero_division` where its denominator is 0) averaged over the
  classes by `average` within the image (micro: the image's pooled counts;
  weighted: by the image's true-class support); the result is
  `sum_i s_i / n`, the mean over images. The state is that sum and the count
  `n` (per class for `average=None`), summed over batches and replicas, so
  the result is the same at any batch split (never a mean of batch means).
  A class absent from an image's truth and prediction (an empty class) has
  ratio `zero_division`: 0.0 by default, 1.0 for segmentation_models'
  value (its `smooth / smooth`), NaN to leave that class out of the image's
  average (F-beta, precision, recall: scikit-learn's NaN-skipping means) or
  the image out of the mean (IoU, whose averages propagate NaN); an image
  whose score is NaN is left out, and with none left the result is NaN.
  `sample_weight` weighs pixels within an image's counts; images count
  equally, and an image with no counted pixel (all `ignore_index`, or
  weight 0) is left out.
- `per_image=True` on `Accuracy`, `HammingLoss`, `BalancedAccuracy`, `MCC`
  and `CohenKappa`: each image's score is the metric of that image's
  confusion matrix alone (multilabel accuracy: its subset accuracy), with
  the metric's `zero_division` rule (an image MCC or kappa leaves undefined,
  e.g. a single class in truth and prediction, scores `zero_division`,
  0.0 by default; NaN leaves the image out); the result is the mean over
  the counted images, streamed as above. `ConfusionMatrix` has no
  `per_image` (its counts are no score to average).
- `classes=[...]`: only those classes' counts are scored (the binary task
  scores its positive class and takes no subset).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable, Sequence
from typing import Any, NamedTuple, cast

from keras import ops

from keras_components import _docs, _inputs
from keras_components._export import export
from keras_components._validation import (
    check_bool,
    check_choice,
    check_class_indices,
    check_float,
    check_num_classes,
    check_optional_int,
    check_task,
    check_zero_division,
)
from keras_components.metrics import _confusion
from keras_components.metrics._base import StreamingMetric

__all__ = [
    "F1",
    "MCC",
    "Accuracy",
    "BalancedAccuracy",
    "CohenKappa",
    "ConfusionMatrix",
    "Dice",
    "FBeta",
    "HammingLoss",
    "IoU",
    "Precision",
    "Recall",
    "Specificity",
]

DEFAULT_THRESHOLD = 0.5


class ImageScore(NamedTuple):
    """The static description of a per-image ratio score (`per_image=True`).

    `parts` and `parts_options` as `_AveragedMetric`'s; `average`,
    `zero_division` and `nan_aware` its rules, applied within each image;
    `classes` the class subset (None: every class).
    """

    parts: Callable[..., tuple[Any, Any]]
    parts_options: tuple
    average: str | None
    zero_division: float
    nan_aware: bool
    classes: tuple[int, ...] | None

    def of(self, images: _confusion.ImageCounts, task: str) -> Any:
        """Each image's score, `(N,)` (`(N, K)` for `average=None`)."""
        counts = _confusion.class_counts(images.confusion, task)
        counts = _confusion.select_classes(counts, self.classes)
        numerator, denominator = self.parts(counts, **dict(self.parts_options))
        if task == "binary":  # the positive class, as average="binary"
            return _confusion.divide(numerator, denominator, self.zero_division)[:, 0]
        return _confusion.average_scores(
            numerator,
            denominator,
            counts.tp + counts.fn,
            average=self.average,
            zero_division=self.zero_division,
            nan_aware=self.nan_aware,
            axis=-1,
        )


class MatrixImageScore(NamedTuple):
    """A per-image score of the whole confusion tensor (`per_image=True`).

    `score` is the metric's `score` and `options` its `score_options` with
    `per_image=False`: each image's state (its confusion tensor, and for
    multilabel subset accuracy its `exact` / `positions` counts) scored as
    the whole data would be, with the metric's own `zero_division` rule.
    """

    score: Callable[..., Any]
    options: tuple

    def of(self, images: _confusion.ImageCounts, task: str) -> Any:
        """Each image's score, `(N,)`."""
        del task  # in `options`
        state = {"confusion": images.confusion}
        if images.exact is not None:
            state.update(exact=images.exact, positions=images.positions)
        return self.score(state, **dict(self.options))


def _confusion_increments(
    y_true,
    y_pred,
    sample_weight,
    *,
    image_score: ImageScore | MatrixImageScore | None = None,
    **config,
) -> dict[str, Any]:
    """`_confusion.batch_confusion` as increments by state name.

    With `image_score` (`per_image=True`): the sum over the batch's images of
    each image's score (`"image_scores"`) and the number of images scored
    (`"images"`), per class for `average=None`. An image has no score when it
    has no counted position, or when its score is NaN (`zero_division=nan`).
    """
    if image_score is None:
        counts = _confusion.batch_confusion(y_true, y_pred, sample_weight, **config)
        return {k: v for k, v in counts._asdict().items() if v is not None}
    images = _confusion.image_confusion(y_true, y_pred, sample_weight, **config)
    score = image_score.of(images, config["task"])
    counted = images.counted
    if len(score.shape) == 2:
        counted = counted[:, None]
    defined = ops.logical_and(counted, ops.logical_not(ops.isnan(score)))
    return {
        "image_scores": ops.sum(ops.where(defined, score, ops.zeros_like(score)), 0),
        "images": ops.sum(ops.cast(defined, score.dtype), axis=0),
        "invalid": images.invalid,
    }


def _per_image_score(score: Callable[..., Any]) -> Callable[..., Any]:
    """`score`, or with `per_image=True` the mean of the images' scores.

    The metric's state is then `image_scores` (their sum) and `images`
    (their number); no image scored gives `zero_division`.
    """

    @functools.wraps(score)
    def scored(state, *, per_image=False, **options):
        if per_image:
            return _confusion.divide(
                state["image_scores"], state["images"], options["zero_division"]
            )
        return score(state, **options)

    return scored


def _check_spatial(task: str, y_pred: Any) -> None:
    """per_image=True needs `(N, *spatial)` positions (at least one spatial axis)."""
    shape = _inputs.static_shape(y_pred)
    if task == "binary":
        positions = _inputs.static_shape(_inputs.binary_scores(y_pred))
    else:
        positions = shape[:-1]
    if len(positions) < 2:
        raise ValueError(
            "Invalid value for argument `per_image`. per_image=True "
            "averages the scores of the images of (N, *spatial) inputs "
            "and needs at least one spatial axis; these inputs have one "
            f"position per sample. Received: per_image=True with "
            f"y_pred.shape={shape} ({task} task). Pass per_image=False "
            "for one score over all positions."
        )


class _ConfusionMetric(StreamingMetric):
    """Accumulates `_confusion.batch_confusion`; subclasses declare `score`.

    Declarations (class attributes): `supported_tasks` (the tasks the score
    is defined for) and `counts_subsets` (the state also holds the
    multilabel exact-match counts `"exact"` and `"positions"`, which
    Accuracy's subset accuracy needs). Every subclass shares one compiled
    update kernel per input configuration.
    """

    supported_tasks: tuple[str, ...] = _inputs.TASKS
    counts_subsets = False
    per_image = False  # `_CountMetric`'s argument

    def __init__(
        self,
        *,
        task: str = "auto",
        num_classes: int | None = None,
        threshold: float | None = None,
        from_logits: bool = False,
        ignore_index: int | None = None,
        **kwargs: Any,
    ) -> None:
        self.task = check_task(task, self.supported_tasks, owner=type(self).__name__)
        self.num_classes = check_num_classes(num_classes, task)
        if threshold is not None:
            threshold = check_float(
                "threshold",
                threshold,
                low=0.0,
                high=1.0,
                low_inclusive=False,
                high_inclusive=False,
            )
        self.threshold = threshold
        if task == "multiclass" and threshold is not None:
            raise self._threshold_error()
        self.from_logits = check_bool("from_logits", from_logits)
        self.ignore_index = check_optional_int("ignore_index", ignore_index)
        super().__init__(**kwargs)
        if task == "binary":
            self.build_from_spec(("binary", 2), fixed=True)
        elif task != "auto" and self.num_classes is not None:
            self.build_from_spec((task, self.num_classes), fixed=True)

    def _threshold_error(self) -> ValueError:
        return ValueError(
            "Invalid value for argument `threshold`. It applies to the binary and "
            "multilabel tasks only: multiclass predictions are the argmax. For "
            "independent per-class scores (sigmoid outputs) pass "
            "task='multilabel'; otherwise leave threshold=None. Received: "
            f"threshold={self.threshold!r} with the multiclass task"
        )

    @property
    def decision_threshold(self) -> float:
        """The binary / multilabel threshold in use (`threshold` or 0.5)."""
        return DEFAULT_THRESHOLD if self.threshold is None else self.threshold

    @property
    def resolved_task(self) -> str | None:
        """The task the metric was built for (None until the first batch)."""
        return None if self._spec is None else self._spec[0]

    # -- the contract -----------------------------------------------------
    def state_spec(self, y_true: Any, y_pred: Any) -> Hashable:
        task = _inputs.resolve_task(self.task, y_pred, y_true)
        if task not in self.supported_tasks:
            raise ValueError(
                f"{type(self).__name__} is defined for the "
                f"{' and '.join(self.supported_tasks)} tasks; task='auto' read "
                f"these inputs as {task}. Received: y_pred.shape="
                f"{_inputs.static_shape(y_pred)}"
            )
        if task == "multiclass" and self.threshold is not None:
            raise self._threshold_error()
        if self.per_image:
            _check_spatial(task, y_pred)
        return task, _inputs.class_count(y_pred, task, self.num_classes)

    def image_score_shape(self, spec: Any) -> tuple[int, ...]:
        """The shape of the per-image state (`per_image=True`): a scalar."""
        del spec
        return ()

    def state_shapes(self, spec: Any) -> dict[str, tuple[int, ...]]:
        if self.per_image:  # the sum of the images' scores and their number
            shape = self.image_score_shape(spec)
            return {"image_scores": shape, "images": shape}
        task, num_classes = spec
        shapes = {"confusion": _confusion.confusion_shape(task, num_classes)}
        if self.counts_subsets and task == "multilabel":
            shapes.update(exact=(), positions=())
        return shapes

    increments = staticmethod(_confusion_increments)

    def update_options(self) -> dict[str, Hashable]:
        task, num_classes = self._spec
        return {
            "task": task,
            "num_classes": num_classes,
            "threshold": self.decision_threshold,
            "from_logits": self.from_logits,
            "ignore_index": self.ignore_index,
            "subset_counts": self.counts_subsets and task == "multilabel",
        }

    def explain_invalid(self, y_true: Any, y_pred: Any, sample_weight: Any) -> None:
        task, num_classes = self._spec
        _inputs.check_class_inputs(
            y_true,
            y_pred,
            sample_weight,
            task=task,
            num_classes=num_classes,
            ignore_index=self.ignore_index,
            from_logits=self.from_logits,
        )

    def score_options(self) -> dict[str, Hashable]:
        return {"task": self._spec[0]}

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "task": self.task,
            "num_classes": self.num_classes,
            "threshold": self.threshold,
            "from_logits": self.from_logits,
            "ignore_index": self.ignore_index,
        }


class _CountMetric(_ConfusionMetric):
    """A score of the counts with `zero_division` for undefined ratios.

    Before any update (the layout unknown) the result is `zero_division`,
    the value of empty counts. `per_image=True` makes the state the sum of
    the images' scores and their number (`image_score()`), never per-batch
    means; subclasses wrap their `score` in `_per_image_score`.
    """

    def __init__(
        self, *, zero_division: float = 0.0, per_image: bool = False, **kwargs: Any
    ) -> None:
        self.zero_division = check_zero_division(zero_division)
        self.per_image = check_bool("per_image", per_image)
        super().__init__(**kwargs)

    def empty_result(self) -> float:
        return self.zero_division

    def image_score(self) -> Hashable:
        """How an image is scored (`per_image=True`): the whole-data score."""
        options = {**self.score_options(), "per_image": False}
        return MatrixImageScore(type(self).score, tuple(sorted(options.items())))

    def update_options(self) -> dict[str, Hashable]:
        options = super().update_options()
        if self.per_image:
            options["image_score"] = self.image_score()
        return options

    def score_options(self) -> dict[str, Hashable]:
        return {
            **super().score_options(),
            "zero_division": self.zero_division,
            "per_image": self.per_image,
        }

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "zero_division": self.zero_division,
            "per_image": self.per_image,
        }


def _check_classes_in_range(classes: tuple[int, ...], num_classes: int) -> None:
    out = [c for c in classes if c >= num_classes]
    if out:
        raise ValueError(
            "Invalid value for argument `classes`. Expected class indices in "
            f"[0, {num_classes}) (num_classes={num_classes}); out of range: "
            f"{out}. Received: classes={list(classes)!r}"
        )


class _AveragedMetric(_CountMetric):
    """A per-class ratio `parts(counts) = (numerator, denominator)`, averaged.

    Declarations: `parts` (a static method of `_confusion.ClassCounts`) and
    `nan_aware_average` (whether the macro / weighted averages skip classes
    that are NaN under `zero_division=nan`, as scikit-learn's precision,
    recall and F-beta do; `jaccard_score` does not). Binary: the positive
    class (scikit-learn's `average="binary"`).

    `classes` scores a subset of the classes (segmentation_models'
    `class_indexes`); `per_image` makes the state the sum of the images'
    scores and their number (`ImageScore`), never per-batch means.
    """

    nan_aware_average = True

    def __init__(
        self,
        *,
        average: str | None = "macro",
        per_image: bool = False,
        classes: Sequence[int] | None = None,
        **kwargs: Any,
    ) -> None:
        self.average = check_choice("average", average, _confusion.AVERAGES)
        self.classes = check_class_indices("classes", classes)
        if self.classes is not None and kwargs.get("task") == "binary":
            raise self._binary_classes_error()
        super().__init__(per_image=per_image, **kwargs)
        if self.classes is not None and self.num_classes is not None:
            _check_classes_in_range(self.classes, self.num_classes)

    def _binary_classes_error(self) -> ValueError:
        return ValueError(
            "Invalid value for argument `classes`. It selects among the C "
            "classes of the multiclass and multilabel tasks; the binary task "
            "scores the positive class only. Received: "
            f"classes={list(self.classes or ())!r} with the binary task"
        )

    # The numerator and denominator of the per-class ratio, from the counts:
    # a pure function `parts(counts, **options)` (usually a staticmethod).
    parts: Callable[..., tuple[Any, Any]]

    def parts_options(self) -> dict[str, Hashable]:
        """The static keyword arguments of `parts`."""
        return {}

    # -- the contract -----------------------------------------------------
    def state_spec(self, y_true: Any, y_pred: Any) -> Hashable:
        spec = super().state_spec(y_true, y_pred)
        task, num_classes = cast(tuple[str, int], spec)
        if self.classes is not None:
            if task == "binary":
                raise self._binary_classes_error()
            _check_classes_in_range(self.classes, num_classes)
        return spec

    def image_score_shape(self, spec: Any) -> tuple[int, ...]:
        """A scalar, or one per (selected) class for `average=None`."""
        task, num_classes = spec
        if task != "binary" and self.average is None:
            return (num_classes if self.classes is None else len(self.classes),)
        return ()

    def image_score(self) -> Hashable:
        """How an image is scored: its class ratios, averaged in the image."""
        return ImageScore(
            type(self).parts,
            tuple(sorted(self.parts_options().items())),
            self.average,
            self.zero_division,
            self.nan_aware_average,
            self.classes,
        )

    def score_options(self) -> dict[str, Hashable]:
        return {
            **super().score_options(),
            "average": self.average,
            "nan_aware": self.nan_aware_average,
            "classes": self.classes,
            **self.parts_options(),
        }

    @classmethod
    def score(
        cls,
        state,
        *,
        task,
        zero_division,
        average,
        nan_aware,
        per_image=False,
        classes=None,
        **options,
    ):
        if per_image:  # the mean over images of each image's score
            return _confusion.divide(
                state["image_scores"], state["images"], zero_division
            )
        counts = _confusion.class_counts(state["confusion"], task)
        counts = _confusion.select_classes(counts, classes)
        numerator, denominator = cls.parts(counts, **options)
        if task == "binary":  # the positive class, as average="binary"
            return _confusion.divide(numerator, denominator, zero_division)[0]
        return _confusion.average_scores(
            numerator,
            denominator,
            counts.tp + counts.fn,
            average=average,
            zero_division=zero_division,
            nan_aware=nan_aware,
        )

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "average": self.average,
            "classes": None if self.classes is None else list(self.classes),
        }


# Argument texts shared by the confusion metrics' docstrings (`_docs.fill`).
_DOCS = {
    "common_args": """\
task: `"auto"`, `"binary"`, `"multiclass"` or `"multilabel"`.
num_classes: Number of classes; inferred from `y_pred` when None.
threshold: Binary / multilabel decision `p > threshold`, in (0, 1);
    None means 0.5. An error with the multiclass task.
from_logits: Whether `y_pred` holds logits.
ignore_index: Label value to drop before counting.
zero_division: Value of an undefined ratio: 0.0, 1.0 or NaN.
name: Metric name.
dtype: Result dtype (the state is exact regardless: float64, or two
    float32 words on JAX without x64).
""",
    "average_arg": """\
average: `"micro"`, `"macro"`, `"weighted"` (by true-class
    support) or None for the per-class vector. The binary task always reports
    the positive class (scikit-learn's `average="binary"`).
per_image: Score each image of `(N, *spatial)` inputs on its own and
    report the mean over images (segmentation_models' `per_image`):
    `mean_i average_c(ratio_ic)`, the image's score by `average` and
    `zero_division`. Needs a spatial axis (an error otherwise). See
    "Per-image scores" in the module documentation.
classes: A subset of class indices to score (segmentation_models'
    `class_indexes`), e.g. `[1, 2]` to leave out background 0; averages run
    over these classes only and `average=None` gives their vector in this
    order. Multiclass and multilabel; distinct indices in `[0, C)`.
""",
    "per_image_arg": """\
per_image: Score each image of `(N, *spatial)` inputs on its own (its
    confusion matrix, with this metric's `zero_division` rule) and report
    the mean over images. Needs a spatial axis (an error otherwise). See
    "Per-image scores" in the module documentation.
""",
}


class _FBetaMetric(_AveragedMetric):
    """F-beta of the counts; `beta` is a class attribute or an argument."""

    beta = 1.0

    def parts_options(self) -> dict[str, Hashable]:
        return {"beta": self.beta}

    @staticmethod
    def parts(counts, *, beta):
        return _confusion.fbeta_parts(counts, beta)


@export
@_docs.fill(**_DOCS)
class FBeta(_FBetaMetric):
    """F-beta score, streaming; equals `sklearn.metrics.fbeta_score`.

    `F_beta = (1 + beta^2) tp / ((1 + beta^2) tp + beta^2 fn + fp)` per class,
    from accumulated counts (never an average of per-batch scores).

    Args:
        beta: Weight of recall relative to precision (> 0).
        {average_arg}
        {common_args}

    Example:

    >>> from keras_components.metrics import FBeta
    >>> m = FBeta(beta=2.0, average="macro")
    >>> m.update_state([0, 1, 2, 2], [[.8, .1, .1], [.2, .7, .1], [.1, .5, .4],
    ...                               [.1, .2, .7]])
    >>> print(round(float(m.result()), 4))
    0.7963

    Reference:
        van Rijsbergen, 1979, "Information Retrieval", chapter 7.
    """

    default_name = "fbeta"

    def __init__(self, beta: float = 1.0, **kwargs: Any) -> None:
        self.beta = check_float("beta", beta, low=0.0, low_inclusive=False)
        super().__init__(**kwargs)

    def get_config(self):
        return {**super().get_config(), "beta": self.beta}


@export
@_docs.fill(**_DOCS)
class F1(_FBetaMetric):
    """F1 score, streaming; equals `sklearn.metrics.f1_score`.

    `F1 = 2 tp / (2 tp + fp + fn)` per class.

    Args:
        {average_arg}
        {common_args}

    Example (a 2x2 segmentation mask, sparse labels, 3 classes):

    >>> import numpy as np
    >>> from keras_components.metrics import F1
    >>> y_true = np.array([[[0, 1], [2, 2]]])               # (N, H, W)
    >>> y_pred = np.eye(3)[[[[0, 1], [1, 2]]]]              # (N, H, W, C)
    >>> m = F1(average=None)
    >>> m.update_state(y_true, y_pred)
    >>> print(np.asarray(m.result()).round(4))
    [1.     0.6667 0.6667]

    Reference:
        https://en.wikipedia.org/wiki/F-score
    """

    default_name = "f1"


@export
@_docs.fill(**_DOCS)
class Dice(_FBetaMetric):
    """Dice coefficient (Sørensen-Dice), streaming; identical to `F1`.

    `Dice = 2 |A & B| / (|A| + |B|) = 2 tp / (2 tp + fp + fn)` per class: the
    segmentation community's name for F1 over pixels.

    Args:
        {average_arg}
        {common_args}

    Example:

    >>> from keras_components.metrics import Dice
    >>> m = Dice(task="binary")
    >>> m.update_state([[1, 1, 0, 0]], [[0.9, 0.2, 0.8, 0.1]])
    >>> print(round(float(m.result()), 4))
    0.5

    Reference:
        Dice, 1945, "Measures of the Amount of Ecologic Association Between
        Species", Ecology 26(3).
    """

    default_name = "dice"


@export
@_docs.fill(**_DOCS)
class Precision(_AveragedMetric):
    """Precision `tp / (tp + fp)`, streaming; equals `sklearn.metrics.precision_score`.

    Args:
        {average_arg}
        {common_args}

    Example:

    >>> from keras_components.metrics import Precision
    >>> m = Precision(average="micro")
    >>> m.update_state([0, 1, 1], [[.9, .1], [.6, .4], [.2, .8]])
    >>> print(round(float(m.result()), 4))
    0.6667
    """

    default_name = "precision"

    @staticmethod
    def parts(counts):
        return counts.tp, counts.tp + counts.fp


@export
@_docs.fill(**_DOCS)
class Recall(_AveragedMetric):
    """Recall `tp / (tp + fn)`, streaming; equals `sklearn.metrics.recall_score`.

    Args:
        {average_arg}
        {common_args}

    Example:

    >>> from keras_components.metrics import Recall
    >>> m = Recall(task="binary", threshold=0.3)
    >>> m.update_state([1, 1, 0, 1], [0.9, 0.2, 0.8, 0.4])
    >>> print(round(float(m.result()), 4))
    0.6667
    """

    default_name = "recall"

    @staticmethod
    def parts(counts):
        return counts.tp, counts.tp + counts.fn


@export
@_docs.fill(**_DOCS)
class Specificity(_AveragedMetric):
    """Specificity (true negative rate) `tn / (tn + fp)`, streaming.

    Per class (one-vs-rest for multiclass, per label for multilabel) the
    fraction of the class's negatives predicted negative. scikit-learn has
    no function of its own: binary equals `recall_score` with the labels
    swapped (`pos_label=0`), per class it is `tn / (tn + fp)` of
    `multilabel_confusion_matrix`. The averages follow `Recall`'s: micro
    pools the classes' counts, macro is the plain mean, weighted weighs
    each class by its true-class support `tp + fn` (as every averaged
    metric here), and classes undefined under `zero_division=nan` are
    left out of the means.

    Args:
        {average_arg}
        {common_args}

    Example:

    >>> from keras_components.metrics import Specificity
    >>> m = Specificity(task="binary")
    >>> m.update_state([0, 0, 0, 1], [0.2, 0.7, 0.1, 0.9])
    >>> print(round(float(m.result()), 4))
    0.6667
    """

    default_name = "specificity"

    @staticmethod
    def parts(counts):
        return counts.tn, counts.tn + counts.fp


@export
@_docs.fill(**_DOCS)
class IoU(_AveragedMetric):
    """Intersection over union (Jaccard index), streaming.

    `IoU = tp / (tp + fp + fn)` per class; equals
    `sklearn.metrics.jaccard_score`, including its averaging (which, unlike
    F-beta's, propagates NaN classes under `zero_division=nan`). The mean IoU
    of a segmentation model is `IoU(average="macro")`.

    Args:
        {average_arg}
        {common_args}

    Example (the void label 255 of a mask is ignored):

    >>> import numpy as np
    >>> from keras_components.metrics import IoU
    >>> y_true = np.array([[0, 1, 255, 1]])
    >>> y_pred = np.eye(2)[[[0, 1, 1, 0]]]
    >>> m = IoU(ignore_index=255, average=None)
    >>> m.update_state(y_true, y_pred)
    >>> print(np.asarray(m.result()).round(4))
    [0.5 0.5]

    Per image (two 2x2 masks scoring 1 and 1/3), foreground only:

    >>> y_true = np.array([[[1, 0], [0, 0]], [[1, 1], [0, 0]]])
    >>> y_pred = np.eye(2)[[[[1, 0], [0, 0]], [[1, 0], [1, 0]]]]
    >>> m = IoU(per_image=True, classes=[1])
    >>> m.update_state(y_true, y_pred)
    >>> print(round(float(m.result()), 4))
    0.6667

    Reference:
        Jaccard, 1912, "The distribution of the flora in the alpine zone",
        New Phytologist 11(2).
    """

    default_name = "iou"
    nan_aware_average = False

    @staticmethod
    def parts(counts):
        return counts.tp, counts.tp + counts.fp + counts.fn


@export
@_docs.fill(**_DOCS)
class Accuracy(_CountMetric):
    """Accuracy, streaming; equals `sklearn.metrics.accuracy_score`.

    Binary / multiclass: the weighted fraction of positions predicted right
    (the confusion matrix's trace over its total). Multilabel: subset
    accuracy, the fraction of positions whose every label is right (labels
    dropped by `ignore_index` do not count). No positions: `zero_division`.
    With `per_image=True`, the mean over images of each image's accuracy
    (multilabel: its subset accuracy).

    Args:
        {per_image_arg}
        {common_args}

    Example:

    >>> from keras_components.metrics import Accuracy
    >>> m = Accuracy()
    >>> m.update_state([0, 2, 1], [[.7, .2, .1], [.1, .1, .8], [.5, .4, .1]])
    >>> print(round(float(m.result()), 4))
    0.6667

    Per image: two 2x2 masks, all right (1.0) and wrong on its one counted
    pixel (0.0), give 0.5 (pooled: 4 of 5 pixels, 0.8):

    >>> import numpy as np
    >>> y_true = np.array([[[1, 1], [0, 0]], [[1, 255], [255, 255]]])
    >>> y_pred = np.eye(2)[[[[1, 1], [0, 0]], [[0, 0], [0, 0]]]]
    >>> m = Accuracy(per_image=True, ignore_index=255)
    >>> m.update_state(y_true, y_pred)
    >>> print(round(float(m.result()), 4))
    0.5
    """

    default_name = "accuracy"
    counts_subsets = True

    @staticmethod
    @_per_image_score
    def score(state, *, task, zero_division):
        if task == "multilabel":
            return _confusion.divide(state["exact"], state["positions"], zero_division)
        return _confusion.accuracy(state["confusion"], zero_division)


@export
@_docs.fill(**_DOCS)
class HammingLoss(_CountMetric):
    """Hamming loss, streaming; equals `sklearn.metrics.hamming_loss`.

    The weighted fraction of labels predicted wrong: binary / multiclass
    `1 - Accuracy` (the confusion matrix off its diagonal over its
    total); multilabel the fraction of wrong cells, `sum(fp + fn)` over
    all counted cells (cells dropped by `ignore_index` do not count). No
    labels: `zero_division`. Lower is better.

    Args:
        {per_image_arg}
        {common_args}

    Example:

    >>> import numpy as np
    >>> from keras_components.metrics import HammingLoss
    >>> m = HammingLoss(task="multilabel")
    >>> m.update_state(np.array([[0, 1], [1, 1]]), np.array([[.2, .8], [.9, .3]]))
    >>> print(round(float(m.result()), 4))
    0.25
    """

    default_name = "hamming_loss"
    direction = "down"

    @staticmethod
    @_per_image_score
    def score(state, *, task, zero_division):
        return _confusion.hamming_loss(state["confusion"], task, zero_division)


class _SingleLabelMetric(_CountMetric):
    """A metric of the full (C, C) matrix; binary and multiclass only."""

    supported_tasks = ("binary", "multiclass")


@export
@_docs.fill(**_DOCS)
class BalancedAccuracy(_SingleLabelMetric):
    """Balanced accuracy: mean recall over the classes present in `y_true`.

    Equals `sklearn.metrics.balanced_accuracy_score` (classes absent from
    `y_true` are left out of the mean, as there). Binary and multiclass; no
    class present gives `zero_division`.

    Args:
        {per_image_arg}
        {common_args}

    Example:

    >>> from keras_components.metrics import BalancedAccuracy
    >>> m = BalancedAccuracy()
    >>> m.update_state([0, 0, 0, 1], [[.9, .1], [.8, .2], [.3, .7], [.4, .6]])
    >>> print(round(float(m.result()), 4))
    0.8333
    """

    default_name = "balanced_accuracy"

    @staticmethod
    @_per_image_score
    def score(state, *, task, zero_division):
        return _confusion.balanced_accuracy(state["confusion"], zero_division)


@export
@_docs.fill(**_DOCS)
class MCC(_SingleLabelMetric):
    """Matthews correlation coefficient, streaming; binary and multiclass.

    `MCC = (c s - t.p) / sqrt((s^2 - p.p) (s^2 - t.t))` over the confusion
    matrix (`c` correct, `s` total, `t`/`p` per-class true/predicted totals);
    equals `sklearn.metrics.matthews_corrcoef`, which gives 0 when the
    denominator is 0 (our `zero_division`, default 0).

    Args:
        {per_image_arg}
        {common_args}

    Example:

    >>> from keras_components.metrics import MCC
    >>> m = MCC(task="binary")
    >>> m.update_state([1, 1, 0, 0, 1], [0.8, 0.3, 0.2, 0.6, 0.9])
    >>> print(round(float(m.result()), 4))
    0.1667

    Reference:
        Gorodkin, 2004, "Comparing two K-category assignments by a K-category
        correlation coefficient", Computational Biology and Chemistry 28(5).
    """

    default_name = "mcc"

    @staticmethod
    @_per_image_score
    def score(state, *, task, zero_division):
        return _confusion.matthews_corrcoef(state["confusion"], zero_division)


@export
@_docs.fill(**_DOCS)
class CohenKappa(_SingleLabelMetric):
    """Cohen's kappa, streaming; equals `sklearn.metrics.cohen_kappa_score`.

    `kappa = 1 - sum(w * O) / sum(w * E)`: `O` the confusion matrix over
    `labels=range(C)`, `E` the outer product of its marginals over the total,
    `zero_division` when undefined (scikit-learn's `replace_undefined_by`).

    Args:
        weights: None (unweighted), `"linear"` or `"quadratic"` disagreement
            weights (the latter two for ordinal labels).
        {per_image_arg}
        {common_args}

    Example:

    >>> from keras_components.metrics import CohenKappa
    >>> m = CohenKappa(weights="quadratic")
    >>> m.update_state([0, 1, 2, 2], [[.8, .1, .1], [.2, .7, .1], [.1, .5, .4],
    ...                               [.1, .2, .7]])
    >>> print(round(float(m.result()), 4))
    0.8

    Reference:
        Cohen, 1960, "A Coefficient of Agreement for Nominal Scales".
    """

    default_name = "cohen_kappa"

    def __init__(self, weights: str | None = None, **kwargs: Any) -> None:
        self.weights = check_choice("weights", weights, (None, "linear", "quadratic"))
        super().__init__(**kwargs)

    def score_options(self) -> dict[str, Hashable]:
        return {**super().score_options(), "weights": self.weights}

    @staticmethod
    @_per_image_score
    def score(state, *, task, zero_division, weights):
        return _confusion.cohen_kappa(state["confusion"], weights, zero_division)

    def get_config(self):
        return {**super().get_config(), "weights": self.weights}


@export
class ConfusionMatrix(_ConfusionMetric):
    """Streaming confusion matrix; equals scikit-learn's.

    Binary / multiclass: `(C, C)`, rows = true class, columns = predicted
    (`sklearn.metrics.confusion_matrix` with `labels=range(C)`; binary C=2).
    Multilabel: `(C, 2, 2)` blocks `[[tn, fp], [fn, tp]]`
    (`sklearn.metrics.multilabel_confusion_matrix`). It takes no `per_image`:
    a confusion matrix is counts, not a score to average over images (the
    pooled matrix is already the sum of the images'). The result is float64 by
    default, so weighted counts stay exact past 2**24 (float32 on JAX without
    `jax_enable_x64`, which has no float64: the state is exact, the result
    its float32 rounding).

    Args:
        normalize: None (weighted counts), `"true"` (rows sum to 1), `"pred"`
            (columns sum to 1) or `"all"`; empty rows/columns give 0, as in
            scikit-learn. Multilabel normalises each 2x2 block.
        task: `"auto"`, `"binary"`, `"multiclass"` or `"multilabel"`.
        num_classes: Number of classes; inferred from `y_pred` when None.
        threshold: Binary / multilabel decision `p > threshold`, in (0, 1);
            None means 0.5. An error with the multiclass task.
        from_logits: Whether `y_pred` holds logits.
        ignore_index: Label value to drop before counting.
        name: Metric name.
        dtype: Result dtype, default float64 (a float64 result is float32 on
            JAX without x64, which has no float64).

    Example:

    >>> import numpy as np
    >>> from keras_components.metrics import ConfusionMatrix
    >>> m = ConfusionMatrix(task="multiclass", num_classes=3)
    >>> m.update_state([0, 1, 2, 2], [[.8, .1, .1], [.2, .7, .1], [.1, .5, .4],
    ...                               [.1, .2, .7]])
    >>> print(np.asarray(m.result()))
    [[1. 0. 0.]
     [0. 1. 0.]
     [0. 1. 1.]]
    """

    default_name = "confusion_matrix"

    def __init__(self, normalize: str | None = None, **kwargs: Any) -> None:
        if "per_image" in kwargs:
            raise TypeError(
                "ConfusionMatrix takes no argument `per_image`: a confusion "
                "matrix is counts, not a score to average over images. Use "
                "the pooled matrix, or a per-image score metric such as "
                f"Accuracy(per_image=True). Received: per_image={kwargs['per_image']!r}"
            )
        self.normalize = check_choice(
            "normalize", normalize, (None, "true", "pred", "all")
        )
        kwargs["dtype"] = kwargs.get("dtype") or "float64"
        super().__init__(**kwargs)

    def score_options(self) -> dict[str, Hashable]:
        return {**super().score_options(), "normalize": self.normalize}

    @staticmethod
    def score(state, *, task, normalize):
        return _confusion.normalize_confusion(state["confusion"], normalize)

    def get_config(self):
        return {**super().get_config(), "normalize": self.normalize}
