"""Callbacks: validation metrics in the epoch logs each epoch.

- `ValidationMetrics` (`_validation_metrics.py`): one prediction pass over
  validation data per reporting epoch; our metrics, Keras's and plain
  `(name, fn)` callables; results in the logs, `history`, `best`, JSON/CSV.
"""

from keras_components.callbacks._validation_metrics import ValidationMetrics

__all__ = [
    "ValidationMetrics",
]
