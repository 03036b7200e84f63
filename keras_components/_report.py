"""The validation report shared by `keras-components demo` and `evaluate`.

One set of our streaming metrics per task, each paired with the
scikit-learn function it equals and the tolerance it is documented to meet;
the comparison against scikit-learn on the same predictions; the summary
table; the pictures. The commands differ only in where the predictions come
from (the `ValidationMetrics` callback during training, or a saved model).
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

TASKS = ("binary", "multiclass")
COUNTING_TOLERANCE = 1e-6  # the confusion family equals scikit-learn to 1e-6
LOG_LOSS_TOLERANCE = 1e-5  # relative: float32 logits against float64 sklearn
AUROC_TOLERANCE = 1e-4  # documented defaults of the binned ranking metrics
AUPRC_TOLERANCE = 1e-3
CALIBRATION_TOLERANCE = 1e-5  # float32 confidences, float64 sums


@dataclasses.dataclass(frozen=True)
class Task:
    """What the model predicts: the task, its classes and its output form."""

    kind: str  # "binary" (one output, the positive class) or "multiclass"
    num_classes: int
    from_logits: bool
    class_names: tuple[str, ...]

    @classmethod
    def make(
        cls,
        kind: str,
        num_classes: int,
        *,
        from_logits: bool,
        class_names: Sequence[str] | None = None,
    ) -> Task:
        if kind not in TASKS:
            raise ValueError(
                "Invalid value for argument `task`. Expected one of "
                f"{', '.join(TASKS)}. Received: task={kind!r}"
            )
        names = tuple(str(c) for c in class_names or range(num_classes))
        if len(names) != num_classes:
            raise ValueError(
                "Invalid value for argument `class_names`. Expected "
                f"{num_classes} names, one per class. Received: "
                f"class_names={list(names)}"
            )
        return cls(kind, num_classes, from_logits, names)


def report_metrics(task: Task) -> list[Any]:
    """Our metrics for the report, in table order (the matrix last)."""
    from keras_components import metrics

    options: dict[str, Any] = {"from_logits": task.from_logits}
    if task.kind == "multiclass":
        options["num_classes"] = task.num_classes
    # Binary: the best F1 over the thresholds, and its threshold (`best_threshold`).
    best = [metrics.BestThreshold("f1", **options)] if task.kind == "binary" else []
    return [
        metrics.Accuracy(**options),
        metrics.BalancedAccuracy(**options),
        metrics.Precision(**options),
        metrics.Recall(**options),
        metrics.F1(**options),
        metrics.MCC(**options),
        metrics.AUROC(**options),
        metrics.AUPRC(**options),
        *best,
        metrics.LogLoss(from_logits=task.from_logits),
        metrics.CalibrationError(from_logits=task.from_logits),
        metrics.ConfusionMatrix(**options),
    ]


def probabilities(outputs: np.ndarray, task: Task) -> np.ndarray:
    """Model outputs as float64 probabilities: (N,) binary, (N, C) multiclass."""
    z = np.asarray(outputs, dtype="float64").reshape(len(outputs), -1)
    if task.kind == "binary":
        z = z[:, 0]
        return 1.0 / (1.0 + np.exp(-z)) if task.from_logits else z
    if not task.from_logits:
        # As the model gave them: neither our metrics nor scikit-learn
        # renormalise rows (half-precision softmax rows are off by ~1e-3, and
        # renormalising them changed the reference, not ours).
        return z
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def class_labels(y_true: np.ndarray, task: Task) -> np.ndarray:
    """Integer labels (N,) from labels or one-hot rows (validated by our metrics)."""
    y = np.asarray(y_true)
    if y.ndim == 2 and y.shape[1] == task.num_classes and task.num_classes > 1:
        return y.argmax(axis=1).astype("int64")
    return y.reshape(len(y)).astype("int64")


def _references(
    task: Task, eps: float
) -> dict[str, tuple[str, Callable[..., float], float]]:
    """Metric name -> (scikit-learn function, its call, tolerance).

    `eps`: where our LogLoss clips the outputs' probabilities (the machine
    epsilon of their dtype, float32 for half precision).
    """
    from sklearn import metrics as skm

    labels = list(range(task.num_classes))
    average = "binary" if task.kind == "binary" else "macro"
    by_label = {"average": average} | (
        {} if average == "binary" else {"labels": labels}
    )

    def hard(fn, **kw):
        return lambda y, p, yhat: fn(y, yhat, **kw)

    def ranking(fn):
        if task.kind == "binary":
            return lambda y, p, yhat: fn(y, p)
        # One-vs-rest macro on one-hot targets: what `multi_class="ovr"`
        # computes, without its check that rows sum to 1 (they need not).
        return lambda y, p, yhat: fn(np.eye(task.num_classes)[y], p, average="macro")

    def log_loss(y, p, yhat):
        if not task.from_logits:
            # Our LogLoss clips probabilities to [eps, 1 - eps] with eps of
            # their dtype, float32 for half precision (scikit-learn's rule);
            # scikit-learn on the float64 copy would clip at 2e-16 instead.
            p = np.clip(p, eps, 1.0 - eps)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # rows not summing to 1
            return skm.log_loss(
                y, p, labels=labels if task.kind == "multiclass" else None
            )

    return {
        "accuracy": ("accuracy_score", hard(skm.accuracy_score), COUNTING_TOLERANCE),
        "balanced_accuracy": (
            "balanced_accuracy_score",
            hard(skm.balanced_accuracy_score),
            COUNTING_TOLERANCE,
        ),
        "precision": (
            "precision_score",
            hard(skm.precision_score, zero_division=0.0, **by_label),
            COUNTING_TOLERANCE,
        ),
        "recall": (
            "recall_score",
            hard(skm.recall_score, zero_division=0.0, **by_label),
            COUNTING_TOLERANCE,
        ),
        "f1": (
            "f1_score",
            hard(skm.f1_score, zero_division=0.0, **by_label),
            COUNTING_TOLERANCE,
        ),
        "mcc": ("matthews_corrcoef", hard(skm.matthews_corrcoef), COUNTING_TOLERANCE),
        "auroc": ("roc_auc_score", ranking(skm.roc_auc_score), AUROC_TOLERANCE),
        "auprc": (
            "average_precision_score",
            ranking(skm.average_precision_score),
            AUPRC_TOLERANCE,
        ),
        "best_f1": ("precision_recall_curve", _best_f1, COUNTING_TOLERANCE),
        "log_loss": ("log_loss", log_loss, LOG_LOSS_TOLERANCE),
    }


def _best_f1(y: np.ndarray, p: np.ndarray, yhat: np.ndarray) -> float:
    """The largest F1 over the points of scikit-learn's precision-recall curve.

    Exact on the scores; `BestThreshold` is at most its `error_bound()` below.
    """
    from sklearn.metrics import precision_recall_curve

    del yhat
    precision, recall, _ = precision_recall_curve(y, p)
    total = precision + recall
    f1 = 2 * precision * recall / np.where(total > 0, total, 1.0)
    return float(f1.max())


def best_threshold(metrics: Sequence[Any]) -> dict[str, Any] | None:
    """The `BestThreshold` metric's value and threshold (None: not reported).

    `threshold` is on the model's output scale (a logit for logits), and
    `probability` the same threshold as a probability.
    """
    found = [m for m in metrics if type(m).__name__ == "BestThreshold"]
    if not found:
        return None
    metric = found[0]
    threshold = float(np.asarray(metric.threshold()))
    with np.errstate(over="ignore"):
        probability = (
            1.0 / (1.0 + np.exp(-threshold)) if metric.from_logits else threshold
        )
    return {
        "metric": metric.metric,
        "value": float(np.asarray(metric.result())),
        "threshold": threshold,
        "probability": float(probability),
        "rule": "predict positive where the output >= threshold",
    }


def format_best_threshold(best: dict[str, Any]) -> str:
    """One line for the summary."""
    return (
        f"Best threshold ({best['metric'].upper()} {best['value']:.4f}): output >= "
        f"{best['threshold']:.4g} (probability {best['probability']:.4g})"
    )


@dataclasses.dataclass(frozen=True)
class Row:
    """One line of the summary: our value against scikit-learn's."""

    name: str
    ours: float
    reference: float
    function: str
    tolerance: float

    @property
    def gap(self) -> float:
        return abs(self.ours - self.reference)

    @property
    def allowed(self) -> float:
        relative = self.name == "log_loss"
        return self.tolerance * (max(1.0, abs(self.reference)) if relative else 1.0)

    @property
    def passed(self) -> bool:
        both_nan = math.isnan(self.ours) and math.isnan(self.reference)
        return both_nan or self.gap <= self.allowed


