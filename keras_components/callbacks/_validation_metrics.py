"""`ValidationMetrics`: validation metrics in the epoch logs, every epoch."""

from __future__ import annotations

import csv
import json
import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any

import keras
import numpy as np

from keras_components import _backend, _keras_compat
from keras_components._export import export
from keras_components.metrics import ConfusionMatrix

_DIRECTIONS = ("up", "down")
_DEFAULT_BATCH_SIZE = 32  # what `fit` and `evaluate` use for arrays


def _is_tensor_like(value: Any) -> bool:
    return isinstance(value, np.ndarray) or (
        hasattr(value, "shape") and hasattr(value, "dtype")
    )


def _is_tf_dataset(value: Any) -> bool:
    return type(value).__module__.startswith("tensorflow") and hasattr(
        value, "element_spec"
    )


def _is_torch_dataloader(value: Any) -> bool:
    return type(value).__module__.startswith("torch") and hasattr(value, "dataset")


def _callable_direction(name: str) -> str:
    lowered = name.lower()
    return "down" if ("loss" in lowered or "error" in lowered) else "up"


def _metric_direction(metric: keras.metrics.Metric) -> str:
    direction = getattr(metric, "_direction", None)
    if direction in _DIRECTIONS:
        return direction
    return _callable_direction(metric.name)


class _Entry:
    """One metric as the callback runs it."""

    __slots__ = ("direction", "fn", "metric", "name")

    def __init__(self, name, direction, metric=None, fn=None):
        self.name = name
        self.direction = direction
        self.metric = metric
        self.fn = fn


