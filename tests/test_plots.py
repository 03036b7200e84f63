"""`keras_components.plots`: valid, non-blank PNGs; argument checks; no matplotlib."""

import sys
import types
import warnings

import keras
import numpy as np
import pytest
from scipy.special import expit
from sklearn.metrics import confusion_matrix

from keras_components import plots
from keras_components.metrics import AUPRC, AUROC, CalibrationError, ConfusionMatrix

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def assert_png(path):
    """A PNG that matplotlib reads back, with visible content."""
    import matplotlib.image

    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert path.stat().st_size > 1000
    image = matplotlib.image.imread(path)
    assert image.ndim == 3
    assert image.shape[0] > 100
    assert image.shape[1] > 100
    pixels = image[..., :3].reshape(-1, 3)
    # Not blank: many pixels differ from the background, in several colours.
    background = np.median(pixels, axis=0)
    assert np.mean(np.any(np.abs(pixels - background) > 0.1, axis=1)) > 0.01
    assert len(np.unique(np.round(pixels, 2), axis=0)) > 20


HISTORY = {
    "loss": [0.9, 0.6, 0.5, 0.45],
    "val_loss": [1.0, 0.7, 0.65, 0.7],
    "f1": [0.5, 0.7, 0.8, 0.85],
    "val_f1": [0.4, 0.65, 0.7, 0.68],
    "learning_rate": [1e-3] * 4,
}


def _binary_metrics(n=300, seed=0):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.4).astype(np.int32)
    p = expit(rng.normal(size=n) + 1.5 * y).astype(np.float32)
    roc, pr = AUROC(num_thresholds=512), AUPRC(num_thresholds=512)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for m in (roc, pr):
            m.update_state(y, p)
    return roc, pr


def _multiclass(n=300, k=3, seed=1):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, size=n)
    z = rng.normal(size=(n, k)) + 1.5 * np.eye(k)[y]
    return y, (np.exp(z) / np.exp(z).sum(-1, keepdims=True)).astype(np.float32)


def test_plot_history_dict(tmp_path):
    out = plots.plot_history(HISTORY, tmp_path / "sub" / "curves.png")
    assert out == tmp_path / "sub" / "curves.png"
    assert_png(out)


def _drawn(monkeypatch, history, tmp_path):
    """The figure `plot_history` saves, for its axes and legends."""
    saved = []
    real = plots._save
    monkeypatch.setattr(plots, "_save", lambda f, p: saved.append(f) or real(f, p))
    assert_png(plots.plot_history(history, tmp_path / "h.png"))
    return saved[0]


def test_one_epoch_has_whole_epoch_ticks(monkeypatch, tmp_path):
    figure = _drawn(monkeypatch, {"loss": [0.5], "val_loss": [0.6]}, tmp_path)
    (ax,) = [a for a in figure.axes if a.get_visible()]
    low, high = ax.get_xlim()
    shown = [t for t in ax.get_xticks() if low <= t <= high]
    assert shown == [1.0]  # not 0.95, 0.975, ...
    assert figure._suptitle.get_text() == "Training curves (1 epoch)"


def test_nan_and_all_nan_series(monkeypatch, tmp_path):
    history = {
        "loss": [1.0, np.nan, 0.5, 0.4],
        "val_loss": [1.1, 0.9, np.nan, 0.6],
        "f1": [0.2, 0.4, np.nan, 0.6],
        "val_f1": [np.nan] * 4,
    }
    figure = _drawn(monkeypatch, history, tmp_path)
    legends = {
        a.get_title(): [t.get_text() for t in a.get_legend().get_texts()]
        for a in figure.axes
    }
    assert legends["loss (lower is better)"][-1] == "best validation: 0.6 @ epoch 4"
    assert legends["f1 (higher is better)"] == [
        "train",
        "validation (no finite values)",
    ]


def test_plot_history_keras_history_and_metric_subset(tmp_path):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse", metrics=["mae"])
    x = np.random.default_rng(2).normal(size=(16, 2))
    history = model.fit(x, x[:, :1], epochs=3, validation_split=0.25, verbose=0)
    assert_png(plots.plot_history(history, tmp_path / "h.png", metrics=["mae"]))


