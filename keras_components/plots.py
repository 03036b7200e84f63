"""Pictures of training and evaluation: PNG files drawn with matplotlib.

Every function writes one PNG to `path` (parent folders are created) and
returns it as a `pathlib.Path`. Matplotlib is an optional dependency (the
`plot` extra): it is imported only when a function draws, and without it
every function raises an `ImportError` naming
`pip install "keras-components[plot]"`. Figures are drawn with the
non-interactive Agg canvas (`matplotlib.figure.Figure`), never through
`pyplot`, so no window opens and no global figure state is touched: safe in
scripts, servers, tests and callbacks.

- `plot_history(history, path)`: train vs validation curves, one small
  panel per metric, the best epoch marked.
- `plot_roc(metric, path)`, `plot_precision_recall(metric, path)`: the
  curves of an `AUROC` / `AUPRC` metric's state (`curve()`), with the AUC /
  average precision per class in the legend.
- `plot_confusion_matrix(matrix, path)`: an annotated confusion matrix,
  from an array or a `ConfusionMatrix` metric.
- `plot_reliability(metric, path)`: the reliability diagram of a
  `CalibrationError` metric's bins, with the bin counts below.
"""

from __future__ import annotations

import math
import os
import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from keras_components._validation import check_choice, invalid_type, invalid_value

__all__ = [
    "plot_confusion_matrix",
    "plot_history",
    "plot_precision_recall",
    "plot_reliability",
    "plot_roc",
]

INSTALL_HINT = 'pip install "keras-components[plot]"'
# Names read as "lower is better" when no registered metric declares one.
_DOWN_WORDS = ("loss", "error", "hamming", "crossentropy", "divergence")
_DOWN_NAMES = {"mse", "mae", "rmse", "msle", "mape", "logcosh"}
# Logged values that have no better direction (no best epoch is marked).
_NO_DIRECTION = {"lr", "learning_rate"}
_TRAIN_COLOR = "#1f77b4"
_VAL_COLOR = "#ff7f0e"


# --------------------------------------------------------------------------
# matplotlib, lazily
# --------------------------------------------------------------------------
def _figure(**kwargs: Any) -> Any:
    """A new Agg-backed `Figure` (matplotlib imported here, not at import)."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ImportError(
            "keras_components.plots draws with matplotlib, which is not "
            f"installed. Install it with: {INSTALL_HINT}"
        ) from error
    figure = Figure(layout="constrained", **kwargs)
    FigureCanvasAgg(figure)
    return figure


def _save(figure: Any, path: Path) -> Path:
    """Writes `figure` as PNG to `path` atomically (a reader never sees half)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        figure.savefig(partial, format="png", dpi=110)
        os.replace(partial, path)
    finally:
        if partial.exists():
            partial.unlink()
    return path


def _check_path(path: Any) -> Path:
    if not isinstance(path, (str, os.PathLike)) or str(path) == "":
        raise invalid_type("path", "a file path (str or os.PathLike)", path)
    return Path(path)


def _check_names(
    argument: str, names: Any, count: int | None = None
) -> list[str] | None:
    """None, or a list of strings (`count` of them when given)."""
    if names is None:
        return None
    if isinstance(names, str) or not isinstance(names, Iterable):
        raise invalid_type(argument, "a sequence of strings or None", names)
    names = list(names)
    if not all(isinstance(n, str) for n in names):
        raise invalid_type(argument, "a sequence of strings or None", names)
    if count is not None and len(names) != count:
        raise invalid_value(argument, f"{count} names (one per class), or None", names)
    return names


def _class_labels(
    class_names: list[str] | None, count: int, prefix: str = ""
) -> list[str]:
    if class_names is not None:
        return class_names
    return [f"{prefix}{i}" for i in range(count)]


