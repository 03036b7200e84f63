"""Loss rows: forward+backward against Keras's built-ins.

- `FocalLoss` from logits against `keras.losses.CategoricalFocalCrossentropy`
  (same gamma=2 and alpha=0.25 on every class, one-hot targets): no slower.
- `DiceLoss` against `keras.losses.Dice` on one-hot masks: at most 1.5x
  (ours computes per sample and per class; Keras's one global ratio).
"""

from __future__ import annotations

import keras
import numpy as np

from keras_components.bench._steps import (
    _require_tensorflow,
    loss_forward_backward,
    mode_name,
)
from keras_components.bench.harness import Case
from keras_components.losses import DiceLoss, FocalLoss

FOCAL_VS_KERAS_TARGET = 1.0
DICE_VS_KERAS_TARGET = 1.5


def _shape_text(shape: tuple[int, ...]) -> str:
    return "x".join(str(d) for d in shape)


def _focal_inputs(quick: bool):
    shape = (256, 10) if quick else (65536, 10)
    rng = np.random.default_rng(0)
    classes = shape[-1]
    logits = keras.ops.convert_to_tensor(3.0 * rng.standard_normal(shape), "float32")
    labels = rng.integers(0, classes, shape[:-1])
    one_hot = keras.ops.convert_to_tensor(np.eye(classes)[labels], "float32")
    return one_hot, logits, rng


def focal_rows(one_hot, logits, *, jit) -> list[Case]:
    """`FocalLoss` from logits against `CategoricalFocalCrossentropy`, mode `jit`."""
    classes = int(logits.shape[-1])
    ours = FocalLoss(2.0, (0.25,) * classes, from_logits=True)
    theirs = keras.losses.CategoricalFocalCrossentropy(
        alpha=0.25, gamma=2.0, from_logits=True
    )
    return [
        Case(
            f"FocalLoss fwd+bwd {_shape_text(tuple(logits.shape))} logits "
            f"{mode_name(jit)}",
            loss_forward_backward(ours, one_hot, logits, jit=jit),
            loss_forward_backward(theirs, one_hot, logits, jit=jit),
            "keras CategoricalFocalCrossentropy",
            FOCAL_VS_KERAS_TARGET,
        )
    ]


def cases(*, quick: bool = False) -> list[Case]:
    _require_tensorflow()
    dice_shape = (2, 16, 16, 4) if quick else (16, 128, 128, 4)
    one_hot, logits, rng = _focal_inputs(quick)

    masks = rng.integers(0, dice_shape[-1], dice_shape[:-1])
    mask_one_hot = keras.ops.convert_to_tensor(np.eye(dice_shape[-1])[masks], "float32")
    probs = keras.ops.softmax(
        keras.ops.convert_to_tensor(rng.standard_normal(dice_shape), "float32")
    )
    ours_dice, keras_dice = DiceLoss(), keras.losses.Dice()

    rows = []
    for jit in (False, True):
        rows += focal_rows(one_hot, logits, jit=jit)
        rows.append(
            Case(
                f"DiceLoss fwd+bwd {_shape_text(dice_shape)} {mode_name(jit)}",
                loss_forward_backward(ours_dice, mask_one_hot, probs, jit=jit),
                loss_forward_backward(keras_dice, mask_one_hot, probs, jit=jit),
                "keras Dice",
                DICE_VS_KERAS_TARGET,
            )
        )
    return [
        Case(c.name, c.ours, c.baseline, c.baseline_name, c.target, "losses")
        for c in rows
    ]
