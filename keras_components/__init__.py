"""keras-components: exact, fast, serializable Keras 3 components.

Activations and activation layers, losses and streaming metrics that plug
straight into `model.compile`, `fit` and `evaluate`, on every Keras backend.
"""

from keras_components import activations, layers, losses
from keras_components.layers import GELU, Mish, Swish
from keras_components.losses import (
    CombinedLoss,
    DiceLoss,
    FocalLoss,
    JaccardLoss,
    TverskyLoss,
    WassersteinLoss,
)

__version__ = "0.1.0"

__all__ = [
    "GELU",
    "CombinedLoss",
    "DiceLoss",
    "FocalLoss",
    "JaccardLoss",
    "Mish",
    "Swish",
    "TverskyLoss",
    "WassersteinLoss",
    "__version__",
    "activations",
    "layers",
    "losses",
]