def compare(
    results: dict[str, Any],
    y_true: np.ndarray,
    outputs: np.ndarray,
    task: Task,
    *,
    bounds: dict[str, float] | None = None,
) -> tuple[list[Row], Row]:
    """Our results against scikit-learn on the same predictions.

    Args:
        results: our metric name -> value (scalars and the confusion matrix).
        y_true: the targets the metrics were fed.
        outputs: the model's outputs for them.
        task: what the outputs mean.
        bounds: a binned metric's worst-case error bound (`error_bound()`);
            the tolerance is the larger of it and the documented default.

    Returns:
        The scalar rows, and one row for the confusion matrix whose gap is
        the largest absolute cell difference (it must be 0).
    """
    from sklearn.metrics import confusion_matrix

    y = class_labels(y_true, task)
    p = probabilities(outputs, task)
    yhat = (p > 0.5).astype("int64") if task.kind == "binary" else p.argmax(axis=1)
    rows = []
    dtype = np.asarray(outputs).dtype
    eps = float(np.finfo(np.float64 if dtype == np.float64 else np.float32).eps)
    for name, (function, reference, tolerance) in _references(task, eps).items():
        if name not in results:
            continue
        tolerance = max(tolerance, (bounds or {}).get(name, 0.0))
        rows.append(
            Row(
                name,
                float(results[name]),
                float(reference(y, p, yhat)),
                function,
                tolerance,
            )
        )
    expected = confusion_matrix(y, yhat, labels=list(range(task.num_classes)))
    gap = float(np.max(np.abs(np.asarray(results["confusion_matrix"]) - expected)))
    return rows, Row("confusion_matrix", gap, 0.0, "confusion_matrix", 0.0)