@export
class ValidationMetrics(keras.callbacks.Callback):
    """Computes validation metrics once per epoch and writes them into the logs.

    One prediction pass over `validation_data` per reporting epoch updates
    every streaming metric batch by batch (on TensorFlow the model call and
    the metric updates run as one compiled step per batch, as in
    `model.evaluate`, with XLA when the model is compiled with it; on JAX and
    PyTorch the model's compiled predict function and the metrics' compiled
    updates). Scalar results go into the epoch `logs` as `prefix + name`
    (the dict `fit` passes on), so callbacks listed after this one
    (`EarlyStopping`, `ModelCheckpoint`, `CSVLogger`, `TensorBoard`,
    `History`, `ReduceLROnPlateau`) see them. Per-class vectors
    (`average=None`) become `prefix + name + "/" + class` scalars, the class
    named by `class_names` or its index. Matrices (`ConfusionMatrix`) stay
    out of the logs and are kept in `history`. On epochs that do not report
    (`every_n_epochs`), nothing is written, as Keras's `validation_freq`.

    Every metric is reset at the start of a reporting pass and keeps its
    state after it: `callback.metrics[i]` holds the last pass's state (e.g.
    for `AUROC.curve()` or a confusion-matrix plot after `fit`). A metric
    object also compiled into the model works (its training value is in the
    logs before callbacks run), but after the pass it holds the validation
    state; pass a separate instance to keep the two apart.

    Each `fit` starts a new record, as Keras's `History` does: `history`,
    `epochs` and `best` are reset in `on_train_begin`, so after a second
    `fit` they describe that run only (its epochs, numbered as `fit`
    numbers them, from `initial_epoch`). Keep `to_json` / `to_csv` of a
    run before fitting again to keep it.

    Directions (for `best`, the `*` mark and monitors): our metrics declare
    `direction`, Keras's metrics `_direction`; a metric without one, and a
    `(name, fn)` pair, is "higher is better" unless its name contains "loss"
    or "error"; a `(name, fn, "up" | "down")` triple states it.

    Monitors. Keras's `EarlyStopping`, `ModelCheckpoint` and
    `ReduceLROnPlateau` with `mode="auto"` look a monitored name up among
    the model's compiled metrics only, and would raise for `"val_f1"` coming
    from this callback. So in `on_train_begin` this callback finds the
    `CallbackList` that runs it (Keras does not give a callback its
    siblings; `keras_components._keras_compat.training_context` walks the
    call stack to it) and, for every sibling with `monitor` and
    `monitor_op` whose monitor is one of this callback's keys and whose mode
    is "auto", sets the comparison from the metric's direction (as Keras
    itself would for a compiled metric, `min_delta` included). A sibling
    monitor that starts with `prefix` but is neither one of our keys nor a
    key the model logs (`val_` + a compiled metric, `val_loss`) is a
    `ValueError` listing the available names. When the call stack does not
    show the list (another Keras version, a custom loop), nothing is set and
    Keras's own error asks for `mode="max"` / `"min"`.

    Name clashes with the model's log keys ("loss", compiled metrics, and
    the `val_` keys `fit` produces when it validates) are a `ValueError` in
    `on_train_begin`, before the first batch. The first reporting epoch
    checks the logs themselves too, before writing anything (the fallback
    when the call stack does not show `fit`'s arguments).

    Args:
        validation_data: `(x, y)` or `(x, y, sample_weight)` arrays or
            tensors, a `tf.data.Dataset` yielding `(x, y[, sample_weight])`
            batches, a `keras.utils.PyDataset`, or a torch `DataLoader`;
            finite (an endless dataset, `.repeat()` or a PyDataset without
            `__len__`, is a `ValueError`), and a pass that yields no batch
            is a `ValueError`, never a score of no data.
        metrics: A list of metrics: `keras.metrics.Metric` instances (ours
            or Keras's), `(name, fn)` pairs or `(name, fn, direction)`
            triples where `fn(y_true, y_pred) -> float` (e.g. a scikit-learn
            function) receives the concatenated NumPy arrays of the pass
            (and `sample_weight=` when the data has weights). Not strings
            (`"accuracy"` means different metrics to `compile` depending on
            the loss) nor classes: instances.
        batch_size: Batch size for array inputs (default 32, as `fit`); must
            be None for datasets, which batch themselves.
        every_n_epochs: Report every n-th epoch (epochs n-1, 2n-1, ...,
            0-based), an integer >= 1.
        prefix: Prefix of the log keys, default `"val_"`.
        class_names: Names of the classes for per-class keys and the
            per-class table (default: the class index).
        verbose: 0 silent; 1 one line per reporting epoch with `*` marking
            a new best; 2 also a per-class table (precision, recall, F1,
            support: scikit-learn's `classification_report`) from a
            confusion matrix streamed in the same pass, configured like the
            first classification or ranking metric of ours (skipped, with a
            note, when there is none). Lines are printed after the epoch's
            progress bar line (at the next epoch's start, or at the end).

    Attributes:
        metrics: The metrics as given.
        history: Log key -> list of values, one per reporting epoch
            (matrices as nested lists, under `prefix + name`).
        epochs: The 0-based epochs that reported.
        best: Log key -> `{"value", "epoch"}` for every scalar key,
            direction-aware.

    Example:

    >>> import keras, numpy as np
    >>> import keras_components as kc
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(64, 4)).astype("float32")
    >>> y = (x[:, 0] > 0).astype("float32")
    >>> model = keras.Sequential([keras.Input((4,)),
    ...                           keras.layers.Dense(1, activation="sigmoid")])
    >>> model.compile(optimizer="adam", loss="binary_crossentropy")
    >>> cb = kc.callbacks.ValidationMetrics((x, y), [kc.F1(), kc.MCC()],
    ...                                     verbose=0)
    >>> history = model.fit(x, y, epochs=2, verbose=0, callbacks=[cb])
    >>> sorted(k for k in history.history if k.startswith("val_"))
    ['val_f1', 'val_mcc']
    >>> cb.epochs
    [0, 1]
    """

    def __init__(
        self,
        validation_data: Any,
        metrics: Sequence[Any],
        *,
        batch_size: int | None = None,
        every_n_epochs: int = 1,
        prefix: str = "val_",
        class_names: Sequence[Any] | None = None,
        verbose: int = 1,
    ) -> None:
        super().__init__()
        if (
            isinstance(every_n_epochs, bool)
            or not isinstance(every_n_epochs, numbers.Integral)
            or every_n_epochs < 1
        ):
            raise ValueError(
                "Invalid value for argument `every_n_epochs`. Expected an "
                f"integer >= 1. Received: every_n_epochs={every_n_epochs!r}"
            )
        if batch_size is not None and (
            isinstance(batch_size, bool)
            or not isinstance(batch_size, numbers.Integral)
            or batch_size < 1
        ):
            raise ValueError(
                "Invalid value for argument `batch_size`. Expected None or an "
                f"integer >= 1. Received: batch_size={batch_size!r}"
            )
        if not isinstance(prefix, str):
            raise TypeError(
                "Invalid type for argument `prefix`. Expected a string. "
                f"Received: prefix={prefix!r}"
            )
        if verbose not in (0, 1, 2):
            raise ValueError(
                "Invalid value for argument `verbose`. Expected 0, 1 or 2. "
                f"Received: verbose={verbose!r}"
            )
        if class_names is not None:
            if isinstance(class_names, str) or not isinstance(class_names, Sequence):
                raise TypeError(
                    "Invalid type for argument `class_names`. Expected a list "
                    f"of names. Received: class_names={class_names!r}"
                )
            class_names = [str(c) for c in class_names]
            if len(set(class_names)) != len(class_names):
                raise ValueError(
                    "Invalid value for argument `class_names`. Expected "
                    f"distinct names. Received: class_names={class_names!r}"
                )
        self.validation_data: Any = validation_data
        self.batch_size: int | None = batch_size
        self.every_n_epochs: int = int(every_n_epochs)
        self.prefix: str = prefix
        self.class_names: list[str] | None = class_names
        self.verbose: int = verbose
        self.metrics: list[Any] = list(self._check_metrics_list(metrics))
        self._entries: list[_Entry] = [self._entry(m) for m in self.metrics]
        names = [e.name for e in self._entries]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(
                "Invalid value for argument `metrics`. Expected distinct metric "
                f"names (log keys are `prefix + name`); {duplicates} appear more "
                f"than once. Pass `name=` to tell them apart. Received: "
                f"metrics={self.metrics!r}"
            )
        self._adapter: Any = self._make_adapter(validation_data, batch_size)
        self._weighted: bool | None = None
        self._batches: Any = None
        self._step: Callable[..., Any] | None = None
        self._step_built: bool = False
        self._report_matrix: ConfusionMatrix | None = (
            self._report_confusion_matrix() if verbose == 2 else None
        )
        self._pending: list[str] = []
        self.history: dict[str, list[Any]] = {}
        self.epochs: list[int] = []
        self.best: dict[str, dict[str, Any]] = {}
        self._directions: dict[str, str] = {}
        self._checked_logs: bool = False
        self._validates: bool | None = None

    # -- construction -------------------------------------------------------
    @staticmethod
    def _check_metrics_list(metrics: Any) -> Sequence[Any]:
        if isinstance(metrics, (keras.metrics.Metric, str, tuple)) or not isinstance(
            metrics, Sequence
        ):
            raise TypeError(
                "Invalid type for argument `metrics`. Expected a list of "
                "`keras.metrics.Metric` instances or `(name, fn)` pairs. "
                f"Received: metrics={metrics!r}"
            )
        if not metrics:
            raise ValueError(
                "Invalid value for argument `metrics`. Expected at least one "
                f"metric. Received: metrics={metrics!r}"
            )
        return metrics

    @staticmethod
    def _entry(metric: Any) -> _Entry:
        if isinstance(metric, str):
            raise TypeError(
                "Invalid value for argument `metrics`: metric names as strings "
                "are not resolved (what `compile` makes of 'accuracy' depends "
                "on the model's loss and outputs, which a callback built before "
                "`fit` does not know). Pass a metric instance, e.g. "
                "kc.Accuracy() or keras.metrics.BinaryAccuracy(). "
                f"Received: {metric!r}"
            )
        if isinstance(metric, type) and issubclass(metric, keras.metrics.Metric):
            raise TypeError(
                "Invalid value for argument `metrics`: a metric class, not an "
                f"instance. Pass {metric.__name__}(...) (each instance holds its "
                f"own state). Received: {metric!r}"
            )
        if isinstance(metric, keras.metrics.Metric):
            return _Entry(metric.name, _metric_direction(metric), metric=metric)
        if (
            isinstance(metric, (tuple, list))
            and len(metric) in (2, 3)
            and isinstance(metric[0], str)
            and metric[0]
            and callable(metric[1])
            and not isinstance(metric[1], keras.metrics.Metric)
        ):
            name, fn = metric[0], metric[1]
            direction = metric[2] if len(metric) == 3 else _callable_direction(name)
            if direction not in _DIRECTIONS:
                raise ValueError(
                    "Invalid value for argument `metrics`. The third item of a "
                    "`(name, fn, direction)` triple must be 'up' or 'down'. "
                    f"Received: {metric!r}"
                )
            return _Entry(name, direction, fn=fn)
        raise TypeError(
            "Invalid value for argument `metrics`. Each metric must be a "
            "`keras.metrics.Metric` instance or a `(name, fn)` pair with "
            "`fn(y_true, y_pred) -> float` (optionally `(name, fn, 'up' | "
            f"'down')`). Received: {metric!r}"
        )

    @staticmethod
    def _make_adapter(data: Any, batch_size: int | None) -> Any:
        if _is_tf_dataset(data) or isinstance(data, keras.utils.PyDataset):
            if batch_size is not None:
                raise ValueError(
                    "Invalid value for argument `batch_size`. A dataset batches "
                    "itself: pass batch_size=None with a tf.data.Dataset or a "
                    f"PyDataset. Received: batch_size={batch_size!r}"
                )
            if isinstance(data, keras.utils.PyDataset) and data.num_batches is None:
                raise ValueError(
                    "Invalid value for argument `validation_data`. Expected a "
                    "finite PyDataset: its `num_batches` is None (no `__len__`), "
                    "which Keras reads as an endless stream, and a validation "
                    "pass must end. Define `__len__` (or `num_batches`). "
                    f"Received: {type(data).__name__} with num_batches=None"
                )
            if _is_tf_dataset(data):
                import tensorflow as tf

                if int(data.cardinality()) == int(tf.data.INFINITE_CARDINALITY):
                    raise ValueError(
                        "Invalid value for argument `validation_data`. Expected "
                        "a finite tf.data.Dataset: this one repeats forever "
                        "(cardinality INFINITE, e.g. `.repeat()` without a "
                        "count), and a validation pass must end. Drop the "
                        "`.repeat()` or `.take(n)` the batches to score. "
                        "Received: an infinite dataset"
                    )
                spec = data.element_spec
                if not isinstance(spec, tuple) or len(spec) not in (2, 3):
                    raise ValueError(
                        "Invalid value for argument `validation_data`. Expected "
                        "a tf.data.Dataset yielding `(x, y)` or `(x, y, "
                        f"sample_weight)` tuples. Received: elements {spec!r}"
                    )
            return _keras_compat.get_data_adapter(data, shuffle=False)
        if _is_torch_dataloader(data):
            return _keras_compat.get_data_adapter(data, shuffle=False)
        if isinstance(data, (tuple, list)):
            if len(data) not in (2, 3):
                raise ValueError(
                    "Invalid value for argument `validation_data`. Expected "
                    "`(x, y)` or `(x, y, sample_weight)`. Received: a "
                    f"{type(data).__name__} of {len(data)} items"
                )
            if not all(_is_tensor_like(a) for a in data):
                received = [type(a).__name__ for a in data]
                raise TypeError(
                    "Invalid type for argument `validation_data`. Expected "
                    "`(x, y[, sample_weight])` of NumPy arrays or tensors. "
                    f"Received: validation_data of types {received}"
                )
            lengths = [int(a.shape[0]) if len(a.shape) else None for a in data]
            if None in lengths or len(set(lengths)) != 1:
                raise ValueError(
                    "Invalid value for argument `validation_data`. x, y (and "
                    "sample_weight) must have the same number of rows. "
                    f"Received: lengths {lengths}"
                )
            return _keras_compat.get_data_adapter(
                data[0],
                y=data[1],
                sample_weight=data[2] if len(data) == 3 else None,
                batch_size=batch_size or _DEFAULT_BATCH_SIZE,
                shuffle=False,
            )
        raise TypeError(
            "Invalid type for argument `validation_data`. Expected `(x, y)` or "
            "`(x, y, sample_weight)` arrays, a tf.data.Dataset, a "
            "keras.utils.PyDataset or a torch DataLoader. Received: "
            f"validation_data of type {type(data).__name__}"
        )

    def _report_confusion_matrix(self) -> ConfusionMatrix | None:
        for entry in self._entries:
            m = entry.metric
            if m is None or not type(m).__module__.startswith("keras_components"):
                continue
            if not hasattr(m, "task") or not hasattr(m, "from_logits"):
                continue
            return ConfusionMatrix(
                task=m.task,
                num_classes=getattr(m, "num_classes", None),
                threshold=getattr(m, "threshold", None),
                from_logits=m.from_logits,
                ignore_index=getattr(m, "ignore_index", None),
                name="_report_confusion_matrix",
            )
        return None

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments (objects; a callback is not saved in models)."""
        return {
            "validation_data": self.validation_data,
            "metrics": self.metrics,
            "batch_size": self.batch_size,
            "every_n_epochs": self.every_n_epochs,
            "prefix": self.prefix,
            "class_names": self.class_names,
            "verbose": self.verbose,
        }

    # -- keys and checks ----------------------------------------------------
    def _key(self, name: str) -> str:
        return self.prefix + name

    def _is_our_key(self, key: str) -> str | None:
        """The direction of log key `key` if it is one of ours, else None."""
        for entry in self._entries:
            if isinstance(entry.metric, ConfusionMatrix):
                continue
            base = self._key(entry.name)
            if key == base:
                return entry.direction
            if key.startswith(base + "/"):
                label = key[len(base) + 1 :]
                names = self.class_names or []
                if label in names or label.isdigit():
                    return entry.direction
        return None

    def _our_keys(self) -> list[str]:
        keys = []
        for entry in self._entries:
            if isinstance(entry.metric, ConfusionMatrix):
                continue
            keys.append(self._key(entry.name))
        return keys

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        callback_list, validates = _keras_compat.training_context(self)
        model_keys = ["loss", *_keras_compat.compiled_metric_names(self.model)]
        model_keys = list(dict.fromkeys(model_keys))
        fit_val_keys = ["val_" + k for k in model_keys]
        taken = set(model_keys) | (set(fit_val_keys) if validates else set())
        for key in self._our_keys():
            if key in taken:
                raise ValueError(
                    f"Invalid value for argument `metrics` of ValidationMetrics: "
                    f"the log key {key!r} is already one the model logs "
                    f"(model keys: {sorted(taken)}). Pass a metric `name=` or "
                    "another `prefix` (e.g. prefix='holdout_')."
                )
        self._validates = validates
        self._checked_logs = False
        # Each `fit` starts a fresh record, as Keras's `History` does.
        self.history = {}
        self.epochs = []
        self.best = {}
        self._directions = {}
        if callback_list is None:
            return
        siblings = [cb for cb in callback_list.callbacks if cb is not self]
        for cb in siblings:
            monitor = getattr(cb, "monitor", None)
            if not isinstance(monitor, str) or not hasattr(cb, "monitor_op"):
                continue
            direction = self._is_our_key(monitor)
            if direction is None:
                known = set(model_keys)
                if validates is not False:  # fit validates, or cannot tell
                    known |= set(fit_val_keys)
                if monitor.startswith(self.prefix) and monitor not in known:
                    available = sorted(set(self._our_keys()) | known)
                    raise ValueError(
                        f"Invalid value for argument `monitor` of "
                        f"{type(cb).__name__}: {monitor!r} is neither a key "
                        "ValidationMetrics writes nor one the model logs. "
                        f"Available: {available}. Received: monitor={monitor!r}"
                    )
                continue
            if getattr(cb, "mode", "auto") == "auto" and cb.monitor_op is None:
                if direction == "up":
                    cb.monitor_op = keras.ops.greater
                else:
                    cb.monitor_op = keras.ops.less
                    cb.min_delta = -abs(getattr(cb, "min_delta", 0))

    # -- the pass -----------------------------------------------------------
    def _split(self, data: Any) -> tuple[Any, Any, Any]:
        if isinstance(data, dict) or not isinstance(data, (tuple, list)):
            data = (data,)
        if len(data) not in (2, 3):
            raise ValueError(
                "Invalid value for argument `validation_data`. Each batch must "
                "be `(x, y)` or `(x, y, sample_weight)`; a batch had "
                f"{len(data)} item(s) (targets are needed to score)."
            )
        return data[0], data[1], data[2] if len(data) == 3 else None

    def _streaming(self) -> list[keras.metrics.Metric]:
        found = [e.metric for e in self._entries if e.metric is not None]
        if self._report_matrix is not None:
            found.append(self._report_matrix)
        return found

    def _make_step(self) -> Callable[..., Any] | None:
        model = self.model
        streaming = self._streaming()

        def step(x, y, w):
            y_pred = model(x, training=False)
            for m in streaming:
                m.update_state(y, y_pred, sample_weight=w)
            return y_pred

        xla = bool(getattr(model, "jit_compile", False))
        return _backend.stateful_step(step, xla=xla)

    def _eager_batch(self, x, y, w):
        if self._step is not None:
            # TensorFlow (the first batch): Keras 3.15's `predict_on_batch`
            # under a `tf.distribute` strategy returns every replica's
            # predictions of the whole batch, concatenated (2N rows for N).
            y_pred = self.model(x, training=False)
        else:
            y_pred = self.model.predict_on_batch(x)
        for m in self._streaming():
            m.update_state(y, y_pred, sample_weight=w)
        return y_pred

    def evaluate(self) -> dict[str, Any]:
        """Runs one pass and returns every result by log key (matrices too)."""
        if self.model is None:
            raise ValueError(
                "ValidationMetrics.evaluate() needs a model: pass the callback "
                "to `fit` (or call `set_model(model)`) first."
            )
        streaming = self._streaming()
        for m in streaming:
            m.reset_state()
        if self._batches is None:
            self._batches = _backend.adapter_batches(self._adapter)
            self._step = self._make_step()
        keep = any(e.fn is not None for e in self._entries)
        kept: list[tuple[Any, Any, Any]] = []
        batches = 0
        self._adapter.on_epoch_begin()
        try:
            for data in self._batches:
                batches += 1
                x, y, w = self._split(data)
                if self._step is not None and self._step_built:
                    y_pred = self._step(x, y, w)
                else:
                    # The first batch runs eagerly: metric state is created
                    # outside the compiled step.
                    y_pred = self._eager_batch(x, y, w)
                    self._step_built = True
                if keep:
                    kept.append(
                        (
                            keras.ops.convert_to_numpy(y),
                            keras.ops.convert_to_numpy(y_pred),
                            None if w is None else keras.ops.convert_to_numpy(w),
                        )
                    )
        finally:
            self._adapter.on_epoch_end()
        if not batches:
            # Never report a metric of no data (F1 0.0, AUROC NaN) as a score.
            raise ValueError(
                "Invalid value for argument `validation_data`: it yielded no "
                "batch in this validation pass (an empty dataset, or a one-shot "
                "iterator already consumed by an earlier pass)."
            )
        results: dict[str, Any] = {}
        for entry in self._entries:
            if entry.metric is not None:
                value = keras.ops.convert_to_numpy(entry.metric.result())
            else:
                y_true = np.concatenate([k[0] for k in kept])
                y_pred = np.concatenate([k[1] for k in kept])
                kwargs = {}
                if kept[0][2] is not None:
                    kwargs["sample_weight"] = np.concatenate([k[2] for k in kept])
                value = np.asarray(entry.fn(y_true, y_pred, **kwargs))
            results[self._key(entry.name)] = value
        return results

    def _scalars(self, results: dict[str, Any]) -> dict[str, float]:
        scalars: dict[str, float] = {}
        for entry in self._entries:
            key = self._key(entry.name)
            value = np.asarray(results[key])
            if isinstance(entry.metric, ConfusionMatrix) or value.ndim >= 2:
                continue
            if value.ndim == 0:
                scalars[key] = float(value)
                self._directions[key] = entry.direction
                continue
            labels = self.class_names or [str(i) for i in range(len(value))]
            if len(labels) != len(value):
                raise ValueError(
                    "Invalid value for argument `class_names`: "
                    f"{len(labels)} names for the {len(value)} classes of "
                    f"{entry.name!r}. Received: class_names={self.class_names!r}"
                )
            for label, v in zip(labels, value, strict=True):
                scalars[f"{key}/{label}"] = float(v)
                self._directions[f"{key}/{label}"] = entry.direction
        return scalars

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._flush()

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        self._flush()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if (epoch + 1) % self.every_n_epochs:
            return
        results = self.evaluate()
        scalars = self._scalars(results)
        if logs is not None and not self._checked_logs:
            clash = sorted(k for k in scalars if k in logs)
            if clash:
                raise ValueError(
                    f"Invalid value for argument `metrics` of ValidationMetrics: "
                    f"the log key(s) {clash} are already in the epoch logs (the "
                    "model's own metrics or fit's own validation write them). "
                    "Pass a metric `name=` or another `prefix`."
                )
            self._checked_logs = True
        if logs is not None:
            logs.update(scalars)
        self.epochs.append(int(epoch))
        improved = []
        for key, value in scalars.items():
            self.history.setdefault(key, []).append(value)
            best = self.best.get(key)
            if self._improves(value, best, self._directions[key]):
                self.best[key] = {"value": value, "epoch": int(epoch)}
                improved.append(key)
        for entry in self._entries:
            key = self._key(entry.name)
            array = np.asarray(results[key])
            if isinstance(entry.metric, ConfusionMatrix) or array.ndim >= 2:
                self.history.setdefault(key, []).append(array.tolist())
        if self.verbose:
            self._pending.append(self._line(scalars, improved))
            if self.verbose == 2:
                self._pending.append(self._table())

    @staticmethod
    def _improves(value: float, best: dict[str, Any] | None, direction: str) -> bool:
        if math.isnan(value):
            return False
        if best is None or math.isnan(best["value"]):
            return True
        if direction == "up":
            return value > best["value"]
        return value < best["value"]

    # -- reporting ----------------------------------------------------------
    def _line(self, scalars: dict[str, float], improved: list[str]) -> str:
        parts = []
        for key, value in scalars.items():
            if "/" in key[len(self.prefix) :]:
                continue
            mark = "*" if key in improved else ""
            parts.append(f"{key} {value:.4f}{mark}")
        return "  ".join(parts)

    def _table(self) -> str:
        if self._report_matrix is None:
            return (
                "(per-class table skipped: no classification or ranking metric "
                "of keras_components to take the task from)"
            )
        matrix = np.asarray(keras.ops.convert_to_numpy(self._report_matrix.result()))
        if matrix.ndim == 3:  # multilabel [[tn, fp], [fn, tp]] per label
            tp, fp, fn = matrix[:, 1, 1], matrix[:, 0, 1], matrix[:, 1, 0]
        else:
            tp = np.diag(matrix)
            fp = matrix.sum(axis=0) - tp
            fn = matrix.sum(axis=1) - tp
        support = tp + fn
        with np.errstate(divide="ignore", invalid="ignore"):
            precision = np.where(tp + fp > 0, tp / (tp + fp), 0.0)
            recall = np.where(support > 0, tp / support, 0.0)
            denom = precision + recall
            f1 = np.where(denom > 0, 2 * precision * recall / denom, 0.0)
        labels = self.class_names or [str(i) for i in range(len(tp))]
        if len(labels) != len(tp):
            labels = [str(i) for i in range(len(tp))]
        width = max(12, *(len(s) for s in labels))
        rows = [f"{'':>{width}} precision    recall  f1-score   support"]

        def row(name, p, r, f, s):
            count = f"{s:.0f}" if float(s).is_integer() else f"{s:.4g}"
            return f"{name:>{width}} {p:9.4f} {r:9.4f} {f:9.4f} {count:>9}"

        for i, name in enumerate(labels):
            rows.append(row(name, precision[i], recall[i], f1[i], support[i]))
        total = support.sum()
        rows.append(row("macro avg", precision.mean(), recall.mean(), f1.mean(), total))
        if total > 0:
            share = support / total
            rows.append(
                row(
                    "weighted avg",
                    (precision * share).sum(),
                    (recall * share).sum(),
                    (f1 * share).sum(),
                    total,
                )
            )
        return "\n".join(rows)

    def _flush(self) -> None:
        for text in self._pending:
            print(text, flush=True)
        self._pending = []

    # -- export -------------------------------------------------------------
    def to_json(self, path: str) -> None:
        """Writes `{"epochs", "history", "best"}` as JSON (matrices included)."""
        payload = {"epochs": self.epochs, "history": self.history, "best": self.best}
        with open(path, "w") as f:
            json.dump(payload, f, indent=2, allow_nan=True)

    def to_csv(self, path: str) -> None:
        """Writes one row per reporting epoch: `epoch` and every scalar key."""
        keys = [k for k in self.history if k in self._directions]
        with open(path, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["epoch", *keys])
            for i, epoch in enumerate(self.epochs):
                writer.writerow([epoch, *(repr(self.history[k][i]) for k in keys)])
