"""keras-components: exact, fast, serializable Keras 3 components.

Activations and activation layers, losses and streaming metrics that plug
straight into `model.compile`, `fit` and `evaluate`, on every Keras backend.
"""

from keras_components import (
    activations,
    callbacks,
    layers,
    losses,
    metrics,
    plots,
    saving,
)
from keras_components.callbacks import TrainingCurves, ValidationMetrics
from keras_components.layers import GELU, Mish, Swish
from keras_components.losses import (
    CombinedLoss,
    DiceLoss,
    FocalLoss,
    JaccardLoss,
    TverskyLoss,
    WassersteinLoss,
    WeightedKappaLoss,
)
from keras_components.metrics import (
    AUPRC,
    AUROC,
    F1,
    MAE,
    MCC,
    MSLE,
    R2,
    RMSE,
    Accuracy,
    BalancedAccuracy,
    CalibrationError,
    CohenKappa,
    ConfusionMatrix,
    Dice,
    FBeta,
    HammingLoss,
    IoU,
    LogLoss,
    Precision,
    Recall,
    Specificity,
)

__version__ = "0.2.0.dev0"

__all__ = [
    "AUPRC",
    "AUROC",
    "F1",
    "GELU",
    "MAE",
    "MCC",
    "MSLE",
    "R2",
    "RMSE",
    "Accuracy",
    "BalancedAccuracy",
    "CalibrationError",
    "CohenKappa",
    "CombinedLoss",
    "ConfusionMatrix",
    "Dice",
    "DiceLoss",
    "FBeta",
    "FocalLoss",
    "HammingLoss",
    "IoU",
    "JaccardLoss",
    "LogLoss",
    "Mish",
    "Precision",
    "Recall",
    "Specificity",
    "Swish",
    "TrainingCurves",
    "TverskyLoss",
    "ValidationMetrics",
    "WassersteinLoss",
    "WeightedKappaLoss",
    "__version__",
    "activations",
    "callbacks",
    "layers",
    "losses",
    "metrics",
    "plots",
    "saving",
]