def failures(rows: Sequence[Row], matrix: Row) -> list[str]:
    """One line per disagreement with scikit-learn (empty when all agree)."""
    lines = [
        f"{r.name}: |ours - sklearn| = {r.gap:.3g} > {r.allowed:.3g}"
        for r in rows
        if not r.passed
    ]
    if not matrix.passed:
        lines.append(
            f"confusion_matrix: cells differ from sklearn by up to {matrix.ours:g}"
        )
    return lines


def rows_as_json(rows: Sequence[Row]) -> list[dict[str, Any]]:
    """The summary rows for `report.json`."""
    return [
        {
            "metric": r.name,
            "ours": r.ours,
            "sklearn": r.reference,
            "sklearn_function": f"sklearn.metrics.{r.function}",
            "abs_diff": r.gap,
            "allowed": r.allowed,
            "passed": r.passed,
        }
        for r in rows
    ]


def results_of(metrics: Sequence[Any]) -> dict[str, Any]:
    """Each metric's result as a float, or as a NumPy array for the matrix."""
    out: dict[str, Any] = {}
    for metric in metrics:
        value = np.asarray(metric.result())
        out[metric.name] = float(value) if value.ndim == 0 else value
    return out


def error_bounds(metrics: Sequence[Any]) -> dict[str, float]:
    """The binned ranking metrics' worst-case error bounds, by name."""
    return {
        m.name: float(np.max(np.asarray(m.error_bound())))
        for m in metrics
        if hasattr(m, "error_bound")
    }


def stream(
    metrics: Sequence[Any], y_true: Any, outputs: Any, *, batch_size: int
) -> None:
    """Updates every metric batch by batch, as it would stream in `evaluate`."""
    for metric in metrics:
        metric.reset_state()
    for start in range(0, len(outputs), batch_size):
        stop = start + batch_size
        for metric in metrics:
            metric.update_state(y_true[start:stop], outputs[start:stop])


def format_summary(rows: Sequence[Row], matrix: Row) -> str:
    """The summary table: ours next to scikit-learn's, and the verdict column."""
    lines = [
        f"  {'metric':<18} {'ours':>10} {'scikit-learn':>13} {'|diff|':>9} "
        f"{'allowed':>9}  {'':4} sklearn.metrics",
    ]
    for row in rows:
        lines.append(
            f"  {row.name:<18} {row.ours:>10.6f} {row.reference:>13.6f} "
            f"{row.gap:>9.2g} {row.allowed:>9.2g}  {'ok' if row.passed else 'FAIL':4} "
            f"{row.function}"
        )
    lines.append(
        f"  {'confusion_matrix':<18} {'':>10} {'':>13} {matrix.ours:>9.2g} "
        f"{0:>9}  {'ok' if matrix.passed else 'FAIL':4} confusion_matrix"
    )
    return "\n".join(lines)