# --------------------------------------------------------------------------
# History
# --------------------------------------------------------------------------
def _scalar(value: Any) -> float | None:
    """A logged value as a float, or None when it is not one number."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return float(array) if array.size == 1 else None


def _aligned_epochs(length: int, total: int) -> np.ndarray:
    """1-based epochs of a series logged `length` times over `total` epochs.

    A series as long as the longest one is every epoch. A shorter one (a
    validation logged every k-th epoch, as Keras's `validation_freq` and
    `ValidationMetrics(every_n_epochs=k)` do) is read as epochs k, 2k, ...
    when its length divides the total, else as the last epochs.
    """
    if length == total or length == 0:
        return np.arange(1, length + 1)
    if total % length == 0:
        stride = total // length
        return stride * np.arange(1, length + 1)
    return np.arange(total - length + 1, total + 1)


def _series_of(history: Any) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """`{log key: (1-based epochs, values)}` from any accepted history form."""
    prefix = "val_"
    if hasattr(history, "history") and hasattr(history, "epochs"):
        # ValidationMetrics: validation series at its reporting epochs only.
        prefix = getattr(history, "prefix", prefix) or prefix
        epochs = np.asarray(list(history.epochs), np.int64) + 1
        raw = history.history
        if not isinstance(raw, Mapping):
            raise invalid_type("history", "a `history` dict", history)
        out = {}
        for key, values in raw.items():
            values = list(values)
            name = key if str(key).startswith(prefix) else f"{prefix}{key}"
            if len(values) != len(epochs):
                raise invalid_value(
                    "history",
                    f"as many values per metric as `epochs` ({len(epochs)}); "
                    f"{key!r} has {len(values)}",
                    history,
                )
            out[name] = (epochs, values)
        return _numeric(out, prefix)
    if isinstance(history, Mapping):
        raw = history
    elif hasattr(history, "history") and isinstance(history.history, Mapping):
        raw = history.history  # keras.callbacks.History
    else:
        raise invalid_type(
            "history",
            "a keras.callbacks.History, its `.history` dict, or an object with "
            "`.history` and `.epochs` (ValidationMetrics)",
            history,
        )
    lists = {str(k): list(v) for k, v in raw.items()}
    total = max((len(v) for v in lists.values()), default=0)
    return _numeric(
        {k: (_aligned_epochs(len(v), total), v) for k, v in lists.items()}, prefix
    )


def _numeric(
    series: dict[str, tuple[np.ndarray, list]], prefix: str
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Keeps the series of plain numbers (matrices and vectors are left out)."""
    out = {}
    for key, (epochs, values) in series.items():
        numbers = [_scalar(v) for v in values]
        if not numbers or any(n is None for n in numbers):
            continue
        out[key] = (np.asarray(epochs), np.asarray(numbers, np.float64))
    return {_canonical(k, prefix): v for k, v in out.items()}


def _canonical(key: str, prefix: str) -> str:
    """Validation keys as `val_<name>` whatever the callback's prefix."""
    if prefix != "val_" and key.startswith(prefix):
        return "val_" + key[len(prefix) :]
    return key


def _registered_directions() -> dict[str, str]:
    """`{default name: direction}` of this package's metrics."""
    from keras_components import metrics as package_metrics

    out = {}
    for name in package_metrics.__all__:
        cls = getattr(package_metrics, name)
        default = getattr(cls, "default_name", None)
        direction = getattr(cls, "direction", None)
        if isinstance(default, str) and direction in ("up", "down"):
            out[default] = direction
    return out


def _direction(name: str, directions: Mapping[str, str]) -> str | None:
    """`"up"`, `"down"` or None (no best epoch) for a metric's base name."""
    for candidate in (name, re.sub(r"_\d+$", "", name)):
        if candidate in directions:
            return directions[candidate]
    if name in _NO_DIRECTION:
        return None
    registered = _registered_directions()
    for candidate in (name, re.sub(r"_\d+$", "", name)):
        if candidate in registered:
            return registered[candidate]
    lowered = name.lower()
    if lowered in _DOWN_NAMES or any(word in lowered for word in _DOWN_WORDS):
        return "down"
    return "up"


