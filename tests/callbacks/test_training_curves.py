"""`TrainingCurves`: writes its PNG during `fit`, from the logs it has seen."""

import keras
import numpy as np
import pytest

from keras_components import F1, FocalLoss, TrainingCurves
from tests.test_plots import assert_png


class _SparseValidation(keras.callbacks.Callback):
    """Adds `val_score` to the logs on every second epoch (as a validation
    callback with `every_n_epochs=2` does), listed before TrainingCurves."""

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % 2 == 0:
            logs["val_score"] = 0.1 * epoch


class _Watch(keras.callbacks.Callback):
    """Records, after TrainingCurves ran, whether its file exists."""

    def __init__(self, path):
        super().__init__()
        self.path = path
        self.seen = []

    def on_epoch_end(self, epoch, logs=None):
        self.seen.append(self.path.exists() and self.path.stat().st_size > 0)


def _data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype(np.float32)
    y = (x[:, :1] + 0.3 * rng.normal(size=(64, 1)) > 0).astype(np.float32)
    return x, y


def test_writes_png_during_fit(tmp_path):
    x, y = _data()
    model = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(1, activation="sigmoid")]
    )
    model.compile("adam", FocalLoss(), metrics=[F1()])
    path = tmp_path / "out" / "curves.png"
    curves = TrainingCurves(path)
    watch = _Watch(path)
    model.fit(
        x,
        y,
        epochs=4,
        batch_size=16,
        validation_split=0.25,
        verbose=0,
        callbacks=[_SparseValidation(), curves, watch],
    )
    assert watch.seen == [True] * 4  # rewritten at each epoch end
    assert_png(path)
    assert curves.epochs["loss"] == [0, 1, 2, 3]
    assert curves.epochs["val_score"] == [1, 3]  # the epochs it was logged
    assert set(curves.history) >= {"loss", "val_loss", "f1", "val_f1", "val_score"}
    # Directions declared by the compiled metrics reach the picture.
    assert curves._directions().get("f1") == "up"
    assert not [p for p in path.parent.iterdir() if p.name != "curves.png"]


def test_metric_subset_and_config(tmp_path):
    x, y = _data()
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    curves = TrainingCurves(str(tmp_path / "c.png"), metrics=["loss"])
    model.fit(x, y, epochs=2, verbose=0, callbacks=[curves])
    assert_png(tmp_path / "c.png")
    config = curves.get_config()
    assert config == {"path": str(tmp_path / "c.png"), "metrics": ["loss"]}
    assert TrainingCurves.from_config(config).path == curves.path
    assert keras.saving.get_registered_name(TrainingCurves) == (
        "keras_components>TrainingCurves"
    )


def test_bad_arguments():
    with pytest.raises(TypeError, match="argument `path`"):
        TrainingCurves(None)
    with pytest.raises(TypeError, match="argument `metrics`"):
        TrainingCurves("a.png", metrics="loss")
