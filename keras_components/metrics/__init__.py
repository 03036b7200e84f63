"""Streaming metrics that plug into `model.compile(metrics=[...])`.

Every metric keeps sufficient statistics in float64 state that is meaningful
when summed across batches and replicas, computes only in `result()`,
supports `merge_state`, and equals its scikit-learn counterpart. Import them
from here (or `keras_components`): the implementation modules are private.

- Classification and segmentation (`_classification.py`): `F1`, `FBeta`,
  `Precision`, `Recall`, `IoU`, `Dice`, `Accuracy`, `BalancedAccuracy`,
  `MCC`, `CohenKappa`, `ConfusionMatrix`, `Specificity`, `HammingLoss`.
- Ranking (`_ranking.py`): `AUROC`, `AUPRC`.
- Operating points (`_operating_points.py`, the ranking histograms read at a
  threshold): `PrecisionAtRecall`, `RecallAtPrecision`,
  `SensitivityAtSpecificity`, `SpecificityAtSensitivity`, `BestThreshold`.
- Probabilistic (`_probabilistic.py`): `LogLoss`.
- Calibration (`_calibration.py`): `CalibrationError`.
- Regression (`_regression.py`): `R2`, `RMSE`, `MAE`, `MSLE`.
"""

from keras_components.metrics._calibration import CalibrationError
from keras_components.metrics._classification import (
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
from keras_components.metrics._operating_points import (
    BestThreshold,
    PrecisionAtRecall,
    RecallAtPrecision,
    SensitivityAtSpecificity,
    SpecificityAtSensitivity,
)
from keras_components.metrics._probabilistic import LogLoss
from keras_components.metrics._ranking import AUPRC, AUROC
from keras_components.metrics._regression import MAE, MSLE, R2, RMSE

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
    "BestThreshold",
    "CalibrationError",
    "CohenKappa",
    "ConfusionMatrix",
    "Dice",
    "FBeta",
    "HammingLoss",
    "IoU",
    "LogLoss",
    "Precision",
    "PrecisionAtRecall",
    "Recall",
    "RecallAtPrecision",
    "SensitivityAtSpecificity",
    "Specificity",
    "SpecificityAtSensitivity",
]