def _panels(
    series: dict[str, tuple[np.ndarray, np.ndarray]], metrics: list[str] | None
) -> list[str]:
    """The base names to draw, `loss` first, in order of appearance."""
    names: list[str] = []
    for key in series:
        base = key[4:] if key.startswith("val_") else key
        if base not in names:
            names.append(base)
    if metrics is not None:
        missing = [m for m in metrics if m not in names]
        if missing:
            raise invalid_value(
                "metrics",
                f"names found in the history ({', '.join(names) or 'none'}; "
                "without the `val_` prefix)",
                metrics,
            )
        return list(dict.fromkeys(metrics))
    # Per-class keys (`val_f1/cat`) would crowd the picture: by name only.
    names = [n for n in names if "/" not in n]
    return sorted(names, key=lambda n: n != "loss")


def plot_history(
    history: Any,
    path: Any,
    *,
    metrics: Sequence[str] | None = None,
    directions: Mapping[str, str] | None = None,
) -> Path:
    """Draws train vs validation curves per metric, best epoch marked, to a PNG.

    One small panel per metric (`loss` first), the training series (`name`)
    solid and the validation one (`val_name`) dashed, epochs numbered from 1
    as Keras's progress bar does. The best epoch is marked on the validation
    series (the training one when there is none) with a star, a dotted line
    and its value in the legend; "best" is the lowest value for losses and
    metrics whose direction is "down", else the highest. The direction comes
    from `directions`, else from this package's metric of that name (its
    declared direction), else from the name: `loss`, `error`, `hamming`,
    `crossentropy` and `mse`-style names are "down". `learning_rate` is drawn
    without a mark. Values that are not single numbers (confusion matrices,
    per-class vectors) are left out, and so are per-class keys
    (`val_f1/<class>`) unless named in `metrics`.

    Args:
        history: A `keras.callbacks.History` (what `fit` returns), its
            `.history` dict (`{key: [value per epoch]}`), or an object with
            `.history` (`{name: [value]}`) and `.epochs` (0-based epoch of
            each value) such as `ValidationMetrics`, whose series are all
            validation series, drawn at those epochs. In the dict forms a
            series shorter than the longest one (validation every k epochs)
            is drawn at epochs k, 2k, ... when its length divides the number
            of epochs, else at the last epochs.
        path: The PNG file to write (parent folders are created).
        metrics: The base names (without `val_`) to draw, in order; None
            draws every scalar series.
        directions: Optional `{base name: "up" | "down"}` overriding the
            direction of any metric.

    Returns:
        `path` as a `pathlib.Path`.

    Raises:
        ImportError: matplotlib is not installed.
        ValueError: Nothing to draw, or a name in `metrics` not in the
            history.

    Example:

    >>> import tempfile, pathlib
    >>> from keras_components.plots import plot_history
    >>> history = {"loss": [0.9, 0.6, 0.5], "val_loss": [1.0, 0.7, 0.75],
    ...            "f1": [0.5, 0.7, 0.8], "val_f1": [0.4, 0.65, 0.6]}
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     out = plot_history(history, pathlib.Path(folder) / "curves.png")
    ...     print(out.name, out.stat().st_size > 0)
    curves.png True
    """
    path = _check_path(path)
    metrics = _check_names("metrics", metrics)
    series = _series_of(history)
    return _plot_series(series, path, metrics=metrics, directions=directions)


def _check_directions(directions: Any) -> dict[str, str]:
    if directions is None:
        return {}
    if not isinstance(directions, Mapping):
        raise invalid_type("directions", 'a dict {name: "up" | "down"}', directions)
    for value in directions.values():
        if value not in ("up", "down"):
            raise invalid_value(
                "directions", 'a dict {name: "up" | "down"}', directions
            )
    return dict(directions)


