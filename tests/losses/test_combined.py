"""CombinedLoss: weighted per-sample sums, masks, serialization with children."""

import keras
import numpy as np
import pytest

from keras_components import CombinedLoss, DiceLoss, FocalLoss, TverskyLoss
from keras_components import metrics as kc_metrics
from keras_components.losses import dice_loss, focal_loss
from tests.helpers import (
    EXPORT_FORMATS,
    assert_config_roundtrip,
    assert_exports,
    assert_keras_roundtrip,
    runs_eagerly_in_model,
    to_numpy,
)
from tests.losses.common import (
    HALF_POLICIES,
    assert_half_precision_input,
    assert_jit_equals_eager,
    assert_reductions,
    assert_trains,
    assert_value_and_gradient_finite,
)
from tests.losses.test_classification import categorical_ref
from tests.losses.test_segmentation import region_ref, segmentation_data, segmenter

IGNORE = 255


def softmax(z):
    z = np.asarray(z, np.float64)
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    logits = (2 * rng.standard_normal((6, 8, 8, 3))).astype(np.float32)
    labels = rng.integers(0, 3, (6, 8, 8))
    ignored = np.where(rng.uniform(size=labels.shape) < 0.3, IGNORE, labels)
    ignored[2] = IGNORE  # one sample without any kept pixel
    return {
        "logits": logits,
        "probs": softmax(logits).astype(np.float32),
        "labels": labels,
        "one_hot": np.eye(3)[labels],
        "ignored": ignored,
    }


def dice_focal_ref(y_one_hot, logits, *, weights=(1.0, 0.5), keep=None):
    """Per sample: w0 * Dice_n + w1 * mean over (kept) pixels of focal_n."""
    dice = region_ref(y_one_hot, softmax(logits), "dice", keep=keep)
    focal = categorical_ref(y_one_hot, logits=logits, gamma=2.0)
    if keep is None:
        focal_n = focal.mean(axis=(1, 2))
    else:
        kept = keep.sum(axis=(1, 2))
        focal_n = (focal * keep).sum(axis=(1, 2)) / np.maximum(kept, 1)
    return weights[0] * dice + weights[1] * focal_n


def dice_focal(weights=(1.0, 0.5), ignore_index=None, **kwargs):
    return CombinedLoss(
        [
            DiceLoss(from_logits=True, ignore_index=ignore_index),
            FocalLoss(from_logits=True, ignore_index=ignore_index),
        ],
        weights=weights,
        **kwargs,
    )


def test_dice_plus_focal_on_masks_equals_reference(data):
    """Per-pixel focal values are averaged per sample, then weighted and summed."""
    expected = dice_focal_ref(data["one_hot"], data["logits"])
    got = to_numpy(dice_focal(reduction=None)(data["labels"], data["logits"]))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    assert_reductions(dice_focal, data["labels"], data["logits"], expected)


def test_default_reduction_is_the_weighted_sum_of_the_children(data):
    y, z = data["labels"], data["logits"]
    combined = float(dice_focal()(y, z))
    separate = float(DiceLoss(from_logits=True)(y, z)) + 0.5 * float(
        FocalLoss(from_logits=True)(y, z)
    )
    np.testing.assert_allclose(combined, separate, rtol=1e-6)


def test_ignore_index_children_average_over_kept_pixels(data):
    y, z = data["ignored"], data["logits"]
    keep = y != IGNORE
    expected = dice_focal_ref(np.eye(3)[np.where(keep, y, 0)], z, keep=keep)
    got = to_numpy(dice_focal(ignore_index=IGNORE, reduction=None)(y, z))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "child",
    [
        FocalLoss(from_logits=True, ignore_index=IGNORE),
        keras.losses.SparseCategoricalCrossentropy(
            from_logits=True, ignore_class=IGNORE
        ),
        TverskyLoss(0.3, 0.7, from_logits=True, ignore_index=IGNORE),
    ],
    ids=["focal", "keras-scce", "tversky"],
)
def test_single_child_equals_the_child_under_every_reduction(data, child):
    y, z = data["ignored"], data["logits"]
    weights = np.random.default_rng(1).uniform(0.1, 2, y.shape[:1])
    if not isinstance(child, TverskyLoss):
        weights = np.broadcast_to(weights[:, None, None], y.shape)
    for reduction in ("sum_over_batch_size", "sum", "mean_with_sample_weight", None):
        child.reduction = reduction
        combined = CombinedLoss([child], reduction=reduction)
        for sw in (None, weights):
            np.testing.assert_allclose(
                to_numpy(combined(y, z, sample_weight=sw)),
                to_numpy(child(y, z, sample_weight=sw)),
                rtol=1e-6,
                atol=1e-7,
                err_msg=f"reduction={reduction}",
            )


