"""`keras-components evaluate MODEL --data FILE`: how good is a saved model?

Loads a saved Keras model (ours or plain Keras; `keras_components` is
imported first, so our registered classes resolve without
`custom_objects`), predicts the stored inputs, streams the predictions
through our metrics batch by batch, and prints and writes the same report as
the demo: each metric next to scikit-learn's value on the same predictions,
for binary models the best F1 threshold (`BestThreshold`), the verdict line,
the calibration error (ECE), `roc.png`, `pr.png`, `confusion_matrix.png`,
`reliability.png` and `report.json`.

Decisions, since a saved model does not say what its outputs mean:
- The task is binary when the model has one output unit and multiclass
  otherwise, unless `task` is given. Multilabel models are not supported
  yet (scikit-learn has no multilabel MCC or log loss to compare with): a
  model ending in several sigmoid units is refused as one, before any
  metric sees its labels.
- Whether outputs are logits or probabilities is read from the model's last
  layer, never from the values: a `sigmoid` or `softmax` activation (as an
  activation argument or as an `Activation`/`Softmax` layer) means
  probabilities; a linear last layer means logits; anything else is an error
  asking for `outputs="logits"` or `outputs="probabilities"`.
- Data files: `.npz` arrays named by `x_key` / `y_key` (default `x`, `y`),
  or a `.csv` file with a header row whose `y_key` column holds the labels
  and whose other columns (or the comma-separated `x_key` columns) are the
  features.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from keras_components import _report

OUTPUTS = ("auto", "logits", "probabilities")
_PROBABILITY_ACTIVATIONS = ("sigmoid", "softmax")


def _invalid(argument: str, expected: str, value: Any) -> ValueError:
    return ValueError(
        f"Invalid value for argument `{argument}`. Expected {expected}. "
        f"Received: {argument}={value}"
    )


def load_data(
    path: str | os.PathLike, *, x_key: str | None = None, y_key: str | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Features and labels from a `.npz` or `.csv` file (see the module doc)."""
    file = Path(path)
    if not file.is_file():
        raise _invalid(
            "data", "an existing .npz or .csv file", f"{str(path)!r} (not found)"
        )
    suffix = file.suffix.lower()
    if suffix == ".npz":
        return _load_npz(file, x_key or "x", y_key or "y")
    if suffix == ".csv":
        return _load_csv(file, x_key, y_key or "y")
    raise _invalid("data", "a file ending in .npz or .csv", repr(str(path)))


def _load_npz(file: Path, x_key: str, y_key: str) -> tuple[np.ndarray, np.ndarray]:
    try:
        with np.load(file, allow_pickle=False) as arrays:
            found = {key: arrays[key] for key in arrays.files}
    except (OSError, ValueError) as error:
        raise _invalid(
            "data", "a readable .npz file", f"{str(file)!r} ({error})"
        ) from None
    for argument, key in (("x", x_key), ("y", y_key)):
        if key not in found:
            raise _invalid(
                argument,
                f"the name of an array in {file.name}; arrays found: "
                f"{', '.join(sorted(found)) or 'none'}",
                repr(key),
            )
    x, y = found[x_key], found[y_key]
    if len(x) != len(y):
        raise ValueError(
            f"The arrays {x_key!r} and {y_key!r} in {file.name} have different "
            f"lengths: {len(x)} rows of inputs, {len(y)} of labels."
        )
    return x, y


def _load_csv(
    file: Path, x_key: str | None, y_key: str
) -> tuple[np.ndarray, np.ndarray]:
    try:
        with file.open(newline="") as handle:
            rows = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError) as error:
        raise _invalid(
            "data", "a readable .csv file", f"{str(file)!r} ({error})"
        ) from None
    if len(rows) < 2:
        raise _invalid(
            "data", "a .csv file with a header row and data rows", repr(str(file))
        )
    header = [name.strip() for name in rows[0]]
    features = [c.strip() for c in x_key.split(",")] if x_key else None
    for argument, names in (("y", [y_key]), ("x", features or [])):
        missing = [n for n in names if n not in header]
        if missing:
            raise _invalid(
                argument,
                f"column names of {file.name}; columns found: {', '.join(header)}",
                repr(",".join(missing)),
            )
    features = features or [n for n in header if n != y_key]
    try:
        table = np.array(
            [[float(v) for v in row] for row in rows[1:] if row], dtype="float64"
        )
    except ValueError as error:
        raise _invalid(
            "data", "a .csv file of numbers", f"{str(file)!r} ({error})"
        ) from None
    x = table[:, [header.index(n) for n in features]].astype("float32")
    labels = table[:, header.index(y_key)]
    if np.any(labels != np.round(labels)):
        raise _invalid(
            "y", "integer class labels", f"non-integer values in column {y_key!r}"
        )
    return x, labels.astype("int64")


def load_model(path: str | os.PathLike):
    """The saved model, with our names registered (no `custom_objects`)."""
    import keras

    import keras_components  # noqa: F401  (registers our classes)

    file = Path(path)
    if not file.is_file():
        raise _invalid(
            "model", "an existing .keras (or .h5) file", f"{str(path)!r} (not found)"
        )
    try:
        return keras.saving.load_model(file)
    except Exception as error:  # Keras raises many types for unreadable files
        raise _invalid(
            "model",
            "a model file Keras can load",
            f"{str(path)!r} ({type(error).__name__}: {error})",
        ) from None


