"""keras-components: exact, fast, serializable Keras 3 components.

Activations and activation layers, losses and streaming metrics that plug
straight into `model.compile`, `fit` and `evaluate`, on every Keras backend.
"""

from keras_components import activations, layers, metrics
from keras_components.layers import GELU, Mish, Swish
from keras_components.metrics import AUPRC, AUROC, MAE, MSLE, R2, RMSE, LogLoss

__version__ = "0.1.0"

__all__ = [
    "AUPRC",
    "AUROC",
    "GELU",
    "MAE",
    "MSLE",
    "R2",
    "RMSE",
    "LogLoss",
    "Mish",
    "Swish",
    "__version__",
    "activations",
    "layers",
    "metrics",
]