def test_plot_history_validation_metrics_form(tmp_path):
    # What ValidationMetrics exposes: reporting epochs only (0-based).
    callback = types.SimpleNamespace(
        history={"val_f1": [0.4, 0.6, 0.55], "val_log_loss": [0.9, 0.5, 0.6]},
        epochs=[1, 3, 5],
    )
    series = plots._series_of(callback)
    np.testing.assert_array_equal(series["val_f1"][0], [2, 4, 6])
    assert_png(plots.plot_history(callback, tmp_path / "v.png"))


def test_history_alignment_of_sparse_validation():
    series = plots._series_of({"loss": [3, 2, 1, 0.5], "val_loss": [2.5, 1.0]})
    np.testing.assert_array_equal(series["loss"][0], [1, 2, 3, 4])
    np.testing.assert_array_equal(series["val_loss"][0], [2, 4])
    # Matrices (ConfusionMatrix kept by a callback) are left out.
    series = plots._series_of({"loss": [1.0], "cm": [np.eye(2)]})
    assert set(series) == {"loss"}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("loss", "down"),
        ("log_loss", "down"),  # our LogLoss declares "down"
        ("hamming_loss", "down"),
        ("rmse", "down"),
        ("mean_squared_error", "down"),
        ("f1", "up"),
        ("auroc", "up"),
        ("mcc_2", "up"),
        ("learning_rate", None),
    ],
)
def test_best_epoch_direction(name, expected):
    assert plots._direction(name, {}) == expected


def test_direction_override():
    assert plots._direction("f1", {"f1": "down"}) == "down"


def test_plot_roc_and_pr_binary(tmp_path):
    roc, pr = _binary_metrics()
    assert_png(plots.plot_roc(roc, tmp_path / "roc.png", class_names=["no", "yes"]))
    assert_png(plots.plot_precision_recall(pr, str(tmp_path / "pr.png")))
    # Either metric keeps the histograms, so either draws either curve.
    assert_png(plots.plot_roc(pr, tmp_path / "roc2.png"))


def test_plot_roc_and_pr_multiclass_with_undefined_class(tmp_path):
    y, p = _multiclass(k=4)
    y = np.where(y == 3, 0, y)  # class 3 never occurs: undefined, no curve
    roc, pr = AUROC(num_thresholds=512), AUPRC(num_thresholds=512)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for m in (roc, pr):
            m.update_state(y, p)
    names = ["a", "b", "c", "d"]
    assert_png(plots.plot_roc(roc, tmp_path / "roc.png", class_names=names))
    assert_png(plots.plot_precision_recall(pr, tmp_path / "pr.png", class_names=names))


@pytest.mark.parametrize("normalize", [None, "true", "pred", "all"])
def test_plot_confusion_matrix(tmp_path, normalize):
    y, p = _multiclass()
    metric = ConfusionMatrix(task="multiclass", num_classes=3)
    metric.update_state(y, p)
    out = plots.plot_confusion_matrix(
        metric, tmp_path / "cm.png", class_names=["x", "y", "z"], normalize=normalize
    )
    assert_png(out)