def _plot_series(
    series: dict[str, tuple[np.ndarray, np.ndarray]],
    path: Path,
    *,
    metrics: list[str] | None,
    directions: Mapping[str, str] | None,
) -> Path:
    """`plot_history` of `{key: (1-based epochs, values)}`."""
    directions = _check_directions(directions)
    names = _panels(series, metrics)
    if not names:
        raise ValueError(
            "Invalid value for argument `history`. Expected at least one series "
            f"of numbers to plot. Received: history with keys {sorted(series)}"
        )
    columns = min(len(names), 3)
    rows = math.ceil(len(names) / columns)
    figure = _figure(figsize=(4.4 * columns, 3.3 * rows + 0.4))
    axes = figure.subplots(rows, columns, squeeze=False)
    last_epoch = max(int(e.max()) for e, _ in series.values() if e.size)
    for ax, name in zip(axes.flat, names, strict=False):
        _history_panel(ax, name, series, _direction(name, directions), last_epoch)
    for ax in list(axes.flat)[len(names) :]:
        ax.set_visible(False)
    epochs = f"{last_epoch} epoch" + ("" if last_epoch == 1 else "s")
    figure.suptitle(f"Training curves ({epochs})", fontweight="bold")
    return _save(figure, path)


def _history_panel(
    ax: Any,
    name: str,
    series: dict[str, tuple[np.ndarray, np.ndarray]],
    direction: str | None,
    last_epoch: int,
) -> None:
    from matplotlib.ticker import MaxNLocator

    train = series.get(name)
    val = series.get(f"val_{name}")
    marker = "o" if last_epoch <= 30 else None

    def label(which, values):
        # Say so, rather than a legend entry with nothing drawn.
        return which if np.isfinite(values).any() else f"{which} (no finite values)"

    if train is not None:
        ax.plot(
            *train,
            color=_TRAIN_COLOR,
            marker=marker,
            ms=3,
            label=label("train", train[1]),
        )
    if val is not None:
        ax.plot(
            *val,
            color=_VAL_COLOR,
            ls="--",
            marker=marker if val[0].size <= 30 else None,
            ms=3,
            label=label("validation", val[1]),
        )
    judged = val if val is not None else train
    if direction is not None and judged is not None:
        epochs, values = judged
        finite = np.isfinite(values)
        if finite.any():
            pick = np.nanargmin if direction == "down" else np.nanargmax
            i = int(pick(np.where(finite, values, np.nan)))
            which = "validation" if judged is val else "train"
            ax.axvline(epochs[i], color="0.4", ls=":", lw=1)
            ax.plot(
                epochs[i],
                values[i],
                marker="*",
                ms=14,
                color="#d62728",
                ls="none",
                zorder=5,
                label=f"best {which}: {values[i]:.4g} @ epoch {int(epochs[i])}",
            )
    better = {"down": "lower is better", "up": "higher is better"}.get(direction or "")
    ax.set_title(name if better is None else f"{name} ({better})", fontsize=10)
    ax.set_xlabel("epoch")
    ax.set_ylabel(name)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    # Whole epochs only, even for a single one (auto limits around one
    # point give ticks at 0.95, 0.975, ...).
    ax.set_xlim(0.5, last_epoch + 0.5)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")


# --------------------------------------------------------------------------
# ROC and precision-recall
# --------------------------------------------------------------------------
def _curves_of(metric: Any, kind: str, class_names: Any) -> tuple[list, list[str]]:
    """The metric's curves as a list, and one label per curve."""
    from keras_components.metrics import _curves
    from keras_components.metrics._ranking import _BinnedRankingMetric

    if not isinstance(metric, _BinnedRankingMetric):
        raise invalid_type(
            "metric", "a keras_components AUROC or AUPRC metric (updated)", metric
        )
    options = {"drop_intermediate": kind == "roc"}
    with warnings.catch_warnings():  # undefined classes show in the legend
        warnings.simplefilter("ignore", UserWarning)
        curves = _curves.metric_curves(metric, kind, **options)
    binary = not isinstance(curves, list)
    curves = [curves] if binary else curves
    if binary:
        names = _check_names("class_names", class_names)
        if names is not None and len(names) not in (1, 2):
            raise invalid_value(
                "class_names",
                "1 name (the positive class) or 2 (negative, positive) for "
                "the binary task, or None",
                class_names,
            )
        labels = [names[-1] if names else "positive class"]
    else:
        labels = _class_labels(
            _check_names("class_names", class_names, len(curves)),
            len(curves),
            prefix="class ",
        )
    return curves, labels


def _colors(count: int) -> list[Any]:
    from matplotlib import colormaps

    cmap = colormaps["tab10" if count <= 10 else "tab20"]
    return [cmap(i % cmap.N) for i in range(count)]


