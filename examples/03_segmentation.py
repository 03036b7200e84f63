# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# [![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/OWNER/keras-components/blob/main/examples/03_segmentation.ipynb)
#
# # 3. Segmentation with void pixels
#
# A small U-Net-style model segments generated images of discs and squares
# (3 classes: background, disc, square). As in Pascal VOC, a one-pixel band
# around each shape is *void* (label 255): it counts for no loss and no metric.
# The loss is `CombinedLoss([DiceLoss, FocalLoss])`; `IoU`, `Dice` and `F1` are
# streamed pixel-wise, all with `ignore_index=255`, and checked against
# scikit-learn on the non-void pixels. Predicted masks are shown next to the
# truth.

# %%
# Setup: install keras-components where it is not importable (Colab), and put
# examples/ on the path for the helpers all six notebooks share
# (examples/_setup.py). The only network access of this notebook: a shallow clone
# of the repository (which also holds those helpers and the data files example
# 06 reads) and `pip install` from it.
import importlib
import importlib.util
import pathlib
import subprocess
import sys

REPOSITORY = "OWNER/keras-components"  # GitHub owner/name: see examples/README.md


def _checkout(start):
    """The repository folder holding `start` (a keras_components checkout)."""
    for folder in [start, *start.parents]:
        if (folder / "keras_components").is_dir() and (
            folder / "examples" / "_setup.py"
        ).is_file():
            return folder
    return None


_spec = importlib.util.find_spec("keras_components")
ROOT = _checkout(pathlib.Path.cwd().resolve())
if ROOT is None and _spec is not None:  # importable: from a checkout?
    ROOT = _checkout(pathlib.Path(_spec.origin).resolve().parent)
if ROOT is None:  # Colab, or anywhere outside a checkout
    ROOT = pathlib.Path.cwd() / "keras-components"
    if not ROOT.exists():
        url = f"https://github.com/{REPOSITORY}"
        subprocess.run(["git", "clone", "-q", "--depth", "1", url, ROOT], check=True)
    if _spec is None:
        pip = [sys.executable, "-m", "pip", "install", "-q", f"{ROOT}[demo]"]
        subprocess.run(pip, check=True)
        importlib.invalidate_caches()
elif _spec is None:  # a checkout: use it as it is
    sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "examples"))

# %%
import keras
import numpy as np
from _setup import OUT, SMALL, Figure, figure, show
from sklearn.metrics import f1_score, jaccard_score

import keras_components as kc

VOID = 255
CLASSES = ["background", "disc", "square"]
size, n_images, epochs = (32, 320, 8) if SMALL else (64, 2000, 30)


