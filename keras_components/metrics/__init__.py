"""Streaming metrics that plug into `model.compile(metrics=[...])`.

Every metric keeps sufficient statistics in float64 state that is meaningful
when summed across batches and replicas, computes only in `result()`,
supports `merge_state`, and equals its scikit-learn counterpart.

- Classification and segmentation (`classification`): `F1`, `FBeta`,
  `Precision`, `Recall`, `IoU`, `Dice`, `Accuracy`, `BalancedAccuracy`,
  `MCC`, `CohenKappa`, `ConfusionMatrix`.
- Ranking (`ranking`): `AUROC`, `AUPRC`.
- Probabilistic (`probabilistic`): `LogLoss`.
- Regression (`regression`): `R2`, `RMSE`, `MAE`, `MSLE`.
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
    HammingLoss,
    IoU,
    Precision,
    Recall,
    Specificity,
)
from keras_components.metrics.probabilistic import LogLoss
from keras_components.metrics.ranking import AUPRC, AUROC
from keras_components.metrics.regression import MAE, MSLE, R2, RMSE

__all__ = [
    "AUPRC",
    "AUROC",
    "F1",
    "MAE",
    "MCC",
    "MSLE",
    "R2",
    "RMSE",
    "Accuracy",
    "BalancedAccuracy",
    "CohenKappa",
    "ConfusionMatrix",
    "Dice",
    "FBeta",
    "HammingLoss",
    "IoU",
    "LogLoss",
    "Precision",
    "Recall",
    "Specificity",
]