def test_position_dropped_by_every_child_is_dropped(data):
    y, z = data["ignored"], data["logits"]
    keep = y != IGNORE
    two = CombinedLoss(
        [
            FocalLoss(from_logits=True, ignore_index=IGNORE),
            FocalLoss(0.0, from_logits=True, ignore_index=IGNORE),
        ],
        weights=[1.0, 3.0],
    )
    y_ref = np.eye(3)[np.where(keep, y, 0)]
    per_pixel = categorical_ref(y_ref, logits=z, gamma=2.0) + 3 * categorical_ref(
        y_ref, logits=z, gamma=0.0
    )
    expected = (per_pixel * keep).sum() / keep.sum()  # mean over kept pixels
    np.testing.assert_allclose(float(two(y, z)), expected, rtol=1e-5)


def test_strings_functions_and_keras_losses_as_children():
    rng = np.random.default_rng(2)
    y = rng.standard_normal((10, 3)).astype(np.float32)
    p = rng.standard_normal((10, 3)).astype(np.float32)
    loss = CombinedLoss(["mse", keras.losses.MeanAbsoluteError()], weights=[2, 1])
    expected = 2 * np.mean((y - p) ** 2) + np.mean(np.abs(y - p))
    np.testing.assert_allclose(float(loss(y, p)), expected, rtol=1e-6)
    labels = rng.integers(0, 3, (10, 4, 4))
    logits = rng.standard_normal((10, 4, 4, 3)).astype(np.float32)
    functions = CombinedLoss([focal_loss, dice_loss])
    expected = float(FocalLoss()(labels, softmax(logits))) + float(
        DiceLoss()(labels, softmax(logits))
    )
    np.testing.assert_allclose(
        float(functions(labels, softmax(logits).astype(np.float32))),
        expected,
        rtol=1e-5,
    )