def test_confusion_normalization_equals_sklearn():
    rng = np.random.default_rng(3)
    y, pred = rng.integers(0, 4, 200), rng.integers(0, 4, 200)
    pred[pred == 3] = 2  # an empty column
    counts = confusion_matrix(y, pred, labels=range(4)).astype(np.float64)
    for normalize in ("true", "pred", "all"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = confusion_matrix(y, pred, labels=range(4), normalize=normalize)
        np.testing.assert_allclose(plots._normalized(counts, normalize), expected)


def test_plot_confusion_matrix_array_and_multilabel(tmp_path):
    assert_png(
        plots.plot_confusion_matrix(np.array([[5, 1], [2, 7]]), tmp_path / "a.png")
    )
    blocks = np.array([[[10, 2], [3, 5]], [[8, 4], [1, 7]], [[12, 0], [2, 6]]])
    assert_png(
        plots.plot_confusion_matrix(blocks, tmp_path / "m.png", normalize="true")
    )


@pytest.mark.parametrize("norm", ["l1", "l2", "max"])
def test_plot_reliability_binary_and_multiclass(tmp_path, norm):
    rng = np.random.default_rng(6)
    z = 2.0 * rng.normal(size=800)
    y = (rng.random(800) < expit(0.5 * z)).astype(np.int32)
    binary = CalibrationError(norm=norm, from_logits=True)
    # Certain predictions have a bin of their own, drawn at confidence 1.
    binary.update_state(np.append(y, [1, 0]), np.append(z, [1e4, 1e4]).astype("f4"))
    assert binary.bins().weight[-1] == 2
    out = plots.plot_reliability(binary, tmp_path / "binary" / "reliability.png")
    assert out == tmp_path / "binary" / "reliability.png"
    assert_png(out)
    labels = rng.integers(0, 4, 800)
    logits = rng.normal(size=(800, 4)) + 2.0 * np.eye(4)[labels]
    multiclass = CalibrationError(num_bins=10, norm=norm, from_logits=True)
    multiclass.update_state(labels, logits.astype(np.float32))
    assert_png(plots.plot_reliability(multiclass, tmp_path / "multiclass.png"))


def test_argument_validation(tmp_path):
    roc, _ = _binary_metrics()
    with pytest.raises(TypeError, match="Invalid type for argument `path`"):
        plots.plot_history(HISTORY, 3)
    with pytest.raises(ValueError, match=r"argument `metrics`.*loss, f1"):
        plots.plot_history(HISTORY, tmp_path / "x.png", metrics=["auroc"])
    with pytest.raises(TypeError, match="argument `history`"):
        plots.plot_history([1, 2, 3], tmp_path / "x.png")
    with pytest.raises(ValueError, match="argument `history`"):
        plots.plot_history({"cm": [np.eye(2)]}, tmp_path / "x.png")
    with pytest.raises(ValueError, match="argument `directions`"):
        plots.plot_history(HISTORY, tmp_path / "x.png", directions={"f1": "max"})
    with pytest.raises(TypeError, match="argument `metric`"):
        plots.plot_roc(ConfusionMatrix(), tmp_path / "x.png")
    with pytest.raises(ValueError, match="argument `class_names`"):
        plots.plot_roc(roc, tmp_path / "x.png", class_names=["a", "b", "c"])
    with pytest.raises(ValueError, match="needs data"):
        plots.plot_roc(AUROC(), tmp_path / "x.png")
    with pytest.raises(TypeError, match=r"argument `metric`.*CalibrationError"):
        plots.plot_reliability(roc, tmp_path / "x.png")
    with pytest.raises(ValueError, match=r"argument `metric`.*seen data"):
        plots.plot_reliability(CalibrationError(), tmp_path / "x.png")
    empty = CalibrationError()
    empty.update_state([0, 1], [0.2, 0.7], [0.0, 0.0])
    with pytest.raises(ValueError, match=r"argument `metric`.*total weight"):
        plots.plot_reliability(empty, tmp_path / "x.png")
    with pytest.raises(ValueError, match="argument `normalize`"):
        plots.plot_confusion_matrix(np.eye(2), tmp_path / "x.png", normalize="rows")
    with pytest.raises(ValueError, match=r"argument `matrix`.*\(2, 3\)"):
        plots.plot_confusion_matrix(np.ones((2, 3)), tmp_path / "x.png")
    with pytest.raises(ValueError, match="argument `matrix`"):
        plots.plot_confusion_matrix(-np.eye(2), tmp_path / "x.png")
    with pytest.raises(ValueError, match="argument `class_names`"):
        plots.plot_confusion_matrix(np.eye(3), tmp_path / "x.png", class_names=["a"])
    assert not list(tmp_path.iterdir())  # nothing written on a refusal


def test_without_matplotlib_every_function_names_the_extra(tmp_path, monkeypatch):
    for name in list(sys.modules):
        if name == "matplotlib" or name.startswith("matplotlib."):
            monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    roc, pr = _binary_metrics()
    calibrated = CalibrationError()
    calibrated.update_state([0, 1], [0.2, 0.7])
    calls = [
        lambda: plots.plot_history(HISTORY, tmp_path / "a.png"),
        lambda: plots.plot_roc(roc, tmp_path / "b.png"),
        lambda: plots.plot_precision_recall(pr, tmp_path / "c.png"),
        lambda: plots.plot_confusion_matrix(np.eye(2), tmp_path / "d.png"),
        lambda: plots.plot_reliability(calibrated, tmp_path / "e.png"),
    ]
    for call in calls:
        with pytest.raises(
            ImportError, match=r'pip install "keras-components\[plot\]"'
        ):
            call()
    assert not list(tmp_path.iterdir())