def plot_roc(
    metric: Any, path: Any, *, class_names: Sequence[str] | None = None
) -> Path:
    """Draws the ROC curve(s) of an `AUROC` (or `AUPRC`) metric to a PNG.

    The curves are `metric.curve()` (read from the streaming state: exact at
    the bin thresholds), one per class for the multiclass (one-vs-rest) and
    multilabel tasks, with each class's AUC (the trapezoid under its curve,
    equal to `AUROC(average=None).result()`) in the legend and the chance
    diagonal. A class seen without positives or without negatives has no
    curve and is listed as undefined.

    Args:
        metric: An updated `AUROC` or `AUPRC` (both keep the histograms).
        path: The PNG file to write.
        class_names: One name per class (binary: the positive class's, or
            the two classes' names); None numbers them.

    Returns:
        `path` as a `pathlib.Path`.

    Raises:
        ImportError: matplotlib is not installed.
        ValueError: The metric has no data (or counted invalid inputs).
    """
    path = _check_path(path)
    curves, labels = _curves_of(metric, "roc", class_names)
    figure = _figure(figsize=(5.6, 5.2))
    ax = figure.add_subplot()
    ax.plot([0, 1], [0, 1], color="0.6", ls="--", lw=1, label="chance (AUC = 0.5)")
    for curve, label, color in zip(curves, labels, _colors(len(curves)), strict=True):
        if np.isnan(curve.fpr).any() or np.isnan(curve.tpr).any():
            ax.plot([], [], color=color, label=f"{label}: undefined (one class only)")
            continue
        area = float(np.trapezoid(curve.tpr, curve.fpr))
        ax.plot(
            curve.fpr, curve.tpr, color=color, lw=2, label=f"{label} (AUC = {area:.4f})"
        )
    _unit_axes(ax, "False positive rate", "True positive rate")
    ax.set_title(f"ROC curve — {metric.name}", fontweight="bold")
    ax.legend(loc="lower right", fontsize=8)
    return _save(figure, path)


def plot_precision_recall(
    metric: Any, path: Any, *, class_names: Sequence[str] | None = None
) -> Path:
    """Draws the precision-recall curve(s) of an `AUPRC` (or `AUROC`) to a PNG.

    Step curves (as scikit-learn's `PrecisionRecallDisplay`) from
    `metric.curve()`, one per class for the multiclass (one-vs-rest) and
    multilabel tasks, with each class's average precision
    (`-sum(diff(recall) * precision[:-1])`, equal to
    `AUPRC(average=None).result()`) in the legend and, dotted, its
    prevalence: the precision of a random ranking. A class without
    positives is listed as undefined.

    Args:
        metric: An updated `AUPRC` or `AUROC` (both keep the histograms).
        path: The PNG file to write.
        class_names: One name per class (binary: the positive class's, or
            the two classes' names); None numbers them.

    Returns:
        `path` as a `pathlib.Path`.

    Raises:
        ImportError: matplotlib is not installed.
        ValueError: The metric has no data (or counted invalid inputs).
    """
    path = _check_path(path)
    curves, labels = _curves_of(metric, "pr", class_names)
    figure = _figure(figsize=(5.6, 5.2))
    ax = figure.add_subplot()
    for curve, label, color in zip(curves, labels, _colors(len(curves)), strict=True):
        # The precision at the lowest threshold (everything predicted
        # positive) is the prevalence: 0 exactly when there are no positives.
        prevalence = float(curve.precision[0])
        if prevalence == 0:
            ax.plot([], [], color=color, label=f"{label}: undefined (no positives)")
            continue
        ap = float(-np.sum(np.diff(curve.recall) * curve.precision[:-1]))
        ax.plot(
            curve.recall,
            curve.precision,
            drawstyle="steps-post",
            color=color,
            lw=2,
            label=f"{label} (AP = {ap:.4f})",
        )
        ax.axhline(prevalence, color=color, ls=":", lw=1)
    ax.plot([], [], color="0.4", ls=":", lw=1, label="prevalence (chance)")
    _unit_axes(ax, "Recall", "Precision")
    ax.set_title(f"Precision-recall curve — {metric.name}", fontweight="bold")
    ax.legend(loc="lower left", fontsize=8)
    return _save(figure, path)


