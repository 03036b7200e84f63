"""`TrainingCurves`: a callback that keeps a PNG of the training curves."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import keras
import numpy as np

from keras_components import plots
from keras_components._export import export
from keras_components._validation import invalid_type


def _walk_metrics(metrics: Iterable[Any]) -> Iterable[Any]:
    """Every metric, including those inside Keras's compile-metrics container."""
    for metric in metrics:
        yield metric
        inner = getattr(metric, "metrics", None)
        if isinstance(inner, (list, tuple)) and inner:
            yield from _walk_metrics(inner)


@export
class TrainingCurves(keras.callbacks.Callback):
    """Rewrites a PNG of train vs validation curves at every epoch end.

    At the end of each epoch and of training it draws, with
    `keras_components.plots.plot_history`, every scalar value of the epoch
    logs seen so far: one panel per metric (`loss` first), training (`name`)
    against validation (`val_name`), the best epoch marked. Each value is
    drawn at the epoch it was logged, so validation every k epochs
    (`validation_freq`, `ValidationMetrics(every_n_epochs=k)`) lands on the
    right epochs. Place it after the callbacks that add `val_` keys to the
    logs (such as `ValidationMetrics`) in the `callbacks` list: Keras calls
    them in order. The best epoch's direction comes from the compiled
    metrics' declared direction (Keras's `_direction`), else as in
    `plot_history`. The file is replaced atomically (a viewer never reads
    half a PNG). Needs matplotlib (the `plot` extra): without it, the first
    epoch end raises `ImportError`.

    Args:
        path: The PNG file to (re)write; parent folders are created.
        metrics: The base names (without `val_`) to draw, in order; None
            draws every scalar value in the logs except per-class keys
            (`val_f1/<class>`).

    Attributes:
        history: `{log key: [value, ...]}` of the current `fit`.
        epochs: `{log key: [0-based epoch of each value]}`.

    Example:

    >>> import tempfile, pathlib
    >>> import keras, numpy as np
    >>> from keras_components.callbacks import TrainingCurves
    >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    >>> model.compile("sgd", "mse")
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     curves = TrainingCurves(pathlib.Path(folder) / "curves.png")
    ...     _ = model.fit(np.ones((8, 3)), np.ones((8, 1)), epochs=2,
    ...                   validation_split=0.25, verbose=0, callbacks=[curves])
    ...     print(curves.path.name, curves.path.stat().st_size > 0)
    curves.png True
    """

    def __init__(self, path: Any, *, metrics: Iterable[str] | None = None) -> None:
        super().__init__()
        if not isinstance(path, (str, os.PathLike)) or str(path) == "":
            raise invalid_type("path", "a file path (str or os.PathLike)", path)
        self.path = Path(path)
        self.metrics = plots._check_names("metrics", metrics)
        self.history: dict[str, list[float]] = {}
        self.epochs: dict[str, list[int]] = {}

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.history = {}
        self.epochs = {}

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        for key, value in (logs or {}).items():
            number = plots._scalar(value)
            if number is None:
                continue
            self.history.setdefault(key, []).append(number)
            self.epochs.setdefault(key, []).append(int(epoch))
        self._draw()

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        if self.history:
            self._draw()

    def _directions(self) -> dict[str, str]:
        """`{name: direction}` declared by the model's compiled metrics."""
        model = getattr(self, "model", None)
        found: dict[str, str] = {}
        if model is None:
            return found
        for metric in _walk_metrics(getattr(model, "metrics", [])):
            direction = getattr(metric, "_direction", None)
            name = getattr(metric, "name", None)
            if isinstance(name, str) and direction in ("up", "down"):
                found.setdefault(name, direction)
        found.pop("compile_metrics", None)
        return found

    def _draw(self) -> None:
        if not self.history:
            return
        series = {
            key: (np.asarray(self.epochs[key]) + 1, np.asarray(values, np.float64))
            for key, values in self.history.items()
        }
        metrics = self.metrics
        if metrics is not None:
            # A named metric may first appear later (validation every k epochs).
            seen = {k[4:] if k.startswith("val_") else k for k in series}
            metrics = [m for m in metrics if m in seen]
            if not metrics:
                return
        plots._plot_series(
            series, self.path, metrics=metrics, directions=self._directions()
        )

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments (`from_config` rebuilds an equal callback)."""
        return {"path": str(self.path), "metrics": self.metrics}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> TrainingCurves:
        """A callback from `get_config()`'s dict."""
        return cls(**config)
