"""What every loss shares: a floating-point dtype, real inputs, half precision."""

import keras
import numpy as np
import pytest

from keras_components import (
    CombinedLoss,
    DiceLoss,
    FocalLoss,
    JaccardLoss,
    TverskyLoss,
    WassersteinLoss,
)
from keras_components.losses import (
    dice_loss,
    focal_loss,
    jaccard_loss,
    tversky_loss,
    wasserstein_loss,
)
from tests.helpers import to_numpy
from tests.losses.common import traced

CLASSES = {
    "focal": lambda **kw: FocalLoss(**kw),
    "dice": lambda **kw: DiceLoss(**kw),
    "jaccard": lambda **kw: JaccardLoss(**kw),
    "tversky": lambda **kw: TverskyLoss(0.3, 0.7, **kw),
    "wasserstein": lambda **kw: WassersteinLoss(**kw),
    "combined": lambda **kw: CombinedLoss([DiceLoss(), FocalLoss()], **kw),
}
FUNCTIONS = {
    "focal": focal_loss,
    "dice": dice_loss,
    "jaccard": jaccard_loss,
    "tversky": tversky_loss,
    "wasserstein": wasserstein_loss,
}


def inputs(kind):
    """Valid (y_true, y_pred) for `kind`: (2, 4, 4) labels, (2, 4, 4, 3) probs."""
    rng = np.random.default_rng(0)
    if kind == "wasserstein":
        return np.array([[1.0], [-1.0]]), rng.standard_normal((2, 1))
    probs = rng.dirichlet(np.ones(3), (2, 4, 4))
    return rng.integers(0, 3, (2, 4, 4)), probs


@pytest.mark.parametrize("kind", list(CLASSES))
@pytest.mark.parametrize(
    "dtype", ["int32", "int64", "uint8", "bool", "complex64", "complex128"]
)
def test_non_float_dtype_is_a_value_error_at_construction(kind, dtype):
    with pytest.raises(ValueError, match=rf"argument `dtype`.*dtype='{dtype}'"):
        CLASSES[kind](dtype=dtype)
    with pytest.raises(ValueError, match="argument `dtype`"):
        CLASSES[kind](dtype=keras.DTypePolicy(dtype))


@pytest.mark.parametrize("kind", list(CLASSES))
@pytest.mark.parametrize(
    "dtype", [None, "float32", "float64", "mixed_float16", "mixed_bfloat16"]
)
def test_float_dtypes_and_policies_are_accepted(kind, dtype):
    loss = CLASSES[kind](dtype=dtype)
    y_true, y_pred = inputs(kind)
    assert np.isfinite(to_numpy(loss(y_true, y_pred)))


@pytest.mark.parametrize("kind", list(CLASSES))
@pytest.mark.parametrize("argument", ["y_true", "y_pred"])
def test_complex_inputs_are_a_type_error(kind, argument):
    """Casting would drop the imaginary part: never silently."""
    y_true, y_pred = inputs(kind)
    if argument == "y_true":
        y_true = y_true.astype(np.complex64)
    else:
        y_pred = y_pred.astype(np.complex64) + 0.5j
    loss = CLASSES[kind]()
    with pytest.raises(TypeError, match=rf"`{argument}`.*dtype=complex64"):
        loss(y_true, y_pred)
    # Also inside a traced function: the dtype is static.
    with pytest.raises(TypeError, match=rf"`{argument}`"):
        traced(loss, "graph")(y_true, y_pred)
    if kind in FUNCTIONS:
        with pytest.raises(TypeError, match=rf"`{argument}`"):
            FUNCTIONS[kind](y_true, y_pred)


def test_complex_gradient_penalty_inputs_are_a_type_error():
    from keras_components.losses import gradient_penalty

    critic = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    real = np.ones((2, 3), np.complex64)
    with pytest.raises(TypeError, match="`real`"):
        gradient_penalty(critic, real, np.ones((2, 3)))
    with pytest.raises(TypeError, match="`fake`"):
        gradient_penalty(critic, np.ones((2, 3)), real)


def test_half_precision_predictions_reach_the_function_as_they_are():
    """So precision-dependent checks (the softmax row tolerance) see them."""
    seen = []

    class Spy(FocalLoss):
        def call(self, y_true, y_pred):
            seen.append(keras.backend.standardize_dtype(y_pred.dtype))
            return super().call(y_true, y_pred)

    y_true, y_pred = inputs("focal")
    for dtype in ("float16", "bfloat16", "float32", "float64"):
        Spy()(y_true, keras.ops.cast(y_pred, dtype))
    # float64 is cast to the loss's dtype (float32), as before.
    assert seen == ["float16", "bfloat16", "float32", "float32"]
    seen.clear()
    Spy(dtype="float64")(y_true, keras.ops.cast(y_pred, "float16"))
    assert seen == ["float64"]  # computed in float64: cast up front