def make_data(count, seed):
    """Noisy 2-channel images with one disc and one square; masks with void rims."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[0:size, 0:size]
    images = rng.normal(0.0, 0.9, size=(count, size, size, 2)).astype("float32")
    masks = np.zeros((count, size, size), np.int32)
    for i in range(count):
        r = rng.uniform(size * 0.12, size * 0.22)
        cy, cx = rng.uniform(r, size - r, size=2)
        distance = np.hypot(rows - cy, cols - cx)
        half = rng.uniform(size * 0.1, size * 0.2)
        sy, sx = rng.uniform(half, size - half, size=2)
        box = np.maximum(np.abs(rows - sy), np.abs(cols - sx))
        square, disc = box <= half, distance <= r
        images[i, square, 1] += 1.0
        images[i, disc, 0] += 1.0  # the disc is drawn over the square
        masks[i][square] = 2
        masks[i][disc] = 1
        rim = (np.abs(distance - r) < 0.8) | (np.abs(box - half) < 0.8)
        masks[i][rim] = VOID
    return images, masks


x_train, y_train = make_data(n_images, seed=0)
x_val, y_val = make_data(max(64, n_images // 5), seed=1)
print(
    f"{len(x_train)} training images {size}x{size}; "
    f"void pixels {np.mean(y_train == VOID):.1%}"
)

# %% [markdown]
# ## A small U-Net
#
# Two resolutions, a skip connection, Mish activations, per-pixel logits.


# %%
def unet():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((size, size, 2))
    a = keras.layers.Conv2D(16, 3, padding="same", activation=kc.activations.mish)(
        inputs
    )
    a = keras.layers.Conv2D(16, 3, padding="same", activation=kc.activations.mish)(a)
    b = keras.layers.MaxPooling2D()(a)
    b = keras.layers.Conv2D(32, 3, padding="same", activation=kc.activations.mish)(b)
    b = keras.layers.Conv2D(32, 3, padding="same", activation=kc.activations.mish)(b)
    up = keras.layers.UpSampling2D()(b)
    c = keras.layers.Concatenate()([a, up])
    c = keras.layers.Conv2D(16, 3, padding="same", activation=kc.activations.mish)(c)
    logits = keras.layers.Conv2D(len(CLASSES), 1)(c)
    return keras.Model(inputs, logits)


model = unet()
model.compile(
    optimizer=keras.optimizers.Adam(3e-3),
    loss=kc.CombinedLoss(
        [
            kc.DiceLoss(from_logits=True, ignore_index=VOID),
            kc.FocalLoss(from_logits=True, ignore_index=VOID),
        ]
    ),
    metrics=[
        kc.IoU(from_logits=True, ignore_index=VOID),
        kc.Dice(from_logits=True, ignore_index=VOID),
        kc.F1(from_logits=True, ignore_index=VOID),
    ],
)
history = model.fit(
    x_train,
    y_train,
    validation_data=(x_val, y_val),
    epochs=epochs,
    batch_size=32,
    verbose=0,
)
for key in ("loss", "val_loss", "val_io_u", "val_dice", "val_f1"):
    if key in history.history:
        print(f"{key:10s} " + " ".join(f"{v:.3f}" for v in history.history[key]))

# %% [markdown]
# ## Metrics vs scikit-learn on the non-void pixels
#
# `Dice` is F1 by another name; `IoU` is the mean Jaccard index (macro).

# %%
ours = model.evaluate(x_val, y_val, batch_size=64, return_dict=True, verbose=0)
logits = model.predict(x_val, batch_size=64, verbose=0)
predicted = logits.argmax(-1)
keep = y_val != VOID
truth_pixels, predicted_pixels = y_val[keep], predicted[keep]
reference = {
    "iou": jaccard_score(truth_pixels, predicted_pixels, average="macro"),
    "dice": f1_score(truth_pixels, predicted_pixels, average="macro"),
}
print({k: round(float(v), 6) for k, v in ours.items()}, "sklearn:", reference)
iou_key = next(k for k in ours if k.startswith("io"))
np.testing.assert_allclose(ours[iou_key], reference["iou"], atol=1e-5)
np.testing.assert_allclose(ours["dice"], reference["dice"], atol=1e-5)
np.testing.assert_allclose(ours["f1"], reference["dice"], atol=1e-5)
# The claim: a few epochs of Dice + Focal segment the shapes.
assert ours["dice"] > (0.8 if SMALL else 0.9), ours["dice"]
print(f"validation Dice {ours['dice']:.4f} (macro over {len(CLASSES)} classes)")

# %% [markdown]
# ## Predicted masks next to the truth
#
# Void pixels are drawn white in the truth; the model predicts a class there too.

# %%
fig = figure(figsize=(7.5, 7.5))
if fig is not None:
    from matplotlib.colors import ListedColormap

    colours = ListedColormap(["#20262e", "#e4572e", "#29a3a3", "#ffffff"])

    def shown(mask):
        return np.where(mask == VOID, 3, mask)

    axes = fig.subplots(4, 3)
    for row, ax_row in enumerate(axes):
        ax_row[0].imshow(
            np.clip(x_val[row, ..., [0, 1, 0]].transpose(1, 2, 0), -1, 1.5).clip(0, 1)
        )
        ax_row[1].imshow(shown(y_val[row]), cmap=colours, vmin=0, vmax=3)
        ax_row[2].imshow(predicted[row], cmap=colours, vmin=0, vmax=3)
        for ax in ax_row:
            ax.set_xticks([])
            ax.set_yticks([])
    for ax, title in zip(
        axes[0], ["image", "truth (void white)", "prediction"], strict=True
    ):
        ax.set_title(title, fontsize=10)
show(fig, "03_segmentation_masks.png")

# %%
if Figure is not None:
    show(
        kc.plots.plot_history(history, OUT / "curves.png", metrics=["loss", "dice"]),
        "03_segmentation_curves.png",
    )
