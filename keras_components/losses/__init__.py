"""Losses: focal, region and Lovász (segmentation), kappa, Wasserstein, combined.

Each loss is a pure function returning per-sample values (`focal_loss`,
`dice_loss`, ...) plus a thin `keras.losses.Loss` class (`FocalLoss`,
`DiceLoss`, ...) that validates its arguments, accepts `reduction`, `name`
and `dtype`, and serializes as `"keras_components>Name"`. Every loss is
computed in float32 or wider (half-precision inputs and policies are
upcast). Import them from here (or `keras_components`): the implementation
modules are private.
"""

from keras_components.losses._adversarial import (
    WassersteinLoss,
    gradient_penalty,
    wasserstein_loss,
)
from keras_components.losses._classification import FocalLoss, focal_loss
from keras_components.losses._combined import CombinedLoss
from keras_components.losses._kappa import WeightedKappaLoss, weighted_kappa_loss
from keras_components.losses._lovasz import LovaszLoss, lovasz_loss
from keras_components.losses._segmentation import (
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
    "LovaszLoss",
    "TverskyLoss",
    "WassersteinLoss",
    "WeightedKappaLoss",
    "dice_loss",
    "focal_loss",
    "gradient_penalty",
    "jaccard_loss",
    "lovasz_loss",
    "tversky_loss",
    "wasserstein_loss",
    "weighted_kappa_loss",
]
