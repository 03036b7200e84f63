"""Keras callbacks: validation metrics every epoch, and pictures of training.

- `ValidationMetrics` (`_validation_metrics.py`): one prediction pass over
  validation data per reporting epoch; our metrics, Keras's and plain
  `(name, fn)` callables; results in the logs, `history`, `best`, JSON/CSV.
- `TrainingCurves` (`_training_curves.py`): the train vs validation curves
  redrawn as a PNG at every epoch end.
"""

from keras_components.callbacks._training_curves import TrainingCurves
from keras_components.callbacks._validation_metrics import ValidationMetrics

__all__ = ["TrainingCurves", "ValidationMetrics"]