def _last_activation(model) -> str | None:
    """The name of the last layer's activation (`softmax` for a Softmax layer)."""
    last = model.layers[-1]
    if type(last).__name__.lower() == "softmax":
        return "softmax"
    activation = getattr(last, "activation", None)
    return getattr(activation, "__name__", activation) if activation else None


def outputs_are_logits(model, outputs: str = "auto") -> bool:
    """Whether the model's outputs are logits (see the module doc)."""
    if outputs not in OUTPUTS:
        raise _invalid("outputs", f"one of {', '.join(OUTPUTS)}", repr(outputs))
    if outputs != "auto":
        return outputs == "logits"
    last = model.layers[-1]
    activation = _last_activation(model)
    if activation in _PROBABILITY_ACTIVATIONS:
        return False
    if activation == "linear":
        return True
    raise ValueError(
        f"Cannot tell whether the outputs of model {model.name!r} are logits or "
        f"probabilities: its last layer {last.name!r} ({type(last).__name__}) has "
        f"activation {activation!r}. Pass outputs='logits' or "
        "outputs='probabilities' (--outputs on the command line)."
    )


def run(
    model_path: str | os.PathLike,
    data_path: str | os.PathLike,
    *,
    x_key: str | None = None,
    y_key: str | None = None,
    task: str = "auto",
    outputs: str = "auto",
    class_names: list[str] | None = None,
    out_dir: str | os.PathLike | None = None,
    batch_size: int = 256,
    verbose: int = 1,
) -> dict[str, Any]:
    """Evaluates a saved model on stored data; returns the written report.

    Args:
        model_path: the `.keras` file.
        data_path: the `.npz` or `.csv` file.
        x_key: the inputs' array (npz) or comma-separated columns (csv).
        y_key: the labels' array or column.
        task: `"auto"`, `"binary"` or `"multiclass"`.
        outputs: `"auto"`, `"logits"` or `"probabilities"`.
        class_names: one name per class for the tables and pictures.
        out_dir: where to write the report and pictures (default: a folder
            `<model>_evaluation` next to the model file).
        batch_size: prediction and metric batch size.
        verbose: 1 prints the report.

    Returns:
        The report; `report["passed"]` is False if ours and scikit-learn's
        values disagree beyond the documented tolerances.
    """
    if task not in ("auto", *_report.TASKS):
        expected = f"one of auto, {', '.join(_report.TASKS)}"
        if task == "multilabel":
            expected += " (multilabel models are not supported by evaluate yet)"
        raise _invalid("task", expected, repr(task))
    x, y = load_data(data_path, x_key=x_key, y_key=y_key)
    model = load_model(model_path)
    from_logits = outputs_are_logits(model, outputs)
    predictions = np.asarray(model.predict(x, batch_size=batch_size, verbose=0))
    units = int(np.prod(predictions.shape[1:])) if predictions.ndim > 1 else 1
    kind = task if task != "auto" else ("binary" if units == 1 else "multiclass")
    if kind == "binary" and units != 1:
        raise _invalid(
            "task", f"'multiclass' for a model with {units} outputs", "'binary'"
        )
    if task == "auto" and units > 1 and _last_activation(model) == "sigmoid":
        raise _invalid(
            "model",
            "a binary (one sigmoid unit) or multiclass (softmax or linear) "
            f"model; {Path(model_path).name} ends in {units} sigmoid units, "
            "a multilabel model, which evaluate does not support yet (pass "
            "task='multiclass', --task multiclass, if its classes exclude "
            "each other)",
            repr(str(model_path)),
        )
    num_classes = 2 if kind == "binary" else units
    info = _report.Task.make(
        kind, num_classes, from_logits=from_logits, class_names=class_names
    )

    metrics = _report.report_metrics(info)
    _report.stream(metrics, y, predictions, batch_size=batch_size)
    ours = _report.results_of(metrics)
    rows, matrix = _report.compare(
        ours, y, predictions, info, bounds=_report.error_bounds(metrics)
    )
    model_file = Path(model_path)
    out = (
        Path(out_dir)
        if out_dir
        else model_file.with_name(f"{model_file.stem}_evaluation")
    )
    out.mkdir(parents=True, exist_ok=True)
    pictures = _report.draw(out, metrics, info)
    failures = _report.failures(rows, matrix)
    calibration = _report.calibration(metrics, y, predictions, info)
    if not calibration["passed"]:
        failures.append(
            f"calibration_error: |ours - reference| = {calibration['abs_diff']:.3g}"
        )
    report = {
        "model": str(model_path),
        "data": str(data_path),
        "rows": len(x),
        "task": kind,
        "outputs": "logits" if from_logits else "probabilities",
        "class_names": list(info.class_names),
        "validation": _report.rows_as_json(rows),
        "best_threshold": _report.best_threshold(metrics),
        "confusion_matrix": np.asarray(ours["confusion_matrix"]).astype(int).tolist(),
        "calibration": calibration,
        "out": str(out),
        "pictures": [str(p) for p in pictures],
        "failures": failures,
        "passed": not failures,
    }
    (out / "report.json").write_text(json.dumps(report, indent=2))
    if verbose:
        print(
            f"keras-components evaluate: {model_file.name} ({model.name}) on "
            f"{Path(data_path).name}: {len(x)} rows, {kind}, "
            f"{num_classes} classes, outputs read as {report['outputs']}"
        )
        print(_report.format_summary(rows, matrix))
        if report["best_threshold"]:
            print(_report.format_best_threshold(report["best_threshold"]))
        print(_report.format_calibration(report["calibration"]))
        print(
            "Wrote roc.png, pr.png, confusion_matrix.png, reliability.png, "
            f"report.json to {out}"
        )
    return report