def _unit_axes(ax: Any, xlabel: str, ylabel: str) -> None:
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.set_aspect("equal")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)


# --------------------------------------------------------------------------
# Confusion matrix
# --------------------------------------------------------------------------
def _normalized(matrix: np.ndarray, normalize: str | None) -> np.ndarray:
    """scikit-learn's `confusion_matrix(normalize=...)`, 0/0 -> 0."""
    if normalize is None:
        return matrix
    axes: dict[str, int | tuple[int, int]] = {
        "true": -1,
        "pred": -2,
        "all": (-2, -1),
    }
    axis = axes[normalize]
    totals = np.sum(matrix, axis=axis, keepdims=True)
    return np.divide(matrix, totals, out=np.zeros_like(matrix), where=totals > 0)


def _matrix_of(matrix: Any) -> tuple[np.ndarray, str | None]:
    """`(counts, the metric's own normalize)` from an array or a metric."""
    from keras_components.metrics import ConfusionMatrix

    if isinstance(matrix, ConfusionMatrix):
        if not matrix.state_built:
            raise ValueError(
                f"Invalid value for argument `matrix`. Expected a ConfusionMatrix "
                f"that has seen data. Received: matrix={matrix.name!r} (not "
                "updated yet)"
            )
        from keras_components import _inputs

        counts = _inputs.concrete_value(matrix.state_values()["confusion"])
        if counts is None:
            raise RuntimeError(
                "plot_confusion_matrix reads the metric's state eagerly; it "
                "cannot run while traced."
            )
        return np.asarray(counts, np.float64), matrix.normalize
    try:
        array = np.asarray(matrix, np.float64)
    except (TypeError, ValueError):
        raise invalid_type(
            "matrix", "a NumPy array or a ConfusionMatrix metric", matrix
        ) from None
    return array, None


def plot_confusion_matrix(
    matrix: Any,
    path: Any,
    *,
    class_names: Sequence[str] | None = None,
    normalize: str | None = None,
) -> Path:
    """Draws an annotated confusion matrix to a PNG.

    Rows are true classes and columns predicted ones, as
    `sklearn.metrics.confusion_matrix`; each cell shows its count (or
    fraction when normalised) and is shaded by it. A multilabel matrix
    `(C, 2, 2)` (`multilabel_confusion_matrix`, blocks `[[tn, fp], [fn, tp]]`)
    is drawn as one small panel per class. Cell texts are left out beyond 30
    classes (the shading stays).

    Args:
        matrix: A `(C, C)` (or `(C, 2, 2)`) array of counts, or a
            `keras_components.metrics.ConfusionMatrix` (its weighted counts
            are read from the state; its own `normalize` applies when this
            function's is None).
        path: The PNG file to write.
        class_names: One name per class; None numbers them.
        normalize: None (counts), `"true"` (rows sum to 1), `"pred"`
            (columns sum to 1) or `"all"`, as scikit-learn's; empty rows or
            columns give 0.

    Returns:
        `path` as a `pathlib.Path`.

    Raises:
        ImportError: matplotlib is not installed.
        ValueError: Not a square (or `(C, 2, 2)`) matrix of finite
            counts `>= 0`, or `class_names` of the wrong length.

    Example:

    >>> import tempfile, pathlib
    >>> import numpy as np
    >>> from keras_components.plots import plot_confusion_matrix
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     out = plot_confusion_matrix(np.array([[5, 1], [2, 7]]),
    ...                                 pathlib.Path(folder) / "cm.png",
    ...                                 class_names=["cat", "dog"],
    ...                                 normalize="true")
    ...     print(out.name)
    cm.png
    """
    path = _check_path(path)
    normalize = check_choice("normalize", normalize, (None, "true", "pred", "all"))
    counts, own = _matrix_of(matrix)
    square = counts.ndim == 2 and counts.shape[0] == counts.shape[1] > 0
    blocks = counts.ndim == 3 and counts.shape[1:] == (2, 2) and counts.shape[0] > 0
    if not (square or blocks):
        raise invalid_value(
            "matrix",
            "a square (C, C) confusion matrix or (C, 2, 2) multilabel blocks",
            f"array of shape {counts.shape}",
        )
    if not np.all(np.isfinite(counts)) or np.any(counts < 0):
        raise invalid_value(
            "matrix", "finite counts >= 0", f"array with values {counts.ravel()[:8]}"
        )
    normalize = normalize if normalize is not None else own
    values = _normalized(counts, normalize)
    classes = counts.shape[0]
    names = _class_labels(_check_names("class_names", class_names, classes), classes)
    if square:
        size = min(max(4.8, 0.55 * classes + 2.8), 16.0)
        figure = _figure(figsize=(size + 1.0, size))
        _matrix_panel(figure, figure.add_subplot(), values, names, names, normalize)
    else:
        columns = min(classes, 4)
        rows = math.ceil(classes / columns)
        figure = _figure(figsize=(3.4 * columns, 3.1 * rows + 0.4))
        axes = figure.subplots(rows, columns, squeeze=False)
        for c, ax in enumerate(axes.flat):
            if c >= classes:
                ax.set_visible(False)
                continue
            _matrix_panel(figure, ax, values[c], ["0", "1"], ["0", "1"], normalize)
            ax.set_title(names[c], fontsize=10)
    suffix = {
        None: "counts",
        "true": "normalised over true labels (rows)",
        "pred": "normalised over predictions (columns)",
        "all": "normalised over all samples",
    }[normalize]
    figure.suptitle(f"Confusion matrix — {suffix}", fontweight="bold")
    return _save(figure, path)