def format_calibration(calibration: dict[str, Any]) -> str:
    """The calibration error's line: ours against the float64 reference."""
    c = calibration
    name = {"l1": "ECE", "l2": "RMSCE", "max": "MCE"}[c["norm"]]
    return (
        f"  {c['metric']:<18} {c['ours']:>10.6f} {c['reference']:>13.6f} "
        f"{c['abs_diff']:>9.2g} {c['allowed']:>9.2g}  "
        f"{'ok' if c['passed'] else 'FAIL':4} ({name}, {c['num_bins']} bins; "
        "no scikit-learn counterpart: float64 reference of torchmetrics' "
        "calibration_error)"
    )


def draw(
    out: Path,
    metrics: Sequence[Any],
    task: Task,
    *,
    history: Any = None,
) -> list[Path]:
    """The pictures: ROC, precision-recall, confusion matrix, reliability, curves."""
    from keras_components import plots

    by_name = {m.name: m for m in metrics}
    names = list(task.class_names)
    class_names = names[1:] if task.kind == "binary" else names
    paths = []
    if history is not None:
        paths.append(plots.plot_history(history, out / "curves.png"))
    paths.append(
        plots.plot_roc(by_name["auroc"], out / "roc.png", class_names=class_names)
    )
    paths.append(
        plots.plot_precision_recall(
            by_name["auprc"], out / "pr.png", class_names=class_names
        )
    )
    paths.append(
        plots.plot_confusion_matrix(
            by_name["confusion_matrix"], out / "confusion_matrix.png", class_names=names
        )
    )
    if "calibration_error" in by_name:
        paths.append(
            plots.plot_reliability(
                by_name["calibration_error"], out / "reliability.png"
            )
        )
    return paths


def calibration_reference(
    y_true: np.ndarray, outputs: np.ndarray, task: Task, *, num_bins: int, norm: str
) -> float:
    """The calibration error of the outputs in float64 NumPy (torchmetrics').

    Confidence: binary the probability of class 1 (accuracy: the label),
    multiclass the largest probability (accuracy: its class is the label);
    bins `[j / n, (j + 1) / n)` over edges rounded to the outputs' dtype
    (float32 for half precision), and one bin for confidence 1.
    """
    y = class_labels(y_true, task)
    p = probabilities(outputs, task)
    if task.kind == "binary":
        confidence, correct = p, (y == 1).astype("float64")
    else:
        confidence = p.max(axis=1)
        correct = (p.argmax(axis=1) == y).astype("float64")
    dtype = np.float64 if np.asarray(outputs).dtype == np.float64 else np.float32
    edges = (np.arange(num_bins + 1) / num_bins).astype(dtype)
    index = np.searchsorted(edges, confidence.astype(dtype), side="right") - 1
    count = np.bincount(index, minlength=num_bins + 1).astype("float64")
    safe = np.maximum(count, 1.0)
    gap = np.abs(
        np.bincount(index, correct, minlength=num_bins + 1) / safe
        - np.bincount(index, confidence, minlength=num_bins + 1) / safe
    )
    share = count / count.sum()
    if norm == "l1":
        return float(np.sum(share * gap))
    if norm == "l2":
        return float(np.sqrt(np.sum(share * gap**2)))
    return float(np.max(gap))


def calibration(
    metrics: Sequence[Any], y_true: np.ndarray, outputs: np.ndarray, task: Task
) -> dict[str, Any]:
    """The `CalibrationError` of the report, for `report.json`.

    Scikit-learn has no calibration error: the streamed value is checked
    against `calibration_reference` (float64 NumPy of torchmetrics'
    definition) on the same outputs, within `CALIBRATION_TOLERANCE`. With
    the norm, the bins and, per bin, the weight, accuracy and mean
    confidence that the reliability diagram shows.
    """
    (metric,) = [m for m in metrics if m.name == "calibration_error"]
    bins = metric.bins()
    value = float(np.asarray(metric.result()))
    reference = calibration_reference(
        y_true, outputs, task, num_bins=metric.num_bins, norm=metric.norm
    )
    return {
        "metric": metric.name,
        "ours": value,
        "reference": reference,
        "reference_function": "torchmetrics.functional.calibration_error",
        "abs_diff": abs(value - reference),
        "allowed": CALIBRATION_TOLERANCE,
        "passed": abs(value - reference) <= CALIBRATION_TOLERANCE,
        "norm": metric.norm,
        "num_bins": metric.num_bins,
        "bins": {
            "lower": bins.lower.tolist(),
            "weight": bins.weight.tolist(),
            "accuracy": bins.accuracy.tolist(),
            "confidence": bins.confidence.tolist(),
        },
    }
