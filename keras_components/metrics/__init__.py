"""Streaming metrics: exact against scikit-learn at any batch split.

Classification and segmentation (`classification`): `F1`, `FBeta`,
`Precision`, `Recall`, `IoU`, `Dice`, `Accuracy`, `BalancedAccuracy`, `MCC`,
`CohenKappa`, `ConfusionMatrix`.
"""

from keras_components.metrics.classification import (
    F1,
    MCC,
    Accuracy,
    BalancedAccuracy,
    CohenKappa,
    ConfusionMatrix,
    Dice,
    FBeta,
    IoU,
    Precision,
    Recall,
)

__all__ = [
    "F1",
    "MCC",
    "Accuracy",
    "BalancedAccuracy",
    "CohenKappa",
    "ConfusionMatrix",
    "Dice",
    "FBeta",
    "IoU",
    "Precision",
    "Recall",
]
