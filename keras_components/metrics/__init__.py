"""Streaming metrics that plug into `model.compile(metrics=[...])`.

Every metric keeps sufficient statistics in float64 state that is additive
across batches and replicas, computes only in `result()`, supports
`merge_state`, and equals its scikit-learn counterpart.
"""

from keras_components.metrics.probabilistic import LogLoss
from keras_components.metrics.ranking import AUPRC, AUROC
from keras_components.metrics.regression import MAE, MSLE, R2, RMSE

__all__ = [
    "AUPRC",
    "AUROC",
    "MAE",
    "MSLE",
    "R2",
    "RMSE",
    "LogLoss",
]