def _matrix_panel(
    figure: Any,
    ax: Any,
    values: np.ndarray,
    rows: list[str],
    columns: list[str],
    normalize: str | None,
) -> None:
    top = float(values.max()) if values.size else 0.0
    image = ax.imshow(values, cmap="Blues", vmin=0.0, vmax=top if top > 0 else 1.0)
    figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    n_rows, n_cols = values.shape
    if n_rows <= 30:
        integral = normalize is None and np.all(values == np.round(values))
        for i in range(n_rows):
            for j in range(n_cols):
                v = values[i, j]
                text = (
                    f"{int(v)}"
                    if integral
                    else (f"{v:.2f}" if normalize is not None else f"{v:.3g}")
                )
                dark = top > 0 and v > 0.5 * top
                ax.text(
                    j,
                    i,
                    text,
                    ha="center",
                    va="center",
                    fontsize=9 if n_rows <= 12 else 7,
                    color="white" if dark else "black",
                )
    ax.set_xticks(range(n_cols), labels=columns, rotation=45 if n_cols > 6 else 0)
    ax.set_yticks(range(n_rows), labels=rows)
    ax.set_xlabel("Predicted label")
    ax.set_ylabel("True label")


# --------------------------------------------------------------------------
# Reliability diagram
# --------------------------------------------------------------------------
_NORM_NAMES = {"l1": "ECE", "l2": "RMSCE", "max": "MCE"}


def _bins_of(metric: Any) -> Any:
    """The `CalibrationBins` of an updated `CalibrationError`."""
    from keras_components.metrics import CalibrationError

    if not isinstance(metric, CalibrationError):
        raise invalid_type(
            "metric", "a keras_components CalibrationError metric (updated)", metric
        )
    if not metric.state_built:
        raise ValueError(
            "Invalid value for argument `metric`. Expected a CalibrationError "
            f"that has seen data. Received: metric={metric.name!r} (not "
            "updated yet)"
        )
    bins = metric.bins()
    if not np.sum(bins.weight) > 0:
        raise ValueError(
            "Invalid value for argument `metric`. Expected a CalibrationError "
            f"that has seen data (a total weight > 0). Received: "
            f"metric={metric.name!r} with total weight {np.sum(bins.weight):g}"
        )
    return bins