# --------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [
        (([],), {}, ValueError, "argument `losses`. Expected a non-empty"),
        (("mse",), {}, TypeError, "argument `losses`"),
        ((DiceLoss(),), {}, TypeError, "argument `losses`"),
        (([DiceLoss(), 3],), {}, TypeError, r"losses\[1\]"),
        (([DiceLoss(), "no_such_loss"],), {}, ValueError, r"losses\[1\]"),
        (([DiceLoss(), FocalLoss()], [1.0]), {}, ValueError, "of length 2"),
        (([DiceLoss(), FocalLoss()], [1.0, -1.0]), {}, ValueError, "`weights`"),
        (([DiceLoss(), FocalLoss()], [1.0, float("nan")]), {}, ValueError, "`weights`"),
        (([DiceLoss()], "1"), {}, TypeError, "`weights`"),
        (([DiceLoss()],), {"reduction": "max"}, ValueError, "`reduction`"),
    ],
)
def test_bad_arguments(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        CombinedLoss(*args, **kwargs)


class _CallableMetric:
    """A callable that is not a loss: takes one argument."""

    def __call__(self, y_pred):
        return y_pred


@pytest.mark.parametrize(
    ("child", "what"),
    [
        (keras.layers.Dense(1), "layer"),
        (keras.Sequential([keras.layers.Dense(1)]), "layer or model"),
        (print, "built-in"),
        (len, "built-in"),
        (keras.metrics.Accuracy(), "metric"),
        (kc_metrics.F1(), "metric"),
        (keras.metrics.binary_accuracy, "metric function"),
        (DiceLoss, "class"),
        (lambda y_pred: y_pred, r"f\(y_true, y_pred\)"),
        (_CallableMetric(), r"f\(y_true, y_pred\)"),
        (3, "not callable"),
    ],
    ids=[
        "layer",
        "model",
        "print",
        "len",
        "keras-metric",
        "our-metric",
        "keras-metric-function",
        "class",
        "one-argument-lambda",
        "one-argument-callable",
        "int",
    ],
)
def test_children_that_are_not_losses_raise_type_error_naming_them(child, what):
    with pytest.raises(TypeError, match=rf"argument `losses\[1\]`.*{what}"):
        CombinedLoss([DiceLoss(), child])


def test_loss_functions_and_partials_are_accepted_children():
    import functools

    loss = CombinedLoss(
        [
            functools.partial(focal_loss, gamma=0.0),
            lambda y_true, y_pred, **kwargs: dice_loss(y_true, y_pred),
            keras.losses.mean_squared_error,
        ]
    )
    assert len(loss.losses) == 3


def test_names_that_are_not_keras_losses_raise_value_error():
    """The type (a name) is right, the value is not: ValueError, as Keras."""
    for name in ("no_such_loss", "accuracy"):
        with pytest.raises(
            ValueError,
            match=rf"argument `losses\[1\]`.*name of a loss.*"
            rf"Received: losses\[1\]='{name}'",
        ):
            CombinedLoss([DiceLoss(), name])


def test_all_zero_weights_raise():
    with pytest.raises(ValueError, match=r"argument `weights`.*at least one > 0"):
        CombinedLoss([DiceLoss(), FocalLoss()], weights=[0.0, 0.0])
    CombinedLoss([DiceLoss(), FocalLoss()], weights=[0.0, 1.0])  # one is enough


def test_children_values_must_agree(data):
    y, p = data["one_hot"], data["probs"]
    scalar = CombinedLoss([DiceLoss(), keras.losses.Dice()])  # Keras: axis=None
    with pytest.raises(ValueError, match=r"losses\[0\].shape=\(6,\).*losses\[1\]"):
        scalar(y, p)
    transposed = CombinedLoss([DiceLoss(), lambda y, p: keras.ops.mean(p, axis=0)])
    with pytest.raises(ValueError, match=r"losses\[1\].shape=\(8, 8, 3\)"):
        transposed(y, p)


# --------------------------------------------------------------------------
# Shared checks and serialization
# --------------------------------------------------------------------------
def test_jit_and_gradients(data):
    loss = dice_focal(ignore_index=IGNORE)
    assert_value_and_gradient_finite(loss, data["ignored"], data["logits"])
    assert_jit_equals_eager(loss, data["ignored"], data["logits"])


@pytest.mark.parametrize("mixed_precision_policy", HALF_POLICIES, indirect=True)
def test_mixed_precision(data, mixed_precision_policy):
    assert_half_precision_input(
        lambda **kw: dice_focal(ignore_index=IGNORE, **kw),
        data["ignored"],
        data["logits"],
        mixed_precision_policy,
    )
    x, y = segmentation_data()
    assert_trains(segmenter(), dice_focal(), x, y)


def test_training_lowers_the_loss():
    x, y = segmentation_data()
    assert_trains(segmenter(), dice_focal(weights=[1.0, 2.0]), x, y)


@pytest.mark.parametrize(
    "loss",
    [
        CombinedLoss([DiceLoss(), FocalLoss()]),
        CombinedLoss(
            [TverskyLoss(0.3, 0.7, ignore_index=255), FocalLoss(1.0, [1, 2, 3])],
            weights=[0.5, 2.0],
            reduction="sum",
            name="mix",
            dtype="mixed_float16",
        ),
        CombinedLoss(["mse", keras.losses.Huber(delta=2.0), focal_loss]),
        CombinedLoss([CombinedLoss([DiceLoss()]), FocalLoss()]),
    ],
    ids=["dice-focal", "all-arguments", "functions-and-keras", "nested"],
)
def test_config_roundtrip(loss):
    rebuilt = assert_config_roundtrip(loss)
    assert [type(c) for c in rebuilt.losses] == [type(c) for c in loss.losses]


def test_model_compiled_with_dice_plus_focal_roundtrips(tmp_path):
    x, y = segmentation_data()
    model = dice_focal_model(x, y)
    loaded = assert_keras_roundtrip(model, x, tmp_path)
    assert isinstance(loaded.loss, CombinedLoss)
    assert [type(c) for c in loaded.loss.losses] == [DiceLoss, FocalLoss]
    np.testing.assert_allclose(
        loaded.evaluate(x, y, verbose=0), model.evaluate(x, y, verbose=0), rtol=1e-6
    )


def dice_focal_model(x, y):
    model = segmenter("dice_focal_model")
    loss = CombinedLoss([DiceLoss(from_logits=True), FocalLoss(from_logits=True)])
    model.compile(optimizer="adam", loss=loss)
    model.fit(x, y, epochs=1, verbose=0)
    return model


@pytest.mark.parametrize("export_format", EXPORT_FORMATS)
def test_model_compiled_with_dice_plus_focal_exports(tmp_path, export_format):
    """SavedModel everywhere; `.pt2` (`format="torch"`) on PyTorch too."""
    x, y = segmentation_data()
    assert_exports(dice_focal_model(x, y), x[:4], tmp_path, export_format)


def readme_segmentation_data(n=16):
    """(N, 64, 64) uint8 masks with void (255) regions, RGB-like images."""
    rng = np.random.default_rng(11)
    x = rng.standard_normal((n, 64, 64, 3)).astype(np.float32)
    y = np.argmax(x[..., :2] + 0.5 * rng.standard_normal((n, 64, 64, 2)), -1)
    y = (y + 2 * (x[..., 2] > 0.5)).astype(np.uint8)  # 4 classes
    y[:, :6] = 255  # a void border, as in VOC-style masks
    y[:, :, -3:] = 255
    y[3] = 255  # an image that is void everywhere
    return x, y


def readme_segmenter():
    inputs = keras.Input((64, 64, 3))
    hidden = keras.layers.Conv2D(8, 3, padding="same", activation="relu")(inputs)
    return keras.Model(inputs, keras.layers.Conv2D(4, 1)(hidden))


@pytest.mark.parametrize("jit_compile", [False, True])
def test_readme_segmentation_example_with_void_255_trains(jit_compile):
    """README: Dice + Focal, both with ignore_index=255, on (N, 64, 64) masks."""
    x, y = readme_segmentation_data()
    loss = CombinedLoss(
        [
            DiceLoss(from_logits=True, ignore_index=255),
            FocalLoss(from_logits=True, ignore_index=255),
        ]
    )
    model = readme_segmenter()
    model.compile(optimizer="adam", loss=loss, jit_compile=jit_compile)
    history = model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    got = model.evaluate(x, y, batch_size=16, verbose=0)
    # One batch: the mean over samples of Dice (void removed) plus the mean
    # over non-void pixels of the focal loss, in float64.
    logits = model.predict(x, verbose=0).astype(np.float64)
    keep = y != 255
    y_ref = np.eye(4)[np.where(keep, y, 0)]
    dice = region_ref(y_ref, softmax(logits), "dice", keep=keep)
    focal = categorical_ref(y_ref, logits=logits, gamma=2.0)
    kept = keep.sum(axis=(1, 2))
    focal_n = (focal * keep).sum(axis=(1, 2)) / np.maximum(kept, 1)
    np.testing.assert_allclose(got, (dice + focal_n).mean(), rtol=1e-4)
    # Without ignore_index, 255 is an invalid label: the loss is NaN when
    # traced (the eager check raises where evaluate runs eagerly), never a
    # finite number that counts void pixels as some class.
    model.compile(
        loss=CombinedLoss([DiceLoss(from_logits=True), FocalLoss(from_logits=True)]),
        jit_compile=jit_compile,
    )
    if runs_eagerly_in_model(jit_compile=jit_compile):
        with pytest.raises(ValueError, match=r"Received values: \[255\].*ignore_index"):
            model.evaluate(x, y, batch_size=16, verbose=0)
    else:
        assert np.isnan(model.evaluate(x, y, batch_size=16, verbose=0))


def test_mirrored_strategy_matches_one_device(mirrored_strategy):
    """Batches split evenly over the two replicas (see the fixture's note)."""
    x, y = segmentation_data()
    single = segmenter("one_device")
    single.compile(loss=dice_focal())
    with mirrored_strategy.scope():
        mirrored = segmenter("mirrored")
        mirrored.compile(optimizer=keras.optimizers.Adam(0.05), loss=dice_focal())
    mirrored.set_weights(single.get_weights())
    np.testing.assert_allclose(
        mirrored.evaluate(x, y, batch_size=16, verbose=0),
        single.evaluate(x, y, batch_size=16, verbose=0),
        rtol=1e-5,
    )
    history = mirrored.fit(x, y, batch_size=16, epochs=3, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
