"""Losses: focal, region losses for segmentation, Wasserstein, combined.

Each loss is a pure function returning per-sample values (`focal_loss`,
`dice_loss`, ...) plus a thin `keras.losses.Loss` class (`FocalLoss`,
`DiceLoss`, ...) that validates its arguments, accepts `reduction`, `name`
and `dtype`, and serializes as `"keras_components>Name"`. Every loss is
computed in float32 or wider (half-precision inputs and policies are
upcast).
"""

from keras_components.losses.adversarial import (
    WassersteinLoss,
    gradient_penalty,
    wasserstein_loss,
)
from keras_components.losses.classification import FocalLoss, focal_loss
from keras_components.losses.combined import CombinedLoss
from keras_components.losses.segmentation import (
    DiceLoss,
    JaccardLoss,
    TverskyLoss,
    dice_loss,
    jaccard_loss,
    tversky_loss,
)

__all__ = [
    "CombinedLoss",
    "DiceLoss",
    "FocalLoss",
    "JaccardLoss",
    "TverskyLoss",
    "WassersteinLoss",
    "dice_loss",
    "focal_loss",
    "gradient_penalty",
    "jaccard_loss",
    "tversky_loss",
    "wasserstein_loss",
]