def plot_reliability(metric: Any, path: Any) -> Path:
    """Draws the reliability diagram of a `CalibrationError` metric to a PNG.

    Top: one bar per confidence bin at its accuracy (binary: the fraction of
    positives), the bin's mean confidence marked on it, the gap between the
    two shaded, and the diagonal of perfect calibration; the title gives
    `result()` (ECE, RMSCE or MCE, by the metric's `norm`). Bottom: the
    (weighted) number of samples per bin. The bin of confidence exactly 1
    (torchmetrics' extra bin) is drawn as a point at 1 when it holds any
    weight. Everything is read from the metric's state (`metric.bins()`),
    so it is the data `result()` was computed from.

    Args:
        metric: An updated `CalibrationError`.
        path: The PNG file to write.

    Returns:
        `path` as a `pathlib.Path`.

    Raises:
        ImportError: matplotlib is not installed.
        TypeError: `metric` is not a `CalibrationError`.
        ValueError: The metric has no data (or counted invalid inputs).

    Example:

    >>> import tempfile, pathlib
    >>> import numpy as np
    >>> from keras_components.metrics import CalibrationError
    >>> from keras_components.plots import plot_reliability
    >>> metric = CalibrationError(num_bins=5)
    >>> metric.update_state([0, 1, 1, 0, 1, 1], [0.1, 0.9, 0.7, 0.4, 0.6, 1.0])
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     out = plot_reliability(metric, pathlib.Path(folder) / "rel.png")
    ...     print(out.name)
    rel.png
    """
    path = _check_path(path)
    bins = _bins_of(metric)
    binary = metric.state_built and metric._spec[0] == "binary"
    value = float(np.asarray(metric.result()))
    n = metric.num_bins
    lower, upper = bins.lower[:n], bins.upper[:n]
    width = upper - lower
    filled = bins.weight[:n] > 0
    figure = _figure(figsize=(5.6, 6.6))
    top, bottom = figure.subplots(
        2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1]}
    )
    top.plot([0, 1], [0, 1], color="0.5", ls="--", lw=1, label="perfect calibration")
    top.bar(
        lower[filled],
        bins.accuracy[:n][filled],
        width=width[filled],
        align="edge",
        color=_TRAIN_COLOR,
        edgecolor="white",
        alpha=0.85,
        label="fraction of positives" if binary else "accuracy",
    )
    gap_low = np.minimum(bins.accuracy[:n], bins.confidence[:n])[filled]
    gap = np.abs(bins.accuracy[:n] - bins.confidence[:n])[filled]
    top.bar(
        lower[filled],
        gap,
        bottom=gap_low,
        width=width[filled],
        align="edge",
        color="#d62728",
        alpha=0.3,
        hatch="//",
        edgecolor="#d62728",
        lw=0,
        label="gap to mean confidence",
    )
    top.plot(
        bins.confidence[:n][filled],
        bins.accuracy[:n][filled],
        "o",
        color=_VAL_COLOR,
        ms=4,
        label="accuracy at the mean confidence",
    )
    if bins.weight[n] > 0:
        top.plot(
            [1.0],
            [bins.accuracy[n]],
            "D",
            color="#2ca02c",
            ms=6,
            label="confidence = 1 (own bin)",
        )
    top.set_xlim(-0.02, 1.02)
    top.set_ylim(-0.02, 1.02)
    top.set_ylabel("Fraction of positives" if binary else "Accuracy")
    top.grid(alpha=0.3)
    top.legend(loc="upper left", fontsize=8)
    name = _NORM_NAMES[metric.norm]
    top.set_title(
        f"Reliability diagram — {metric.name}: {name} = {value:.4f} ({n} bins)",
        fontweight="bold",
        fontsize=10,
    )
    bottom.bar(
        lower,
        bins.weight[:n],
        width=width,
        align="edge",
        color="0.55",
        edgecolor="white",
    )
    if bins.weight[n] > 0:
        bottom.bar([1.0], [bins.weight[n]], width=0.01, color="#2ca02c")
    bottom.set_xlabel(
        "Predicted probability of class 1" if binary else "Confidence (top-label)"
    )
    bottom.set_ylabel("Samples")
    bottom.grid(alpha=0.3, axis="y")
    return _save(figure, path)
